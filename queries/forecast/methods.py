"""The partner pipeline forecast, its backtest and the verdict on which method to trust.

This module owns the three forecast methods (docs/design.md, "Pipeline forecast"):
- CRM weighted: amount x the stage probability of the stage map;
- Sales call: commit, and commit + best case, from forecast_category;
- Historical: win, loss and slip rates (shares of amount) learned from what happened to deals
  in the same state at the start of past quarters (by stage, age, partner involvement and partner type,
  falling back to coarser groups below a minimum count), and P10 / P50 / P90 from 10,000
  vectorised simulations of every open deal (won in its quarter, slips to the next, or lost),
  plus new business: what deals not created yet will win in the quarter, drawn per run from
  what they won in the last four quarters over (`_new_business`).
It also owns the backtest (each method rebuilt as of the first day of each past quarter,
against what closed won in that quarter) and the verdict line.

Each deal's state on a given day (stage, amount, close date and forecast category then,
and its partner involvement then) is rebuilt in SQL, `pipeline_as_of.sql`; this module
only does what SQL says badly: group fallbacks and the simulation. Pages call the
registered outputs through `queries.run`.

Fit once per build (`store_forecast`, a derived step of loaders/derived.py): the deal states
on the data's last day and on the eve of every quarter (the slow SQL, written by DuckDB straight
into a table), and the outputs for the default view (no filters, as of data_as_of) are stored in
tables. Each output declares the
SQL that reads its stored rows (`Stored:`) and the query runner reads them for the default
view; with filters the outputs compute from the stored states, which gives the same numbers as
computing everything from the extracts (tests check both).

Conventions: a deal's quarter is the fiscal quarter of its close date as known then. An open
deal whose close date is before the forecast's day is "stale": nobody expects it on that date
any more. The historical method counts it in the current quarter at the share of deals stale on
past quarters' eves, as far past their close date, that were won in the quarter after (`_rates`;
every other deal's rates are learned from deals not stale then). CRM weighted and the sales call
leave it out by default (settings `forecast_stale_deals = "leave_out"`), the backtest too, or
count it in the current quarter ("current_quarter"); `forecast_caveats` counts stale deals with
their amount for cleanup in the CRM. Knowledge "as of" a day is everything up to the end of that day; the
backtest of a quarter uses the day before it, and a deal is stale then when its close date is
before the quarter's first day.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import duckdb
import numpy as np
import polars as pl
from duckdb import CaseExpression, ColumnExpression, ConstantExpression, StarExpression
from threadpoolctl import threadpool_limits

import queries
from queries import fiscal, meta
from queries.formatting import money

METHODS: dict[str, str] = {
    "crm_weighted": "CRM weighted",
    "sales_commit": "Sales call: commit",
    "sales_best_case": "Sales call: commit + best case",
    "historical": "Historical",
}
# Base segments, in simulation column order, and the segments reported (sums of base ones).
BASE_SEGMENTS = ("partner_sourced", "partner_influenced", "direct")
SEGMENTS: dict[str, tuple[int, ...]] = {
    "partner": (0, 1),
    "partner_sourced": (0,),
    "partner_influenced": (1,),
    "direct": (2,),
    "all": (0, 1, 2),
}
HORIZON = 4  # the current fiscal quarter and the next three
RUNS = 10_000
SEED = 20_240_607
BACKTEST_QUARTERS = 8
MIN_GROUP_DEALS = 30
# Past quarters needed before the bands carry a quarter's shared shock (_quarter_shocks).
MIN_SHOCK_QUARTERS = 3
# Past quarters the historical method's new business is learned from (_new_business): the last
# year, so each season counts once and a growing program is not held to its first quarters.
NEW_BUSINESS_QUARTERS = 4
# Deal age on the day of the forecast, in days since created: upper bounds and labels.
AGE_BUCKETS = ((30, "0-30 days"), (90, "31-90 days"), (180, "91-180 days"), (365, "181-365 days"))
OLDEST_BUCKET = "over 1 year"
# Finest first: a deal takes the rates of the finest group with at least the minimum count.
GROUP_LEVELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("stage x age x involvement x partner type", ("stage", "age_bucket", "segment", "partner_type")),
    ("stage x age x involvement", ("stage", "age_bucket", "segment")),
    ("stage x involvement", ("stage", "segment")),
    ("stage", ("stage",)),
    ("all deals", ()),
)
NO_HISTORY_GROUP = "stage map (no closed history yet)"
# Stale deals (open past their close date) take their rates from deals stale on a past quarter's
# eve, by how long past their close date (what says most about whether a deal is still alive), then
# stage and involvement as every other deal. The past-close bucket is never dropped: its own
# examples count whatever their number (STALE_ANY_COUNT_FROM), as a deal a year past its close date
# is not like the average stale deal; only a bucket with no example at all takes every stale deal's.
PAST_CLOSE_BUCKETS = (
    (30, "up to 30 days past close"), (90, "31-90 days past close"), (180, "91-180 days past close"),
    (365, "181-365 days past close"),
)  # fmt: skip
OLDEST_PAST_CLOSE_BUCKET = "over 1 year past close"
STALE_GROUP_LEVELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("stale: past close x stage x involvement", ("past_close_bucket", "stage", "segment")),
    ("stale: past close x stage", ("past_close_bucket", "stage")),
    ("stale: past close", ("past_close_bucket",)),
    ("stale: all stale deals", ()),
)
STALE_ANY_COUNT_FROM = 2  # levels from this one need one example, not the minimum
NO_STALE_HISTORY_GROUP = "stale: none in closed history yet (counted at 0)"
# What _examples keeps of the eves' deal states: the group columns (age from age_days and the
# schedule from close_date), and the amount and probability the quarter shocks weigh.
EXAMPLE_COLUMNS = (
    "opportunity_id", "quarter_start", "close_date", "age_days", "stage", "segment", "partner_type", "amount", "probability",
)  # fmt: skip
# What store_forecast keeps of the eves: the examples', and what the backtest reads of the deals
# open on a quarter's eve (in scope, the sales call's category).
EVE_COLUMNS = (
    "snapshot_date", *(c for c in EXAMPLE_COLUMNS if c != "quarter_start"), "in_scope", "forecast_category",
)  # fmt: skip
# Random draws per chunk of runs (runs x deals): small enough to stay in the CPU cache.
CHUNK_CELLS = 200_000
# Tables written at build time by `store_forecast`, and the SQL that reads each.
STATES_TABLE = "forecast_states_precomputed"
STORED: dict[str, tuple[str, str]] = {
    "forecast": ("forecast_precomputed", "forecast_stored_forecast"),
    "deals": ("forecast_deals_precomputed", "forecast_stored_deals"),
    "backtest": ("forecast_backtest_precomputed", "forecast_stored_backtest"),
    "caveats": ("forecast_caveats_precomputed", "forecast_stored_caveats"),
}
# A backtest error this large (|forecast - actual| / actual, %) is explained on screen when
# stale deals account for at least half of it.
LARGE_ERROR_PCT = 50.0

Filters = dict[str, list[str] | None]


# ---- registered outputs --------------------------------------------------------------


def pipeline_forecast(
    con: duckdb.DuckDBPyConnection,
    as_of: date | None = None,
    regions: list[str] | None = None,
    tiers: list[str] | None = None,
    partner_types: list[str] | None = None,
    managers: list[str] | None = None,
    min_group_deals: int = MIN_GROUP_DEALS,
) -> pl.DataFrame:
    """Pipeline expected to close won in the current and next three fiscal quarters, by method and segment.

    Grain: one row per fiscal quarter x method x segment
    Money: none
    Scope: program
    Stored: forecast_stored_forecast (no filters, as of data_as_of, read by the runner)

    Segments: partner (sourced + influenced), partner_sourced, partner_influenced, direct,
    all. The current quarter includes what was already won in it up to `as_of` (column
    won_to_date). p10 / p50 / p90 come from 10,000 simulations for
    crm_weighted (each deal won with its stage probability) and historical; the sales call
    has no band. new_business: the part of historical's expected amount from deals not created
    yet (learned from the last four quarters over, `_new_business`); 0 for the pipeline methods,
    which forecast the deals open on `as_of` only.
    """
    return _live(con, as_of, _filters(regions, tiers, partner_types, managers), min_group_deals)["forecast"]


def forecast_deals(
    con: duckdb.DuckDBPyConnection,
    as_of: date | None = None,
    regions: list[str] | None = None,
    tiers: list[str] | None = None,
    partner_types: list[str] | None = None,
    managers: list[str] | None = None,
    min_group_deals: int = MIN_GROUP_DEALS,
) -> pl.DataFrame:
    """The open deals behind the forecast, with each one's expected value and slips.

    Grain: one row per open opportunity as of `as_of`
    Money: none
    Scope: partner
    Stored: forecast_stored_deals (no filters, as of data_as_of, read by the runner)

    Largest historical expected value (within the four quarters) first. is_slipped: its
    close date has moved later; is_stale: its close date is before `as_of` while it is still
    open (forecast in the current quarter by the historical method, at what stale deals like it
    won: historical_group names the group); in_forecast: false for a stale deal the settings
    leave out of CRM weighted and the sales call (its crm_weighted is empty). historical_group
    says which group of closed history gave its rates; probability_source where its CRM-weighted
    probability came from ('stage_map', 'deal': its own, 'none': counted at 0).
    """
    return _live(con, as_of, _filters(regions, tiers, partner_types, managers), min_group_deals)["deals"]


def forecast_caveats(
    con: duckdb.DuckDBPyConnection,
    as_of: date | None = None,
    regions: list[str] | None = None,
    tiers: list[str] | None = None,
    partner_types: list[str] | None = None,
    managers: list[str] | None = None,
) -> pl.DataFrame:
    """Open deals the forecast cannot count as the CRM states them, with their amount and what to do.

    Grain: one row per kind x segment that has such deals

    kind: 'stale' (open, close date before `as_of`: the historical method counts them at what
    stale deals like them won before; CRM weighted and the sales call leave them out, or count
    them in the current quarter when the settings say so), 'no_probability' (forecast deals in stages
    the stage map gives no probability, without one of their own: CRM weighted counts them at
    0), 'deal_probability' (the same stages, using the deal's own probability). stages: the
    stages concerned, comma-separated (empty for 'stale'); message: the sentence the page shows.

    Money: none
    Scope: program
    Stored: forecast_stored_caveats (no filters, as of data_as_of, read by the runner)
    """
    return _live(con, as_of, _filters(regions, tiers, partner_types, managers), MIN_GROUP_DEALS)["caveats"]


def forecast_backtest(
    con: duckdb.DuckDBPyConnection,
    regions: list[str] | None = None,
    tiers: list[str] | None = None,
    partner_types: list[str] | None = None,
    managers: list[str] | None = None,
    min_group_deals: int = MIN_GROUP_DEALS,
) -> pl.DataFrame:
    """Each method rebuilt as of the first day of past quarters, against what actually closed won then.

    Grain: one row per past fiscal quarter x method x segment
    Money: none
    Scope: program
    Stored: forecast_stored_backtest (no filters, as of data_as_of, read by the runner)

    forecast is what the method
    said on the quarter's first day, with only what was known the day before (for historical,
    new_business of it: what deals not created yet would win, learned from the quarters before;
    0 for the other methods); actual is the amount closed won in the quarter, pipeline_actual
    the part of it the deals the methods counted on the eve won and new_business_actual the
    part deals created in the quarter won; abs_pct_error = |forecast - actual| / actual x 100
    for every method; in_band says whether P10-P90 held what the method forecasts: the actual
    for historical, pipeline_actual for CRM weighted (a pipeline method: it forecasts the deals
    open on the eve, not the quarter). basis is 'history' (states rebuilt
    from opportunity_history) or 'created_close_dates' (no history: stage and forecast
    category then are unknown, amounts and close dates are the final ones).
    Stale deals then (open, close date before the quarter's first day): stale_deals and
    stale_amount; stale_forecast, the part of the forecast that came from them (for CRM weighted
    and the sales call 0 when the settings leave them out); stale_won, the part of the actual they brought. stale_note, the
    same on every method's row of a quarter and segment: why the error is large, when it is
    at least 50% and stale deals account for at least half of it.
    """
    return _backtest(con, _filters(regions, tiers, partner_types, managers), min_group_deals)


def forecast_accuracy(
    con: duckdb.DuckDBPyConnection,
    regions: list[str] | None = None,
    tiers: list[str] | None = None,
    partner_types: list[str] | None = None,
    managers: list[str] | None = None,
    segment: str = "partner",
    min_group_deals: int = MIN_GROUP_DEALS,
) -> pl.DataFrame:
    """Each method's track record on one segment (default partner: sourced + influenced), and the one-line verdict.

    Grain: one row per method
    Money: none
    Scope: program

    Most often closest first. mape: mean absolute percentage
    error over the quarters with an actual; bias_pct: mean signed error (positive =
    overstated); coverage_pct: share of quarters whose band held what the method forecasts
    (in_band of forecast_backtest), band_judged_against names it: the actual for historical,
    what the deals it counted won for CRM weighted (none for the sales call, which has no band);
    times_closest: quarters in which the method was the closest; verdict: the same sentence
    on every row.
    """
    filters = _filters(regions, tiers, partner_types, managers)
    return accuracy(queries.execute(con, "forecast_backtest", **filters, min_group_deals=min_group_deals), segment)


# ---- fit once per build ----------------------------------------------------------------


def store_forecast(con: duckdb.DuckDBPyConnection, settings: Any = None) -> None:
    """Derived step at build time: store the deal states and the default view's outputs.

    Tables: forecast_states_precomputed (state_kind 'final': every deal on data_as_of;
    'eve': the open deals on the eve of every fiscal quarter, unscoped), then
    forecast_precomputed, forecast_deals_precomputed and forecast_backtest_precomputed (no
    filters, as of data_as_of, the default minimum group size), each with a row_number
    giving the order. Without a data_as_of the tables stay empty and every view computes.
    """
    no_filters = _filters(None, None, None, None)
    has_date = meta.data_as_of(con) is not None
    _drop_stored(con)
    if not has_date:
        empty = queries.execute(con, "pipeline_as_of", snapshot_dates=[], **no_filters)
        queries.store_table(con, STATES_TABLE, empty.with_columns(pl.lit("final").alias("state_kind")))
        for table, _ in STORED.values():
            con.execute("create table " + table + " (row_number bigint)")  # noqa: S608 - fixed names
        return
    # One SQL pass for data_as_of (closed deals included) and every quarter's eve (open deals),
    # written straight into the table by DuckDB (within its memory limit): at scale the rows
    # would not fit in Python's memory twice. The eves start at the quarter of the first deal
    # created by data_as_of, as _snapshots does.
    data_as_of, start_month = _meta(con)
    first = con.sql("select min(created_at) from opportunities where created_at <= $day", params={"day": data_as_of})
    first_created = first.fetchall()[0][0]
    eves = [s - timedelta(days=1) for s in _quarter_starts(first_created, data_as_of, start_month)[1:]] if first_created else []
    states = queries.relation(
        con, "pipeline_as_of", snapshot_dates=[*eves, data_as_of], include_closed_on=data_as_of, **no_filters
    )
    is_final = ColumnExpression("snapshot_date") == ConstantExpression(data_as_of)
    kind = CaseExpression(is_final, ConstantExpression("final")).otherwise(ConstantExpression("eve")).alias("state_kind")
    states.project(StarExpression(), kind).to_table(STATES_TABLE)
    # The computations below read the states from the table, as a page does.
    finals = _stored_states(con, "final", no_filters)
    MEMO.put(con, ("finals", _frozen(no_filters)), finals)
    if not finals.is_empty():
        # Only what the forecast and the backtest read of the eves (at scale 100, 1.7M rows: the
        # other columns would be most of a GB); DuckDB selects them.
        eves = queries.relation(con.cursor(), "forecast_stored_states", kind="eve", **no_filters).select(*EVE_COLUMNS)
        snapshots = eves.pl().with_columns(
            pl.col("amount").cast(pl.Float64).fill_null(0.0),
            (pl.col("snapshot_date") + pl.duration(days=1)).alias("quarter_start"),
        )
        MEMO.put(con, ("snapshots", _frozen(no_filters)), snapshots)
    live = _live(con, None, no_filters, MIN_GROUP_DEALS)
    outputs = {
        "forecast": live["forecast"],
        "deals": live["deals"],
        "caveats": live["caveats"],
        "backtest": _backtest(con, no_filters, MIN_GROUP_DEALS),
    }
    for kind, frame in outputs.items():
        queries.store_table(con, STORED[kind][0], frame.with_row_index("row_number"))
    MEMO.clear()  # what was memoised belongs to the database being built


def _drop_stored(con: duckdb.DuckDBPyConnection) -> None:
    for table in (STATES_TABLE, *(table for table, _ in STORED.values())):
        con.execute("drop table if exists " + table)  # noqa: S608 - fixed names


def _has_stored(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether this database holds the deal states the build stored (older builds do not, nor a build
    without a data_as_of), and stored views are read (queries.READ_STORED)."""
    if not queries.READ_STORED:
        return False
    if not queries.has_tables(con, STATES_TABLE, *(table for table, _ in STORED.values())):
        return False
    return bool(con.sql("select count(*) from forecast_precomputed").fetchall()[0][0])


# ---- state of the pipeline --------------------------------------------------------------


def _filters(
    regions: list[str] | None, tiers: list[str] | None, partner_types: list[str] | None, managers: list[str] | None
) -> Filters:
    return {
        "regions": regions or None,
        "tiers": tiers or None,
        "partner_types": partner_types or None,
        "managers": managers or None,
    }


class Memo:
    """Results keyed by the database (file and build) and the arguments, the newest `size` kept: the
    page asks for the forecast, the deals, the caveats, the backtest and its verdict, which share
    most of their work. Locked: page runs are threads of one process."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._values: OrderedDict[tuple[Any, ...], Any] = OrderedDict()

    def get(self, con: duckdb.DuckDBPyConnection, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        full_key = (_identity(con), *key)
        with self._lock:
            if full_key in self._values:
                self._values.move_to_end(full_key)
                return self._values[full_key]
        value = compute()  # outside the lock: two threads may compute the same value, and one keeps it
        self.put(con, key, value, full_key)
        return value

    def put(
        self, con: duckdb.DuckDBPyConnection, key: tuple[Any, ...], value: Any, full_key: tuple[Any, ...] | None = None
    ) -> None:
        """Keep a value computed elsewhere (the build step's single pass)."""
        with self._lock:
            self._values[full_key or (_identity(con), *key)] = value
            while len(self._values) > self._size:
                self._values.popitem(last=False)

    def forget(self, con: duckdb.DuckDBPyConnection, key: tuple[Any, ...]) -> None:
        """Drop one value (forecast_history's states of a week, once its forecast is made)."""
        with self._lock:
            self._values.pop((_identity(con), *key), None)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


MEMO = Memo(16)


def _identity(con: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    return con.sql(
        "select (select path from duckdb_databases() where database_name = current_database()),"
        " (select value from load_meta where key = 'built_at')"
    ).fetchall()[0]


def _frozen(filters: Filters) -> tuple[Any, ...]:
    return tuple((k, tuple(v) if v else None) for k, v in sorted(filters.items()))


def _meta(con: duckdb.DuckDBPyConnection) -> tuple[date, int]:
    info = meta.values(con)
    return meta.as_of_in(info) or date.today(), meta.start_month_in(info)


def _counts_stale(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the settings count stale open deals in the current quarter (else they are left out)."""
    info = dict(queries.execute(con, "program_meta").iter_rows())
    rule = con.sql(
        "select json_extract_string($settings, '$.forecast_stale_deals')", params={"settings": info.get("settings_json") or "{}"}
    ).fetchall()[0][0]
    return rule == "current_quarter"


def _has_history(con: duckdb.DuckDBPyConnection) -> bool:
    report = queries.execute(con, "load_report").filter(pl.col("table_name") == "opportunity_history")
    return bool(report.height) and report["status"][0] == "loaded" and (report["rows_loaded"][0] or 0) > 0


def _states(con: duckdb.DuckDBPyConnection, filters: Filters, **params: Any) -> pl.DataFrame:
    frame = queries.execute(con, "pipeline_as_of", **params, **filters)
    return frame.with_columns(pl.col("amount").cast(pl.Float64).fill_null(0.0))


def _stored_states(con: duckdb.DuckDBPyConnection, kind: str, filters: Filters) -> pl.DataFrame:
    """States stored by `store_forecast`, scoped by `filters`: the same frame `_states` gives."""
    frame = queries.execute(con, "forecast_stored_states", kind=kind, **filters)
    return frame.with_columns(pl.col("amount").cast(pl.Float64).fill_null(0.0))


def _states_on(con: duckdb.DuckDBPyConnection, filters: Filters, day: date) -> pl.DataFrame:
    """Every deal as it stood at the end of `day`, closed ones included (forecast_history seeds
    these from one SQL pass over all its weeks)."""
    return MEMO.get(con, ("states_on", day, _frozen(filters)), lambda: _states(con, filters, as_of=day, include_closed=True))


def _finals(con: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Every deal as it stands on the data's last day, closed ones included."""

    def compute() -> pl.DataFrame:
        if _has_stored(con):
            return _stored_states(con, "final", filters)
        return _states(con, filters, include_closed=True)

    return MEMO.get(con, ("finals", _frozen(filters)), compute)


# What _examples reads of the final states (each deal's outcome), and _new_business of the won deals.
OUTCOME_COLUMNS = ("opportunity_id", "is_closed", "is_won", "close_date", "created_at", "amount", "segment", "in_scope")


def _outcomes(con: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Every deal's outcome as it stands on the data's last day: the final states' OUTCOME_COLUMNS
    (the same buffers, not a copy; forecast_history's build step puts these alone, narrow)."""
    return MEMO.get(con, ("outcomes", _frozen(filters)), lambda: _finals(con, filters).select(OUTCOME_COLUMNS))


def _quarter_starts(first: date, last: date, start_month: int) -> list[date]:
    starts, current = [], fiscal.quarter_start(first, start_month)
    while current <= last:
        starts.append(current)
        current = fiscal.add_quarters(current, 1)
    return starts


def _snapshots(con: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """The open deals on the eve of every fiscal quarter since the first deal, with `quarter_start`."""

    def compute() -> pl.DataFrame:
        finals = _finals(con, filters)
        if finals.is_empty():
            return _states(con, filters, snapshot_dates=[]).with_columns(quarter_start=pl.lit(None, pl.Date))
        if _has_stored(con):
            frame = _stored_states(con, "eve", filters)
        else:
            frame = _eve_states(con, filters, finals).with_columns(pl.col("amount").cast(pl.Float64).fill_null(0.0))
        return frame.with_columns((pl.col("snapshot_date") + pl.duration(days=1)).alias("quarter_start"))

    return MEMO.get(con, ("snapshots", _frozen(filters)), compute)


def _eve_states(con: duckdb.DuckDBPyConnection, filters: Filters, finals: pl.DataFrame) -> pl.DataFrame:
    """pipeline_as_of on the eve of every fiscal quarter since the first deal (one SQL pass), as SQL returns it."""
    data_as_of, start_month = _meta(con)
    if finals.is_empty():
        return queries.execute(con, "pipeline_as_of", snapshot_dates=[], **filters)
    starts = _quarter_starts(finals["created_at"].min(), data_as_of, start_month)[1:]
    return queries.execute(con, "pipeline_as_of", snapshot_dates=[start - timedelta(days=1) for start in starts], **filters)


def _month_index(column: pl.Expr) -> pl.Expr:
    return column.dt.year().cast(pl.Int64) * 12 + column.dt.month().cast(pl.Int64) - 1


def _with_schedule(deals: pl.DataFrame, first_quarter: pl.Expr, start_month: int) -> pl.DataFrame:
    """quarter_index: quarters from `first_quarter` to the quarter of the close date (0 when past due)."""
    close = pl.col("close_date")
    close_quarter = _month_index(close) - ((close.dt.month().cast(pl.Int64) - start_month) % 12) % 3
    index = ((close_quarter - _month_index(first_quarter)) // 3).clip(lower_bound=0).fill_null(0)
    age = pl.col("age_days")
    bucket = pl.when(age <= AGE_BUCKETS[0][0]).then(pl.lit(AGE_BUCKETS[0][1]))
    for bound, label in AGE_BUCKETS[1:]:
        bucket = bucket.when(age <= bound).then(pl.lit(label))
    return deals.with_columns(index.alias("quarter_index"), bucket.otherwise(pl.lit(OLDEST_BUCKET)).alias("age_bucket"))


# ---- historical rates ----------------------------------------------------------------


def _examples(snapshots: pl.DataFrame, finals: pl.DataFrame, known_through: date, start_month: int) -> pl.DataFrame:
    """What happened to each deal open on the eve of a past quarter, by the end of its scheduled quarter.

    outcome: 'won' (closed won by then), 'lost' (closed lost by then) or 'slipped' (still open,
    or closed later); final_segment: its partner involvement at its close, or today if open
    (`_migration` reads it of the won ones, closed by `known_through`: no later touch counts).
    Only quarters that had ended by `known_through` count. is_stale: the deal was past its close
    date on that eve (its scheduled quarter is then the one that followed),
    with past_close_bucket; `_rates` learns stale deals' rates from these alone, and every other
    deal's from the rest: the rates are learned from deals like the ones they are applied to.
    """
    if snapshots.is_empty():
        return snapshots.with_columns(
            pl.lit(None, pl.String).alias("outcome"),
            pl.lit(None, pl.String).alias("age_bucket"),
            pl.lit(None, pl.Boolean).alias("is_stale"),
            pl.lit(None, pl.String).alias("past_close_bucket"),
            pl.lit(None, pl.String).alias("final_segment"),
        )
    # Only what the rates and the quarter shocks read: at scale the eves are millions of rows,
    # and each filter and join below copies them.
    snapshots = snapshots.select(EXAMPLE_COLUMNS).with_columns(_staleness(pl.col("quarter_start")))
    deals = _with_schedule(snapshots, pl.col("quarter_start"), start_month)
    scheduled = pl.col("quarter_start").dt.offset_by(pl.format("{}mo", pl.col("quarter_index") * 3))
    deals = deals.with_columns((scheduled.dt.offset_by("3mo") - pl.duration(days=1)).alias("scheduled_end"))
    deals = deals.filter(pl.col("scheduled_end") <= known_through)
    outcome = finals.select(
        "opportunity_id",
        pl.col("is_closed").alias("final_closed"),
        pl.col("is_won").alias("final_won"),
        pl.col("close_date").alias("final_close_date"),
        # Without involvement at close (a caller's outcomes may lack it) nothing migrates.
        (pl.col("segment") if "segment" in finals.columns else pl.lit(None, pl.String)).alias("final_segment"),
    )
    closed_in_time = pl.col("final_closed") & (pl.col("final_close_date") <= pl.col("scheduled_end"))
    return deals.join(outcome, on="opportunity_id", how="left").with_columns(
        pl.when(closed_in_time & pl.col("final_won"))
        .then(pl.lit("won"))
        .when(closed_in_time)
        .then(pl.lit("lost"))
        .otherwise(pl.lit("slipped"))
        .alias("outcome")
    )


def _rates(deals: pl.DataFrame, examples: pl.DataFrame, min_group_deals: int) -> pl.DataFrame:
    """p_won, p_lost, p_slip per deal and quarter, from the finest group of examples with enough deals.

    A stale deal (is_stale: open past its close date) takes the rates of deals stale on a past
    quarter's eve, by how long past their close date, stage and involvement (STALE_GROUP_LEVELS):
    p_won is the share of them won in the quarter that followed. It is forecast in the current
    quarter only (p_slip 0): one still open after it is stale again, and learned anew then.
    Every other deal takes the rates of the deals not stale on the eves (GROUP_LEVELS). Rows keep
    the order of `deals`.
    """
    if "is_stale" not in deals.columns:
        return _current_rates(deals, _not_stale(examples), min_group_deals)
    deals = deals.with_row_index("_order")
    current = _current_rates(deals.filter(~pl.col("is_stale")), _not_stale(examples), min_group_deals)
    stale = _stale_rates(deals.filter(pl.col("is_stale")), _only_stale(examples), min_group_deals)
    return pl.concat([current, stale], how="diagonal_relaxed").sort("_order").drop("_order")


def _not_stale(examples: pl.DataFrame) -> pl.DataFrame:
    return examples.filter(~pl.col("is_stale")) if "is_stale" in examples.columns else examples


def _only_stale(examples: pl.DataFrame) -> pl.DataFrame:
    return examples.filter(pl.col("is_stale")) if "is_stale" in examples.columns else examples.clear()


def _no_rates_yet(deals: pl.DataFrame) -> pl.DataFrame:
    """The deals with empty rate columns, for `_grouped_rates` to fill from the finest group that has enough."""
    return deals.with_columns(
        pl.lit(None, pl.Float64).alias("p_won"),
        pl.lit(None, pl.Float64).alias("p_lost"),
        pl.lit(None, pl.String).alias("historical_group"),
        pl.lit(None, pl.Int64).alias("group_deals"),
    )


def _stale_rates(deals: pl.DataFrame, examples: pl.DataFrame, min_group_deals: int) -> pl.DataFrame:
    """p_won of stale deals from stale examples (none yet: 0, as the program has not seen one won)."""
    rates = _no_rates_yet(deals)
    if examples.is_empty():
        rates = rates.with_columns(
            pl.lit(0.0).alias("p_won"),
            pl.lit(NO_STALE_HISTORY_GROUP).alias("historical_group"),
            pl.lit(0, pl.Int64).alias("group_deals"),
        )
    else:
        rates = _grouped_rates(rates, examples, STALE_GROUP_LEVELS[:STALE_ANY_COUNT_FROM], min_group_deals)
        rates = _grouped_rates(rates, examples, STALE_GROUP_LEVELS[STALE_ANY_COUNT_FROM:], 1)
    return rates.with_columns((1 - pl.col("p_won")).alias("p_lost"), pl.lit(0.0).alias("p_slip"))


def _current_rates(deals: pl.DataFrame, examples: pl.DataFrame, min_group_deals: int) -> pl.DataFrame:
    """p_won, p_lost, p_slip of deals not stale, from the examples not stale on their eve."""
    rates = _no_rates_yet(deals)
    if examples.is_empty():
        return rates.with_columns(
            pl.col("probability").alias("p_won"),
            (1 - pl.col("probability")).alias("p_lost"),
            pl.lit(NO_HISTORY_GROUP).alias("historical_group"),
            pl.lit(0, pl.Int64).alias("group_deals"),
        ).with_columns(pl.lit(0.0).alias("p_slip"))
    rates = _grouped_rates(rates, examples, GROUP_LEVELS, min_group_deals)
    return rates.with_columns((1 - pl.col("p_won") - pl.col("p_lost")).clip(lower_bound=0).alias("p_slip"))


def _grouped_rates(
    rates: pl.DataFrame, examples: pl.DataFrame, levels: tuple[tuple[str, tuple[str, ...]], ...], min_group_deals: int
) -> pl.DataFrame:
    """p_won and p_lost of each deal from the finest of `levels` whose group of examples has enough deals.

    Shares of the group's amount, not of its deal count: the forecast is an amount, and where large
    deals win less often than small ones (they do on the demo, seed 7: 19-30% of the amount open on
    an eve and due in the quarter was won in it, 23-31% of the deals), a count share overstates it.
    A group whose amounts are all 0 takes the count share."""
    amount = pl.col("amount").fill_null(0.0)

    def share(outcome: str) -> pl.Expr:
        is_outcome = pl.col("outcome") == outcome
        by_amount = (is_outcome.cast(pl.Float64) * amount).sum() / amount.sum()
        return pl.when(amount.sum() > 0).then(by_amount).otherwise(is_outcome.mean())

    for label, columns in levels:
        stats = examples.group_by(list(columns) or pl.lit(1).alias("_all")).agg(
            pl.len().alias("_n"), share("won").alias("_won"), share("lost").alias("_lost")
        )
        if columns:
            joined = rates.join(stats, on=list(columns), how="left", nulls_equal=True)
        else:
            joined = rates.join(stats.drop("_all"), how="cross")
        enough = pl.col("historical_group").is_null() & (
            (pl.col("_n") >= min_group_deals) if columns else pl.col("_n").is_not_null()
        )
        rates = joined.with_columns(
            pl.when(enough).then(pl.col("_won")).otherwise(pl.col("p_won")).alias("p_won"),
            pl.when(enough).then(pl.col("_lost")).otherwise(pl.col("p_lost")).alias("p_lost"),
            pl.when(enough).then(pl.lit(label)).otherwise(pl.col("historical_group")).alias("historical_group"),
            pl.when(enough).then(pl.col("_n")).otherwise(pl.col("group_deals")).alias("group_deals"),
        ).drop("_n", "_won", "_lost")
    return rates


def _migration(examples: pl.DataFrame, min_group_deals: int) -> np.ndarray | None:
    """Where the amount won ends, by involvement: shape (3, 3), row the base segment a deal had on
    a past quarter's eve, column the one it had when it closed won, each row summing to 1. None when
    nothing is learned (every row stays where it is).

    A deal's involvement is read as known on the forecast's day, the actual by its involvement at
    its close: a deal direct on the eve that a partner touches (or registers) before it is won is
    partner-influenced revenue won. Learned like the rates, from the deals open on past quarters'
    eves and won in their scheduled quarter (`_examples`, stale ones too: involvement is not
    staleness), as shares of their amount; a segment with fewer than `min_group_deals` such deals
    keeps its amount (its row is the identity's)."""
    if examples.is_empty() or "final_segment" not in examples.columns:
        return None
    won = examples.filter(pl.col("outcome") == "won").with_columns(pl.col("final_segment").fill_null(pl.col("segment")))
    index = dict(zip(BASE_SEGMENTS, range(len(BASE_SEGMENTS)), strict=True))
    matrix = np.eye(len(BASE_SEGMENTS))
    learned = False
    for (segment,), group in won.group_by("segment"):
        if segment not in index or group.height < max(min_group_deals, 1):
            continue
        amounts = group["amount"].fill_null(0.0).to_numpy().astype(np.float64)
        finals = group["final_segment"].replace_strict(index).to_numpy()
        if amounts.sum() <= 0:
            amounts = np.ones_like(amounts)  # deals of 0: their count, as the rates do
        matrix[index[segment]] = [amounts[finals == j].sum() / amounts.sum() for j in range(len(BASE_SEGMENTS))]
        learned = True
    return matrix if learned else None


# ---- new business ----------------------------------------------------------------------


def _new_business(won: pl.DataFrame, first_quarter: date, day: date, start_month: int, horizon: int) -> list[np.ndarray]:
    """What deals not yet created at the end of `day` will win in each coming quarter, learned from
    past quarters. Per coming quarter (0 = `first_quarter`: the one `day` is in or, for the
    backtest, the one after its eve), an array of shape (past quarters, 3 base segments), one row
    per past quarter learned from, oldest first; no rows when there is nothing to learn from.

    `won`: the deals closed won, with their final segment. Past quarter Q stands for coming
    quarter h: what deals created in the part of h's quarter 0 after `day` (from the same number
    of days into the quarter h quarters before Q) or in quarters 1..h (the quarters before Q) won
    in Q. For the current quarter (h = 0), what deals created after the same day of Q won in Q:
    the part of the quarter left, deals created late (with little time to close) weighing what
    they weighed then, rather than the whole quarter scaled by the days left (ten times too much
    mid-quarter on the demo, bench/RESULTS.md). Q must be over by `day` (no peeking), and the
    quarter it counts creations from must come after the first won deal's quarter (a program's
    first quarter is partial). The last NEW_BUSINESS_QUARTERS such quarters count.
    """
    into_quarter = timedelta(days=(day - first_quarter).days + 1)  # days of quarter 0 already known (0 on its eve)
    out = [np.zeros((0, len(BASE_SEGMENTS))) for _ in range(horizon)]
    if won.is_empty():
        return out
    created = won["created_at"].to_numpy()
    closed = won["close_date"].to_numpy()
    amounts = won["amount"].to_numpy().astype(np.float64)
    segments = won["segment"].replace_strict(dict(zip(BASE_SEGMENTS, range(3), strict=True))).to_numpy()
    # The first quarter with whole creations: the one after the first deal's.
    whole_from = fiscal.add_quarters(fiscal.quarter_start(won["created_at"].min(), start_month), 1)
    for h in range(horizon):
        pasts = []
        past = fiscal.add_quarters(first_quarter, -1)
        while len(pasts) < NEW_BUSINESS_QUARTERS and fiscal.add_quarters(past, -h) >= whole_from:
            pasts.append(past)
            past = fiscal.add_quarters(past, -1)
        rows = []
        for start in reversed(pasts):
            created_after = np.datetime64(fiscal.add_quarters(start, -h) + into_quarter)
            chosen = (closed >= np.datetime64(start)) & (closed < np.datetime64(fiscal.add_quarters(start, 1)))
            chosen &= created >= created_after
            rows.append([float(amounts[chosen & (segments == s)].sum()) for s in range(len(BASE_SEGMENTS))])
        if rows:
            out[h] = np.array(rows)
    return out


# ---- simulation ----------------------------------------------------------------------


def won_by_quarter(quarter_index: np.ndarray, p_won: np.ndarray, p_slip: np.ndarray, horizon: int) -> np.ndarray:
    """P(deal won by the end of quarter q), shape (deals, horizon).

    A deal scheduled in quarter k is won there with p_won, lost with p_lost, or slips to the
    next quarter, where the same rates apply again: P(won in k + j) = p_slip^j x p_won.
    """
    steps = np.arange(horizon)[None, :] - quarter_index[:, None]
    per_quarter = np.where(steps >= 0, p_won[:, None] * np.power(p_slip[:, None], np.maximum(steps, 0)), 0.0)
    return np.minimum(np.cumsum(per_quarter, axis=1), 1.0)


def simulate(
    amounts: np.ndarray,
    segments: np.ndarray,
    won_by: list[np.ndarray],
    runs: int = RUNS,
    seed: int = SEED,
    shocks: list[np.ndarray | None] | None = None,
    splits: list[np.ndarray | None] | None = None,
) -> list[np.ndarray]:
    """Amount won per run, quarter and base segment, shape (runs, horizon, 3), for each matrix in `won_by`.

    One uniform draw per deal and run decides its fate: won by the end of quarter q when the
    draw is below won_by[q], so it is won in the first such quarter, or not within the
    horizon. The methods share the same draws (common random numbers), so their bands
    differ only by their probabilities. Draws are 16-bit (probabilities resolved to 1/65,536)
    and taken in small chunks of runs, which keeps the work in cache. Deals whose fate is
    certain (every probability 0 or 1) are added exactly instead of drawn.

    shocks (one per matrix, or None): each run's multiplier of every deal's probabilities, the
    quarter's shared shock (a slow quarter slips many deals at once, a good one closes them):
    in run r a deal is won by quarter q when its draw, divided by shocks[r] in single precision,
    is below won_by[q]. A run's shock is one of a few past quarters', so each deal's threshold
    is worked out once per distinct shock as a whole draw (`_shocked_thresholds`) and every
    comparison is between integers.

    splits (one per matrix, or None): each deal's share of its amount won counted in each base
    segment, shape (deals, 3) (`_migration`: a deal direct today may be partner-influenced when it
    is won); None counts it all in its own segment.
    """
    horizon = won_by[0].shape[1] if won_by else 0
    results = [np.zeros((runs, horizon, len(BASE_SEGMENTS))) for _ in won_by]
    certain = [np.isin(matrix, (0.0, 1.0)).all(axis=1) for matrix in won_by]
    splits = splits or [None] * len(won_by)
    for matrix, sure, result, split in zip(won_by, certain, results, splits, strict=True):
        won_in = np.diff(matrix[sure], axis=1, prepend=0.0) * amounts[sure, None]
        for segment in range(len(BASE_SEGMENTS)):
            if split is None:
                result[:, :, segment] += won_in[segments[sure] == segment].sum(axis=0)
            else:
                result[:, :, segment] += (won_in * split[sure, segment, None]).sum(axis=0)
    drawn = ~np.all(certain, axis=0) if won_by else np.zeros(0, dtype=bool)
    deals = int(drawn.sum())
    if deals == 0:
        return results
    # Per method, a deal certain under it weighs nothing in the draws (it was added above).
    weights = []
    for sure, split in zip(certain, splits, strict=True):
        weight = np.zeros((deals, len(BASE_SEGMENTS)), dtype=np.float32)
        if split is None:
            weight[np.arange(deals), segments[drawn]] = np.where(sure[drawn], 0.0, amounts[drawn])
        else:
            weight[:] = np.where(sure[drawn], 0.0, amounts[drawn])[:, None] * split[drawn]
        weights.append(weight)
    thresholds = [np.ascontiguousarray(np.round(w[drawn] * 65536).astype(np.int32).T) for w in won_by]
    # Per method: None (no shock), or each run's index into thresholds per distinct shock.
    shocked: list[tuple[np.ndarray, np.ndarray] | None] = []
    for threshold, multiplier in zip(thresholds, shocks or [None] * len(won_by), strict=True):
        if multiplier is None:
            shocked.append(None)
            continue
        inverse = (1.0 / np.maximum(multiplier, 1e-6)).astype(np.float32)
        distinct, run_index = np.unique(inverse, return_inverse=True)
        shocked.append((_shocked_thresholds(threshold, distinct), run_index.reshape(-1)))
    stream = _Draws(seed)
    chunk = max(1, min(runs, CHUNK_CELLS // deals))
    hits = np.empty((chunk, deals), dtype=np.float32)
    with threadpool_limits(limits=1, user_api="blas"):  # a matrix this thin gains nothing from threads
        for start in range(0, runs, chunk):
            size = min(chunk, runs - start)
            draws = stream.uint16(size * deals).reshape(size, deals).astype(np.int32)
            for threshold, weight, result, shock in zip(thresholds, weights, results, shocked, strict=True):
                previous = np.zeros((size, len(BASE_SEGMENTS)))
                for quarter in range(horizon):
                    if shock is None:
                        np.less(draws, threshold[quarter], out=hits[:size], casting="unsafe")
                    else:
                        by_shock, run_index = shock
                        for row in range(size):
                            np.less(draws[row], by_shock[run_index[start + row], quarter], out=hits[row], casting="unsafe")
                    won_by_now = hits[:size] @ weight
                    result[start : start + size, quarter] += won_by_now - previous
                    previous = won_by_now
    return results


class _Draws:
    """The 16-bit draws `np.random.default_rng(seed).integers(0, 65536, n, dtype=np.uint16)` gives, call
    after call, taken straight from the bit generator (ten times faster): each 64-bit word is four
    draws, low half first, and a call that takes an odd number of draws leaves the second half
    of its last 32-bit word unused, the Generator's rule."""

    def __init__(self, seed: int) -> None:
        self._bits = np.random.default_rng(seed).bit_generator
        self._carry = np.zeros(0, dtype=np.uint32)

    def uint16(self, n: int) -> np.ndarray:
        words = (n + 1) // 2
        needed = words - len(self._carry)
        fresh = self._bits.random_raw((needed + 1) // 2).view(np.uint32)
        taken = np.concatenate([self._carry, fresh[:needed]])
        self._carry = fresh[needed:].copy()
        return taken.view(np.uint16)[:n]


def _shocked_thresholds(threshold: np.ndarray, inverse: np.ndarray) -> np.ndarray:
    """For each distinct inverse shock v: the whole draws d with float32(d x v) < threshold, as
    'd < k' (k per quarter and deal), shape (shocks, horizon, deals). float32(d x v) never
    decreases with d, so the draws that pass are those below the number that pass: k is
    threshold / v rounded up, then moved by the rounding of float32 (at most a step or two)."""
    every_draw = np.arange(65536, dtype=np.int32)
    wanted = threshold.astype(np.float64)
    out = np.empty((len(inverse), *threshold.shape), dtype=np.int32)
    scaled = np.empty(65536, dtype=np.float32)
    for i, value in enumerate(inverse):
        np.multiply(every_draw, value[None], out=scaled)  # as a draw is scaled: in double, kept in single
        # Padded so that below[k] is the scaled draw k - 1 and at[k] the scaled draw k, for k in 0..65536.
        padded = np.concatenate([[-np.inf], scaled.astype(np.float64), [np.inf]])
        count = np.clip(np.ceil(wanted / float(value)), 0, 65536).astype(np.int64)
        for _ in range(8):
            too_many = padded[count] >= wanted  # draw count - 1 does not pass
            too_few = padded[count + 1] < wanted  # draw count passes
            if not (too_many.any() or too_few.any()):
                break
            count += too_few.astype(np.int64) - too_many.astype(np.int64)
        else:
            raise AssertionError("float32 rounding moved a shocked threshold by more than 8 draws")
        out[i] = count
    return out


def _bands(totals: np.ndarray) -> dict[str, np.ndarray]:
    """P10 / P50 / P90 per reported segment, shape (3, horizon)."""
    return {name: np.percentile(totals[:, :, list(idx)].sum(axis=2), [10, 50, 90], axis=0) for name, idx in SEGMENTS.items()}


def _method_rows(
    deals: pl.DataFrame,
    horizon: int,
    runs: int,
    include_sales: bool,
    shocks: dict[str, np.ndarray] | None = None,
    new_business: list[np.ndarray] | None = None,
    stale_in_pipeline_methods: bool = True,
    migration: np.ndarray | None = None,
) -> list[dict[str, Any]]:
    """Expected, P10, P50, P90 and new_business per quarter index x method x segment (before won-to-date).

    shocks (from `_quarter_shocks`): each run takes one past quarter at random (the same for
    both methods) and multiplies every deal's probabilities by that quarter's shock, so the
    bands carry the spread of good and bad quarters; the expected values do not change.
    new_business (from `_new_business`, per quarter the past quarters' amounts by base segment):
    the historical method only. Its expected value adds their mean; each run adds one past
    quarter's amounts, drawn apart from the shock, so the band carries their spread too. The
    pipeline methods forecast the deals that exist, by definition: their new_business is 0.
    stale_in_pipeline_methods=False (setting forecast_stale_deals = "leave_out"): CRM weighted and
    the sales call count stale deals (is_stale) at 0; the historical method counts every deal.
    migration (from `_migration`): the historical method only, like its rates: what each deal wins
    is counted in the segments deals of its involvement ended in when won, in the expected value and
    in every run. CRM weighted and the sales call forecast the deals as the CRM states them."""
    deals = deals.filter(pl.col("quarter_index") < horizon)
    amounts = deals["amount"].to_numpy().astype(np.float64)
    segments = deals["segment"].replace_strict(dict(zip(BASE_SEGMENTS, range(3), strict=True))).to_numpy()
    quarter_index = deals["quarter_index"].to_numpy()
    rows: list[dict[str, Any]] = []

    no_new_business = np.zeros((horizon, len(BASE_SEGMENTS)))

    def add(method: str, expected: np.ndarray, bands: dict[str, np.ndarray] | None, new: np.ndarray = no_new_business) -> None:
        for name, idx in SEGMENTS.items():
            for quarter in range(horizon):
                band = bands[name][:, quarter] if bands else (None, None, None)
                rows.append(
                    {
                        "quarter_index": quarter,
                        "method": method,
                        "segment": name,
                        "expected": float(expected[quarter, list(idx)].sum()),
                        "p10": None if band[0] is None else float(band[0]),
                        "p50": None if band[1] is None else float(band[1]),
                        "p90": None if band[2] is None else float(band[2]),
                        "new_business": float(new[quarter, list(idx)].sum()),
                    }
                )

    def expected_by(won_by: np.ndarray, split: np.ndarray | None = None) -> np.ndarray:
        in_quarter = np.diff(won_by, axis=1, prepend=0.0) * amounts[:, None]
        out = np.zeros((horizon, len(BASE_SEGMENTS)))
        for segment in range(len(BASE_SEGMENTS)):
            if split is None:
                out[:, segment] = in_quarter[segments == segment].sum(axis=0)
            else:
                out[:, segment] = (in_quarter * split[:, segment, None]).sum(axis=0)
        return out

    counted = np.ones(deals.height, dtype=bool)
    if not stale_in_pipeline_methods and "is_stale" in deals.columns:
        counted = ~deals["is_stale"].to_numpy()
    probability = np.where(counted, deals["probability"].fill_null(0.0).to_numpy(), 0.0)
    crm = won_by_quarter(quarter_index, probability, np.zeros_like(probability), horizon)
    historical = won_by_quarter(quarter_index, deals["p_won"].to_numpy(), deals["p_slip"].to_numpy(), horizon)
    per_run: list[np.ndarray | None] = [None, None]
    if shocks:
        picks = np.random.default_rng(SEED + 1).integers(0, len(shocks["historical"]), runs)
        per_run = [shocks["crm_weighted"][picks], shocks["historical"][picks]]
    split = None if migration is None else migration[segments]
    crm_totals, historical_totals = simulate(amounts, segments, [crm, historical], runs, shocks=per_run, splits=[None, split])
    add("crm_weighted", expected_by(crm), _bands(crm_totals))
    if include_sales:
        category = deals["forecast_category"].fill_null("pipeline").to_numpy()
        for method, kept in (("sales_commit", ("commit",)), ("sales_best_case", ("commit", "best_case"))):
            chosen = (np.isin(category, kept) & counted).astype(np.float64)
            add(method, expected_by(won_by_quarter(quarter_index, chosen, np.zeros_like(chosen), horizon)), None)
    new_expected = no_new_business.copy()
    if new_business:
        picks = np.random.default_rng(SEED + 2)
        for quarter, past in enumerate(new_business[:horizon]):
            if len(past):
                new_expected[quarter] = past.mean(axis=0)
                historical_totals[:, quarter] += past[picks.integers(0, len(past), runs)]
    add("historical", expected_by(historical, split) + new_expected, _bands(historical_totals), new_expected)
    return rows


def _quarter_shocks(examples: pl.DataFrame) -> dict[str, np.ndarray] | None:
    """Each past quarter's shock per method, from the deals open on its eve: historical, the
    share of their amount closed won (in time) over the mean of that share across the quarters
    (the rates are learned from all of them); CRM weighted, the amount closed won over the
    amount its stage probabilities gave, over the mean of that ratio. A shock below 1 is a
    quarter that won less than usual. None with fewer than MIN_SHOCK_QUARTERS quarters to learn
    from, or nothing won in them. Learned from the deals not stale on the eve: how much stale amount
    a quarter carried (it wins at a far lower rate) would read as a slow quarter."""
    examples = _not_stale(examples)
    if examples.is_empty():
        return None
    won = pl.col("amount") * (pl.col("outcome") == "won").cast(pl.Float64)
    by_quarter = (
        examples.group_by("quarter_start")
        .agg(
            won.sum().alias("won"),
            pl.col("amount").sum().alias("amount"),
            (pl.col("amount") * pl.col("probability").fill_null(0.0)).sum().alias("crm_weighted"),
        )
        .filter((pl.col("amount") > 0) & (pl.col("crm_weighted") > 0))
        .sort("quarter_start")
    )
    if by_quarter.height < MIN_SHOCK_QUARTERS or by_quarter["won"].sum() <= 0:
        return None
    shocks = {}
    for method, base in (("crm_weighted", "crm_weighted"), ("historical", "amount")):
        ratio = (by_quarter["won"] / by_quarter[base]).to_numpy()
        shocks[method] = ratio / ratio.mean()
    return shocks


def _won_by_segment(won: pl.DataFrame) -> dict[str, float]:
    # numpy sums in row order: a parallel group_by sum is not repeatable to the cent at scale.
    amounts, segments = won["amount"].to_numpy(), won["segment"].to_numpy()
    sums = {segment: float(amounts[segments == segment].sum()) for segment in BASE_SEGMENTS}
    return {name: float(sum(sums.get(BASE_SEGMENTS[i], 0.0) for i in idx)) for name, idx in SEGMENTS.items()}


def _group_note(deals: pl.DataFrame) -> str:
    if deals.is_empty():
        return ""
    # Ties in size by name: group_by has no order, and the note must read the same on every run.
    shares = deals.group_by("historical_group").len().sort(["len", "historical_group"], descending=[True, False])
    parts = [f"{group} for {count / deals.height:.0%}" for group, count in shares.iter_rows()]
    return "rates by " + "; ".join(parts) + " of open deals"


# ---- the live forecast ---------------------------------------------------------------


def _live(
    con: duckdb.DuckDBPyConnection,
    as_of: date | None,
    filters: Filters,
    min_group_deals: int,
    horizon: int = HORIZON,
    runs: int = RUNS,
    remember: bool = True,
) -> dict[str, pl.DataFrame]:
    """The forecast, its deals and caveats as of a day. A shorter `horizon` and fewer `runs`
    (forecast_history's week by week) simulate only the deals due in its first quarters, fewer
    times: the same expected values, bands to within the simulation's noise. remember=False:
    computed and not kept (forecast_history asks for each week once; at scale each week's deals
    are tens of megabytes)."""

    def compute() -> dict[str, pl.DataFrame]:
        data_as_of, start_month = _meta(con)
        day = as_of or data_as_of
        now = _finals(con, filters) if day >= data_as_of else _states_on(con, filters, day)
        first_quarter = fiscal.quarter_start(day, start_month)
        counts_stale = _counts_stale(con)
        examples = _examples(_snapshots(con, filters), _outcomes(con, filters), day, start_month)
        open_now = _with_schedule(now.filter(pl.col("in_scope") & ~pl.col("is_closed")), pl.lit(first_quarter), start_month)
        open_now = open_now.with_columns(_staleness(pl.lit(day)))
        stale = open_now.filter(pl.col("is_stale"))
        # Every open deal: the historical method counts stale ones at what stale deals won before;
        # the setting decides whether CRM weighted and the sales call count them (`counted`).
        deals = _rates(open_now, examples, min_group_deals)
        counted = deals if counts_stale else deals.filter(~pl.col("is_stale"))
        won_to_date = _won_by_segment(
            now.filter(pl.col("in_scope") & pl.col("is_won") & pl.col("close_date").is_between(first_quarter, day))
        )
        shocks = _quarter_shocks(examples)
        migration = _migration(examples, min_group_deals)
        # Every deal's outcome, not `now`: on a past day, and in forecast_history's build step, `now` lacks
        # the deals won in earlier quarters that new business is learned from.
        won = _outcomes(con, filters).filter(pl.col("in_scope") & pl.col("is_won"))
        new_business = _new_business(won, first_quarter, day, start_month, horizon)
        rows = pl.DataFrame(
            _method_rows(
                deals, horizon, runs, include_sales=True, shocks=shocks, new_business=new_business,
                stale_in_pipeline_methods=counts_stale, migration=migration,
            )
        )  # fmt: skip
        quarters = pl.DataFrame(
            {
                "quarter_index": list(range(horizon)),
                "quarter_start": [fiscal.add_quarters(first_quarter, q) for q in range(horizon)],
                "fiscal_quarter": [
                    fiscal.quarter_label(fiscal.add_quarters(first_quarter, q), start_month) for q in range(horizon)
                ],
            }
        )
        open_counts = counted.filter(pl.col("quarter_index") < horizon).group_by("quarter_index", "segment").len()
        note = _group_note(deals.filter(pl.col("quarter_index") < horizon))
        forecast = rows.join(quarters, on="quarter_index").with_columns(
            pl.when(pl.col("quarter_index") == 0)
            .then(pl.col("segment").replace_strict(won_to_date, return_dtype=pl.Float64))
            .otherwise(0.0)
            .alias("won_to_date"),
        )
        counts = _open_deal_counts(open_counts)
        forecast = forecast.join(counts, on=["quarter_index", "segment"], how="left").with_columns(
            pl.col("open_deals").fill_null(0)
        )
        shift = [pl.col(c) + pl.col("won_to_date") for c in ("expected", "p10", "p50", "p90")]
        forecast = forecast.with_columns(shift).with_columns(
            pl.col("method").replace_strict(METHODS).alias("method_label"),
            pl.lit(day).alias("as_of"),
            pl.when(pl.col("method") == "historical").then(pl.lit(note)).otherwise(pl.lit(None, pl.String)).alias("note"),
        )
        forecast = forecast.select(
            "fiscal_quarter",
            "quarter_start",
            "method",
            "method_label",
            "segment",
            *[pl.col(c).round(2) for c in ("expected", "p10", "p50", "p90", "won_to_date")],
            "open_deals",
            pl.col("new_business").round(2),
            "as_of",
            "note",
        ).sort("quarter_start", "method", "segment")
        caveats = _caveats(stale, counted, day, quarters["fiscal_quarter"][0], counts_stale)
        return {"forecast": forecast, "deals": _deal_table(deals, counts_stale, day, quarters), "caveats": caveats}

    if not remember:
        return compute()
    return MEMO.get(con, ("live", as_of, _frozen(filters), min_group_deals, horizon, runs), compute)


def in_segment(segment: str) -> pl.Expr:
    """Deals of a reported segment (partner = sourced + influenced, all = every deal), by their `segment` column."""
    return pl.col("segment").is_in([BASE_SEGMENTS[i] for i in SEGMENTS[segment]])


def _is_stale(day: pl.Expr) -> pl.Expr:
    """An open deal whose close date is before `day`: nobody expects it on that date any more."""
    return (pl.col("close_date") < day).fill_null(False)


def _staleness(day: pl.Expr) -> list[pl.Expr]:
    """is_stale as of `day` (the as-of date; a quarter's first day for its eve), and past_close_bucket:
    how long past its close date (`day` - close date, as days_past_close), null when not stale."""
    past = (day - pl.col("close_date")).dt.total_days()
    bucket = pl.when(past <= PAST_CLOSE_BUCKETS[0][0]).then(pl.lit(PAST_CLOSE_BUCKETS[0][1]))
    for bound, label in PAST_CLOSE_BUCKETS[1:]:
        bucket = bucket.when(past <= bound).then(pl.lit(label))
    stale = _is_stale(day)
    return [
        stale.alias("is_stale"),
        pl.when(stale).then(bucket.otherwise(pl.lit(OLDEST_PAST_CLOSE_BUCKET))).alias("past_close_bucket"),
    ]


def _by_segment(deals: pl.DataFrame) -> dict[str, tuple[int, float]]:
    """Deals and their amount per reported segment (sums of the base ones)."""
    base = {segment: (0, 0.0) for segment in BASE_SEGMENTS}
    for segment, count, amount in deals.group_by("segment").agg(pl.len(), pl.col("amount").sum()).iter_rows():
        base[segment] = (int(count), float(amount))
    return {
        name: (sum(base[BASE_SEGMENTS[i]][0] for i in idx), sum(base[BASE_SEGMENTS[i]][1] for i in idx))
        for name, idx in SEGMENTS.items()
    }


def _deals_phrase(count: int, amount: float) -> str:
    return f"{count:,} open deal{'s' if count != 1 else ''}, {money(amount)},"


def _caveats(stale: pl.DataFrame, deals: pl.DataFrame, day: date, current: str, counts_stale: bool) -> pl.DataFrame:
    """The rows of forecast_caveats: stale deals, and the deals CRM weighted counts (`deals`) whose stage
    has no probability. `current`: the current quarter's label, where stale deals are forecast."""
    rows: list[dict[str, Any]] = []

    def add(kind: str, frame: pl.DataFrame, sentence: Callable[[int, float, list[str]], str]) -> None:
        for segment, (count, amount) in _by_segment(frame).items():
            if not count:
                continue
            stages = sorted(frame.filter(in_segment(segment))["stage"].unique().to_list()) if kind != "stale" else []
            rows.append(
                {"kind": kind, "segment": segment, "deals": count, "amount": round(amount, 2), "stages": ", ".join(stages),
                 "as_of": day, "message": sentence(count, amount, stages)}
            )  # fmt: skip

    def stale_sentence(count: int, amount: float, _: list[str]) -> str:
        one = count == 1
        them = "it" if one else "them"
        share = f"at the share of past stale deals like {them} won in the quarter after"
        fate = (
            f"every method counts {them} in {current} (setting forecast_stale_deals; the historical method {share})"
            if counts_stale
            else f"CRM weighted and the sales call leave {them} out; the historical method counts {them} in {current} {share}"
        )
        return (
            f"{_deals_phrase(count, amount)} {'has' if one else 'have'} a close date before {day:%Y-%m-%d}: {fate}; "
            f"update or close {'it' if one else 'them'} in the CRM."
        )

    def no_probability_sentence(count: int, amount: float, stages: list[str]) -> str:
        one = len(stages) == 1
        return (
            f"{_deals_phrase(count, amount)} in {'a stage' if one else 'stages'} without a probability: add "
            f"{'it' if one else 'them'} to the stage map ({', '.join(stages)}); until then CRM weighted counts "
            f"{'this deal' if count == 1 else 'these deals'} at 0."
        )

    def deal_probability_sentence(count: int, amount: float, stages: list[str]) -> str:
        return (
            f"{_deals_phrase(count, amount)} in {'a stage' if len(stages) == 1 else 'stages'} the stage map gives no "
            f"probability ({', '.join(stages)}), {'uses its' if count == 1 else 'use their'} own probability from the CRM."
        )

    add("stale", stale, stale_sentence)
    forecast = deals.filter(pl.col("quarter_index") < HORIZON)
    add("no_probability", forecast.filter(pl.col("probability_source") == "none"), no_probability_sentence)
    add("deal_probability", forecast.filter(pl.col("probability_source") == "deal"), deal_probability_sentence)
    schema = {
        "kind": pl.String, "segment": pl.String, "deals": pl.Int64, "amount": pl.Float64, "stages": pl.String,
        "as_of": pl.Date, "message": pl.String,
    }  # fmt: skip
    return pl.DataFrame(rows, schema=schema)


def _open_deal_counts(counts: pl.DataFrame) -> pl.DataFrame:
    rows = []
    by_key = {(q, s): n for q, s, n in counts.iter_rows()}
    for quarter in range(HORIZON):
        for name, idx in SEGMENTS.items():
            rows.append((quarter, name, sum(by_key.get((quarter, BASE_SEGMENTS[i]), 0) for i in idx)))
    return pl.DataFrame(rows, schema={"quarter_index": pl.Int64, "segment": pl.String, "open_deals": pl.Int64}, orient="row")


def _deal_table(deals: pl.DataFrame, counts_stale: bool, day: date, quarters: pl.DataFrame) -> pl.DataFrame:
    """The open deals with their historical expected value; a stale deal the settings leave out of CRM
    weighted and the sales call has no crm_weighted and in_forecast false."""
    columns = [
        "opportunity_id", "account_name", "partner_id", "partner_name", "segment", "stage", "forecast_category",
        "amount", "close_date", "fiscal_quarter", "crm_weighted", "p_win", "expected_value", "historical_group",
        "probability_source", "times_slipped", "days_slipped", "days_past_close", "age_days", "is_slipped", "is_stale",
        "in_forecast", "owner",
    ]  # fmt: skip
    won_by = won_by_quarter(deals["quarter_index"].to_numpy(), deals["p_won"].to_numpy(), deals["p_slip"].to_numpy(), HORIZON)
    in_forecast = pl.lit(counts_stale) | ~pl.col("is_stale")
    return (
        deals.with_columns(
            pl.Series("p_win", won_by[:, -1]).round(4),
            pl.when(in_forecast).then((pl.col("amount") * pl.col("probability")).round(2)).alias("crm_weighted"),
            in_forecast.alias("in_forecast"),
        )
        .with_columns(
            (pl.col("close_date") - pl.col("first_close_date"))
            .dt.total_days()
            .fill_null(0)
            .clip(lower_bound=0)
            .alias("days_slipped"),
            (pl.lit(day) - pl.col("close_date")).dt.total_days().clip(lower_bound=0).alias("days_past_close"),
        )
        .join(quarters.select("quarter_index", "fiscal_quarter"), on="quarter_index", how="left")
        .with_columns(
            (pl.col("amount") * pl.col("p_win")).round(2).alias("expected_value"),
            ((pl.col("times_slipped") > 0) | (pl.col("days_slipped") > 0)).alias("is_slipped"),
            (pl.col("days_past_close") > 0).alias("is_stale"),
            pl.col("fiscal_quarter").fill_null("later"),
        )
        .select(columns)
        .sort("expected_value", "amount", "opportunity_id", descending=[True, True, False], nulls_last=True)
    )


# ---- backtest ------------------------------------------------------------------------


def _backtest(con: duckdb.DuckDBPyConnection, filters: Filters, min_group_deals: int) -> pl.DataFrame:
    def compute() -> pl.DataFrame:
        data_as_of, start_month = _meta(con)
        basis = "history" if _has_history(con) else "created_close_dates"
        finals = _finals(con, filters)
        snapshots = _snapshots(con, filters)
        # Every deal's outcome, not `now`: on a past day, and in forecast_history's build step, `now` lacks
        # the deals won in earlier quarters that new business is learned from.
        won = _outcomes(con, filters).filter(pl.col("in_scope") & pl.col("is_won"))
        counts_stale = _counts_stale(con)
        include_sales = basis == "history"
        frames = []
        quarter_starts = snapshots["quarter_start"].unique().sort().to_list() if snapshots.height else []
        # What _examples reads, so that each quarter's filter below copies those columns only.
        learned_from = snapshots.select(EXAMPLE_COLUMNS)
        ended = [q for q in quarter_starts if fiscal.add_quarters(q, 1) - timedelta(days=1) <= data_as_of]
        # Latest first, stopping at BACKTEST_QUARTERS: closed history only grows with time, so
        # once a quarter has too little to learn from, every earlier one has too.
        for start in reversed(ended):
            if len(frames) == BACKTEST_QUARTERS:
                break
            known_through = start - timedelta(days=1)
            examples = _examples(learned_from.filter(pl.col("quarter_start") < start), finals, known_through, start_month)
            if _not_stale(examples).height < max(min_group_deals, 1):
                break  # too little closed history yet to learn from
            open_then = _with_schedule(
                snapshots.filter((pl.col("quarter_start") == start) & pl.col("in_scope")), pl.lit(start), start_month
            ).with_columns(_staleness(pl.lit(start)))
            deals = _rates(open_then, examples, min_group_deals)
            shocks = _quarter_shocks(examples)
            migration = _migration(examples, min_group_deals)
            new_business = _new_business(won, start, known_through, start_month, 1)
            rows = pl.DataFrame(
                _method_rows(
                    deals, 1, RUNS, include_sales=include_sales, shocks=shocks, new_business=new_business,
                    stale_in_pipeline_methods=counts_stale, migration=migration,
                )
            )  # fmt: skip
            end = fiscal.add_quarters(start, 1) - timedelta(days=1)
            won_in_quarter = won.filter(pl.col("close_date").is_between(start, end))
            actual = _won_by_segment(won_in_quarter)
            # What the pipeline methods forecast (the deals they counted on the eve) won, and what
            # deals created in the quarter won: the historical method's new business, in fact.
            counted = deals.filter((pl.col("quarter_index") == 0) & (pl.lit(counts_stale) | ~pl.col("is_stale")))
            counted_ids = counted["opportunity_id"].implode()
            from_pipeline = _won_by_segment(won_in_quarter.filter(pl.col("opportunity_id").is_in(counted_ids)))
            from_new = _won_by_segment(won_in_quarter.filter(pl.col("created_at") >= start))
            stale = open_then.filter(pl.col("is_stale"))
            stale_won = won_in_quarter.filter(pl.col("opportunity_id").is_in(stale["opportunity_id"].implode()))
            frames.append(
                rows.with_columns(
                    pl.lit(start).alias("quarter_start"),
                    pl.lit(fiscal.quarter_label(start, start_month)).alias("fiscal_quarter"),
                    pl.col("segment").replace_strict(actual, return_dtype=pl.Float64).alias("actual"),
                    pl.col("segment").replace_strict(from_pipeline, return_dtype=pl.Float64).alias("pipeline_actual"),
                    pl.col("segment").replace_strict(from_new, return_dtype=pl.Float64).alias("new_business_actual"),
                    pl.lit(counted.height, dtype=pl.Int64).alias("open_deals"),
                ).join(_stale_columns(stale, stale_won, deals, counts_stale, include_sales, migration), on=["method", "segment"])
            )
        if not frames:
            return _empty_backtest()
        frame = pl.concat(frames[::-1]).sort("quarter_start").tail(BACKTEST_QUARTERS * _rows_per_quarter(basis))
        error = pl.col("forecast") - pl.col("actual")
        frame = (
            frame.rename({"expected": "forecast"})
            .with_columns(
                error.round(2).alias("error"),
                pl.when(pl.col("actual") > 0).then((error.abs() / pl.col("actual") * 100).round(1)).alias("abs_pct_error"),
                # Each band against what its method forecasts: the historical method the quarter's
                # actual, a pipeline method what the deals it counted won (docs/design.md).
                pl.when(pl.col("p10").is_not_null())
                .then(
                    pl.when(pl.col("method") == "historical")
                    .then(pl.col("actual"))
                    .otherwise(pl.col("pipeline_actual"))
                    .is_between(pl.col("p10").round(2), pl.col("p90").round(2))
                )
                .alias("in_band"),
                pl.col("method").replace_strict(METHODS).alias("method_label"),
                pl.lit(basis).alias("basis"),
            )
            .with_columns(
                [
                    pl.col(c).round(2)
                    for c in ("forecast", "new_business", "actual", "pipeline_actual", "new_business_actual", "p10", "p50", "p90")
                ]
            )
        )
        return _with_stale_notes(frame).select(BACKTEST_COLUMNS).sort("quarter_start", "method", "segment")

    return MEMO.get(con, ("backtest", _frozen(filters), min_group_deals), compute)


BACKTEST_COLUMNS = [
    "fiscal_quarter", "quarter_start", "method", "method_label", "segment", "forecast", "actual", "error",
    "abs_pct_error", "p10", "p50", "p90", "in_band", "open_deals", "basis", "stale_deals", "stale_amount",
    "stale_forecast", "stale_won", "stale_note", "new_business", "pipeline_actual", "new_business_actual",
]  # fmt: skip


def _stale_columns(
    stale: pl.DataFrame,
    stale_won: pl.DataFrame,
    deals: pl.DataFrame,
    counts_stale: bool,
    include_sales: bool,
    migration: np.ndarray | None = None,
) -> pl.DataFrame:
    """Per method x segment of one backtested quarter: the deals stale on its first day, their
    amount, the part of the forecast they made (0 for a method that leaves them out) and the part
    of the actual they won."""
    counts = _by_segment(stale)
    won = _won_by_segment(stale_won)
    won_deals = _by_segment(stale_won)
    from_stale: dict[tuple[str, str], float] = {}
    if stale.height:
        # The same rates and methods, on the stale deals alone (bands unused: one run).
        alone = deals.filter(pl.col("is_stale"))
        rows = _method_rows(alone, 1, 1, include_sales=include_sales, stale_in_pipeline_methods=counts_stale, migration=migration)
        for item in rows:
            from_stale[(item["method"], item["segment"])] = item["expected"]
    methods = [m for m in METHODS if include_sales or not m.startswith("sales_")]
    return pl.DataFrame(
        [
            (method, segment, counts[segment][0], round(counts[segment][1], 2), round(from_stale.get((method, segment), 0.0), 2),
             round(won[segment], 2), won_deals[segment][0])
            for method in methods
            for segment in SEGMENTS
        ],
        schema={
            "method": pl.String, "segment": pl.String, "stale_deals": pl.Int64, "stale_amount": pl.Float64,
            "stale_forecast": pl.Float64, "stale_won": pl.Float64, "stale_won_deals": pl.Int64,
        },
        orient="row",
    )  # fmt: skip


def _with_stale_notes(frame: pl.DataFrame) -> pl.DataFrame:
    """stale_note per quarter and segment: why the error of the methods it names is large.

    A method's error is put down to stale deals when it is at least LARGE_ERROR_PCT and the
    stale deals' part of it (what they added to the forecast minus what they brought to the
    actual) has its sign and at least half its size.
    """
    gap = pl.col("stale_forecast") - pl.col("stale_won")
    explained = frame.filter(
        (pl.col("abs_pct_error") >= LARGE_ERROR_PCT) & (gap * pl.col("error") > 0) & (gap.abs() >= pl.col("error").abs() / 2)
    )
    notes = []
    explained = explained.sort(pl.col("method").replace_strict({m: i for i, m in enumerate(METHODS)}, return_dtype=pl.Int64))
    for (start, segment), group in explained.group_by("quarter_start", "segment", maintain_order=True):
        first = group.row(0, named=True)
        methods = group["method_label"].to_list()
        names = methods[0] if len(methods) == 1 else ", ".join(methods[:-1]) + " and " + methods[-1]
        count, amount, won, won_deals = first["stale_deals"], first["stale_amount"], first["stale_won"], first["stale_won_deals"]
        if group["stale_forecast"].max() > 0:
            shares = ", ".join(f"{m} {money(f)}" for m, f in group.select("method_label", "stale_forecast").iter_rows())
            brought = f"{money(won)} of it closed won in the quarter" if won else "none of it closed won in the quarter"
            note = (
                f"{first['fiscal_quarter']}: {count:,} open deal{'s' if count != 1 else ''}, {money(amount)}, "
                f"{'was' if count == 1 else 'were'} already past {'its' if count == 1 else 'their'} close date on "
                f"{start:%Y-%m-%d} and counted in the quarter ({shares} of the forecast); {brought}. That is most of "
                f"the error of {names}."
            )
        else:
            deals_then = "the one open deal" if count == 1 else f"{won_deals:,} of the {count:,} open deals"
            note = (
                f"{first['fiscal_quarter']}: {money(won)} of the actual came from {deals_then} already past "
                f"{'its' if count == 1 else 'their'} close date on {start:%Y-%m-%d}, which the forecast leaves out. "
                f"That is most of the shortfall of {names}."
            )
        notes.append((start, segment, note))
    by_quarter = pl.DataFrame(
        notes, schema={"quarter_start": pl.Date, "segment": pl.String, "stale_note": pl.String}, orient="row"
    )
    return frame.join(by_quarter, on=["quarter_start", "segment"], how="left")


def _rows_per_quarter(basis: str) -> int:
    return len(SEGMENTS) * (len(METHODS) if basis == "history" else 2)


def _empty_backtest() -> pl.DataFrame:
    schema = {
        "fiscal_quarter": pl.String, "quarter_start": pl.Date, "method": pl.String, "method_label": pl.String,
        "segment": pl.String, "forecast": pl.Float64, "actual": pl.Float64, "error": pl.Float64,
        "abs_pct_error": pl.Float64, "p10": pl.Float64, "p50": pl.Float64, "p90": pl.Float64,
        "in_band": pl.Boolean, "open_deals": pl.Int64, "basis": pl.String, "stale_deals": pl.Int64,
        "stale_amount": pl.Float64, "stale_forecast": pl.Float64, "stale_won": pl.Float64, "stale_note": pl.String,
        "new_business": pl.Float64, "pipeline_actual": pl.Float64, "new_business_actual": pl.Float64,
    }  # fmt: skip
    return pl.DataFrame(schema=schema)


# What each banded method's P10-P90 is judged against in the backtest (in_band): the historical
# method forecasts the quarter, new business included; CRM weighted the deals open on its eve.
BAND_JUDGED_AGAINST = {"historical": "the actual", "crm_weighted": "what the deals it counted won"}


def accuracy(backtest: pl.DataFrame, segment: str = "partner") -> pl.DataFrame:
    """Per method: quarters, MAPE, bias, P10-P90 coverage, times closest, and the verdict sentence."""
    schema = {
        "method": pl.String, "method_label": pl.String, "quarters": pl.Int64, "mape": pl.Float64,
        "bias_pct": pl.Float64, "coverage_pct": pl.Float64, "band_judged_against": pl.String,
        "times_closest": pl.Int64, "verdict": pl.String,
    }  # fmt: skip
    rows = backtest.filter((pl.col("segment") == segment) & (pl.col("actual") > 0))
    if rows.is_empty():
        return pl.DataFrame(schema=schema)
    closest = (
        rows.with_columns((pl.col("forecast") - pl.col("actual")).abs().alias("_gap"))
        .sort("quarter_start", "_gap", "method")
        .group_by("quarter_start", maintain_order=True)
        .first()
        .group_by("method")
        .len("times_closest")
    )
    stats = (
        rows.group_by("method", "method_label")
        .agg(
            pl.len().alias("quarters"),
            pl.col("abs_pct_error").mean().round(1).alias("mape"),
            ((pl.col("forecast") - pl.col("actual")) / pl.col("actual") * 100).mean().round(1).alias("bias_pct"),
            (pl.col("in_band").cast(pl.Float64).mean() * 100).round(0).alias("coverage_pct"),
        )
        .join(closest, on="method", how="left")
        .with_columns(
            pl.col("times_closest").fill_null(0).cast(pl.Int64),
            pl.col("method")
            .replace_strict(BAND_JUDGED_AGAINST, default=None, return_dtype=pl.String)
            .alias("band_judged_against"),
        )
        .sort(["times_closest", "mape"], descending=[True, False])
    )
    stats = stats.with_columns(pl.lit(verdict(stats, rows["basis"][0])).alias("verdict"))
    return stats.select(list(schema))


def verdict(stats: pl.DataFrame, basis: str) -> str:
    """'Historical was closest in 5 of the last 6 quarters, mean error 8%; CRM weighted overstated by 23%.'"""
    best = stats.row(0, named=True)
    quarters = int(stats["quarters"].max())
    sentence = (
        f"{best['method_label']} was closest in {best['times_closest']} of the last {quarters} "
        f"quarter{'s' if quarters != 1 else ''}, mean error {best['mape']:.0f}%"
    )
    others = stats.slice(1).filter(pl.col("bias_pct").is_not_null())
    if others.height:
        worst = others.sort(pl.col("bias_pct").abs(), descending=True).row(0, named=True)
        direction = "overstated" if worst["bias_pct"] > 0 else "understated"
        sentence += f"; {worst['method_label']} {direction} by {abs(worst['bias_pct']):.0f}%"
    if basis != "history":
        sentence += " (backtest from created and close dates only)"
    return sentence + "."
