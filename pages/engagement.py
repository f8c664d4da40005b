"""Engagement & burnout (issue 6 builds this page)."""

import streamlit as st

st.title("Engagement & burnout")
st.info("This page is being built (issue 6). The Data page shows what is loaded.", icon=":material/construction:")
