"""Program health outputs: the KPI cards, their trend by fiscal quarter and their breakdown.

All three run the one KPI core, `kpis_by_period.sql`, over different periods (this period
and the one it is compared with; the fiscal quarters; this period by a partner dimension),
so a KPI is defined once and the cards, the trend, the breakdown and the `program_kpis`
export cannot drift apart. This module only chooses the periods (`compared_periods`) and
reshapes the long result; the words (labels, units, definitions) come from `kpi_definitions.py`.

Periods (docs/design.md, "Program health"): a period that is not over yet on the as-of date
counts up to that date, and is compared to date: with the same number of days at the start of
the previous period (quarter-to-date against the previous quarter-to-date), or, as a choice,
with the whole previous period. The previous period of whole fiscal quarters is as many
quarters before; of any other range, the same number of days before.

Stored once per build (`store_kpis`, a derived step after the attribution credit): the core's
rows for the default view (every partner, linear model) over every fiscal quarter up to the
data's as-of date (the as-of quarter to date), the previous period of each and the first days
of each quarter as many as have passed of the as-of quarter, under no split; and the quarters
under each dimension. `kpis_by_period.sql` declares the SQL that reads those rows
(`kpis_stored_by_period.sql`, no rows unless every period asked for is stored), and the query
runner reads them for the default view; otherwise it runs the core (tests check both give the
same frames).
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl

import queries
from queries import fiscal, meta
from queries.program.kpi_definitions import PAYOUT_KPIS, definition

DIMENSIONS = {
    "partner_type": "Partner type",
    "tier": "Tier",
    "region": "Region",
    "partner_manager": "Partner manager",
}

# The stored default view: its rows and the (dimension, period) pairs it holds ('all' = no split).
STORED_TABLE = "kpis_stored"
STORED_PERIODS_TABLE = "kpis_stored_periods"
# Quarters stored before the as-of quarter at least, so the default trend (8 quarters) of this and
# the last quarter, the last 4 quarters and this fiscal year reads stored rows.
STORED_QUARTERS_BACK = 11
# What a period not over yet is compared with (program_kpis' `compare`); the first is the default.
COMPARISONS = {
    "to_date": "the same days of the previous period",
    "full_period": "the whole previous period",
}


def _core(
    con: duckdb.DuckDBPyConnection, periods: list[tuple[date, date]], dimension: str | None, **filters: object
) -> pl.DataFrame:
    starts, ends = [start for start, _ in periods], [end for _, end in periods]
    return queries.execute(con, "kpis_by_period", period_starts=starts, period_ends=ends, dimension=dimension, **filters)


def store_kpis(con: duckdb.DuckDBPyConnection, settings: object = None) -> None:
    """Derived step at build time: store the KPI core's rows for the default view.

    Every partner, linear model; every fiscal quarter from the first with data (or
    STORED_QUARTERS_BACK before the as-of quarter, whichever is earlier) to the as-of quarter
    (to date), under no split (with the periods the cards and the trend compare them with) and
    under each dimension. Runs after the attribution credit (cost of channel and ROI read it).
    Without an as-of date nothing is stored (no tables).
    """
    quarters, with_previous = _stored_periods(con)
    if not quarters:
        # Nothing to store: every read runs the core.
        for table in (STORED_TABLE, STORED_PERIODS_TABLE):
            con.execute("drop table if exists " + table)  # noqa: S608 - fixed names
        return
    stored = {None: with_previous, **{dimension: quarters for dimension in DIMENSIONS}}
    frames, held = [], []
    for dimension, periods in stored.items():
        long = queries.compute(
            con,
            "kpis_by_period",
            period_starts=[start for start, _ in periods],
            period_ends=[end for _, end in periods],
            dimension=dimension,
        )
        bounds = pl.DataFrame(
            {
                "dimension": [dimension or "all"] * len(periods),
                "period_index": list(range(1, len(periods) + 1)),
                "period_start": [start for start, _ in periods],
                "period_end": [end for _, end in periods],
            },
            schema_overrides={"period_index": pl.Int32},
        )
        frames.append(long.join(bounds, on="period_index"))
        held.append(bounds)
    _write(con, STORED_PERIODS_TABLE, pl.concat(held), "dimension, period_start, period_end")
    _write(
        con,
        STORED_TABLE,
        pl.concat(frames),
        "dimension, period_start, period_end, group_name, kpi, sort_order, value, partner_value, direct_value, needs",
    )


def _write(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, columns: str) -> None:
    con.register("kpis_incoming", frame)
    try:
        # Fixed table and column names from this module; the rows come from the registered frame.
        con.execute(
            "create or replace table " + table + " as select " + columns + " from kpis_incoming "  # noqa: S608
            "order by dimension, period_start, period_end"
        )
    finally:
        con.unregister("kpis_incoming")


def _stored_periods(con: duckdb.DuckDBPyConnection) -> tuple[list[tuple[date, date]], list[tuple[date, date]]]:
    """The fiscal quarters stored (the as-of quarter to date), and the same with every period
    the default cards and trend compare them with: the previous period of each, and the first
    days of each quarter as many as have passed of the as-of quarter."""
    info = meta.values(con)
    as_of = meta.as_of_in(info)
    if as_of is None:
        return [], []
    start_month = meta.start_month_in(info)
    last = fiscal.quarter_start(as_of, start_month)
    earliest = queries.execute(con, "filter_options")["earliest"][0]
    first = fiscal.add_quarters(last, -STORED_QUARTERS_BACK)
    if earliest is not None:
        first = min(first, fiscal.quarter_start(earliest, start_month))
    whole = _quarters(first, last)
    quarters = [_to_date(period, as_of) for period in whole]
    compared = [
        period
        for mode in COMPARISONS
        for start, end in whole
        for period in compared_periods(start, end, as_of, mode, start_month)
    ]
    same_days = _same_days(whole, as_of, start_month)
    with_previous = list(dict.fromkeys([*compared, *same_days]))
    return quarters, with_previous


def _quarters(first: date, last: date) -> list[tuple[date, date]]:
    """The fiscal quarters from the one starting on `first` to the one starting on `last`, as (start, end)."""
    periods = []
    quarter = first
    while quarter <= last:
        periods.append((quarter, fiscal.add_quarters(quarter, 1) - timedelta(days=1)))
        quarter = fiscal.add_quarters(quarter, 1)
    return periods


def _to_date(period: tuple[date, date], as_of: date | None) -> tuple[date, date]:
    """The period up to the as-of date when that date falls inside it (the period is not over yet)."""
    start, end = period
    return (start, as_of) if as_of is not None and start <= as_of < end else period


def _same_days(quarters: list[tuple[date, date]], as_of: date | None, start_month: int) -> list[tuple[date, date]]:
    """Each quarter's first days, as many as have passed of the quarter in progress on the as-of
    date; none when no quarter of the list is in progress."""
    if as_of is None or not any(start <= as_of < end for start, end in quarters):
        return []
    days = (as_of - fiscal.quarter_start(as_of, start_month)).days
    return [(start, min(end, start + timedelta(days=days))) for start, end in quarters]


def _words(frame: pl.DataFrame) -> pl.DataFrame:
    """Add label, unit, section and definition from the one table of definitions."""
    kpis = frame["kpi"].unique(maintain_order=True).to_list()
    words = pl.DataFrame(
        [(k, d.label, d.unit, d.section, d.definition) for k in kpis for d in [definition(k)]],
        schema=["kpi", "label", "unit", "section", "definition"],
        orient="row",
    )
    return frame.join(words, on="kpi", how="left")


def previous_period(start_date: date, end_date: date, start_month: int = 1) -> tuple[date, date]:
    """The period before [start_date, end_date]: as many fiscal quarters before when the period is
    whole fiscal quarters (FY2026 Q1 -> FY2025 Q4, a fiscal year -> the year before), else the
    same number of days just before it."""
    after = end_date + timedelta(days=1)
    if start_date == fiscal.quarter_start(start_date, start_month) and after == fiscal.quarter_start(after, start_month):
        quarters = (after.year - start_date.year) * 4 + (after.month - start_date.month) // 3
        return fiscal.add_quarters(start_date, -quarters), start_date - timedelta(days=1)
    length = (end_date - start_date).days + 1
    end = start_date - timedelta(days=1)
    return end - timedelta(days=length - 1), end


def compared_periods(
    start_date: date, end_date: date, as_of: date | None, compare: str = "to_date", start_month: int = 1
) -> tuple[tuple[date, date], tuple[date, date]]:
    """The period as counted, and the period it is compared with.

    A period not over yet (the as-of date inside it, before its last day) counts up to the
    as-of date and is compared to date: with the same number of days at the start of the
    previous period (quarter-to-date vs the previous quarter-to-date), or with the whole
    previous period when `compare` is "full_period". A period that is over (or has not begun)
    is compared with the whole previous period.
    """
    if compare not in COMPARISONS:
        raise ValueError(f"compare must be one of {', '.join(COMPARISONS)}, got {compare!r}")
    previous = previous_period(start_date, end_date, start_month)
    current = _to_date((start_date, end_date), as_of)
    if current == (start_date, end_date) or compare == "full_period":
        return current, previous
    elapsed = current[1] - current[0]
    return current, (previous[0], min(previous[1], previous[0] + elapsed))


def _payouts_for(long: pl.DataFrame, sees_money: bool) -> pl.DataFrame:
    """The KPI rows a viewer may see: the payout KPIs only for one who sees payout money."""
    return long if sees_money else long.filter(pl.col("kpi").is_in(PAYOUT_KPIS).not_())


def program_kpis(
    con: duckdb.DuckDBPyConnection,
    start_date: date | None = None,
    end_date: date | None = None,
    regions: list[str] | None = None,
    tiers: list[str] | None = None,
    partner_types: list[str] | None = None,
    managers: list[str] | None = None,
    model: str | None = None,
    as_of: date | None = None,
    compare: str = "to_date",
    sees_money: bool = True,
) -> pl.DataFrame:
    """Every Program health KPI for the period, with the period it is compared with.

    Grain: one row per KPI (value NULL and `needs` naming the missing extract when it cannot be computed)
    Money: none (the payout KPIs are rows, left out when sees_money is false)
    Scope: program

    start_date, end_date: the period (default: the fiscal quarter of the data's as-of date).
    model: attribution model behind cost of channel and partner ROI (NULL = linear).
    as_of: the day the data is as of (NULL = the data's as-of date); a period not over on that
    day counts up to it. compare: what such a period is compared with: to_date (the same days
    of the previous period, the default) or full_period (the whole previous period).
    start_date, end_date, previous_start_date and previous_end_date in the rows are the days
    actually compared; in_progress says the period was counted to the as-of date.
    sees_money: whether the viewer sees payout money; without it, no cost of channel or partner ROI row.
    """
    start_date, end_date = _period(con, start_date, end_date)
    (start_date, counted_to), previous = compared_periods(
        start_date, end_date, _as_of(con, as_of), compare, _fiscal_start_month(con)
    )
    in_progress, end_date = counted_to != end_date, counted_to
    long = _core(
        con,
        [(start_date, end_date), previous],
        None,
        regions=regions,
        tiers=tiers,
        partner_types=partner_types,
        managers=managers,
        model=model,
    )
    long = _payouts_for(long, sees_money)
    current = long.filter(pl.col("period_index") == 1)
    before = long.filter(pl.col("period_index") == 2).select(
        "kpi",
        pl.col("value").alias("previous_value"),
        pl.col("partner_value").alias("previous_partner_value"),
        pl.col("direct_value").alias("previous_direct_value"),
    )
    frame = _words(current.join(before, on="kpi", how="left").sort("sort_order"))
    return frame.select(
        "kpi",
        "value",
        "previous_value",
        "label",
        "unit",
        "section",
        "partner_value",
        "direct_value",
        "previous_partner_value",
        "previous_direct_value",
        "needs",
        "definition",
        pl.lit(start_date).alias("start_date"),
        pl.lit(end_date).alias("end_date"),
        pl.lit(previous[0]).alias("previous_start_date"),
        pl.lit(previous[1]).alias("previous_end_date"),
        pl.lit(in_progress).alias("in_progress"),
    )


def kpi_trend_by_quarter(
    con: duckdb.DuckDBPyConnection,
    start_date: date | None = None,
    end_date: date | None = None,
    regions: list[str] | None = None,
    tiers: list[str] | None = None,
    partner_types: list[str] | None = None,
    managers: list[str] | None = None,
    model: str | None = None,
    quarters: int = 8,
    as_of: date | None = None,
    compare: str = "to_date",
    sees_money: bool = True,
) -> pl.DataFrame:
    """Every Program health KPI by fiscal quarter, partner vs direct where it has both.

    Grain: one row per fiscal quarter x KPI (the quarters covering the period; at least `quarters`, ending with its last)
    Money: none (the payout KPIs are rows, left out when sees_money is false)
    Scope: program

    The quarter in progress on the as-of date (NULL = the data's) counts up to that date
    (quarter_end is the last day counted, in_progress is true). With compare = to_date (the default) and a quarter in
    progress, same_days_value is every quarter's value over its first days, as many as have
    passed of the quarter in progress, to compare it with like for like (else NULL).
    """
    if compare not in COMPARISONS:
        raise ValueError(f"compare must be one of {', '.join(COMPARISONS)}, got {compare!r}")
    start_date, end_date = _period(con, start_date, end_date)
    start_month = _fiscal_start_month(con)
    as_of = _as_of(con, as_of)
    last = fiscal.quarter_start(end_date, start_month)
    first = min(fiscal.quarter_start(start_date, start_month), fiscal.add_quarters(last, -(max(quarters, 1) - 1)))
    whole = _quarters(first, last)
    periods = [_to_date(period, as_of) for period in whole]
    same_days = _same_days(whole, as_of, start_month) if compare == "to_date" else []
    filters = {"regions": regions, "tiers": tiers, "partner_types": partner_types, "managers": managers, "model": model}
    long = _payouts_for(_core(con, [*periods, *same_days], None, **filters), sees_money)
    labels = pl.DataFrame(
        {
            "period_index": list(range(1, len(periods) + 1)),
            "fiscal_quarter": [fiscal.quarter_label(start, start_month) for start, _ in periods],
            "quarter_start": [start for start, _ in periods],
            "quarter_end": [end for _, end in periods],
            "in_progress": [period != quarter for period, quarter in zip(periods, whole, strict=True)],
        },
        schema_overrides={"period_index": pl.Int32},
    )
    # The first days of quarter i are period len(periods) + i.
    same = long.filter(pl.col("period_index") > len(periods)).select(
        (pl.col("period_index") - len(periods)).alias("period_index"), "kpi", pl.col("value").alias("same_days_value")
    )
    frame = _words(long.join(labels, on="period_index").join(same, on=["period_index", "kpi"], how="left"))
    return frame.sort("sort_order", "quarter_start").select(
        "fiscal_quarter",
        "quarter_start",
        "quarter_end",
        "kpi",
        "label",
        "unit",
        "value",
        "partner_value",
        "direct_value",
        "same_days_value",
        "in_progress",
        "needs",
    )


def kpi_breakdown(
    con: duckdb.DuckDBPyConnection,
    start_date: date | None = None,
    end_date: date | None = None,
    dimension: str = "partner_type",
    regions: list[str] | None = None,
    tiers: list[str] | None = None,
    partner_types: list[str] | None = None,
    managers: list[str] | None = None,
    model: str | None = None,
    as_of: date | None = None,
) -> pl.DataFrame:
    """The Program health KPIs of the period split by partner type, tier, region or partner manager.

    Grain: one row per value of the dimension (a deal or partner counts in every group it belongs to, so groups can overlap)
    Money: cost_of_channel, partner_roi
    Scope: program

    dimension: partner_type, tier, region or partner_manager. A period not over on the as-of
    date (NULL = the data's) counts up to that date, as on the cards.
    """
    if dimension not in DIMENSIONS:
        raise ValueError(f"dimension must be one of {', '.join(DIMENSIONS)}, got {dimension!r}")
    period = _to_date(_period(con, start_date, end_date), _as_of(con, as_of))
    long = _core(
        con,
        [period],
        dimension,
        regions=regions,
        tiers=tiers,
        partner_types=partner_types,
        managers=managers,
        model=model,
    )
    # Direct values do not belong to a partner group; the breakdown shows the partner side.
    split = [kpi for kpi in long["kpi"].unique() if definition(kpi).has_split]
    long = long.with_columns(pl.when(pl.col("kpi").is_in(split)).then("partner_value").otherwise("value").alias("shown"))
    order = long.select("kpi", "sort_order").unique().sort("sort_order")["kpi"].to_list()
    wide = long.pivot(on="kpi", index="group_name", values="shown").select("group_name", *order)
    return wide.rename({"group_name": dimension}).sort(dimension)


def _meta(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    meta = queries.execute(con, "program_meta")
    return dict(zip(meta["key"], meta["value"], strict=True))


def _fiscal_start_month(con: duckdb.DuckDBPyConnection) -> int:
    return meta.fiscal_start_month(con)


def _as_of(con: duckdb.DuckDBPyConnection, as_of: date | None) -> date | None:
    """The as-of date given, else the data's (None for a database without one)."""
    if as_of is not None:
        return as_of
    return meta.data_as_of(con)


def _period(con: duckdb.DuckDBPyConnection, start_date: date | None, end_date: date | None) -> tuple[date, date]:
    """The period asked for; a missing end is the end of the fiscal quarter of the data's as-of date."""
    if start_date is not None and end_date is not None:
        return start_date, end_date
    info = meta.values(con)
    start_month = meta.start_month_in(info)
    as_of = meta.as_of_in(info) or date.today()
    end = end_date or fiscal.quarter_end(as_of, start_month)
    return start_date or fiscal.quarter_start(end, start_month), end
