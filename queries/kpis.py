"""Program health outputs: the KPI cards, their trend by fiscal quarter and their breakdown.

All three run the one KPI core, `kpis_by_period.sql`, over different periods (this period
and the previous one of the same length; the fiscal quarters; this period by a partner
dimension), so a KPI is defined once and the cards, the trend, the breakdown and the
`program_kpis` export cannot drift apart. This module only chooses the periods and reshapes
the long result; the words (labels, units, definitions) come from `kpi_definitions.py`.

Stored once per build (`store_kpis`, a derived step after the attribution credit): the core's
rows for the default view (every partner, linear model) over every fiscal quarter up to the
data's as-of date and the period of the same length before each, under no split and under
each dimension. The outputs read those rows when the view is the default and every period
asked for is stored; otherwise they run the core (tests check both give the same frames).
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl

import queries
from queries import fiscal
from queries.kpi_definitions import PAYOUT_KPIS, definition

DIMENSIONS = {
    "partner_type": "Partner type",
    "tier": "Tier",
    "region": "Region",
    "partner_manager": "Partner manager",
}

# The stored default view: its rows and the (dimension, period) pairs it holds ('all' = no split).
STORED_TABLE = "kpis_stored"
STORED_PERIODS_TABLE = "kpis_stored_periods"
STORED_MODELS = (None, "linear")
# Quarters stored before the as-of quarter at least, so the default trend (8 quarters) of this and
# the last quarter, the last 4 quarters and this fiscal year reads stored rows.
STORED_QUARTERS_BACK = 11
USE_STORED = True


def _core(
    con: duckdb.DuckDBPyConnection, periods: list[tuple[date, date]], dimension: str | None, **filters: object
) -> pl.DataFrame:
    starts, ends = [start for start, _ in periods], [end for _, end in periods]
    if _default_view(con, filters):
        # No rows when a period asked for is not stored.
        stored = queries.execute(con, "kpis_stored_by_period", period_starts=starts, period_ends=ends, dimension=dimension)
        if not stored.is_empty():
            return stored
    return queries.execute(con, "kpis_by_period", period_starts=starts, period_ends=ends, dimension=dimension, **filters)


def _default_view(con: duckdb.DuckDBPyConnection, filters: dict[str, object]) -> bool:
    model = filters.get("model")
    if any(value is not None for key, value in filters.items() if key != "model") or model not in STORED_MODELS:
        return False
    return _has_stored(con)


def _has_stored(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether this database was built with the stored KPIs (older builds were not)."""
    if not USE_STORED:
        return False
    return queries.has_tables(con, STORED_TABLE, STORED_PERIODS_TABLE)


def store_kpis(con: duckdb.DuckDBPyConnection, settings: object = None) -> None:
    """Derived step at build time: store the KPI core's rows for the default view.

    Every partner, linear model; every fiscal quarter from the first with data (or
    STORED_QUARTERS_BACK before the as-of quarter, whichever is earlier) to the as-of quarter,
    under no split (with the period of the same length before each, for the cards' comparison)
    and under each dimension. Runs after the attribution credit (cost of channel and ROI read
    it). Without an as-of date nothing is stored (no tables).
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
        long = queries.execute(
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
    """The fiscal quarters stored, and the same with the period of the same length before each."""
    info = _meta(con)
    if not info.get("data_as_of"):
        return [], []
    start_month = int(info.get("fiscal_year_start_month") or 1)
    last = fiscal.quarter_start(date.fromisoformat(info["data_as_of"]), start_month)
    earliest = queries.execute(con, "filter_options")["earliest"][0]
    first = fiscal.add_quarters(last, -STORED_QUARTERS_BACK)
    if earliest is not None:
        first = min(first, fiscal.quarter_start(earliest, start_month))
    quarters: list[tuple[date, date]] = []
    quarter = first
    while quarter <= last:
        quarters.append((quarter, fiscal.add_quarters(quarter, 1) - timedelta(days=1)))
        quarter = fiscal.add_quarters(quarter, 1)
    with_previous = list(dict.fromkeys(period for current in quarters for period in (current, previous_period(*current))))
    return quarters, with_previous


def _words(frame: pl.DataFrame) -> pl.DataFrame:
    """Add label, unit, section and definition from the one table of definitions."""
    kpis = frame["kpi"].unique(maintain_order=True).to_list()
    words = pl.DataFrame(
        [(k, d.label, d.unit, d.section, d.definition) for k in kpis for d in [definition(k)]],
        schema=["kpi", "label", "unit", "section", "definition"],
        orient="row",
    )
    return frame.join(words, on="kpi", how="left")


def previous_period(start_date: date, end_date: date) -> tuple[date, date]:
    """The period of the same length just before [start_date, end_date] (as ui.Filters.previous)."""
    length = (end_date - start_date).days + 1
    end = start_date - timedelta(days=1)
    return end - timedelta(days=length - 1), end


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
    sees_money: bool = True,
) -> pl.DataFrame:
    """Every Program health KPI for the period, with the previous period of the same length.

    Grain: one row per KPI (value NULL and `needs` naming the missing extract when it cannot be computed)
    Money: none (the payout KPIs are rows, left out when sees_money is false)
    Scope: program

    start_date, end_date: the period (default: the fiscal quarter of the data's as-of date).
    model: attribution model behind cost of channel and partner ROI (NULL = linear).
    sees_money: whether the viewer sees payout money; without it, no cost of channel or partner ROI row.
    """
    start_date, end_date = _period(con, start_date, end_date)
    previous = previous_period(start_date, end_date)
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
    sees_money: bool = True,
) -> pl.DataFrame:
    """Every Program health KPI by fiscal quarter, partner vs direct where it has both.

    Grain: one row per fiscal quarter x KPI (the quarters covering the period; at least `quarters`, ending with its last)
    Money: none (the payout KPIs are rows, left out when sees_money is false)
    Scope: program
    """
    start_date, end_date = _period(con, start_date, end_date)
    start_month = _fiscal_start_month(con)
    last = fiscal.quarter_start(end_date, start_month)
    first = min(fiscal.quarter_start(start_date, start_month), fiscal.add_quarters(last, -(max(quarters, 1) - 1)))
    periods = []
    quarter = first
    while quarter <= last:
        periods.append((quarter, fiscal.add_quarters(quarter, 1) - timedelta(days=1)))
        quarter = fiscal.add_quarters(quarter, 1)
    long = _core(con, periods, None, regions=regions, tiers=tiers, partner_types=partner_types, managers=managers, model=model)
    long = _payouts_for(long, sees_money)
    labels = pl.DataFrame(
        {
            "period_index": list(range(1, len(periods) + 1)),
            "fiscal_quarter": [fiscal.quarter_label(start, start_month) for start, _ in periods],
            "quarter_start": [start for start, _ in periods],
        },
        schema_overrides={"period_index": pl.Int32},
    )
    frame = _words(long.join(labels, on="period_index"))
    return frame.sort("sort_order", "quarter_start").select(
        "fiscal_quarter", "quarter_start", "kpi", "label", "unit", "value", "partner_value", "direct_value", "needs"
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
) -> pl.DataFrame:
    """The Program health KPIs of the period split by partner type, tier, region or partner manager.

    Grain: one row per value of the dimension (a deal or partner counts in every group it belongs to, so groups can overlap)
    Money: cost_of_channel, partner_roi
    Scope: program

    dimension: partner_type, tier, region or partner_manager.
    """
    if dimension not in DIMENSIONS:
        raise ValueError(f"dimension must be one of {', '.join(DIMENSIONS)}, got {dimension!r}")
    start_date, end_date = _period(con, start_date, end_date)
    long = _core(
        con,
        [(start_date, end_date)],
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
    return int(_meta(con).get("fiscal_year_start_month") or 1)


def _period(con: duckdb.DuckDBPyConnection, start_date: date | None, end_date: date | None) -> tuple[date, date]:
    """The period asked for; a missing end is the end of the fiscal quarter of the data's as-of date."""
    if start_date is not None and end_date is not None:
        return start_date, end_date
    info = _meta(con)
    start_month = int(info.get("fiscal_year_start_month") or 1)
    as_of = date.fromisoformat(info["data_as_of"]) if info.get("data_as_of") else date.today()
    end = end_date or fiscal.quarter_end(as_of, start_month)
    return start_date or fiscal.quarter_start(end, start_month), end
