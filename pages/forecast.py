"""Pipeline forecast (issue 7 builds this page)."""

import streamlit as st

st.title("Pipeline forecast")
st.info("This page is being built (issue 7). The Data page shows what is loaded.", icon=":material/construction:")
