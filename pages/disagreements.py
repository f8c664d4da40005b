"""Disagreements (issue 5 builds this page)."""

import streamlit as st

st.title("Disagreements")
st.info("This page is being built (issue 5). The Data page shows what is loaded.", icon=":material/construction:")
