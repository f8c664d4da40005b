"""What changed in the pipeline between two dates, deal by deal, and the waterfall it adds up to.

This module owns DESIGN.md's pipeline change ("Command line"). Each deal's state at the end of
`from_date` and at the end of `to_date` is rebuilt by `pipeline_as_of.sql` (from
opportunity_history; a deal without history rows from its created and close dates, which the
`basis` column says), and every difference is a row in the fiscal quarter it changes:

    opening + created + pulled_in - pushed_out +/- amount changes - won - lost = closing

to the cent, per quarter and per involvement. Opening: open at from_date, due in the quarter;
closing: open at to_date, due in the quarter. A deal whose close date moves to another quarter
is pushed_out of the first at its from_date amount and pulled_in to the second at its to_date
amount, whichever way it moved; an amount change counts only for a deal open in the same
quarter at both dates; won and lost leave at their from_date amount. Two cases DESIGN.md does
not name keep the identity too: a deal created and closed between the dates is created and won
(or lost) at its to_date amount, in the quarter of its close date; a deal closed at from_date
and open again at to_date (reopened) is pulled_in. A deal's involvement (sourced, influenced,
direct), partner and scope are as known at to_date, for its opening row too, so each deal
counts in one involvement and one group.

`store_changes` (a derived step of the build) stores the default view: the 7 days up to
data_as_of, every partner. For those dates the runner reads it (both outputs declare `Stored:`;
`pipeline_changes_stored_dates.sql` says whether the dates asked for are the stored ones, and
the readers apply the partner filters to the stored rows as `pipeline_as_of.sql` applies them);
other dates are computed. The forecast
side of "what changed" (each method as it stood week by week, and the sentence at the top of
the page) is `queries/forecast/forecast_history.py`'s.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb
import polars as pl

import queries
from queries import fiscal
from queries.forecast import methods as forecast
from queries.formatting import money

CHANGE_KINDS: dict[str, str] = {
    "created": "Created",
    "pulled_in": "Pulled in",
    "pushed_out": "Pushed out",
    "amount_up": "Amount up",
    "amount_down": "Amount down",
    "won": "Won",
    "lost": "Lost",
}
STEPS: dict[str, str] = {"opening": "Opening", **CHANGE_KINDS, "closing": "Closing"}
# pipeline_as_of's segment -> DESIGN.md's involvement.
INVOLVEMENT = {"partner_sourced": "sourced", "partner_influenced": "influenced", "direct": "direct"}
# The reported pipelines (as on the forecast page) -> the involvements they add up.
PIPELINES: dict[str, tuple[str, ...]] = {
    name: tuple(INVOLVEMENT[forecast.BASE_SEGMENTS[i]] for i in idx) for name, idx in forecast.SEGMENTS.items()
}
DEFAULT_DAYS = 7
LEDGER_TABLE = "pipeline_changes_precomputed"
CHANGE_COLUMNS = [
    "opportunity_id", "fiscal_quarter", "change_kind", "amount_change", "involvement", "partner_id", "partner_name",
    "account_name", "partner_type", "region", "partner_manager", "owner", "from_stage", "to_stage", "from_amount",
    "to_amount", "from_close_date", "to_close_date", "basis", "quarter_start", "from_date", "to_date",
]  # fmt: skip
GROUPS = ["involvement", "partner_type", "region", "partner_manager"]
MONEY = pl.Decimal(18, 2)


# ---- registered outputs --------------------------------------------------------------


def pipeline_changes(
    con: duckdb.DuckDBPyConnection,
    from_date: date | None = None,
    to_date: date | None = None,
    regions: list[str] | None = None,
    tiers: list[str] | None = None,
    partner_types: list[str] | None = None,
    managers: list[str] | None = None,
) -> pl.DataFrame:
    """What changed in the pipeline between two dates: each deal's changes, in the fiscal quarter each one changes.

    Grain: one row per opportunity x change kind
    Money: none
    Scope: partner
    Stored: pipeline_changes_stored (the 7 days up to data_as_of), when pipeline_changes_stored_dates has rows

    from_date (NULL = 7 days before to_date) and to_date (NULL = data_as_of): the states at the
    end of each day. change_kind: created, pulled_in, pushed_out, amount_up, amount_down, won,
    lost; amount_change is signed (negative for pushed_out, amount_down, won and lost), in the
    reporting currency, to the cent. involvement: sourced, influenced or direct, and partner,
    as known at to_date. basis: 'history' (rebuilt from opportunity_history, or the CRM's record
    on data_as_of) or 'created_close_dates' (the deal has no history rows: its state on a past
    day is taken from its created and close dates, at the first open stage).
    """
    start, end = _dates(con, from_date, to_date)
    ledger = _ledger(con, start, end, _scope(regions, tiers, partner_types, managers))
    return ledger.filter(pl.col("step").is_in(list(CHANGE_KINDS))).rename(
        {"step": "change_kind", "amount": "amount_change"}
    ).select(CHANGE_COLUMNS)


def pipeline_change_totals(
    con: duckdb.DuckDBPyConnection,
    from_date: date | None = None,
    to_date: date | None = None,
    regions: list[str] | None = None,
    tiers: list[str] | None = None,
    partner_types: list[str] | None = None,
    managers: list[str] | None = None,
) -> pl.DataFrame:
    """The pipeline waterfall between two dates: opening, each kind of change and closing, by fiscal quarter and group.

    Grain: one row per fiscal quarter x involvement x partner type x region x partner manager
    Money: none
    Scope: partner
    Stored: pipeline_change_totals_stored (the 7 days up to data_as_of), when pipeline_changes_stored_dates has rows

    opening + created + pulled_in + pushed_out + amount_up + amount_down + won + lost = closing
    on every row, to the cent (the changes are signed as in pipeline_changes). deals: the deals
    with a row in the quarter. Dates as in pipeline_changes.
    """
    start, end = _dates(con, from_date, to_date)
    return totals(_ledger(con, start, end, _scope(regions, tiers, partner_types, managers)), start, end)


# ---- what the page draws -------------------------------------------------------------


def waterfall(totals_frame: pl.DataFrame, quarter: str, pipeline: str = "partner", by: str | None = None) -> pl.DataFrame:
    """One quarter of `pipeline_change_totals` for one pipeline (partner, partner_sourced, ...,
    all), its steps side by side: one row, or one row per value of `by` (a column of GROUPS),
    largest opening first. Empty groups (no region, no manager) read '(none)'."""
    rows = totals_frame.filter(
        (pl.col("fiscal_quarter") == quarter) & pl.col("involvement").is_in(list(PIPELINES[pipeline]))
    )
    keys = [pl.col(by).fill_null("(none)")] if by else [pl.lit(pipeline).alias("pipeline")]
    summed = rows.group_by(keys).agg(pl.col("deals").sum(), *[pl.col(step).sum() for step in STEPS])
    if not by and summed.is_empty():
        summed = pl.DataFrame({"pipeline": [pipeline], "deals": [0]}).with_columns(pl.lit(0).cast(MONEY).alias(s) for s in STEPS)
    return summed.with_columns(pl.col(step).cast(MONEY) for step in STEPS).sort(
        ["opening", "closing", summed.columns[0]], descending=[True, True, False]
    )


PIPELINE_WORDS = {
    "partner": "partner",
    "partner_sourced": "partner-sourced",
    "partner_influenced": "partner-influenced",
    "direct": "direct",
    "all": "total",
}


def moved_sentence(
    pipeline: str, quarter: str, before: float | None, after: float | None, since: date, step: dict[str, Any]
) -> str:
    """'The partner forecast for FY2026 Q4 moved from $X to $Y since 2026-11-13: $A won, $B pushed
    out of the quarter, $C new pipeline.' before/after: the forecast (historical, expected) at the
    two dates; `step` one row of `waterfall` for the quarter (won and pushed_out are negative)."""
    won, pushed, created = -(step.get("won") or 0), -(step.get("pushed_out") or 0), step.get("created") or 0
    changes = f"{money(won)} won, {money(pushed)} pushed out of the quarter, {money(created)} new pipeline"
    who = f"The {PIPELINE_WORDS.get(pipeline, pipeline)} forecast for {quarter}"
    if before is None or after is None:
        return f"{who} is not known on both dates; since {since:%Y-%m-%d}: {changes}."
    verb = "stayed at " + money(after) if money(before) == money(after) else f"moved from {money(before)} to {money(after)}"
    return f"{who} {verb} since {since:%Y-%m-%d}: {changes}."


def quarters(totals_frame: pl.DataFrame) -> list[str]:
    """The fiscal quarters with a pipeline or a change, in time order."""
    return totals_frame.sort("quarter_start")["fiscal_quarter"].unique(maintain_order=True).to_list()


def default_dates(as_of: date, start_month: int) -> dict[str, tuple[date, date]]:
    """The comparisons the page offers, by name: the last 7 days, and since the quarter began
    (from its eve: the state at the end of the day before its first day)."""
    quarter_eve = fiscal.quarter_start(as_of, start_month) - timedelta(days=1)
    return {
        "Last 7 days": (as_of - timedelta(days=DEFAULT_DAYS), as_of),
        "Since the start of the quarter": (quarter_eve, as_of),
    }


# ---- the ledger: opening, changes and closing, deal by deal ---------------------------


def _ledger(con: duckdb.DuckDBPyConnection, from_date: date, to_date: date, scope: dict[str, Any]) -> pl.DataFrame:
    def compute() -> pl.DataFrame:
        _, start_month = forecast._meta(con)
        states = _changing_states(con, from_date, to_date, scope)
        return ledger_from_states(states, from_date, to_date, start_month).filter(pl.col("in_scope")).drop("in_scope")

    return forecast.MEMO.get(con, ("pipeline_changes", from_date, to_date, forecast._frozen(scope)), compute)


# Rows of pipeline_as_of fetched at a time: the filter below keeps Python's share of a
# scale-100 pass (millions of deals, most closed long ago) to the deals that change.
BATCH_ROWS = 200_000


def _changing_states(con: duckdb.DuckDBPyConnection, from_date: date, to_date: date, scope: dict[str, Any]) -> pl.DataFrame:
    """`pipeline_as_of` for the two days as `ledger_from_states` reads it (the open deals at
    from_date, every deal at to_date), less the deals closed at to_date that were neither open at
    from_date nor created after it: no step applies to those (they were closed, or not yet
    created, at both ends). Fetched in batches, in the query's order (from_date's rows first),
    so Python never holds the closed deals; DuckDB sorts within its memory limit."""
    cursor = con.cursor()  # its own, as queries.execute's: pages run in threads on one connection
    relation = queries.relation(
        cursor, "pipeline_as_of", snapshot_dates=sorted({from_date, to_date}), include_closed_on=to_date, **scope
    )
    reader = relation.fetch_arrow_reader(BATCH_ROWS)
    kept: list[pl.DataFrame] = [pl.from_arrow(reader.schema.empty_table())]
    open_from: list[pl.Series] = []
    ids: pl.Series | None = None  # the deals open at from_date, once all of from_date's rows are in
    for batch in reader:
        frame = pl.from_arrow(batch)
        at_from = frame["snapshot_date"] == from_date
        if at_from.any():
            if ids is not None:
                raise RuntimeError("pipeline_as_of returned rows of from_date after to_date's: its order changed")
            open_from.append(frame.filter(at_from)["opportunity_id"])
        if not at_from.all():
            if ids is None:
                ids = pl.concat(open_from) if open_from else pl.Series(dtype=frame["opportunity_id"].dtype)
            created = pl.col("created_at") > from_date
            frame = frame.filter(at_from | ~pl.col("is_closed") | created | pl.col("opportunity_id").is_in(ids.implode()))
        kept.append(frame)
    return pl.concat(kept)


def ledger_from_states(states: pl.DataFrame, from_date: date, to_date: date, start_month: int) -> pl.DataFrame:
    """Opening, change and closing rows (column `step`) of every deal, from `pipeline_as_of` rows
    for the two days (open deals at from_date, every deal at to_date), with the scope columns."""
    at_from = states.filter((pl.col("snapshot_date") == from_date) & ~pl.col("is_closed")).select(
        "opportunity_id",
        pl.col("amount").alias("from_amount"),
        pl.col("close_date").alias("from_close_date"),
        pl.col("stage").alias("from_stage"),
        pl.col("basis").alias("from_basis"),
    )
    deals = (
        states.filter(pl.col("snapshot_date") == to_date)
        .join(at_from, on="opportunity_id", how="left")
        .with_columns(
            pl.col("from_amount").is_not_null().alias("open_from"),
            (~pl.col("is_closed")).alias("open_to"),
            (pl.col("created_at") <= from_date).alias("existed"),
            _quarter_start(pl.col("from_close_date"), start_month).alias("from_quarter"),
            _quarter_start(pl.col("close_date"), start_month).alias("to_quarter"),
            _cents(pl.col("from_amount")).alias("from_cents"),
            _cents(pl.col("amount")).alias("to_cents"),
        )
    )
    open_from, open_to, existed = pl.col("open_from"), pl.col("open_to"), pl.col("existed")
    moved = pl.col("from_quarter") != pl.col("to_quarter")
    before, after = pl.col("from_cents"), pl.col("to_cents")
    outcome = pl.when(pl.col("is_won")).then(pl.lit("won")).otherwise(pl.lit("lost"))
    resized = pl.when(after > before).then(pl.lit("amount_up")).otherwise(pl.lit("amount_down"))
    # (step, the deals it applies to, the quarter it changes, signed cents)
    rules: list[tuple[pl.Expr, pl.Expr, str, pl.Expr]] = [
        (pl.lit("opening"), open_from, "from_quarter", before),
        (pl.lit("created"), ~existed, "to_quarter", after),
        (pl.lit("pulled_in"), open_to & ((open_from & moved) | (~open_from & existed)), "to_quarter", after),
        (pl.lit("pushed_out"), open_from & open_to & moved, "from_quarter", -before),
        (resized, open_from & open_to & ~moved & (after != before), "from_quarter", after - before),
        (outcome, open_from & ~open_to, "from_quarter", -before),
        (outcome, ~existed & ~open_to, "to_quarter", -after),
        (pl.lit("closing"), open_to, "to_quarter", after),
    ]
    basis = (
        pl.when((pl.col("basis") == "created_close_dates") | (pl.col("from_basis") == "created_close_dates"))
        .then(pl.lit("created_close_dates"))
        .otherwise(pl.lit("history"))
    )
    rows = pl.concat(
        [
            deals.filter(applies).select(
                pl.col("opportunity_id"),
                step.alias("step"),
                pl.col(quarter).alias("quarter_start"),
                cents.alias("cents"),
                pl.col("segment").replace_strict(INVOLVEMENT).alias("involvement"),
                "partner_id", "partner_name", "account_name", "partner_type", "tier", "partner_manager",
                pl.col("scope_region").alias("region"), "partner_types", "owner",
                "from_stage", pl.col("stage").alias("to_stage"), "from_amount", pl.col("amount").alias("to_amount"),
                "from_close_date", pl.col("close_date").alias("to_close_date"), basis.alias("basis"), "in_scope",
            )  # fmt: skip
            for step, applies, quarter, cents in rules
        ]
    )
    labels = {start: fiscal.quarter_label(start, start_month) for start in rows["quarter_start"].unique().to_list()}
    order = {step: i for i, step in enumerate(STEPS)}
    return (
        rows.with_columns(
            pl.col("quarter_start").replace_strict(labels, return_dtype=pl.String).alias("fiscal_quarter"),
            (pl.col("cents").cast(MONEY) / 100).cast(MONEY).alias("amount"),
            pl.lit(from_date).alias("from_date"),
            pl.lit(to_date).alias("to_date"),
        )
        .sort(
            [pl.col("quarter_start"), pl.col("step").replace_strict(order, return_dtype=pl.Int64), pl.col("cents").abs(),
             pl.col("opportunity_id")],
            descending=[False, False, True, False],
        )  # fmt: skip
        .drop("cents")
    )


def totals(ledger: pl.DataFrame, from_date: date, to_date: date) -> pl.DataFrame:
    """The ledger summed by fiscal quarter and group: a column per step."""
    frame = ledger.group_by("fiscal_quarter", "quarter_start", *GROUPS).agg(
        pl.col("opportunity_id").n_unique().cast(pl.Int64).alias("deals"),
        *[pl.col("amount").filter(pl.col("step") == step).sum().alias(step) for step in STEPS],
    )
    return frame.select(
        "fiscal_quarter",
        "quarter_start",
        *GROUPS,
        "deals",
        *[pl.col(step).fill_null(0).cast(MONEY) for step in STEPS],
        pl.lit(from_date).alias("from_date"),
        pl.lit(to_date).alias("to_date"),
    ).sort("quarter_start", *GROUPS, nulls_last=True)


# ---- fit once per build ----------------------------------------------------------------


def store_changes(con: duckdb.DuckDBPyConnection, settings: Any = None) -> None:
    """Derived step at build time: the default view's ledger (the 7 days up to data_as_of, every
    partner, with the columns the partner filters read), in its order (row_number)."""
    con.execute("drop table if exists " + LEDGER_TABLE)  # noqa: S608 - fixed name
    as_of = _data_as_of(con)
    if as_of is None:
        empty = ledger_from_states(
            queries.execute(con, "pipeline_as_of", snapshot_dates=[], **_scope(None, None, None, None)), date.min, date.min, 1
        )
        queries.store_table(con, LEDGER_TABLE, empty.with_row_index("row_number"))
        return
    start, end = as_of - timedelta(days=DEFAULT_DAYS), as_of
    ledger = _ledger(con, start, end, _scope(None, None, None, None))
    queries.store_table(con, LEDGER_TABLE, ledger.with_row_index("row_number"))
    forecast.MEMO.clear()  # what was memoised belongs to the database being built (at scale 100, half a GB)


# ---- helpers -----------------------------------------------------------------------------


def _data_as_of(con: duckdb.DuckDBPyConnection) -> date | None:
    info = dict(queries.execute(con, "program_meta").iter_rows())
    return date.fromisoformat(info["data_as_of"]) if info.get("data_as_of") else None


def _dates(con: duckdb.DuckDBPyConnection, from_date: date | None, to_date: date | None) -> tuple[date, date]:
    """The two days compared: to_date defaults to data_as_of, from_date to 7 days before it."""
    end = to_date or forecast._meta(con)[0]
    start = from_date or end - timedelta(days=DEFAULT_DAYS)
    if start > end:
        raise queries.ParamError(f"from_date ({start:%Y-%m-%d}) is after to_date ({end:%Y-%m-%d}): give the earlier date first")
    return start, end


def _scope(
    regions: list[str] | None, tiers: list[str] | None, partner_types: list[str] | None, managers: list[str] | None
) -> dict[str, list[str] | None]:
    return forecast._filters(regions, tiers, partner_types, managers)


def _cents(amount: pl.Expr) -> pl.Expr:
    return (amount * 100).cast(pl.Int64)


def _quarter_start(day: pl.Expr, start_month: int) -> pl.Expr:
    """The first day of the fiscal quarter a date falls in (fiscal.quarter_start, for a column)."""
    month = day.dt.month().cast(pl.Int64)
    months = day.dt.year().cast(pl.Int64) * 12 + month - 1 - ((month - start_month + 12) % 12) % 3
    return pl.date(months // 12, months % 12 + 1, 1)
