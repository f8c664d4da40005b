"""Partner statements: for one partner and a period, the deals credited under the commission
plan's model with their commission, the payouts by status, what is owed and when, and the open
disagreements involving the partner.

This module owns the statement's numbers and words: the outputs `partner_statement` (deal
lines) and `partner_statement_disagreements`, the SQL `partner_statement_payouts.sql` and
`partner_statement_deal_payments.sql`, and `gather`, which puts one statement together for
the Statement page (`pages/statement.py`), its Excel file (`queries.workbook`) and the command
line (`python -m queries statement`). Credit and commission are the Attribution page's
(`queries.attribution.credit.scenario_rows`), so a statement adds up to that page to the cent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import duckdb
import polars as pl

import queries
from queries import fiscal, glossary
from queries.attribution import scenarios
from queries.formatting import money
from queries.meta import as_of_in, data_as_of, start_month_in

STATUSES = ["accrued", "approved", "paid", "clawed_back"]
DEAL_SCHEMA = {
    "opportunity_id": pl.String,
    "account_name": pl.String,
    "close_date": pl.Date,
    "fiscal_quarter": pl.String,
    "revenue": pl.Float64,
    "weight": pl.Float64,
    "credit": pl.Float64,
    "rate": pl.Float64,
    "commission": pl.Float64,
    "paid": pl.Float64,
    "owed": pl.Float64,
    "due_date": pl.Date,
    "status": pl.String,
}
# Every column a statement shows, in words, with how to show it: the page's tables and the Excel sheets read this.
COLUMNS: dict[str, tuple[str, str]] = {
    "opportunity_id": ("Deal", "text"),
    "account_name": ("Account", "text"),
    "close_date": ("Close date", "date"),
    "fiscal_quarter": ("Quarter", "text"),
    "revenue": ("Revenue", "money"),
    "weight": ("Weight", "percent"),
    "credit": ("Credit", "money"),
    "rate": ("Rate", "percent"),
    "commission": ("Commission", "money"),
    "paid": ("Paid", "money"),
    "owed": ("Owed", "money"),
    "due_date": ("Due", "date"),
    "status": ("Status", "text"),
    "payout_id": ("Payout", "text"),
    "payout_type": ("Type", "text"),
    "period": ("Period", "date"),
    "paid_at": ("Paid on", "date"),
    "amount": ("Amount", "money"),
    "payouts": ("Payouts", "integer"),
    "kind_label": ("Disagreement", "text"),
    "amount_at_stake": ("At stake", "money"),
    "detail": ("What the sources say", "text"),
}


def plan_from(plan: pl.DataFrame) -> dict[str, Any]:
    """The commission plan's model, payment terms and amount tolerance from the `disagreement_plan`
    output (docs/design.md's defaults when the settings say nothing: linear, 60 days, 1% and at least 1)."""
    row = plan.row(0, named=True) if plan.height else {}

    def given(key: str, default: float) -> float:
        return default if row.get(key) is None else row[key]

    return {
        "model": row.get("model") or "linear",
        "payment_terms_days": int(given("payment_terms_days", 60)),
        "tolerance_pct": float(given("tolerance_pct", 1.0)),
        "tolerance_min": float(given("tolerance_min", 1.0)),
    }


def partner_statement(
    con: duckdb.DuckDBPyConnection,
    partner_id: str | None = None,
    start_date: date | None = None,
    end_date: date | None = None,
) -> pl.DataFrame:
    """One partner's deals credited in a period under the commission plan's model, their commission, and what is owed when.

    Grain: one row per won deal closed in the period and credited to the partner

    Money: rate, commission, paid, owed
    Scope: partner

    Credit and commission are the Attribution page's for the plan's scenario (the plan's model
    with the build's parameters, booked at the close date, the settings' rates): weight = the
    partner's share of the deal, credit = its whole cents, rate = commission / credit.
    Commission is in whole cents whose sum per fiscal quarter is the page's payout liability
    for the partner (largest remainders take the leftover cents). Paid = paid payouts of the
    types that pay credit for that deal, as of data_as_of; owed = commission - paid (never
    below 0), due the payment terms after close; overdue once that day is before data_as_of,
    unless a payout left no more than the plan's amount tolerance unpaid (paid within tolerance).
    """
    con = con.cursor()
    if not partner_id:
        return pl.DataFrame(schema=DEAL_SCHEMA)
    plan = plan_from(queries.execute(con, "disagreement_plan"))
    rows = scenarios.scenario_rows(con, json.dumps({"model": plan["model"]}), start_date, end_date)
    rows = rows.filter(pl.col("partner_id") == partner_id)
    if rows.is_empty():
        return pl.DataFrame(schema=DEAL_SCHEMA)
    lines = rows.group_by("opportunity_id", "fiscal_quarter").agg(
        pl.col("close_date").first(),
        pl.col("amount").first().cast(pl.Float64).alias("revenue"),
        pl.col("weight").sum(),
        pl.col("credit").sum().round(2),
        (pl.col("credit") * pl.col("rate")).sum().alias("exact"),
    )
    # The page's liability for this partner in each quarter (attribution_scenario's own sum and rounding).
    targets = rows.group_by("fiscal_quarter").agg((pl.col("credit") * pl.col("rate")).sum().round(2).alias("target"))
    lines = whole_cents(lines, targets)
    facts = queries.execute(
        con, "partner_statement_deal_payments", partner_id=partner_id, opportunity_ids=lines["opportunity_id"].to_list()
    )
    as_of = data_as_of(con) or date.today()
    terms = timedelta(days=int(plan["payment_terms_days"]))
    owed = pl.max_horizontal(pl.col("commission") - pl.col("paid"), pl.lit(0.0)).round(2)
    frame = lines.join(facts.with_columns(pl.col("paid").cast(pl.Float64)), on="opportunity_id", how="left").with_columns(
        pl.col("paid").fill_null(0.0),
        rate=pl.when(pl.col("credit") != 0).then(pl.col("exact") / pl.col("credit")),
        due_date=pl.col("close_date") + terms,
    )
    # A payout a few cents off its commission (rounded another way) settles it: the Disagreements page's tolerance.
    tolerance = pl.max_horizontal(pl.col("commission") * plan["tolerance_pct"] / 100, pl.lit(plan["tolerance_min"]))
    frame = frame.with_columns(owed=owed).with_columns(
        status=pl.when(pl.col("commission") == 0)
        .then(pl.lit("no commission"))
        .when(pl.col("owed") == 0)
        .then(pl.lit("paid"))
        .when((pl.col("paid") > 0) & (pl.col("owed") <= tolerance))
        .then(pl.lit("paid within tolerance"))
        .when(pl.col("due_date") >= as_of)
        .then(pl.lit("not yet due"))
        .otherwise(pl.lit("overdue"))
    )
    return frame.select(*DEAL_SCHEMA).cast(DEAL_SCHEMA).sort("close_date", "opportunity_id")  # type: ignore[arg-type]


def whole_cents(lines: pl.DataFrame, targets: pl.DataFrame) -> pl.DataFrame:
    """`commission`: each line's exact commission in whole cents, the lines of a quarter adding up to its target.

    Every line is rounded down and the quarter's leftover cents (fewer than its lines) go to the
    largest remainders, ties to the smaller deal id."""
    cents = (pl.col("exact") * 100).round(6)
    frame = lines.join(targets, on="fiscal_quarter").with_columns(floor=cents.floor(), remainder=cents - cents.floor())
    frame = frame.with_columns(leftover=((pl.col("target") * 100).round(0) - pl.col("floor").sum()).over("fiscal_quarter"))
    rank = pl.struct(pl.col("remainder").neg(), "opportunity_id").rank("ordinal").over("fiscal_quarter")
    return frame.with_columns(commission=(pl.col("floor") + (rank <= pl.col("leftover")).cast(pl.Float64)) / 100).drop(
        "floor", "remainder", "leftover", "target"
    )


def partner_statement_disagreements(con: duckdb.DuckDBPyConnection, partner_id: str | None = None) -> pl.DataFrame:
    """Open disagreements involving one partner, in plain words: theirs, or where they are the other party.

    Grain: one row per disagreement in the ledger as of data_as_of that names the partner

    Money: amount_at_stake
    Scope: partner

    The Disagreements page's ledger (`attribution_disagreements`, as of data_as_of), whatever
    the period: a disagreement stays open until the sources agree.
    """
    ledger = queries.execute(con.cursor(), "attribution_disagreements")
    terms = {key: term.term for key, term in glossary.by_key().items()}
    if partner_id is None:  # no partner chosen: no disagreement is theirs
        mine = ledger.clear()
    else:
        mine = ledger.filter((pl.col("partner_id") == partner_id) | (pl.col("other_partner_id") == partner_id))
    return mine.select(
        "kind",
        pl.col("kind").replace_strict(terms, default=pl.col("kind")).alias("kind_label"),
        "opportunity_id",
        "fiscal_quarter",
        pl.col("amount_at_stake").cast(pl.Float64),
        "detail",
        "partner_id",
        "other_partner_id",
        "payout_id",
        "registration_id",
    )


# ---- one statement, put together ----------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    """One partner's statement for a period: what the page shows, the Excel file holds and the CLI writes."""

    partner: dict[str, Any]
    start_date: date
    end_date: date
    plan: dict[str, Any]
    currency: str
    data_as_of: date | None
    made_on: date
    deals: pl.DataFrame
    payouts: pl.DataFrame
    disagreements: pl.DataFrame
    totals: dict[str, Any] = field(default_factory=dict)

    @property
    def partner_id(self) -> str:
        return self.partner["partner_id"]

    def by_status(self) -> pl.DataFrame:
        """The period's payouts per status, every status shown (0 when none)."""
        counts = self.payouts.group_by("status").agg(pl.len().alias("payouts"), pl.col("amount").cast(pl.Float64).sum())
        base = pl.DataFrame({"status": STATUSES})
        return (
            base.join(counts, on="status", how="left")
            .with_columns(pl.col("payouts").fill_null(0).cast(pl.Int64), pl.col("amount").fill_null(0.0).round(2))
            .with_columns(pl.col("status").str.replace("_", " "))
        )

    def owed(self) -> pl.DataFrame:
        """The deals with commission still owed, soonest due first."""
        return self.deals.filter(pl.col("owed") > 0).sort("due_date", "opportunity_id")

    def file_stem(self) -> str:
        """statement_<partner>_<from>_<to>: the partner id made safe for a file name."""
        partner = re.sub(r"[^A-Za-z0-9._-]+", "-", self.partner_id).strip("-.") or "partner"
        return f"statement_{partner}_{self.start_date:%Y-%m-%d}_{self.end_date:%Y-%m-%d}"

    def describe_plan(self) -> str:
        days = self.plan["payment_terms_days"]
        return (
            f"{self.plan['model'].replace('_', ' ')} credit, booked at close, "
            f"the commission plan's rates; commission due {days} days after a deal closes"
        )


def totals_of(deals: pl.DataFrame, payouts: pl.DataFrame, disagreements: pl.DataFrame) -> dict[str, Any]:
    """The statement's headline numbers, each the sum of the rows shown (to the cent)."""

    def total(frame: pl.DataFrame, column: str, keep: pl.Expr | None = None) -> float:
        rows = frame.filter(keep) if keep is not None else frame
        return round(float(rows[column].cast(pl.Float64).sum()), 2) if rows.height else 0.0

    upcoming = deals.filter(pl.col("status") == "not yet due")["due_date"]
    return {
        "deals": deals.height,
        "revenue": total(deals, "revenue"),
        "credit": total(deals, "credit"),
        "commission": total(deals, "commission"),
        "paid": total(deals, "paid"),
        "owed": total(deals, "owed"),
        "overdue": total(deals, "owed", pl.col("status") == "overdue"),
        "next_due": upcoming.min() if upcoming.len() else None,
        **{f"payouts_{status}": total(payouts, "amount", pl.col("status") == status) for status in STATUSES},
        "disagreements": disagreements.height,
        "at_stake": total(disagreements, "amount_at_stake"),
    }


Run = Callable[..., pl.DataFrame]


@dataclass(frozen=True)
class Meta:
    """What the served database says about itself (`program_meta`), as a statement or workbook needs it."""

    values: dict[str, str]

    @classmethod
    def read(cls, run: Run) -> Meta:
        frame = run("program_meta")
        return cls(dict(zip(frame["key"], frame["value"], strict=True)))

    @property
    def currency(self) -> str:
        return self.values.get("reporting_currency") or "USD"

    @property
    def data_as_of(self) -> date | None:
        return as_of_in(self.values)

    def period(self, start_date: date | None, end_date: date | None) -> tuple[date, date]:
        """The dates given, each else the fiscal quarter of the data's as-of date (the app's default period)."""
        default_start, default_end = default_period(self.values)
        return start_date or default_start, end_date or default_end


def default_period(meta: dict[str, str]) -> tuple[date, date]:
    """The fiscal quarter of the data's as-of date: the app's default period."""
    as_of = as_of_in(meta) or date.today()
    month = start_month_in(meta)
    return fiscal.quarter_start(as_of, month), fiscal.quarter_end(as_of, month)


def gather(run: Run, partner_id: str, start_date: date | None = None, end_date: date | None = None) -> Statement | None:
    """One statement from named outputs: `run(name, **params)` is `queries.run` on a page, or
    `queries.execute` on a connection for the command line. None when the partner is unknown.
    No dates: the fiscal quarter of the data's as-of date."""
    profile = run("partner_profile", partner_id=partner_id)
    if profile.is_empty():
        return None
    meta = Meta.read(run)
    start, end = meta.period(start_date, end_date)
    deals = run("partner_statement", partner_id=partner_id, start_date=start, end_date=end)
    payouts = run("partner_statement_payouts", partner_id=partner_id, start_date=start, end_date=end)
    disagreements = run("partner_statement_disagreements", partner_id=partner_id)
    return Statement(
        partner=profile.row(0, named=True),
        start_date=start,
        end_date=end,
        plan=plan_from(run("disagreement_plan")),
        currency=meta.currency,
        data_as_of=meta.data_as_of,
        made_on=date.today(),
        deals=deals,
        payouts=payouts,
        disagreements=disagreements,
        totals=totals_of(deals, payouts, disagreements),
    )


# ---- in words, for the page's printable tables ---------------------------------------------


def percent_text(value: float | None) -> str:
    """12.5%, 8%: up to two decimals, no trailing zeros."""
    if value is None:
        return "—"
    return f"{value * 100:.2f}".rstrip("0").rstrip(".") + "%"


def readable(frame: pl.DataFrame, columns: list[str], currency: str = "USD", total: list[str] | None = None) -> pl.DataFrame:
    """The columns in words for a printed table: money and percentages as text, dates ISO, a
    dash for nothing, and a Total row summing the `total` columns (money only)."""
    out: dict[str, list[str]] = {}
    for name in columns:
        label, kind = COLUMNS[name]
        values = frame[name].to_list()
        if kind == "money":
            cells = [money(v, currency, "cents", missing="—") for v in values]
        elif kind == "percent":
            cells = [percent_text(v) for v in values]
        elif kind == "date":
            cells = [f"{v:%Y-%m-%d}" if v is not None else "—" for v in values]
        else:
            cells = [str(v) if v is not None else "—" for v in values]
        if total is not None:
            summed = round(float(frame[name].cast(pl.Float64).sum()), 2) if name in total else None
            first = name == columns[0]
            cells.append(money(summed, currency, "cents") if summed is not None else ("Total" if first else ""))
        out[label] = cells
    return pl.DataFrame(out, schema=dict.fromkeys(out, pl.String))
