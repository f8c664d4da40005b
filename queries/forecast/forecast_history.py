"""Each forecast method's number for one fiscal quarter as it stood week by week, with what was won by then.

This module owns DESIGN.md's `forecast_history` export. The weeks are counted back from the
quarter's last known day (data_as_of for the current quarter, the quarter's last day for a
past one) in steps of 7 days, down to the quarter's eve (the end of the day before its first
day: the forecast on day one, as the backtest takes it). On each such day every method is
rebuilt as `pipeline_forecast` would have given it that day (`forecast._live`: the deals as
they stood then, rebuilt from opportunity_history in one SQL pass for all the days, and the
historical rates learned from quarters that had ended by then; only the deals due in the
quarter are simulated, 1,000 times, so expected values are the forecast page's and bands its
to within the simulation's noise), so the line converges on what closes. The day 7 days before data_as_of
is one of them: the page's sentence "the forecast moved from $X to $Y since ..." reads it.

`store_history` (a derived step of the build) stores the default view: the current quarter,
every partner, every pipeline (segment). The output declares `Stored:`, and the runner reads the
stored rows when no partner filter is set and `forecast_history_stored_quarter.sql` says the
quarter and pipeline asked for are stored.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import duckdb
import polars as pl
from duckdb import ColumnExpression, ConstantExpression, Expression

import queries
from queries import fiscal
from queries.forecast import methods as forecast

STEP_DAYS = 7
DAYS_PER_PASS = 4
# Simulated runs per week (the forecast page runs 10,000): P10 and P90 to within about 1% of the
# band, at a tenth of the time the build spends on every week of the quarter.
RUNS = 1_000
HISTORY_TABLE = "forecast_history_precomputed"
COLUMNS = [
    "week_start", "as_of", "fiscal_quarter", "method", "method_label", "segment", "expected", "p10", "p90",
    "won_to_date", "open_deals",
]  # fmt: skip
LABEL = re.compile(r"^FY(\d{4}) Q([1-4])$")


def forecast_history(
    con: duckdb.DuckDBPyConnection,
    fiscal_quarter: str | None = None,
    segment: str = "partner",
    regions: list[str] | None = None,
    tiers: list[str] | None = None,
    partner_types: list[str] | None = None,
    managers: list[str] | None = None,
) -> pl.DataFrame:
    """Each method's forecast for one fiscal quarter as it stood at the end of every week, with what was won by then.

    Grain: one row per week x method
    Money: none
    Scope: program
    Stored: forecast_history_stored (no filters, the quarter of data_as_of), when forecast_history_stored_quarter has rows

    fiscal_quarter ('FY2026 Q4'; NULL = the quarter of data_as_of); segment: the pipeline
    (partner = sourced + influenced, the default; partner_sourced, partner_influenced, direct,
    all). as_of: the day whose end the forecast stands at (data_as_of, then 7 days before it,
    and so on back to the eve of the quarter); week_start: the first day of the 7 days ending
    on as_of. expected, p10 and p90 include won_to_date, what closed won in the quarter by
    as_of (as on the forecast page); the sales call has no band.
    """
    if segment not in forecast.SEGMENTS:
        raise queries.ParamError(f"segment must be one of {', '.join(forecast.SEGMENTS)}, not {segment!r}")
    filters = forecast._filters(regions, tiers, partner_types, managers)
    data_as_of, start_month = forecast._meta(con)
    start = quarter_from_label(fiscal_quarter, start_month) if fiscal_quarter else fiscal.quarter_start(data_as_of, start_month)
    return history(con, start, filters).filter(pl.col("segment") == segment)


def history(con: duckdb.DuckDBPyConnection, start: date, filters: forecast.Filters) -> pl.DataFrame:
    """Every segment's rows of forecast_history for the quarter starting on `start`."""

    def compute() -> pl.DataFrame:
        data_as_of, start_month = forecast._meta(con)
        label = fiscal.quarter_label(start, start_month)
        days = week_ends(start, data_as_of, start_month)
        if not days:
            return _empty()
        past = [day for day in days if day < data_as_of]
        frames, states = [], {}
        for day in days:
            if day < data_as_of and day not in states:
                # One pass over opportunity_history for the next few weeks' ends (a few, to bound memory).
                batch = past[past.index(day) : past.index(day) + DAYS_PER_PASS]
                states = _states(con, batch, start, filters)
            if day < data_as_of:
                forecast.MEMO.put(con, ("states_on", day, forecast._frozen(filters)), states[day])
            # The quarter is the first of the day's forecast, or the second on its eve: simulate no further.
            horizon = 1 if day >= start else 2
            rows = forecast._live(con, day, filters, forecast.MIN_GROUP_DEALS, horizon, RUNS, remember=False)["forecast"]
            frames.append(rows.filter(pl.col("fiscal_quarter") == label))
            # Done with the day: its states and deals are not kept (at scale, tens of megabytes a week).
            forecast.MEMO.forget(con, ("states_on", day, forecast._frozen(filters)))
            states.pop(day, None)
        return (
            pl.concat(frames)
            .with_columns((pl.col("as_of") - pl.duration(days=STEP_DAYS - 1)).alias("week_start"))
            .select(COLUMNS)
            .sort("as_of", pl.col("method").replace_strict({m: i for i, m in enumerate(forecast.METHODS)}), "segment")
        )

    return forecast.MEMO.get(con, ("forecast_history", start, forecast._frozen(filters)), compute)


def _states(con: duckdb.DuckDBPyConnection, days: list[date], start: date, filters: forecast.Filters) -> dict[date, pl.DataFrame]:
    """pipeline_as_of at the end of each day, with what the forecast of the quarter starting on
    `start` reads of forecast._states_on's rows: the open deals, and the deals won in the quarter
    or in the one before (the eve's won so far). The other closed deals (most of them, at scale)
    are left in the database."""
    frame = queries.execute(con, "pipeline_as_of", snapshot_dates=days, won_since=fiscal.add_quarters(start, -1), **filters)
    kept = frame.with_columns(pl.col("amount").cast(pl.Float64).fill_null(0.0))
    parts = {key[0]: frame for key, frame in kept.partition_by("snapshot_date", as_dict=True).items()}
    return {day: parts.get(day, kept.clear()) for day in days}


def week_ends(start: date, data_as_of: date, start_month: int) -> list[date]:
    """The days the quarter starting on `start` is forecast as of, oldest first: its last known
    day (data_as_of, or the quarter's end once it is over), then every 7 days before it back to
    the quarter's eve. None for a quarter that has not begun by the day after data_as_of."""
    eve = start - timedelta(days=1)
    day = min(fiscal.quarter_end(start, start_month), data_as_of)
    days = []
    while day >= eve:
        days.append(day)
        day -= timedelta(days=STEP_DAYS)
    return days[::-1]


def quarter_from_label(label: str, start_month: int) -> date:
    """The first day of the fiscal quarter 'FY2026 Q4' names (the inverse of fiscal.quarter_label)."""
    match = LABEL.match(label.strip())
    if not match:
        raise queries.ParamError(f"fiscal_quarter must read like 'FY2026 Q4', not {label!r}")
    year, number = int(match[1]), int(match[2])
    first = date(year - 1 if start_month > 1 else year, start_month, 1)
    return fiscal.add_quarters(first, number - 1)


def store_history(con: duckdb.DuckDBPyConnection, settings: Any = None) -> None:
    """Derived step at build time: the current quarter's history, every partner and pipeline, in its order."""
    con.execute("drop table if exists " + HISTORY_TABLE)  # noqa: S608 - fixed name
    info = dict(queries.execute(con, "program_meta").iter_rows())
    frame = _empty()
    if info.get("data_as_of"):
        data_as_of, start_month = forecast._meta(con)
        start, no_filters = fiscal.quarter_start(data_as_of, start_month), forecast._filters(None, None, None, None)
        if forecast._has_stored(con):
            _remember_narrow_states(con, start, no_filters)
        frame = history(con, start, no_filters)
    queries.store_table(con, HISTORY_TABLE, frame.with_row_index("row_number"))
    forecast.MEMO.clear()  # what was memoised belongs to the database being built


def _remember_narrow_states(con: duckdb.DuckDBPyConnection, start: date, filters: forecast.Filters) -> None:
    """Memoise what `history` reads of the states store_forecast stored, and no more: every deal's
    outcome (not its 28 columns), the eves' EXAMPLE_COLUMNS, and of the final states the rows the
    last week's forecast reads (open deals, and deals won since the quarter began). At scale the
    stored states are millions of rows, gigabytes in Python at full width; DuckDB selects them.
    The memo keeps 16 values and `history` adds one week's states at a time beside these three,
    so none is pushed out (outcomes recomputed from these partial finals would be wrong);
    store_history clears them when it is done."""
    cursor = con.cursor()

    def stored(kind: str, *columns: str, keep: Expression | None = None) -> pl.DataFrame:
        relation = queries.relation(cursor, "forecast_stored_states", kind=kind, **filters)
        if keep is not None:
            relation = relation.filter(keep)
        if columns:
            relation = relation.select(*columns)
        frame = relation.pl()
        return frame.with_columns(pl.col("amount").cast(pl.Float64).fill_null(0.0)) if "amount" in frame.columns else frame

    forecast.MEMO.put(con, ("outcomes", forecast._frozen(filters)), stored("final", *forecast.OUTCOME_COLUMNS))
    won_this_quarter = ColumnExpression("is_won") & (ColumnExpression("close_date") >= ConstantExpression(start))
    needed = ~ColumnExpression("is_closed") | won_this_quarter
    forecast.MEMO.put(con, ("finals", forecast._frozen(filters)), stored("final", keep=needed))
    eve_columns = [c for c in forecast.EXAMPLE_COLUMNS if c != "quarter_start"]
    eves = stored("eve", "snapshot_date", *eve_columns)
    eves = eves.with_columns((pl.col("snapshot_date") + pl.duration(days=1)).alias("quarter_start"))
    forecast.MEMO.put(con, ("snapshots", forecast._frozen(filters)), eves)


def _empty() -> pl.DataFrame:
    schema = {
        "week_start": pl.Date, "as_of": pl.Date, "fiscal_quarter": pl.String, "method": pl.String,
        "method_label": pl.String, "segment": pl.String, "expected": pl.Float64, "p10": pl.Float64, "p90": pl.Float64,
        "won_to_date": pl.Float64, "open_deals": pl.Int64,
    }  # fmt: skip
    return pl.DataFrame(schema=schema)
