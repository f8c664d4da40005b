"""The attribution engine: which partner gets how much of each won deal, under every model.

This module owns putting the models together: the rule-based models' weights are numpy
(`rule_weights`; `tests/oracles/attribution_touch_weights.sql` is the readable SQL the tests
check them against), Markov and Shapley are `queries.attribution.markov` and `queries.attribution.shapley` over
touch paths; here their weights become credit (weight x revenue),
booked at the close date or at each touch date, and the default credit of every model is
materialised once per build (`attribution_credit_default`) for the KPI queries to read, with
every touch model's weight per won touch (`attribution_touch_default`) for the scenarios that
use the build's parameters (the Attribution page's defaults).
Scenarios (a model, its parameters and a commission plan, side by side) are `scenarios.py`, built
on this engine; what moves between two scenarios is `scenario_moves.py`.

Definitions: docs/design.md, "Attribution".
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa

import queries
from queries import fiscal, meta
from queries.attribution.markov import (
    EXACT_SOLVE_MAX_PARTNERS,
    ChainTooLarge,
    path_counts,
    present_partners,
    solve_removal_effects,
)
from queries.attribution.shapley import pair_weights
from queries.attribution.touch_paths import TouchPaths, touch_paths

RULE_MODELS = [
    "crm_sourced",
    "registration",
    "first_touch",
    "last_touch",
    "linear",
    "time_decay",
    "position_based",
    "w_shaped",
    "touch_value",
]
PARTNER_MODELS = ["markov", "shapley"]
MODELS = RULE_MODELS + PARTNER_MODELS
# Models that need the touchpoints extract (crm_sourced and registration do not).
TOUCH_MODELS = [m for m in MODELS if m not in ("crm_sourced", "registration")]
# Touch models that give each won deal to one partner (nothing to split in cents).
ONE_PARTNER_MODELS = ("first_touch", "last_touch")
BOOKING_BASES = ["close_date", "touch_date"]

TOUCH_SCHEMA = {
    "model": pl.String,
    "opportunity_id": pl.String,
    "partner_id": pl.String,
    "touch_type": pl.String,
    "touch_date": pl.Date,
    "close_date": pl.Date,
    "amount": pl.Decimal(18, 2),
    "weight": pl.Float64,
}
# A row's remainder (micro-cents, below 10^6) ranks inside its group by group x this - remainder
# (rows that take no share after them), in groups of more than COMPARED_ROWS rows.
REMAINDER_SLOTS = 1 << 20
# Groups of up to this many rows (a deal's partners: almost always) rank their rows by comparing each
# row with the next 1 to COMPARED_ROWS - 1 rows, one vector pass per distance: a quarter of the cost
# of a sort at 1M deals. Larger groups are sorted.
COMPARED_ROWS = 8
# Models whose credit is computed at once (numpy and Polars release the GIL): one per core, at most 4.
CREDIT_THREADS = min(os.cpu_count() or 1, 4)
CREDIT_COLUMNS = ["model", "opportunity_id", "partner_id", "weight", "credit", "close_date", "fiscal_quarter"]
# What the pages and exports call Markov when its chain is built over partner groups (DESIGN.md,
# "markov, large programs"); the stored tables keep the model's name, "markov".
MARKOV_GROUPED = "markov (grouped)"


def program_settings(con: duckdb.DuckDBPyConnection) -> dict:
    """The settings the served database was built with (from load_meta), {} if unknown."""
    return meta.settings(con)


def model_params(con: duckdb.DuckDBPyConnection, **given: float | int | None) -> dict[str, float | int]:
    """Model parameters: the given ones, else the settings' attribution defaults."""
    return params_from_settings(program_settings(con), **given)


def params_from_settings(settings: dict, **given: float | int | None) -> dict[str, float | int]:
    """`model_params` from the settings the database was built with (`program_settings`)."""
    defaults = settings.get("attribution", {})
    names = {
        "half_life_days": ("half_life_days", 30.0),
        "lookback_days": ("lookback_days", 365),
        "position_first": ("position_first", 0.4),
        "position_last": ("position_last", 0.4),
        "w_anchor": ("w_shaped_anchor", 0.3),
    }
    return {
        name: given.get(name) if given.get(name) is not None else defaults.get(key, fallback)
        for name, (key, fallback) in names.items()
    }


def rule_weights(won: TouchPaths, models: list[str], params: dict[str, float | int]) -> dict[str, np.ndarray]:
    """Weight of each touch of each won deal under the rule-based touch models (docs/design.md's table).

    Closed forms in the touch's position i in its deal, the deal's touch count n, the days
    before close and the touch value. What depends on the deal only is computed once per deal
    and gathered, so each model is a few passes over the touches; the models run on the
    machine's cores at once (numpy lets go of the GIL in its loops). A deal's first and last
    touches are rows `won.starts` points at, so they are written by row, not found by a mask;
    and each model writes into few fresh arrays (on this VM their page faults cost as much as
    the arithmetic).
    """
    deal, counts = won.deal, won.counts
    inverse_count = 1.0 / np.maximum(counts, 1)

    def at_rows(rows: np.ndarray, value: float | np.ndarray) -> np.ndarray:
        weight = np.zeros(len(deal))
        weight[rows] = value
        return weight

    closed_forms: dict[str, Callable[[], np.ndarray]] = {
        "first_touch": lambda: at_rows(first_rows(won), 1.0),
        "last_touch": lambda: at_rows(last_rows(won), 1.0),
        "linear": lambda: inverse_count[deal],
        "time_decay": lambda: time_decay_weights(won, float(params["half_life_days"])),
        "position_based": lambda: position_based_weights(won, float(params["position_first"]), float(params["position_last"])),
        "w_shaped": lambda: w_shaped_weights(won, float(params["w_anchor"])),
        "touch_value": lambda: touch_value_weights(won, inverse_count),
    }
    wanted = [model for model in closed_forms if model in models]
    with ThreadPoolExecutor(max_workers=CREDIT_THREADS) as pool:
        return dict(zip(wanted, pool.map(lambda model: closed_forms[model](), wanted), strict=True))


def first_rows(won: TouchPaths) -> np.ndarray:
    """Each deal's first touch (deals without touches have none)."""
    return won.starts[:-1][won.counts > 0]


def last_rows(won: TouchPaths) -> np.ndarray:
    """Each deal's last touch (deals without touches have none)."""
    return won.starts[1:][won.counts > 0] - 1


def position_based_weights(won: TouchPaths, pos_first: float, pos_last: float) -> np.ndarray:
    """Position-based: the first touch's, the last touch's and a middle touch's weight, per deal.
    One touch takes all; two share first : last (0.5 each with the default 0.4 / 0.4)."""
    counts, deal = won.counts, won.deal
    two = counts == 2
    first_weight = np.where(counts == 1, 1.0, np.where(two, pos_first / (pos_first + pos_last), pos_first))
    last_weight = np.where(two, pos_last / (pos_first + pos_last), pos_last)
    middle_weight = (1.0 - pos_first - pos_last) / np.maximum(counts - 2, 1)
    weight = middle_weight[deal]
    touched = counts > 0
    weight[last_rows(won)] = last_weight[touched]
    weight[first_rows(won)] = first_weight[touched]  # after the last: a deal's only touch is its first
    return weight


def touch_value_weights(won: TouchPaths, inverse_count: np.ndarray) -> np.ndarray:
    """Touch value: each touch's configured value over its deal's total. A touch type missing from
    the settings is worth 0; a deal whose touches are all worth 0 splits equally."""
    deal = won.deal
    value = won.type_values[won.type_code] if len(won.type_values) else np.zeros(len(deal))
    total = deal_sums(value, won)
    share_of_value = np.where(total > 0, 1.0 / np.where(total > 0, total, 1.0), 0.0)
    equal_split = np.where(total > 0, 0.0, inverse_count)
    value *= share_of_value[deal]
    value += equal_split[deal]
    return value


def time_decay_weights(won: TouchPaths, half_life_days: float) -> np.ndarray:
    """2^(-days before close / half-life), normalised per deal."""
    days = won.days_before_close
    if len(days) and 0 <= days.min() and days.max() < 100_000:
        decay = np.exp2(-np.arange(int(days.max()) + 1) / half_life_days)[days]  # a table of the few distinct days
    else:
        decay = np.exp2(-days / half_life_days)
    if len(days):
        decay *= (1.0 / deal_sums(decay, won))[won.deal]
    return decay


def w_shaped_weights(won: TouchPaths, anchor: float) -> np.ndarray:
    """W-shaped: anchor each to the first touch, the key touch and the last touch, the rest shared by the others.

    Key touch: the deal's first deal_registration touch, else the touch nearest the deal's
    creation (the earlier on a tie). A touch that is two anchors at once gets both shares;
    a deal with no other touches renormalises over its anchors."""
    counts, deal = won.counts, won.deal
    if len(deal) == 0:
        return np.zeros(0)
    seq = np.arange(1, len(deal) + 1)
    seq -= won.starts[:-1][deal]  # 1-based position in the deal
    scale = np.int64(counts.max() + 1)
    key = won.days_from_created * scale
    key += seq
    key = np.minimum.reduceat(key, won.starts[:-1]) % scale
    is_registration_type = won.touch_types.to_numpy() == "deal_registration"
    registrations = np.flatnonzero(is_registration_type[won.type_code])
    if len(registrations):
        of_deal = deal[registrations]
        first_registration = registrations[np.r_[True, of_deal[1:] != of_deal[:-1]]]
        key[deal[first_registration]] = seq[first_registration]
    distinct = 1 + (key != 1) + ((counts != 1) & (counts != key))
    others = counts - distinct
    total = 3 * anchor + np.where(others > 0, 1.0 - 3 * anchor, 0.0)
    other_weight = np.where(others > 0, (1.0 - 3 * anchor) / np.maximum(others, 1), 0.0) / total
    hits = np.equal(seq, key[deal]).view(np.int8)  # the key touch; then the first and the last
    hits[first_rows(won)] += 1
    hits[last_rows(won)] += 1
    weight = (anchor / total)[deal]
    weight *= hits
    np.copyto(weight, other_weight[deal], where=hits == 0)
    return weight


def deal_sums(values: np.ndarray, paths: TouchPaths) -> np.ndarray:
    """Each deal's total of `values` (touches are grouped by deal)."""
    return np.add.reduceat(values, paths.starts[:-1]) if len(values) else np.zeros(paths.deals)


def markov_touch_weights(paths: TouchPaths, limit: int | None = None, groups: np.ndarray | None = None) -> np.ndarray:
    """Markov weight of each touch of the closed paths (0 on lost deals).

    Removal effects from the chain over all closed paths; each won deal's partners share by
    their removal effects (equally when all are 0), a partner's share split over its touches.
    Raises ChainTooLarge when more than `limit` partners all reach one another.

    With `groups` (a group code for each partner code), the chain's states are the partner groups
    ("markov (grouped)"): each won deal's groups share by their removal effects, and a group's share
    is split equally over the deal's touches by its partners, so over those partners by their
    linear credit. Groups are few, so their chain is always solved exactly.
    """
    if groups is None:
        state, states = paths.partner, len(paths.partner_ids)
    else:
        state, states = groups[paths.partner], int(groups.max(initial=-1)) + 1
        limit = states
    present, compact = present_partners(state, states)
    counts, to_conversion, to_null = path_counts(compact, paths.starts, paths.is_won, len(present))
    effects = np.zeros(states)
    if len(present):
        effects[present] = solve_removal_effects(counts, to_conversion, to_null, limit)
    pair_of_touch, pair_deal, pair_partner = paths.pairs(state, states)
    pair_effect = effects[pair_partner]
    total = np.bincount(pair_deal, weights=pair_effect, minlength=paths.deals)[pair_deal]
    count = np.bincount(pair_deal, minlength=paths.deals)[pair_deal]
    pair_weight = np.where(total > 0, pair_effect / np.where(total > 0, total, 1.0), 1.0 / count)
    return per_pair_touch_share(pair_weight, pair_of_touch) * paths.is_won[paths.deal]


def shapley_touch_weights(paths: TouchPaths, seed: int) -> np.ndarray:
    """Shapley weight of each touch of the closed paths (0 on lost deals); see `queries.attribution.shapley`."""
    pair_of_touch, pair_deal, pair_partner = paths.pairs()
    present, player = present_partners(pair_partner, len(paths.partner_ids))
    first_pair = np.flatnonzero(np.r_[True, pair_deal[1:] != pair_deal[:-1]]) if len(pair_deal) else np.zeros(0, int)
    bounds = np.r_[first_pair, len(pair_deal)]
    pair_weight = np.nan_to_num(pair_weights(player, bounds, paths.is_won, len(present), seed))
    return per_pair_touch_share(pair_weight, pair_of_touch) * paths.is_won[paths.deal]


def per_pair_touch_share(pair_weight: np.ndarray, pair_of_touch: np.ndarray) -> np.ndarray:
    """A deal x partner share split equally over that partner's touches on the deal."""
    touches_of_partner = np.bincount(pair_of_touch, minlength=len(pair_weight))
    return pair_weight[pair_of_touch] / touches_of_partner[pair_of_touch]


def model_weights(
    con: duckdb.DuckDBPyConnection,
    models: list[str],
    params: dict[str, float | int],
    seed: int = 0,
) -> tuple[TouchPaths, dict[str, np.ndarray], dict[str, str]]:
    """Won paths, each touch model's weight per won touch (the touch-level models only), and the
    models computed over partner groups, with why (markov above the exact limit, else none)."""
    whole_chain = "markov" in models or "shapley" in models  # they learn from lost deals too
    paths = touch_paths(con, int(params["lookback_days"]), won_only=not whole_chain)
    won = paths.won() if whole_chain else paths
    weights = rule_weights(won, [m for m in models if m in RULE_MODELS], params)
    partner_weights, grouped = partner_model_weights(con, paths, models, seed)
    weights |= partner_weights
    return won, {m: weights[m] for m in models if m in weights}, grouped


def partner_model_weights(
    con: duckdb.DuckDBPyConnection, paths: TouchPaths, models: list[str], seed: int = 0
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Markov's and Shapley's weight per won touch (those of `models`) from the closed `paths`, lost
    deals included, and the models computed over partner groups, with why (see `model_weights`)."""
    won_touch = paths.is_won[paths.deal]
    weights: dict[str, np.ndarray] = {}
    grouped: dict[str, str] = {}
    if "markov" in models:
        try:
            weights["markov"] = markov_touch_weights(paths, markov_limit(con))[won_touch]
        except ChainTooLarge as exc:
            groups = partner_groups(con, paths.partner_ids)
            weights["markov"] = markov_touch_weights(paths, groups=groups)[won_touch]
            grouped["markov"] = (
                f"{str(exc).removeprefix('markov: ')}, so the chain is built over "
                f"{len(np.unique(groups[np.unique(paths.partner)])):,} partner groups (type x tier x region)"
            )
    if "shapley" in models:
        weights["shapley"] = shapley_touch_weights(paths, seed)[won_touch]
    return weights, grouped


def model_label(model: str, grouped: dict[str, str]) -> str:
    """A model's name as pages and exports show it: "markov (grouped)" when built over partner groups."""
    return MARKOV_GROUPED if model == "markov" and model in grouped else model


def markov_limit(con: duckdb.DuckDBPyConnection) -> int:
    """The settings' limit on partners that all reach one another for the exact Markov solve."""
    limit = program_settings(con).get("attribution", {}).get("markov_exact_max_partners")
    return int(limit) if limit else EXACT_SOLVE_MAX_PARTNERS


def partner_groups(con: duckdb.DuckDBPyConnection, partner_ids: pl.Series) -> np.ndarray:
    """The group code (partner type x tier x region, in name order) of each partner code."""
    groups = queries.execute(con.cursor(), "attribution_partner_groups")
    keyed = pl.DataFrame({"partner_id": partner_ids}).join(groups, on="partner_id", how="left", maintain_order="left")
    key = pl.concat_str([pl.col(c).fill_null(f"(no {c})") for c in ("partner_type", "tier", "region")], separator="\x1f")
    return (keyed.select(key.rank("dense")).to_series().to_numpy() - 1).astype(np.int64)


def touch_weights(
    con: duckdb.DuckDBPyConnection,
    models: list[str],
    half_life_days: float = 30,
    lookback_days: int = 365,
    position_first: float = 0.4,
    position_last: float = 0.4,
    w_anchor: float = 0.3,
    seed: int = 0,
) -> pl.DataFrame:
    """Touch-level weights of won deals for the given models (TOUCH_SCHEMA).

    Markov and Shapley give a partner a share of the deal; that share is split equally over
    the partner's eligible touches on the deal, so it can be booked at touch dates too.
    """
    params = checked_params(models, half_life_days, lookback_days, position_first, position_last, w_anchor)
    frames = []
    if "crm_sourced" in models or "registration" in models:
        sourced = queries.execute(con, "attribution_sourced_weights")
        frames.append(sourced.filter(pl.col("model").is_in(models)))
    touch_level = [m for m in models if m in TOUCH_MODELS]
    if touch_level:
        won, weights, grouped = model_weights(con, touch_level, params, seed)
        base = touch_base(won)
        for model in touch_level:
            weight = weights[model]
            keep = pl.Series(weight > 0)
            frames.append(
                base.filter(keep)
                .with_columns(model=pl.lit(model_label(model, grouped)), weight=pl.Series(weight).filter(keep))
                .select(*TOUCH_SCHEMA)
            )
    frames = [f.cast(TOUCH_SCHEMA) for f in frames]  # type: ignore[arg-type]
    return pl.concat(frames) if frames else pl.DataFrame(schema=TOUCH_SCHEMA)


def touch_base(won: TouchPaths) -> pl.DataFrame:
    """One row per won touch, in path order: its deal, partner, touch type and day, the deal's close day and amount."""
    return pl.DataFrame(
        {
            "opportunity_id": won.opportunity_id.gather(pl.Series(won.deal)),
            "partner_id": won.partner_ids.gather(pl.Series(won.partner)),
            "touch_type": won.touch_types.gather(pl.Series(won.type_code)),
            "touch_date": won.touch_date,
            "close_date": won.close_date.gather(pl.Series(won.deal)),
            "amount": won.amount.gather(pl.Series(won.deal)),
        }
    )


def checked_params(
    models: list[str], half_life_days: float, lookback_days: int, position_first: float, position_last: float, w_anchor: float
) -> dict[str, float | int]:
    unknown = sorted(set(models) - set(MODELS))
    if unknown:
        raise ValueError(f"unknown attribution model(s) {unknown}; expected some of {MODELS}")
    return {
        "half_life_days": float(half_life_days),
        "lookback_days": int(lookback_days),
        "position_first": float(position_first),
        "position_last": float(position_last),
        "w_anchor": float(w_anchor),
    }


@dataclass(frozen=True)
class PairLayout:
    """The won deal x partner pairs in output order (opportunity_id, then partner_id), with what
    every model's credit needs of them: found once, whatever the models."""

    pair_of_touch: np.ndarray  # each touch's pair
    starts: np.ndarray  # each deal's first pair, and last the pair count
    pair_cents: np.ndarray  # each pair's deal amount in whole cents (float)
    groups: RowGroups  # a deal's pairs, ranked by every model that splits the deal
    shared: pl.DataFrame  # each pair's opportunity_id, partner_id, close_date, fiscal_quarter

    @classmethod
    def of(cls, won: TouchPaths, fiscal_start_month: int) -> PairLayout:
        pair_of_touch, pair_deal, pair_partner = won.pairs()
        if not won.opportunity_id.is_sorted():  # paths stored by an older build number deals in load order
            opportunity_rank = np.empty(won.deals, dtype=np.int64)
            opportunity_rank[won.opportunity_id.arg_sort().to_numpy()] = np.arange(won.deals)
            order = np.argsort(opportunity_rank[pair_deal] * max(len(won.partner_ids), 1) + pair_partner, kind="stable")
            rank_of_pair = np.empty(len(order), dtype=np.int64)
            rank_of_pair[order] = np.arange(len(order))
            pair_of_touch, pair_deal, pair_partner = rank_of_pair[pair_of_touch], pair_deal[order], pair_partner[order]
        # Pairs are now in output order: by opportunity_id, then partner_id (partner codes are in name order).
        # Polars gathers by 32-bit row numbers.
        deal_rows = pl.Series(pair_deal.astype(np.uint32))
        shared = pl.DataFrame(
            {
                "opportunity_id": won.opportunity_id.gather(deal_rows),
                "partner_id": won.partner_ids.gather(pl.Series(pair_partner.astype(np.uint32))),
                "close_date": won.close_date.gather(deal_rows),
                "fiscal_quarter": quarter_labels(won.close_date, fiscal_start_month).gather(deal_rows),
            }
        )
        starts = np.r_[np.flatnonzero(np.r_[True, pair_deal[1:] != pair_deal[:-1]]), len(pair_deal)]
        pair_cents = np.rint(won.amount.cast(pl.Float64).to_numpy() * 100)[pair_deal]
        return cls(pair_of_touch, starts, pair_cents, RowGroups.of(starts), shared)


def credit_at_close(
    won: TouchPaths,
    weights: dict[str, np.ndarray],
    fiscal_start_month: int,
    grouped: dict[str, str] | None = None,
    layout: PairLayout | None = None,
) -> pl.DataFrame:
    """Touch weights -> credit per model x opportunity x partner, booked at the close date.

    The same rows and cents as `credit_from_touches(touch_weights(...), "close_date", ...)`,
    sorted by model, opportunity_id, partner_id, computed on integer codes: the deal x partner
    pairs, their strings and dates are found once for every model (`PairLayout`, or `layout` when
    the caller found them already); each model is then numpy over
    those pairs (its weight, its cents), the models two at a time on the machine's cores, and a
    model's rows are the pairs it gives a positive weight. With `grouped` (from `model_weights`),
    the model column shows "markov (grouped)" for a chain built over partner groups.
    """
    models = sorted(weights)
    if not models or len(won.deal) == 0:
        return pl.DataFrame(schema=credit_schema())
    layout = layout or PairLayout.of(won, fiscal_start_month)
    pair_of_touch, starts, pair_cents, shared = layout.pair_of_touch, layout.starts, layout.pair_cents, layout.shared
    pairs = shared.height
    deal_cents = pair_cents[starts[:-1]]

    def model_credit(model: str) -> pl.DataFrame:
        touch_weight = weights[model]
        positive = touch_weight > 0
        label = pl.lit(model_label(model, grouped or {}), dtype=pl.String)
        taken = deals_taken(touch_weight, positive)
        if taken is not None:  # one partner takes each deal (first / last touch): nothing to split or round
            cents = pair_cents[taken].astype(np.int64)
            return (
                shared[taken]
                .with_columns(model=label, weight=np.ones(len(taken)), credit=decimal_cents(cents))
                .select(CREDIT_COLUMNS)
            )
        weight = np.bincount(pair_of_touch, weights=np.where(positive, touch_weight, 0.0), minlength=pairs)
        credited = weight > 0
        every_pair = bool(credited.all())
        cents = whole_cents(weight * pair_cents, starts, deal_cents, None if every_pair else credited, layout.groups)
        if every_pair:
            return shared.with_columns(model=label, weight=weight, credit=decimal_cents(cents)).select(CREDIT_COLUMNS)
        picked = shared.filter(pl.Series(credited))
        credit = decimal_cents(cents[credited])
        return picked.with_columns(model=label, weight=weight[credited], credit=credit).select(CREDIT_COLUMNS)

    def deals_taken(touch_weight: np.ndarray, positive: np.ndarray) -> np.ndarray | None:
        """The pairs that take their whole deal when the model gives one touch of a deal weight 1 and its
        other touches none (in pair order: a deal's touches come before the next deal's), else None.
        (whole_cents would give those pairs the same cents; this only skips the work.)"""
        if np.count_nonzero(positive) > won.deals:
            return None
        hot = np.flatnonzero(positive)
        if not np.all(touch_weight[hot] == 1.0) or not np.all(np.diff(won.deal[hot]) > 0):
            return None
        return pair_of_touch[hot]

    # numpy and Polars let go of the GIL in their loops, so two models run at once on two cores; the
    # models one partner takes a deal under (a third of the work of one that splits deals) go last,
    # so that neither core waits long for the other at the end.
    started = sorted(models, key=lambda model: model in ONE_PARTNER_MODELS)
    with ThreadPoolExecutor(max_workers=CREDIT_THREADS) as pool:
        frames = dict(zip(started, pool.map(model_credit, started), strict=True))
    return pl.concat([frames[model] for model in models], rechunk=False)


def rule_credit_at_close(
    con: duckdb.DuckDBPyConnection, params: dict[str, float | int], fiscal_start_month: int, models: list[str] | None = None
) -> pl.DataFrame:
    """Every rule model's credit (or `models`', rule models only) per deal x partner in whole cents,
    booked at the close date: the sourced models' rows (`sourced_credit_at_close`), then the touch
    models' (`credit_at_close`), each part sorted by model, opportunity_id, partner_id.

    The build stores these rows (`build_default_credit`, through `rule_credit`)."""
    return rule_credit(con, params, fiscal_start_month, models).credit


@dataclass(frozen=True)
class RuleCredit:
    """`rule_credit`'s answer: the credit rows, and what the build reuses for Markov and Shapley."""

    credit: pl.DataFrame  # rule_credit_at_close's rows
    weights: dict[str, np.ndarray]  # each touch model's weight per won touch
    layout: PairLayout | None  # the won deal x partner pairs (None without won touches)


def rule_credit(
    con: duckdb.DuckDBPyConnection,
    params: dict[str, float | int],
    fiscal_start_month: int,
    models: list[str] | None = None,
    won: TouchPaths | None = None,
) -> RuleCredit:
    """`rule_credit_at_close`, with the weights and pairs it used; `won`: the won paths
    at params' lookback when the caller read them already (the build, which reads the lost deals too).

    Three things that do not wait for one another run side by side, as the cores allow: the
    sourced models' SQL (on its own cursor), the deal x partner pairs (`PairLayout`) and the
    touch models' weights; then each model's cents."""
    wanted = RULE_MODELS if models is None else [m for m in models if m in RULE_MODELS]
    touch_models = [m for m in wanted if m in TOUCH_MODELS]
    with ThreadPoolExecutor(max_workers=2) as side:
        sourced = side.submit(sourced_credit_at_close, con.cursor(), wanted, fiscal_start_month)
        if not touch_models:
            return RuleCredit(sourced.result(), {}, None)
        if won is None:
            won = touch_paths(con, int(params["lookback_days"]), won_only=True)
        pending = side.submit(PairLayout.of, won, fiscal_start_month) if len(won.deal) else None
        weights = rule_weights(won, touch_models, params)
        layout = pending.result() if pending else None
        touch_credit = credit_at_close(won, weights, fiscal_start_month, layout=layout)
        return RuleCredit(pl.concat([sourced.result(), touch_credit]), weights, layout)


def sourced_credit_at_close(con: duckdb.DuckDBPyConnection, models: list[str], fiscal_start_month: int) -> pl.DataFrame:
    """Credit of the sourced models (crm_sourced, registration) booked at the close date: the same
    rows and cents as `credit_from_touches(touch_weights(con, models), "close_date", ...)`, sorted by
    model, opportunity_id. Each of their deals has one partner with weight 1, who takes the whole
    amount, so there is nothing to split or round."""
    wanted = [model for model in models if model in ("crm_sourced", "registration")]
    if not wanted:
        return pl.DataFrame(schema=credit_schema())
    weights = queries.execute(con, "attribution_sourced_weights")
    # One model at a time, sorted by opportunity_id alone: half the work of one sort on both columns.
    rows = pl.concat([weights.filter(pl.col("model") == model).sort("opportunity_id") for model in sorted(wanted)])
    return rows.select(
        "model",
        "opportunity_id",
        "partner_id",
        "weight",
        pl.col("amount").cast(pl.Decimal(18, 2)).alias("credit"),
        "close_date",
        quarter_labels(rows["close_date"], fiscal_start_month).alias("fiscal_quarter"),
    ).cast(credit_schema())  # type: ignore[arg-type]


def decimal_cents(cents: np.ndarray) -> pl.Series:
    """Whole cents (int64) as a decimal(18, 2) money column, built from the integers' bytes: a
    decimal(18, 2) holds the amount in cents as a 128-bit integer (casting would scale them)."""
    words = np.zeros((len(cents), 2), dtype=np.int64)
    words[:, 0] = cents
    if len(cents) and cents.min() < 0:
        words[:, 1] = cents >> 63  # the sign, extended to the high word (credit is rarely negative: 0 is the rest)
    array = pa.Array.from_buffers(pa.decimal128(18, 2), len(cents), [None, pa.py_buffer(np.ascontiguousarray(words))])
    return pl.Series("credit", array)


@dataclass(frozen=True)
class RowGroups:
    """Groups of consecutive rows (a deal's partners), with what ranking rows inside their group
    needs: computed once when several models are rounded over the same groups."""

    starts: np.ndarray  # each group's first row, and last the row count
    of_row: np.ndarray  # each row's group
    place: np.ndarray  # each row's place in its group, from 0, capped at COMPARED_ROWS (int8: read once per distance)

    @classmethod
    def of(cls, starts: np.ndarray) -> RowGroups:
        starts = np.asarray(starts, dtype=np.int64)
        of_row = np.repeat(np.arange(len(starts) - 1, dtype=np.int64), np.diff(starts))
        place = np.minimum(np.arange(len(of_row)) - starts[:-1][of_row], COMPARED_ROWS).astype(np.int8)
        return cls(starts, of_row, place)


def whole_cents(
    exact: np.ndarray,
    starts: np.ndarray,
    total: np.ndarray,
    credited: np.ndarray | None = None,
    groups: RowGroups | None = None,
) -> np.ndarray:
    """Exact shares in cents -> whole cents by largest remainder, per group of consecutive rows.

    `exact`: each row's exact share in cents; `starts`: each group's first row (and, last, the
    row count); `total`: each group's whole cents (a deal's revenue); `credited`: the rows that
    share the group's cents (default: all; the others get 0, and a group without any gets
    nothing); `groups`: `RowGroups.of(starts)`, for callers that round several models over the
    same groups. Every row gets its share rounded down, and the group's leftover cents (fewer than
    its rows) go one each to the rows with the largest remainders, ties to the earlier row
    (callers order a group's rows by partner_id, then quarter). So each row is its exact share
    rounded down or up (less than a cent away, and within half a cent whenever the group's
    rounded shares can add up to its total), and each group adds up to its total exactly.
    """
    if len(exact) == 0:
        return np.zeros(0, dtype=np.int64)
    # In whole micro-cents first, so that 0.1 x 100000 cents (9999.999...) is 10000 cents and two
    # shares equal but for the order of a float sum (0.4 + 2/90 vs 2/90 + 0.4) have the same remainder.
    # (Exact to the micro-cent up to $90 million a row; above that the grid is coarser, never wrong.)
    # Fresh arrays cost page faults as much as the arithmetic: the steps write into the few they share.
    scaled = np.multiply(exact, 1e6)
    micro = np.rint(scaled, out=scaled).astype(np.int64)
    cents = np.floor_divide(micro, 1_000_000)  # by a constant: a multiply and a shift, where divmod divides
    remainder = np.subtract(micro, np.multiply(cents, 1_000_000, out=scaled.view(np.int64)), out=micro)
    rows_in_group = np.diff(starts)
    if credited is None:
        sharing = rows_in_group
    else:
        cents[~credited] = 0
        remainder[~credited] = -1  # ranks after every credited row of its group
        sharing = np.add.reduceat(credited, starts[:-1], dtype=np.int64)
    leftover = total.astype(np.int64) - np.add.reduceat(cents, starts[:-1])
    if not np.all(sharing > 0):
        leftover[sharing == 0] = 0  # (reduceat reads the next group's first row for an empty one)
    # Leftover is 0 to size - 1 when the shares add up to the total (no division needed); any other
    # amount (shares that do not add up) is still placed whole: every row its part, the rest by remainder.
    extra = leftover
    if not (np.all(leftover >= 0) and np.all(leftover < sharing)):
        each, extra = np.divmod(leftover, np.maximum(sharing, 1))
        if each.any():
            cents += np.repeat(each, rows_in_group) * (1 if credited is None else credited)
    placing = extra > 0
    if not placing.any():
        return cents
    # Each row's rank in its group is the rows that beat it: a larger remainder, or an equal one
    # earlier; the first `extra` of each group take a cent. Of two rows `distance` apart in one group
    # exactly one beats the other, so a pass per distance counts every row's rank in groups of up to
    # COMPARED_ROWS rows.
    groups = groups or RowGroups.of(starts)
    largest = int(np.max(rows_in_group, where=placing, initial=0))
    compared = scaled.view(np.int32)[: len(exact)]  # half the bytes to read per pass (remainders are below 10^6)
    np.copyto(compared, remainder, casting="same_kind")
    beaten = np.zeros(len(exact), dtype=np.int8)
    same_group, earlier_wins = np.empty(len(exact), dtype=bool), np.empty(len(exact), dtype=bool)
    for distance in range(1, min(largest, COMPARED_ROWS)):
        same, wins = same_group[distance:], earlier_wins[distance:]
        np.greater_equal(groups.place[distance:], distance, out=same)
        np.greater_equal(compared[:-distance], compared[distance:], out=wins)
        wins &= same
        beaten[distance:] += wins
        beaten[:-distance] += np.logical_xor(same, wins, out=same)
    # Ranks here are below 2 x COMPARED_ROWS: extra capped to fit a byte compares the same.
    takes_cent = beaten < np.minimum(extra, 127).astype(np.int8)[groups.of_row]
    if largest <= COMPARED_ROWS:
        cents += takes_cent
        return cents
    # Groups of more rows: ranked by sorting their rows by group, then remainder (largest first,
    # stably: ties keep row order), so the row sorted i-th ranks i - its group's first row.
    large = rows_in_group > COMPARED_ROWS
    cents += takes_cent & ~large[groups.of_row]
    sorted_groups = placing & large
    counts = rows_in_group[sorted_groups]
    rows = np.flatnonzero(np.repeat(sorted_groups, rows_in_group))
    group = np.repeat(np.arange(len(counts)), counts)
    order = np.argsort(group * REMAINDER_SLOTS + (REMAINDER_SLOTS - 2 - remainder[rows]), kind="stable")
    rank = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
    cents[rows[order[rank < np.repeat(extra[sorted_groups], counts)]]] += 1
    return cents


def credit_schema() -> dict:
    return {
        "model": pl.String,
        "opportunity_id": pl.String,
        "partner_id": pl.String,
        "weight": pl.Float64,
        "credit": pl.Decimal(18, 2),
        "close_date": pl.Date,
        "fiscal_quarter": pl.String,
    }


def quarter_labels(dates: pl.Series, start_month: int) -> pl.Series:
    """Fiscal quarter label of each date ('FY2026 Q3'), computed once per distinct date."""
    distinct = dates.unique().drop_nulls()
    labels = {d: fiscal.quarter_label(d, start_month) for d in distinct.to_list()}
    return dates.replace_strict(labels, default=None, return_dtype=pl.String)


def start_month(con: duckdb.DuckDBPyConnection) -> int:
    rows = con.cursor().sql("select value from load_meta where key = 'fiscal_year_start_month'").fetchall()
    return int(rows[0][0]) if rows and rows[0][0] else 1


def credit_from_touches(touches: pl.DataFrame, booking_basis: str, fiscal_start_month: int) -> pl.DataFrame:
    """Touch weights -> credit per model x opportunity x partner (x booking quarter), in whole
    cents by largest remainder at that grain (`whole_cents`), sorted by model, opportunity_id,
    partner_id, fiscal_quarter."""
    if booking_basis not in BOOKING_BASES:
        raise ValueError(f"booking_basis must be one of {BOOKING_BASES}, got {booking_basis!r}")
    booked = pl.col("close_date") if booking_basis == "close_date" else pl.col("touch_date")
    labelled = touches.with_columns(fiscal_quarter=quarter_labels(touches.select(booked).to_series(), fiscal_start_month))
    frame = (
        labelled.group_by("model", "opportunity_id", "partner_id", "fiscal_quarter")
        .agg(pl.col("weight").sum(), pl.col("amount").first().cast(pl.Float64), pl.col("close_date").first())
        .sort("model", "opportunity_id", "partner_id", "fiscal_quarter")
    )
    # A group is one deal under one model; its rows are in tie order (partner_id, then quarter).
    deal = ["model", "opportunity_id"]
    starts = np.r_[np.flatnonzero(frame.select(pl.struct(deal).is_first_distinct()).to_series().to_numpy()), frame.height]
    deal_cents = np.rint(frame["amount"].to_numpy() * 100)
    cents = whole_cents(frame["weight"].to_numpy() * deal_cents, starts, deal_cents[starts[:-1]])
    return frame.with_columns(credit=decimal_cents(cents)).select(
        "model", "opportunity_id", "partner_id", "weight", "credit", "close_date", "fiscal_quarter"
    )


def attribution_credit(
    con: duckdb.DuckDBPyConnection,
    model: str = "linear",
    half_life_days: float = 30,
    lookback_days: int = 365,
    booking_basis: str = "close_date",
    position_first: float | None = None,
    position_last: float | None = None,
    w_anchor: float | None = None,
) -> pl.DataFrame:
    """Partner credit of each won opportunity under one attribution model.

    Grain: one row per won opportunity x partner (x booking fiscal quarter when booked at touch dates)
    Money: none
    Scope: partner

    model: crm_sourced, registration, first_touch, last_touch, linear, time_decay,
    position_based, w_shaped, touch_value, markov or shapley. booking_basis: close_date
    (fiscal_quarter of the close) or touch_date (each touch's share in its own quarter).
    Unset position/W-shaped weights come from the settings the database was built with.
    """
    params = model_params(
        con,
        half_life_days=half_life_days,
        lookback_days=lookback_days,
        position_first=position_first,
        position_last=position_last,
        w_anchor=w_anchor,
    )
    if booking_basis == "close_date" and model in TOUCH_MODELS:
        won, weights, grouped = model_weights(con, [model], checked_params([model], **params))
        return credit_at_close(won, weights, start_month(con), grouped)  # one model: sorted by opportunity_id, partner_id
    if booking_basis == "close_date" and model in MODELS:
        return sourced_credit_at_close(con, [model], start_month(con))
    touches = touch_weights(con, [model], **params)
    return credit_from_touches(touches, booking_basis, start_month(con))  # sorted by opportunity_id, partner_id, quarter


def build_default_credit(con: duckdb.DuckDBPyConnection, settings: object) -> None:
    """Derived table `attribution_credit_default`: every model's credit with the settings' defaults.

    Run at build time (loaders/derived.py). Absent touchpoints or registrations simply give
    those models no rows.
    """
    defaults = settings.attribution  # type: ignore[attr-defined]
    fiscal_start_month = int(settings.fiscal_year_start_month)  # type: ignore[attr-defined]
    params = checked_params(
        MODELS,
        half_life_days=defaults.half_life_days,
        lookback_days=defaults.lookback_days,
        position_first=defaults.position_first,
        position_last=defaults.position_last,
        w_anchor=defaults.w_shaped_anchor,
    )
    # Markov and Shapley learn from the lost deals too: the closed paths are read once, and the rule
    # models' credit (the step bench.attribution times) is computed on their won part.
    paths = touch_paths(con, int(params["lookback_days"]))
    won = paths.won()
    rules = rule_credit(con, params, fiscal_start_month, RULE_MODELS, won=won)
    partner_weights, grouped = partner_model_weights(con, paths, PARTNER_MODELS)
    if "markov" in grouped:
        # The stored tables keep the model's name; pages label it from here.
        con.execute(
            "insert into load_meta values ('markov_model', $label), ('markov_note', $note)",
            {"label": MARKOV_GROUPED, "note": grouped["markov"]},
        )
    partner_credit = credit_at_close(won, partner_weights, fiscal_start_month, layout=rules.layout)
    store_default_touches(con, won, rules.weights | partner_weights, params)
    # Both parts come sorted by model, opportunity_id, partner_id; the models interleave in name order.
    credit = pl.concat([rules.credit, partner_credit]).sort("model", maintain_order=True)
    con.register("incoming_credit", credit)
    con.execute(
        "create or replace table attribution_credit_default as "
        "select model, opportunity_id, partner_id, weight, cast(credit as decimal(18, 2)) as credit, "
        "close_date, fiscal_quarter from incoming_credit"
    )
    con.unregister("incoming_credit")


# The touch weights of every touch model at the build's default parameters, stored by
# build_default_credit: a scenario with those parameters reads them instead of rebuilding the paths.
STORED_TOUCHES = "attribution_touch_default"
STORED_TOUCH_PARAMS = "attribution_touch_default_params"
# Beyond lookback_days (every touch model), the parameters each model's weights depend on.
MODEL_PARAMS = {
    "time_decay": ("half_life_days",),
    "position_based": ("position_first", "position_last"),
    "w_shaped": ("w_anchor",),
}
PARAM_NAMES = ("lookback_days", "half_life_days", "position_first", "position_last", "w_anchor")


def store_default_touches(
    con: duckdb.DuckDBPyConnection, won: TouchPaths, weights: dict[str, np.ndarray], params: dict[str, float | int]
) -> None:
    """Derived tables `attribution_touch_default` (each won touch, in path order, with its weight under
    every touch model computed at build time; NULL for a model left out) and
    `attribution_touch_default_params` (the parameters, one row per stored model).

    Called by `build_default_credit` with the weights it computed (seed 0, as scenarios use)."""
    base = touch_base(won).with_row_index("touch_row")
    columns = {m: pl.Series(m, weights[m], dtype=pl.Float64) if m in weights else pl.lit(None, pl.Float64) for m in TOUCH_MODELS}
    queries.store_table(con, STORED_TOUCHES, base.with_columns(**columns).cast({"amount": pl.Decimal(18, 2)}))
    stored = pl.DataFrame(
        [{"model": m, **{k: float(params[k]) for k in PARAM_NAMES}} for m in TOUCH_MODELS if m in weights],
        schema={"model": pl.String, **dict.fromkeys(PARAM_NAMES, pl.Float64)},
    )
    queries.store_table(con, STORED_TOUCH_PARAMS, stored)


def stored_touches(
    con: duckdb.DuckDBPyConnection,
    model: str,
    params: dict[str, float | int],
    start_date: date | None = None,
    end_date: date | None = None,
) -> pl.DataFrame | None:
    """`touch_weights(con, [model], **params)` of the deals closed in the period, as the build stored
    them (same rows, order and types); None when the build did not store that model with these parameters."""
    if model not in TOUCH_MODELS:
        return None
    con = con.cursor()
    if not queries.has_tables(con, STORED_TOUCHES, STORED_TOUCH_PARAMS):
        return None
    rows = con.sql("select * from attribution_touch_default_params where model = $model", params={"model": model}).fetchall()
    if not rows:
        return None
    stored = dict(zip(("model", *PARAM_NAMES), rows[0], strict=True))
    wanted = checked_params([model], **{k: params[k] for k in PARAM_NAMES})
    if any(float(wanted[k]) != stored[k] for k in ("lookback_days", *MODEL_PARAMS.get(model, ()))):
        return None
    touches = queries.execute(con, "attribution_stored_touches", model=model, start_date=start_date, end_date=end_date)
    if model == "markov":  # the build says whether its chain was over partner groups
        label = con.sql("select value from load_meta where key = 'markov_model'").fetchall()
        touches = touches.with_columns(model=pl.lit(label[0][0] if label else model))
    return touches.cast(TOUCH_SCHEMA)  # type: ignore[arg-type]
