"""Partner Pulse: the frame around every page (page config, who is viewing, shared sidebar
filters, navigation).

Run with `streamlit run app.py` (or `make run`). The database is `$PULSE_DB`, by default
`data/pulse.duckdb`; with no database yet, only the Data page shows, offering the demo.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import streamlit as st

import access
import queries
import state
import ui
from loaders.build import outdated
from queries import serving

ui.enter_frame()
st.set_page_config(page_title="Partner Pulse", page_icon=":material/handshake:", layout="wide")


def page(path: str, title: str, icon: str, url_path: str, default: bool = False) -> st.Page:
    return st.Page(path, title=title, icon=f":material/{icon}:", url_path=url_path, default=default)


def pages_for(viewer: access.Viewer) -> dict[str, list[st.Page]]:
    """The navigation: the pages the viewer's role may open (access.PAGES), by section."""
    sections = {
        "For executives": [
            ("pages/health.py", "Program health", "monitor_heart", "health", True),
            ("pages/forecast.py", "Pipeline forecast", "trending_up", "forecast"),
            ("pages/changes.py", "Pipeline changes", "waterfall_chart", "changes"),
        ],
        "For partner leads": [
            ("pages/engagement.py", "Engagement & burnout", "bedtime", "engagement"),
            ("pages/partner.py", "Partner 360", "person_search", ui.PARTNER_PAGE),
        ],
        "For finance": [
            ("pages/attribution.py", "Attribution scenarios", "pie_chart", "attribution"),
            ("pages/disagreements.py", "Disagreements", "gavel", "disagreements"),
            ("pages/statement.py", "Partner statement", "receipt_long", "statement"),
        ],
        "Admin": [("pages/data.py", "Data", "database", "data")],
        "Help": [("pages/glossary.py", "Glossary", "menu_book", "glossary")],
    }
    offered = {
        section: [page(*entry) for entry in entries if access.may_open(viewer, Path(entry[0]).stem)]
        for section, entries in sections.items()
    }
    return {section: pages for section, pages in offered.items() if pages}


def database_problem() -> str | None:
    """Why the served database cannot be used, in words a user can act on, or None."""
    path = queries.db_path()
    if not path.exists():
        return "missing"
    try:
        # One database version for the whole page run, even if a build swaps the file meanwhile.
        serving.begin_run()
        stale_format = outdated(ui.meta())
    except duckdb.Error as exc:
        # The hidden hard link queries.connect opens is not a name the user knows.
        detail = re.sub(r'"[^"]*\.open"', f'"{path}"', str(exc).splitlines()[0])
        return (
            f"The database file {path} cannot be read ({detail}). "
            "Rebuild it: load extracts below, or run `python -m loaders build DIR --db " + str(path) + "`."
        )
    if stale_format:
        return (
            f"The database {path} cannot be shown: {stale_format}. Rebuild it from the same extracts with the "
            f"button below, or run `python -m loaders upgrade --db {path}`."
        )
    return None


def denied(message: str) -> None:
    st.title("Partner Pulse")
    st.warning(message, icon=":material/lock:")


problem = database_problem()
settings_json = None if problem else ui.meta().get("settings_json")
viewer = access.viewer_for(st.user.to_dict(), settings_json)
state.set_viewer(viewer)

if problem not in (None, "missing") and viewer is not None and not viewer.local_mode:
    # The roles live in the unreadable database: nobody signed in can be placed, so say what is
    # wrong and what to do instead of a misleading "no role" page (and show no data).
    st.title("Partner Pulse")
    st.error(
        "The database cannot be read, so no data is shown. An admin has to rebuild it "
        "(`python -m loaders build DIR --db FILE`, or load the extracts again on the Data page in local mode).",
        icon=":material/error:",
    )
elif viewer is None:
    st.title("Partner Pulse")
    st.write("Sign in to see your partner program.")
    st.button("Sign in", on_click=st.login, type="primary", icon=":material/login:")
elif viewer.role is None:
    navigation = st.navigation([st.Page(lambda: denied(
        f"You are signed in as {viewer.email}, which has no role in Partner Pulse, so no data is shown. "
        "Ask an admin to add you under [roles] in the program settings."
    ), title="No access", url_path="no-access")])
    navigation.run()
elif problem:
    state.set_db_problem(problem)
    if not access.may(viewer, "load_extracts"):
        no_data = st.Page(lambda: denied("No data is loaded yet; an admin has to load the extracts."), title="No data")
        st.navigation([no_data]).run()
    else:
        with ui.framed():
            st.navigation([page("pages/data.py", "Data", "database", "data", default=True)]).run()
else:
    state.set_db_problem(None)
    if viewer.local_mode:
        st.sidebar.info("Local mode: no login is configured, so you see everything as admin.", icon=":material/info:")
    elif viewer.email:
        st.sidebar.caption(f"Signed in as {viewer.email} ({viewer.role.replace('_', ' ')})")
        st.sidebar.button("Sign out", on_click=st.logout)
    state.set_filters(ui.sidebar_filters(viewer))
    with ui.framed():
        navigation = st.navigation(pages_for(viewer))
        ui.quarantine_banner(navigation.title)  # one banner for every page, from ui.PAGE_READS
        navigation.run()
