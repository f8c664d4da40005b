"""Program health (issue 3 builds this page)."""

import streamlit as st

st.title("Program health")
st.info("This page is being built (issue 3). The Data page shows what is loaded.", icon=":material/construction:")
