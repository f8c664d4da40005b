"""Partner Pulse: the frame around every page (page config, shared sidebar filters, navigation).

Run with `streamlit run app.py` (or `make run`). The database is `$PULSE_DB`, by default
`data/pulse.duckdb`; with no database yet, only the Data page shows, offering the demo.
"""

from __future__ import annotations

import duckdb
import streamlit as st

import queries
import ui

st.set_page_config(page_title="Partner Pulse", page_icon=":material/handshake:", layout="wide")

PAGES = {
    "For executives": [
        st.Page("pages/health.py", title="Program health", icon=":material/monitor_heart:", url_path="health", default=True),
        st.Page("pages/forecast.py", title="Pipeline forecast", icon=":material/trending_up:", url_path="forecast"),
    ],
    "For partner leads": [
        st.Page("pages/engagement.py", title="Engagement & burnout", icon=":material/bedtime:", url_path="engagement"),
        st.Page("pages/partner.py", title="Partner 360", icon=":material/person_search:", url_path=ui.PARTNER_PAGE),
    ],
    "For finance": [
        st.Page("pages/attribution.py", title="Attribution scenarios", icon=":material/pie_chart:", url_path="attribution"),
        st.Page("pages/disagreements.py", title="Disagreements", icon=":material/gavel:", url_path="disagreements"),
    ],
    "Admin": [st.Page("pages/data.py", title="Data", icon=":material/database:", url_path="data")],
}


def database_problem() -> str | None:
    """Why the served database cannot be used, in words a user can act on, or None."""
    path = queries.db_path()
    if not path.exists():
        return "missing"
    try:
        ui.meta()
    except duckdb.Error as exc:
        return f"The database file {path} cannot be read ({str(exc).splitlines()[0]}). Rebuild it on this page or with `python -m loaders build`."
    return None


problem = database_problem()
if problem:
    st.session_state["_db_problem"] = problem
    navigation = st.navigation([st.Page("pages/data.py", title="Data", icon=":material/database:", url_path="data", default=True)])
else:
    st.session_state.pop("_db_problem", None)
    st.session_state["_filters"] = ui.sidebar_filters()
    navigation = st.navigation(PAGES)
navigation.run()
