"""Attribution scenarios (issue 4 builds this page)."""

import streamlit as st

st.title("Attribution scenarios")
st.info("This page is being built (issue 4). The Data page shows what is loaded.", icon=":material/construction:")
