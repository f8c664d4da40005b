"""Session and URL state, in one place: every key the frame (app.py), ui.py and the pages keep in
`st.session_state` or the URL, with what it holds, who writes it and who reads it, and the small
accessors they use instead of string keys.

URL parameters are a public interface: links in emails, the digest and every table's Partner 360
link carry them, so their names and value formats must not change. Four sidebar widgets are bound
to the URL by Streamlit itself (`bind="query-params"`, BOUND); every other URL value is synced by
hand here, for the reason given beside its key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import streamlit as st

if TYPE_CHECKING:
    import access
    import ui

# ---- URL parameters (also the keys of their widgets' state) -------------------------------------
# The sidebar's period (one of ui.PERIODS, the label itself); bound: written and read by the widget.
PERIOD = "period"
# The custom period's first and last day (ISO dates), only while PERIOD is "Custom". Hand sync: their
# default is the current fiscal quarter of the data's as-of, and a bound date equal to its default
# would leave the URL, so a link would move with the data.
START = "start"
END = "end"
# The sidebar's region, tier and partner type filters (one parameter per value); bound.
REGION = "region"
TIER = "tier"
PARTNER_TYPE = "partner_type"
# The Partner manager filter (one parameter per name). Hand sync: its default depends on the viewer
# (a partner lead starts on their own names, and their URL says so), and the "My partners" switch
# rewrites it from a callback.
MANAGER = "manager"
# The "My partners" switch (the toggle's key); in the URL it holds an admin's chosen manager's name
# while the view is on, not the switch's true/false, so it is synced by hand (ui.my_partners).
MINE = "mine"
# The partner Partner 360 and the statement show (its id). Hand sync: the selectboxes show a label
# ("Name (ID)"), which a bound widget would put in the URL instead of the id.
PARTNER = "partner"
# The attribution scenarios as compact JSON (pages/attribution.py); hand sync: one value made of
# many widgets.
SCENARIOS = "scenarios"
# Engagement's "Signals as of" (ISO date), absent when it is the data's as-of; hand sync: the
# default is the data's as-of, and a date later than it is clamped to it.
ENGAGEMENT_AS_OF = "engagement_as_of"
# The forecast's pipeline segment id ("partner", "all", ...), always written. Hand sync: the
# control shows labels (a bound one writes the label), and its default depends on the data.
FORECAST_SEGMENT = "forecast_segment"
# Program health's comparison id, absent for "to_date". Hand sync: the control shows labels.
HEALTH_COMPARE = "health_compare"

# Widgets Streamlit binds to the URL parameter of their key.
BOUND = (PERIOD, REGION, TIER, PARTNER_TYPE)
# The shared filters' URL parameters, in their order in a link to Partner 360 or a statement.
LINK_KEYS = (PERIOD, START, END, REGION, TIER, PARTNER_TYPE, MANAGER, MINE)

# ---- session only --------------------------------------------------------------------------------
# Who is looking (access.Viewer or None before sign-in); written by app.py every run, read by
# viewer() (pages, ui) and queries.serving (which serves every output as the viewer may see it).
VIEWER = "_viewer"
# The sidebar's filters (ui.Filters); written by app.py every run, read by pages via ui.current_filters.
FILTERS = "_filters"
# Why the database cannot be used ("missing", or words to show), None when it can; written by
# app.py, read by pages/data.py.
DB_PROBLEM = "_db_problem"
# Whether the sidebar's filters together match no partner; written by ui.sidebar_filters, read by
# ui.table, ui.nothing_matches and pages/disagreements.py to say why a table is empty.
NO_PARTNER_MATCH = "_no_partner_match"
# The database version this page run reads (queries.serving pins and reads it).
DB_VERSION = "_db_version"
# "My partners": the selectbox of an admin's chosen manager (shown while the switch is on).
MINE_MANAGER = "mine_manager"
# The admin's chosen manager, kept while the selectbox is hidden; seeded once from the URL's `mine`.
MINE_CHOSEN = "_mine_manager"
# The switch is on but an admin has not chosen whose partners yet.
MINE_PENDING = "_mine_pending"
# The manager filter before the switch went on, restored when it goes off.
MANAGER_BEFORE_MINE = "_manager_before_mine"
# The partner a URL last chose on Partner 360 / the statement, so a link chooses it once and the
# user's own pick then wins (see PartnerLink).
PARTNER_LINKED = "_partner_linked"
STATEMENT_LINKED = "_statement_linked"
# Partner 360's and the statement's partner selectboxes.
PARTNER_PICK = "partner_pick"
STATEMENT_PARTNER = "statement_partner"
# The scenarios the attribution page's forms start from (read from SCENARIOS once per session).
ATTRIBUTION_SEED = "attribution_seed"

# Tabs and expanders whose hidden content is not run (ui.tabs, ui.expander): the open tab's label,
# and whether each expander is open. Session only: what a user was looking at, not a view to link.
ENGAGEMENT_LIST = "engagement_list"
ENGAGEMENT_COHORT_CHART = "engagement_cohort_chart"
ATTRIBUTION_VIEW = "attribution_view"
FORECAST_DEAL_LIST = "forecast_deal_list"
FORECAST_BACKTEST_TABLE = "forecast_backtest_table"
HEALTH_TIER_CHART = "health_tier_chart"
HEALTH_CALIBRATION = "health_calibration"
PARTNER_HEALTH_CHARTS = "partner_health_charts"
PARTNER_CHARTS = "partner_charts"
PARTNER_DETAIL = "partner_detail"
HEALTH_SCORES = "health_scores"
CHANGES_WEEKLY_TABLE = "changes_weekly_table"
PARTNER_OUTREACH = "partner_outreach"
PARTNER_OUTREACH_HISTORY = "partner_outreach_history"
# The position of a ui.tabs' open tab is kept as `_<key>_open`.
LAZY_TABS = (
    ENGAGEMENT_LIST, ATTRIBUTION_VIEW, FORECAST_DEAL_LIST, PARTNER_CHARTS, PARTNER_DETAIL, HEALTH_SCORES, PARTNER_OUTREACH,
)  # fmt: skip
LAZY_EXPANDERS = (
    ENGAGEMENT_COHORT_CHART, FORECAST_BACKTEST_TABLE, HEALTH_TIER_CHART, HEALTH_CALIBRATION, PARTNER_HEALTH_CHARTS,
    CHANGES_WEEKLY_TABLE, PARTNER_OUTREACH_HISTORY,
)  # fmt: skip
# Attribution's two scenarios compared (its "Compare two" tab and the workbook's moves sheet) and
# what the comparison is by; widgets in a tab that is not always drawn (see keep).
ATTRIBUTION_A = "attribution_a"
ATTRIBUTION_B = "attribution_b"
ATTRIBUTION_BY = "attribution_by"

# What the "Reset filters" button clears (besides the bound widgets, set back to their defaults).
FILTER_KEYS = (START, END, MANAGER, MINE, MINE_PENDING, MANAGER_BEFORE_MINE)


# ---- the frame's values --------------------------------------------------------------------------
def viewer() -> access.Viewer:
    return st.session_state[VIEWER]


def current_viewer() -> access.Viewer | None:
    """The viewer, or None outside a framed run (queries.serving's bare calls)."""
    return st.session_state.get(VIEWER)


def set_viewer(value: access.Viewer | None) -> None:
    st.session_state[VIEWER] = value


def filters() -> ui.Filters:
    return st.session_state[FILTERS]


def set_filters(value: ui.Filters) -> None:
    st.session_state[FILTERS] = value


def db_problem() -> str | None:
    return st.session_state.get(DB_PROBLEM)


def set_db_problem(problem: str | None) -> None:
    if problem is None:
        st.session_state.pop(DB_PROBLEM, None)
    else:
        st.session_state[DB_PROBLEM] = problem


def no_partner_match() -> bool:
    return bool(st.session_state.get(NO_PARTNER_MATCH))


def set_no_partner_match(value: bool) -> None:
    st.session_state[NO_PARTNER_MATCH] = value


def db_version() -> Any:
    return st.session_state.get(DB_VERSION)


def set_db_version(version: Any) -> None:
    st.session_state[DB_VERSION] = version


# ---- widget values and the URL -------------------------------------------------------------------
def value(key: str, default: Any = None) -> Any:
    """A widget's (or any session key's) current value."""
    return st.session_state.get(key, default)


def set_value(key: str, new: Any) -> None:
    st.session_state[key] = new


def keep(key: str, choices: list[Any], default: Any) -> Any:
    """The value of a widget that a run may not draw (it sits in a closed tab), kept for the runs
    that do not: Streamlit drops a widget's state when a run does not draw it, and plain session
    state it keeps. A value no longer among `choices` (fewer scenarios now) is `default`."""
    current = st.session_state.get(key, default)
    if current not in choices:
        current = default
    st.session_state[key] = current
    return current


def has(key: str) -> bool:
    return key in st.session_state


def forget(key: str) -> None:
    st.session_state.pop(key, None)


def remember(key: str, make: Callable[[], Any]) -> Any:
    """The session's value of `key`, made once per session."""
    if key not in st.session_state:
        st.session_state[key] = make()
    return st.session_state[key]


def in_url(key: str) -> str | None:
    """The URL's (last) value of a parameter, or None."""
    return st.query_params.get(key)


def seed_from_url(key: str, default: Any, parse: Callable[[list[str]], Any] = lambda raw: raw[0]) -> None:
    """Seed a hand-synced widget's state from the URL once per session, so a shared link
    reproduces the view; a value `parse` refuses (ValueError) gives the default."""
    if key in st.session_state:
        return
    raw = st.query_params.get_all(key)
    try:
        st.session_state[key] = parse(raw) if raw else default
    except ValueError:
        st.session_state[key] = default


def to_url(key: str, new: Any, default: Any = None) -> None:
    """Write a hand-synced value to the URL; the default (or nothing) leaves the URL."""
    if new == default or new in (None, [], ""):
        st.query_params.pop(key, None)
    elif isinstance(new, list):
        st.query_params[key] = [str(v) for v in new]
    else:
        st.query_params[key] = str(new)


def link_view(defaults: dict[str, Any]) -> list[tuple[str, str]]:
    """The shared filters as the URL has them, for a link that opens a page in the same view.

    A bound widget's value is read from its state, not from st.query_params: the browser writes
    the URL when the user changes the widget, and the server's copy of the URL can lag it (it
    does under AppTest). `defaults` are the bound widgets' defaults, which the URL leaves out."""
    view = []
    for key in LINK_KEYS:
        if key not in BOUND:
            view += [(key, value) for value in st.query_params.get_all(key)]
            continue
        current = st.session_state.get(key, defaults[key])
        if current != defaults[key]:
            view += [(key, str(value)) for value in (current if isinstance(current, list) else [current])]
    return view


def reset_filters(defaults: dict[str, Any]) -> None:
    """The "Reset filters" button: the bound widgets back to `defaults` (Streamlit then drops them
    from the URL; a bound parameter cannot be removed through st.query_params), the rest forgotten."""
    for key in BOUND:
        st.session_state[key] = defaults[key]
    for key in FILTER_KEYS:
        st.session_state.pop(key, None)
        st.query_params.pop(key, None)


# ---- "My partners" -------------------------------------------------------------------------------
def mine_chosen(choices: list[str]) -> str | None:
    """An admin's chosen manager: seeded once per session from the URL's `mine` (when it names a
    manager there is), then what they pick."""
    if MINE_CHOSEN not in st.session_state:
        linked = st.query_params.get(MINE)
        st.session_state[MINE_CHOSEN] = linked if linked in choices else None
    return st.session_state.get(MINE_CHOSEN)


def mine_pending() -> bool:
    return bool(st.session_state.get(MINE_PENDING))


def switch_my_partners(own: list[str]) -> None:
    """The switch moved: on, the manager filter becomes the own names; off, what it was before."""
    if st.session_state.get(MINE):
        st.session_state[MANAGER_BEFORE_MINE] = st.session_state.get(MANAGER) or []
        if own:
            st.session_state[MANAGER] = list(own)
        else:  # an admin who has not chosen a manager yet: ask whose
            st.session_state[MINE_PENDING] = True
    else:
        before = st.session_state.pop(MANAGER_BEFORE_MINE, [])
        st.session_state[MANAGER] = [] if sorted(before) == sorted(own) else before
        st.session_state.pop(MINE_PENDING, None)


def choose_my_manager() -> None:
    """An admin chose whose partners: the manager filter becomes that manager."""
    chosen = st.session_state.get(MINE_MANAGER)
    st.session_state[MINE_CHOSEN] = chosen
    if chosen:
        st.session_state.pop(MINE_PENDING, None)
        st.session_state.setdefault(MANAGER_BEFORE_MINE, st.session_state.get(MANAGER) or [])
        st.session_state[MANAGER] = [chosen]


# ---- a partner chosen by a link ------------------------------------------------------------------
class PartnerLink:
    """A page's partner selectbox and the URL's `partner`: a link (?partner=ID) chooses the partner
    once; then the user's pick wins, and the URL follows it. Hand sync: see PARTNER."""

    def __init__(self, widget: str, seen: str) -> None:
        self.widget = widget  # the selectbox's key
        self.seen = seen  # the partner the URL chose last

    def linked(self) -> str | None:
        return st.query_params.get(PARTNER)

    def follow(self, linked: str | None) -> None:
        """Choose the linked partner in the selectbox, unless this link was followed already."""
        if linked and st.session_state.get(self.seen) != linked:
            st.session_state[self.seen] = st.session_state[self.widget] = linked

    def keep_if_in(self, options: Any) -> None:
        """Forget a pick that is not among the options (the filters changed)."""
        if st.session_state.get(self.widget) not in options:
            st.session_state.pop(self.widget, None)

    def show(self, partner_id: str) -> None:
        """The page shows this partner: the URL says so."""
        st.query_params[PARTNER] = st.session_state[self.seen] = partner_id


PARTNER_360 = PartnerLink(PARTNER_PICK, PARTNER_LINKED)
STATEMENT = PartnerLink(STATEMENT_PARTNER, STATEMENT_LINKED)
