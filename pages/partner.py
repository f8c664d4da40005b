"""Partner 360 (issue 3 builds this page)."""

import streamlit as st

st.title("Partner 360")
partner = st.query_params.get("partner")
st.info(
    f"This page is being built (issue 3){f'; it will show partner {partner}' if partner else ''}.",
    icon=":material/construction:",
)
