"""Page furniture shared by every page: the sidebar filters (bound to the URL) with the "My
partners" switch, tables with a sanitised CSV download, readable column defaults and links to
Partner 360, and the notes for missing extracts.

Pages call these; nothing here computes a business number (that is `queries/`), and
nothing here builds a figure (that is `charts.py`).
"""

from __future__ import annotations

import re
import runpy
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote, urlencode

import polars as pl
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx

import access
import queries
import state
from loaders.schema import TABLES
from queries import fiscal, formatting, glossary, serving
from queries.export import safe_csv
from queries.meta import as_of_in, start_month_in

PERIODS = [
    "This fiscal quarter",
    "Last fiscal quarter",
    "Last 4 fiscal quarters",
    "This fiscal year",
    "Last 12 months",
    "All time",
    "Custom",
]
LIST_FILTERS = {
    state.REGION: ("Region", "regions"),
    state.TIER: ("Tier", "tiers"),
    state.PARTNER_TYPE: ("Partner type", "partner_types"),
    state.MANAGER: ("Partner manager", "managers"),
}
PARTNER_PAGE = "partner"
# The frame around every page (see require_frame).
APP = Path(__file__).resolve().parent / "app.py"
# Columns that name another partner than the row's own (shown as links to its Partner 360).
OTHER_PARTNER_COLUMNS = ("sourced_partner_id", "other_partner_id")
PARTNER_LINK_TEXT = r"partner=([^&]*)"  # a link shows the partner id it opens
# The defaults of the filters Streamlit binds to the URL (a default is left out of it).
BOUND_DEFAULTS = {state.PERIOD: PERIODS[0], state.REGION: [], state.TIER: [], state.PARTNER_TYPE: []}
# The "My partners" switch and an admin's "Whose partners" (state.py says what each key holds).
MINE = state.MINE
MINE_MANAGER = state.MINE_MANAGER
# Every date is shown this way, in tables and in captions alike.
DATE_FORMAT = "YYYY-MM-DD"
# Labels of columns many outputs share, in users' words; a page's own column_config wins.
COLUMN_LABELS = {
    "partner_name": "Partner",
    "partner_manager": "Manager",
    "partner_types": "Types",
    "partner_type": "Partner type",
    "tier": "Tier",
    "region": "Region",
    "country": "Country",
    "fiscal_quarter": "Quarter",
    "opportunity_id": "Deal",
    "account_name": "Account",
    "stage": "Stage",
    "status": "Status",
    "touch_type": "Touch type",
    "as_of": "As of",
}


@dataclass(frozen=True)
class Filters:
    """The shared filters, as the parameters every query takes (None = no filter)."""

    start_date: date
    end_date: date
    regions: list[str] | None = None
    tiers: list[str] | None = None
    partner_types: list[str] | None = None
    managers: list[str] | None = None
    as_of: date | None = None
    period: str = PERIODS[0]

    def params(self) -> dict[str, Any]:
        values = asdict(self)
        values.pop("period")
        return values


def meta() -> dict[str, str]:
    frame = queries.run("program_meta")
    return dict(zip(frame["key"], frame["value"], strict=True))


def currency() -> str:
    """The program's reporting currency: the build converts every amount to it (USD unless the settings say otherwise)."""
    return meta().get("reporting_currency") or "USD"


def money(value: float | None, style: formatting.Style = "short", missing: str = "n/a") -> str:
    """An amount as text in the reporting currency, as `queries.formatting.money` writes it ($1.2M, 1.2M EUR)."""
    return formatting.money(value, currency(), style, missing)


def money_format() -> str:
    """A table column's format for amounts in the reporting currency, written as `money` writes them:
    $1,234.57 for USD, 1,234.57 EUR for a currency without a symbol there."""
    code = currency()
    symbol = formatting.SYMBOLS.get(code)
    return "dollar" if symbol == "$" else f"%,.2f {code}"


def money_column(label: str, help: str | None = None) -> dict:  # noqa: A002 - Streamlit's own name
    """A table column of amounts in the reporting currency."""
    return st.column_config.NumberColumn(label, format=money_format(), help=help)


def period_range(period: str, as_of: date, start_month: int, earliest: date) -> tuple[date, date]:
    this_quarter = fiscal.quarter_start(as_of, start_month)
    if period == "Last fiscal quarter":
        start = fiscal.add_quarters(this_quarter, -1)
        return start, this_quarter - timedelta(days=1)
    if period == "Last 4 fiscal quarters":
        return fiscal.add_quarters(this_quarter, -3), fiscal.quarter_end(as_of, start_month)
    if period == "This fiscal year":
        start = fiscal.year_start(as_of, start_month)
        return start, fiscal.add_quarters(start, 4) - timedelta(days=1)
    if period == "Last 12 months":
        return as_of - timedelta(days=364), as_of
    if period == "All time":
        return earliest, fiscal.quarter_end(as_of, start_month)
    return this_quarter, fiscal.quarter_end(as_of, start_month)


def as_plain_text(text: str) -> str:
    """Text from the data (a stage name, a file's values) for st.markdown, shown as written: no
    links, emphasis or headings made of it."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$:])", r"\\\1", text)


def table_label(table_name: str) -> str:
    return table_name.replace("_", " ").capitalize()


def stale_warning(freshness: pl.DataFrame) -> str | None:
    """The plain-words warning for tables lagging the newest data (rows of `stale_tables`), or None."""
    stale = freshness.filter(pl.col("is_stale"))
    if stale.is_empty():
        return None
    first = stale.row(0, named=True)
    newest = f"the newest data ({first['newest_table'].replace('_', ' ')}, {first['newest_date']:%Y-%m-%d})"
    lags = [
        f"{table_label(row['table_name'])} data ends {row['covers_through']:%Y-%m-%d}, {row['days_behind']} days behind"
        for row in stale.iter_rows(named=True)
    ]
    if len(lags) == 1:
        return f"{lags[0]} {newest}; check the nightly export."
    return f"Some extracts lag behind {newest}; check the nightly export.\n\n" + "\n".join(f"- {lag}" for lag in lags)


def data_freshness(sidebar: Any) -> None:
    """The data's date per table, a warning when a table lags (settings: stale_after_days), and a
    quiet check every few seconds that reruns the page when a build has swapped the database."""
    freshness = queries.run("stale_tables")
    with sidebar.expander("Data as of, per table", icon=":material/schedule:"):
        lines = []
        for row in freshness.iter_rows(named=True):
            if row["status"] != "loaded" or row["latest_date"] is None:
                when = "not loaded" if row["status"] != "loaded" else "no rows"
            elif row["table_name"] == "payouts":
                when = f"{row['latest_date']:%Y-%m} (monthly)"
            elif row["table_name"] == "partners":
                when = f"{row['latest_date']:%Y-%m-%d} (latest join)"
            else:
                when = f"{row['latest_date']:%Y-%m-%d}"
            behind = f", {row['days_behind']} days behind" if row["is_stale"] else ""
            lines.append(f"{table_label(row['table_name'])}: {when}{behind}")
        st.caption("  \n".join(lines))
    message = stale_warning(freshness)
    if message:
        sidebar.warning(message, icon=":material/update:")
    _rerun_on_new_data(serving.pinned())


def swapped_since(version: tuple[str, int, int, int]) -> bool:
    """Whether the served file is no longer the one `version` names (a build swapped it in since).

    `version` is the page run's pinned one, not the file's version when the sidebar is drawn: a
    swap between the two would otherwise leave the page on the old data with nothing to rerun it."""
    try:
        current = queries.database_version()
    except OSError:
        return False
    return current != version


@st.fragment(run_every=timedelta(seconds=5))
def _rerun_on_new_data(version: tuple[str, int, int, int]) -> None:
    """Rerun the whole page once the database file was swapped by a build (cheap: one stat).

    Only on the fragment's own runs, every few seconds: drawn inline in a page run, it runs
    before st.navigation has resolved the page, and a rerun from there loses the page a new tab
    asked for by its URL (it opens the default page). The next tick catches the swap."""
    context = get_script_run_ctx()
    if context is None or not context.fragment_ids_this_run:
        return
    if swapped_since(version):
        st.rerun(scope="app")


def sidebar_filters(viewer: access.Viewer = access.LOCAL_ADMIN) -> Filters:
    """Draw the shared filters in the sidebar and return them; called by app.py on every run."""
    info = meta()
    start_month = start_month_in(info)
    as_of = as_of_in(info) or date.today()
    options = queries.run("filter_options")
    earliest = options["earliest"][0] if options.height and options["earliest"][0] else as_of - timedelta(days=3 * 365)

    sidebar = st.sidebar
    choices = {
        key: [value for value in (options[param].to_list()[0] or []) if value is not None] if options.height else []
        for key, (_, param) in LIST_FILTERS.items()
    }
    if viewer.managers is not None:
        choices[state.MANAGER] = [value for value in choices[state.MANAGER] if value in viewer.managers]
    mine = my_partners(sidebar, viewer, choices)
    basis = f" ({info['data_as_of_basis']})" if info.get("data_as_of_basis") else ""
    sidebar.caption(f"Data as of **{as_of:%Y-%m-%d}**{basis}", help=glossary.tooltip("data_as_of"))
    data_freshness(sidebar)
    # Bound to the URL by Streamlit: a link's period is chosen, an unknown one ignored, the default left out.
    period = sidebar.selectbox("Period", PERIODS, key=state.PERIOD, help=glossary.tooltip("period"), bind="query-params")
    start, end = period_range(period, as_of, start_month, earliest)
    if period == "Custom":  # the dates are synced by hand (see state.START)
        state.seed_from_url(state.START, start, lambda raw: date.fromisoformat(raw[0]))
        state.seed_from_url(state.END, end, lambda raw: date.fromisoformat(raw[0]))
        start = sidebar.date_input("From", key=state.START, format="YYYY-MM-DD")
        end = sidebar.date_input("To", key=state.END, format="YYYY-MM-DD")
        state.to_url(state.START, start)
        state.to_url(state.END, end)
    else:
        sidebar.caption(f"{start:%Y-%m-%d} to {end:%Y-%m-%d}")
        state.to_url(state.START, None)
        state.to_url(state.END, None)

    chosen: dict[str, list[str] | None] = {}
    for key, (label, param) in LIST_FILTERS.items():
        if key == state.MANAGER:  # synced by hand (see state.MANAGER), seeded in my_partners
            selected = sidebar.multiselect(label, choices[key], key=key, placeholder="All")
            state.to_url(key, selected, [])
        else:  # bound: a link's values are chosen (unknown ones dropped), none leaves the URL
            selected = sidebar.multiselect(label, choices[key], key=key, placeholder="All", bind="query-params")
        chosen[param] = selected or None
    chosen["managers"] = viewer.scope(chosen["managers"])

    active = [label for key, (label, _) in LIST_FILTERS.items() if state.value(key)]
    if mine:  # the manager filter is the "My partners" view: say so in those words
        active = ["my partners" if label == LIST_FILTERS[state.MANAGER][0] else label for label in active]
    default_view = viewer.managers is not None and mine and active == ["my partners"]
    # Filters that together match no partner empty most pages: say so once, beside the reset.
    no_match = (
        bool(active)
        and not queries.run("partners_matching", **{param: chosen[param] for _, param in LIST_FILTERS.values()})["partners"][0]
    )
    state.set_no_partner_match(no_match)
    if (active and not default_view) or period != PERIODS[0]:
        sidebar.caption("Filtering by: " + ", ".join([period.lower(), *[a.lower() for a in active]]))
        if no_match:
            sidebar.warning("No partner matches these filters together: partner figures are empty.", icon=":material/filter_alt:")
        sidebar.button("Reset filters", on_click=reset_filters, icon=":material/filter_alt_off:")
    return Filters(start_date=start, end_date=end, as_of=as_of, period=period, **chosen)


def reset_filters() -> None:
    state.reset_filters(BOUND_DEFAULTS)


def link_view() -> list[tuple[str, str]]:
    """The shared filters as URL parameters, for a link that opens another page in the same view."""
    return state.link_view(BOUND_DEFAULTS)


def my_partners(sidebar: Any, viewer: access.Viewer, choices: dict[str, list[str]]) -> bool:
    """The "My partners" switch at the top of the sidebar; seeds the manager filter from the URL.

    A partner lead's own partners are those of their partner_manager names (the roles); the
    switch starts on for them, and every page then says so. An admin picks a manager once
    ("whose partners"), then switches that manager's view on and off in one click from any
    page. On, the Partner manager filter holds exactly those names (region, tier and type
    filters still apply); off, it goes back to what it was. The view lives in the URL
    (`manager=`, and `mine=` for an admin's chosen manager), so a link reproduces it.
    Executives and finance see no switch. Returns whether the view is on.
    """
    lead = viewer.managers is not None
    known = partial(_known, choices[state.MANAGER])
    if not lead and not viewer.is_admin:
        state.seed_from_url(state.MANAGER, [], known)
        return False
    if lead:
        own = [name for name in viewer.managers if name in choices[state.MANAGER]]
    else:
        chosen = state.mine_chosen(choices[state.MANAGER])
        own = [chosen] if chosen else []
    # A partner lead starts on their own partners; an admin's link with only `mine=` shows that manager's.
    state.seed_from_url(state.MANAGER, own if lead or state.in_url(MINE) else [], known)
    if lead and not own:
        sidebar.caption(f"No partner in the loaded data is managed by {', '.join(viewer.managers) or 'you'}.")
        return False

    selected = sorted(state.value(state.MANAGER) or [])
    on = bool(own) and selected == sorted(own)
    state.set_value(MINE, on or state.mine_pending())
    label = "My partners" if lead else "A manager's partners"
    sidebar.toggle(
        label,
        key=MINE,
        on_change=state.switch_my_partners,
        args=(own,),
        # A lead who owns one name cannot narrow further: the switch only says what they see.
        disabled=lead and on and len(own) == 1,
        help="Only the partners you manage, on every page. Your role shows you no others."
        if lead
        else "Every page as one partner manager sees it: only the partners they manage.",
    )
    if not lead and state.value(MINE):
        state.set_value(MINE_MANAGER, state.value(state.MINE_CHOSEN))
        sidebar.selectbox(
            "Whose partners",
            choices[state.MANAGER],
            key=MINE_MANAGER,
            index=None,
            placeholder="Choose a partner manager",
            on_change=state.choose_my_manager,
        )
    if on:
        sidebar.caption(f"Partners of **{', '.join(own)}**" + (": your role shows you no others." if lead else "."))
    if not lead:
        state.to_url(MINE, own[0] if on else None)
    return on


def _known(options: list[str], raw: list[str]) -> list[str]:
    """The URL's values that are options (a link may name a manager the data no longer has)."""
    return [value for value in raw if value in options]


def nothing_matches(message: str = "Nothing matches these filters.", key: str = "nothing_matches") -> None:
    """An empty state caused by the sidebar filters: say so, and offer to reset them in one click."""
    if state.no_partner_match() and "match" not in message:
        message += " No partner matches the sidebar filters together."
    st.info(message, icon=":material/filter_alt_off:")
    st.button("Reset filters", on_click=reset_filters, icon=":material/filter_alt_off:", key=f"reset_{key}")


# Whether this script run is inside the frame (app.py sets it around the page's run), and whether
# app.py is being run by run_frame. Context variables of the script run: unlike session state,
# nothing is left set when a page stops with st.stop() (whose stop request makes every later
# Streamlit call in the run raise again, a session-state pop in a `finally` included).
_FRAMED: ContextVar[bool] = ContextVar("pulse_framed", default=False)
_FRAME_INLINE: ContextVar[bool] = ContextVar("pulse_frame_inline", default=False)


@contextmanager
def framed() -> Iterator[None]:
    """app.py runs the page inside this: it says the frame (login, roles, filters, version) ran."""
    token = _FRAMED.set(True)
    try:
        yield
    finally:
        _FRAMED.reset(token)


def require_frame() -> None:
    """Run the frame around a page that was started without it (see `run_frame`).

    Pages call this (or `current_filters`, `viewer`) before they draw anything: what an
    unframed run drew before would show twice.
    """
    if not _FRAMED.get():
        run_frame()


def enter_frame() -> None:
    """app.py's first call: when Streamlit runs app.py as a page of the pages/ folder mode
    (a fresh server's first visit to /), run it as the entry script instead (see `run_frame`)."""
    if PagesManager.uses_pages_directory and not _FRAME_INLINE.get():
        run_frame()


def run_frame() -> NoReturn:
    """Run app.py, the frame, in this script run as the entry script, then stop this run.

    Until some run in the process has called st.navigation, Streamlit takes the pages/ folder
    next to app.py for an app of the old kind: it runs the page a URL names (/forecast, a fresh
    server's first request) without app.py, so no login, roles, filters or database version,
    and runs app.py itself as one more page. Here app.py runs under the entry script's page id,
    as on every later run (the sidebar's widgets keep their ids, so their values, from this
    first run to the next), and its st.navigation resolves the page the URL asked for (page ids
    derive from url paths, which are the pages' file names) and runs it framed. One run, on
    the intended page. (A switch_page to app.py instead reran into the default page.)
    """
    context = get_script_run_ctx()
    token = _FRAME_INLINE.set(True)
    try:
        with context.run_with_active_hash(context.pages_manager.main_script_hash):
            runpy.run_path(str(APP))
    finally:
        _FRAME_INLINE.reset(token)
    st.stop()


def current_filters() -> Filters:
    require_frame()
    return state.filters()


def viewer() -> access.Viewer:
    """Who is looking. What they may see is decided below the pages (`queries.run` serves every
    output as they may see it); pages ask `may` only to choose what to draw."""
    require_frame()
    return state.viewer()


def may(name: str) -> bool:
    """Whether the viewer may run this output or do this action (access.OUTPUTS, access.ACTIONS)."""
    return access.may(viewer(), name)


def download(frame: pl.DataFrame, file_name: str, label: str = "Download CSV", key: str | None = None) -> None:
    """A CSV download whose text cells cannot start a spreadsheet formula, written when clicked
    (not on every run: a table of 50,000 partners is megabytes of CSV most runs never ask for)."""
    st.download_button(
        label,
        partial(safe_csv, frame),
        file_name=file_name,
        mime="text/csv",
        key=key or f"download_{file_name}",
        icon=":material/download:",
        on_click="ignore",
    )


# Hidden content costs a new tab what shown content does: Streamlit sends every tab's and every
# collapsed expander's elements, and the browser builds them (Engagement's lists were 1 MB of
# rows a user reads one at a time). These containers rerun the page when opened, and a page draws
# into one only while its `.open` is true.
def tabs(labels: list[str], key: str) -> Sequence[Any]:
    """Tabs whose closed tabs are not run; draw into a tab under `if tab.open:`. The open tab is
    remembered by position, so a tab whose label carries a count ("Dormant (12)") stays open when a
    filter changes the count."""
    opened = state.value(f"_{key}_open", 0)
    return st.tabs(
        labels,
        key=key,
        default=labels[opened] if opened < len(labels) else None,
        on_change=_remember_tab,
        args=(key, list(labels)),
    )


def _remember_tab(key: str, labels: list[str]) -> None:
    label = state.value(key)
    if label in labels:
        state.set_value(f"_{key}_open", labels.index(label))


def expander(label: str, key: str, icon: str | None = None) -> Any:
    """A collapsed expander whose content is not run until opened; draw into it under `if box.open:`."""
    return st.expander(label, key=key, icon=icon, on_change="rerun")


# What an empty cell shows (Streamlit's default is the word "None": no band, no payout yet, a direct deal's partner).
MISSING = "—"
# Streamlit's "auto" height shows ten rows and scrolls the rest; tables up to this many rows show whole.
SHOW_EVERY_ROW_UP_TO = 15


def table(
    frame: pl.DataFrame,
    file_name: str,
    column_config: dict[str, Any] | None = None,
    empty: str = "Nothing to show for these filters.",
    height: int | str = "auto",
) -> None:
    """A table with its CSV download, or a plain note when it is empty."""
    if frame.is_empty():
        if state.no_partner_match():
            nothing_matches(empty, key=file_name)
        else:
            st.info(empty, icon=":material/info:")
        return
    config = column_config_for(frame, column_config)
    shown = frame
    if "partner_id" in frame.columns and "partner_link" not in frame.columns:
        shown = with_partner_link(shown)
        config.setdefault("partner_link", partner_link_column())
        if "partner_id" not in (column_config or {}):
            config["partner_id"] = None  # the link column shows the id; the CSV keeps it
    # Other columns naming a partner link to its Partner 360 too; the CSV keeps the bare ids.
    for name in OTHER_PARTNER_COLUMNS:
        given = config.get(name)
        if name in frame.columns and given is not None:
            shown = shown.with_columns(partner_url(pl.col(name)).alias(name))
            config[name] = st.column_config.LinkColumn(
                given.get("label") if isinstance(given, dict) else str(given),
                help=given.get("help") if isinstance(given, dict) else None,
                display_text=PARTNER_LINK_TEXT,
            )
    if height == "auto" and frame.height <= SHOW_EVERY_ROW_UP_TO:
        height = "content"  # a short table shows whole rather than scrolling its last rows out of sight
    # Lazy: the browser gets the rows in view and fetches more as the user scrolls or sorts (a
    # table of up to 1,000 rows is still sent whole); the table's own search is then off.
    st.dataframe(shown, hide_index=True, column_config=config, height=height, placeholder=MISSING, lazy=True)
    download(frame.drop("partner_link", strict=False), file_name)


def column_label(name: str) -> str:
    """A column's label in words: `gap_before_return_days` -> 'Gap before return (days)'."""
    if name in COLUMN_LABELS:
        return COLUMN_LABELS[name]
    words = name.replace("_", " ").strip()
    if words.endswith(" days"):
        words = words.removesuffix(" days") + " (days)"
    return words[:1].upper() + words[1:]


def column_config_for(frame: pl.DataFrame, column_config: dict[str, Any] | None = None) -> dict[str, Any]:
    """The page's column_config, completed: every other column gets a label in words, money
    (decimal columns) shows as dollars, yes/no as a checkbox, and every date as DATE_FORMAT."""
    config = dict(column_config or {})
    for name, dtype in frame.schema.items():
        given = config.get(name, column_label(name))
        if given is None or (isinstance(given, dict) and given.get("hidden")):
            continue
        label = given if isinstance(given, str) else given.get("label") or column_label(name)
        if dtype == pl.Date or isinstance(dtype, pl.Datetime):
            kind = "date" if dtype == pl.Date else "datetime"
            if isinstance(given, str) or given.get("type_config", {}).get("type") != kind:
                make = st.column_config.DateColumn if kind == "date" else st.column_config.DatetimeColumn
                given = make(label, help=None if isinstance(given, str) else given.get("help"))
            shape = given["type_config"]
            given = {**given, "type_config": {**shape, "format": shape.get("format") or DATE_FORMAT}}
        elif isinstance(given, str) and isinstance(dtype, pl.Decimal):
            given = st.column_config.NumberColumn(label, format=money_format())
        elif isinstance(given, str) and dtype == pl.Boolean:
            given = st.column_config.CheckboxColumn(label)
        config[name] = given
    return config


def partner_url(partner_id: pl.Expr) -> pl.Expr:
    """Each partner's Partner 360 page, with the current shared filters (null for no partner)."""
    view = urlencode(link_view())
    ids = partner_id.cast(pl.String)
    for char in "%&#+? ":  # an id is a URL value: escape what would end or change it (% first)
        ids = ids.str.replace_all(char, quote(char, safe=""), literal=True)
    link = pl.lit(f"./{PARTNER_PAGE}?partner=") + ids
    return link + pl.lit("&" + view) if view else link


def with_partner_link(frame: pl.DataFrame) -> pl.DataFrame:
    """A first column `partner_link`: this partner's Partner 360 page, with the current shared filters."""
    link = partner_url(pl.col("partner_id"))
    return frame.with_columns(link.alias("partner_link")).select("partner_link", pl.exclude("partner_link"))


def partner_link_column() -> Any:
    return st.column_config.LinkColumn(
        "Partner 360", help="Open this partner's page", display_text=PARTNER_LINK_TEXT, width="small"
    )


def needs(*tables: str) -> bool:
    """True when every extract is loaded; otherwise a note says which one the page needs."""
    counts = dict(zip(*queries.run("load_report").select("table_name", "rows_loaded").to_dict().values(), strict=True))
    missing = [table for table in tables if not counts.get(table)]
    if missing:
        st.info(
            f"This needs the **{'**, **'.join(missing)}** extract{'s' if len(missing) > 1 else ''}, "
            f"which the loaded data does not have. Add {'them' if len(missing) > 1 else 'it'} on the Data page or "
            "with `python -m loaders build`.",
            icon=":material/database_off:",
        )
    return not missing


# The extract tables each page reads, by its title in app.py's page list. The frame (app.py) draws
# one banner above a page when a table it reads had its quarantine alarm go off at the build
# (quarantine_warn_share); a page missing here is taken to read every table.
EVERY_TABLE = tuple(TABLES)
PAGE_READS: dict[str, tuple[str, ...]] = {
    "Program health": ("partners", "partner_activities", "opportunities", "touchpoints", "deal_registrations", "payouts"),
    "Pipeline forecast": ("partners", "opportunities", "opportunity_history", "touchpoints", "deal_registrations"),
    "Engagement & burnout": (
        "partners",
        "partner_activities",
        "opportunities",
        "touchpoints",
        "deal_registrations",
        "payouts",
    ),
    "Partner 360": EVERY_TABLE,
    "Attribution scenarios": ("partners", "opportunities", "touchpoints", "deal_registrations", "payouts"),
    "Disagreements": ("partners", "opportunities", "touchpoints", "deal_registrations", "payouts"),
    "Partner statement": ("partners", "opportunities", "touchpoints", "deal_registrations", "payouts"),
    "Data": EVERY_TABLE,
    "Glossary": (),
}


def quarantine_banner(page_title: str) -> None:
    """Above the page: which of the tables it reads were loaded with more of their rows quarantined
    than quarantine_warn_share allows, so its figures leave those rows out."""
    reads = PAGE_READS.get(page_title, EVERY_TABLE)
    if not reads:
        return
    alarms = queries.run("quarantine_alarms").filter(pl.col("table_name").is_in(list(reads)))
    if alarms.is_empty():
        return
    lines = [
        f"- {table_label(row['table_name'])}: {row['rows_quarantined']:,} of {row['rows_read']:,} rows "
        f"({row['quarantined_share']:.0%}) of {row['source_file']} were quarantined"
        for row in alarms.iter_rows(named=True)
    ]
    st.warning(
        f"Some data this page reads did not load: over {alarms['warn_share'][0]:.0%} of an extract's rows were "
        "quarantined, and the figures below leave those rows out. The Data page lists them with the reasons.\n\n"
        + "\n".join(lines),
        icon=":material/report:",
    )
