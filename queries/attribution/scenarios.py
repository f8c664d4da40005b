"""Attribution scenarios: a model with its parameters, a booking basis and a commission plan, and
what it does to partner credit and payout liability, side by side with another scenario.

The credit itself comes from the engine (`credit.py`: weights, cents, the build's stored touches);
this module parses a scenario (`parse_scenario`), matches the commission plan's rules to credit
rows (`plan_rules`, `with_rates`) and shapes the Attribution page's and the workbook's tables
(`attribution_scenario`, `side_by_side`, `liability_by_quarter`, `reconcile`). What moves between two
scenarios, from whom to whom, is `scenario_moves.py`.

Definitions: docs/design.md, "Attribution".
"""

from __future__ import annotations

import json
from datetime import date

import duckdb
import polars as pl

import queries
from queries.attribution.credit import (
    BOOKING_BASES,
    MODELS,
    credit_from_touches,
    model_params,
    quarter_labels,
    start_month,
    stored_touches,
    touch_weights,
)

SCENARIO_KEYS = (
    "model",
    "half_life_days",
    "lookback_days",
    "booking_basis",
    "position_first",
    "position_last",
    "w_anchor",
    "rates",
)
RULE_FIELDS = ("partner_type", "tier", "touch_type")


def parse_scenario(text: str) -> dict:
    """A scenario from its JSON text: model, parameters, booking basis and optional commission rules.

    `rates`: a list of {partner_type, tier, touch_type, rate} (unset fields match anything, the
    most specific match wins, then the earlier rule); absent = the plan in the settings.
    """
    spec = json.loads(text) if text else {}
    if not isinstance(spec, dict):
        raise ValueError("a scenario is a JSON object")
    unknown = sorted(set(spec) - set(SCENARIO_KEYS))
    if unknown:
        raise ValueError(f"unknown scenario keys {unknown}; expected some of {list(SCENARIO_KEYS)}")
    spec.setdefault("model", "linear")
    spec.setdefault("booking_basis", "close_date")
    if spec["model"] not in MODELS:
        raise ValueError(f"unknown attribution model {spec['model']!r}; expected one of {MODELS}")
    if spec["booking_basis"] not in BOOKING_BASES:
        raise ValueError(f"booking_basis must be one of {BOOKING_BASES}")
    return spec


def plan_rules(con: duckdb.DuckDBPyConnection, rates: list[dict] | None = None) -> pl.DataFrame:
    """Commission rules in match order: the given ones, else the settings' plan, then the default rate."""
    return rules_of(rates, queries.execute(con, "attribution_commission_rules") if rates is None else None)


def rules_of(rates: list[dict] | None, settings_plan: pl.DataFrame | None) -> pl.DataFrame:
    """`plan_rules` with the settings' plan given (the `attribution_commission_rules` output)."""
    if rates is None:
        rules = settings_plan
    else:
        rules = pl.DataFrame(
            [{**{f: r.get(f) or None for f in RULE_FIELDS}, "rate": float(r.get("rate") or 0)} for r in rates],
            schema={"partner_type": pl.String, "tier": pl.String, "touch_type": pl.String, "rate": pl.Float64},
        )
    return rules.select(*RULE_FIELDS, pl.col("rate").cast(pl.Float64)).with_row_index("rule_order")  # type: ignore[union-attr]


def with_rates(rows: pl.DataFrame, rules: pl.DataFrame) -> pl.DataFrame:
    """Each credit row's commission rate: the most specific matching rule, then the earliest; else 0.

    The rate depends on the partner (its types and tier) and the touch type only: rules are
    matched once per distinct partner x touch type, not once per row."""
    if rows.is_empty() or rules.is_empty():
        return rows.with_columns(rate=pl.lit(0.0))
    keys = ["partner_id", "touch_type"]
    distinct = rows.select(*keys, "partner_types", "tier").unique(keys, maintain_order=True)
    rated = rates_of(distinct, rules).select(*keys, "rate")
    return rows.join(rated, on=keys, how="left", nulls_equal=True, maintain_order="left")


def rates_of(rows: pl.DataFrame, rules: pl.DataFrame) -> pl.DataFrame:
    """`with_rates`, matching every row against every rule."""
    keyed = rows.with_row_index("_row")
    pairs = keyed.select("_row", "partner_types", "tier", "touch_type").join(rules, how="cross", suffix="_rule")
    matches = pairs.filter(
        (pl.col("partner_type").is_null() | pl.col("partner_types").list.contains(pl.col("partner_type")))
        & (pl.col("tier_rule").is_null() | (pl.col("tier_rule") == pl.col("tier")))
        & (pl.col("touch_type_rule").is_null() | (pl.col("touch_type_rule") == pl.col("touch_type")))
    ).with_columns(
        specificity=pl.sum_horizontal(
            pl.col("partner_type").is_not_null(), pl.col("tier_rule").is_not_null(), pl.col("touch_type_rule").is_not_null()
        )
    )
    best = matches.sort("_row", "specificity", "rule_order", descending=[False, True, False]).unique("_row", keep="first")
    return keyed.join(best.select("_row", "rate"), on="_row", how="left").with_columns(pl.col("rate").fill_null(0.0)).drop("_row")


def attribution_scenario(
    con: duckdb.DuckDBPyConnection,
    scenario: str = '{"model": "linear"}',
    start_date: date | None = None,
    end_date: date | None = None,
    regions: list[str] | None = None,
    tiers: list[str] | None = None,
    partner_types: list[str] | None = None,
    managers: list[str] | None = None,
) -> pl.DataFrame:
    """Credit and payout liability of one scenario, per partner and booking fiscal quarter.

    Grain: one row per partner x fiscal quarter of booking
    Money: liability
    Scope: partner

    `scenario`: JSON, see `parse_scenario`. Deals are those won with a close date in the
    period; the booking basis decides the quarter their credit lands in. Liability = credit x
    the commission rate matching the partner's type and tier and the touch's type. Credit is
    in whole cents per deal x partner x booking quarter, the `attribution_credit` export's: a
    deal's cents add up to its revenue before the filters choose which partners to show, so
    two models that credit the same deals credit the same total to the cent.
    """
    rows = scenario_rows(con, scenario, start_date, end_date, regions, tiers, partner_types, managers)
    frame = rows.group_by("partner_id", "fiscal_quarter").agg(
        pl.col("partner_name").first(),
        pl.col("partner_type").first(),
        pl.col("tier").first(),
        pl.col("tier_rank").first(),
        pl.col("credit").sum(),
        (pl.col("credit") * pl.col("rate")).sum().alias("liability"),
        pl.col("opportunity_id").n_unique().alias("deals"),
        pl.col("model").first(),
    )
    return frame.select(
        "partner_id",
        "partner_name",
        "partner_type",
        "tier",
        "tier_rank",
        "fiscal_quarter",
        pl.col("credit").round(2),
        pl.col("liability").round(2),
        "deals",
        # The model as computed: "markov (grouped)" when its chain was built over partner groups.
        "model",
    ).sort("fiscal_quarter", "partner_id")


def scenario_rows(
    con: duckdb.DuckDBPyConnection,
    scenario: str = '{"model": "linear"}',
    start_date: date | None = None,
    end_date: date | None = None,
    regions: list[str] | None = None,
    tiers: list[str] | None = None,
    partner_types: list[str] | None = None,
    managers: list[str] | None = None,
) -> pl.DataFrame:
    """The credited touches behind `attribution_scenario`, before it sums them: each with its deal,
    partner, booking `fiscal_quarter`, `credit` (its share of the deal x partner x quarter's
    whole cents) and commission `rate`. The scenario workbook and partner statements read them
    so their deal-level numbers add up to the page's."""
    spec = parse_scenario(scenario)
    params = model_params(
        con, **{k: spec.get(k) for k in ("half_life_days", "lookback_days", "position_first", "position_last", "w_anchor")}
    )
    touches = stored_touches(con, spec["model"], params, start_date, end_date)
    if touches is None:
        touches = touch_weights(con, [spec["model"]], **params)
        if start_date is not None:
            touches = touches.filter(pl.col("close_date") >= start_date)
        if end_date is not None:
            touches = touches.filter(pl.col("close_date") <= end_date)
    partners = queries.execute(
        con, "attribution_partners", regions=regions, tiers=tiers, partner_types=partner_types, managers=managers
    )
    pair = ["opportunity_id", "partner_id", "fiscal_quarter"]
    cents = credit_from_touches(touches, spec["booking_basis"], start_month(con))
    booked = pl.col("close_date") if spec["booking_basis"] == "close_date" else pl.col("touch_date")
    labelled = touches.with_columns(fiscal_quarter=quarter_labels(touches.select(booked).to_series(), start_month(con)))
    # A pair's touches share its cents by weight, so each can take its touch type's commission rate.
    credited = labelled.join(
        cents.select(*pair, pl.col("credit").cast(pl.Float64).alias("pair_credit")), on=pair, how="left", maintain_order="left"
    ).with_columns(credit=pl.col("pair_credit") * pl.col("weight") / pl.col("weight").sum().over(pair))
    shown = credited.join(partners, on="partner_id", how="inner", maintain_order="left")
    return with_rates(shown, plan_rules(con, spec.get("rates")))


ROLLUPS = {
    "partner": ["partner_id", "partner_name", "partner_type", "tier"],
    "partner_type_tier": ["partner_type", "tier"],
    "fiscal_quarter": ["fiscal_quarter"],
}


def rollup(frame: pl.DataFrame, by: str) -> pl.DataFrame:
    """A scenario's credit and liability summed by partner, by partner type and tier, or by quarter."""
    keys = ROLLUPS[by]
    order = {"partner": [pl.col("credit")], "partner_type_tier": ["partner_type", "tier_rank"], "fiscal_quarter": keys}[by]
    descending = by == "partner"
    summed = frame.group_by(keys).agg(
        pl.col("credit").sum().round(2), pl.col("liability").sum().round(2), pl.col("tier_rank").min()
    )
    return summed.sort(order, descending=descending, nulls_last=True).select(*keys, "credit", "liability")


def compare(first: pl.DataFrame, second: pl.DataFrame, by: str) -> pl.DataFrame:
    """Scenario B minus scenario A, by the same rollup, ranked by the absolute change in credit."""
    keys = ROLLUPS[by]
    a = rollup(first, by).rename({"credit": "credit_a", "liability": "liability_a"})
    b = rollup(second, by).rename({"credit": "credit_b", "liability": "liability_b"})
    joined = a.join(b, on=keys, how="full", coalesce=True, nulls_equal=True).with_columns(
        pl.col("credit_a", "credit_b", "liability_a", "liability_b").fill_null(0.0)
    )
    return joined.with_columns(
        credit_change=(pl.col("credit_b") - pl.col("credit_a")).round(2),
        liability_change=(pl.col("liability_b") - pl.col("liability_a")).round(2),
    ).sort(pl.col("credit_change").abs(), *keys, descending=[True] + [False] * len(keys), nulls_last=True)


def reconcile(frame: pl.DataFrame, won_revenue: float) -> dict[str, float]:
    """Totals of a scenario against the period's won revenue: credited + not credited = won."""
    credited = round(float(frame["credit"].sum()), 2) if frame.height else 0.0
    return {
        "won_revenue": round(won_revenue, 2),
        "credited": credited,
        "not_credited": round(won_revenue - credited, 2),
        "liability": round(float(frame["liability"].sum()), 2) if frame.height else 0.0,
    }


def liability_by_quarter(payouts: pl.DataFrame, scenarios: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Payouts by status per fiscal quarter beside what each scenario says is owed (credit x rate)."""
    frame = payouts.with_columns(pl.col("accrued", "approved", "paid", "clawed_back").cast(pl.Float64))
    for label, scenario in scenarios.items():
        owed = rollup(scenario, "fiscal_quarter").select("fiscal_quarter", pl.col("liability").alias(f"owed: {label}"))
        frame = frame.join(owed, on="fiscal_quarter", how="full", coalesce=True)
    return frame.with_columns(pl.col(pl.Float64).fill_null(0.0)).sort("fiscal_quarter")


def scenario_label(spec: dict, frame: pl.DataFrame | None = None) -> str:
    """A short name for a scenario: model (as computed, from its `frame`: "markov (grouped)"), the
    parameters that differ from defaults, booking basis."""
    computed = frame["model"][0] if frame is not None and frame.height and "model" in frame.columns else spec["model"]
    parts = [computed.replace("_", " ")]
    if spec["model"] == "time_decay" and spec.get("half_life_days"):
        parts.append(f"half-life {spec['half_life_days']:g}d")
    if spec.get("lookback_days") not in (None, 365):
        parts.append(f"lookback {spec['lookback_days']}d")
    if spec.get("booking_basis") == "touch_date":
        parts.append("booked at touch")
    if spec.get("rates") is not None:
        parts.append("what-if rates")
    return ", ".join(parts)


def side_by_side(frames: dict[str, pl.DataFrame], by: str) -> pl.DataFrame:
    """Several scenarios' rollups in one table: credit and liability columns per scenario."""
    keys = ROLLUPS[by]
    joined: pl.DataFrame | None = None
    for label, frame in frames.items():
        part = rollup(frame, by).rename({"credit": f"credit {label}", "liability": f"liability {label}"})
        joined = part if joined is None else joined.join(part, on=keys, how="full", coalesce=True, nulls_equal=True)
    if joined is None:
        return pl.DataFrame()
    first = f"credit {next(iter(frames))}"
    joined = joined.with_columns(pl.col(pl.Float64).fill_null(0.0))
    return joined.sort(keys if by == "fiscal_quarter" else [first], descending=by != "fiscal_quarter")
