"""The demo's ground truth under DIR/truth/, which tests and bench/signals_accuracy.py compare the
analytics against (the loader ignores it): each partner's story and turning days
(archetypes.csv), its expected effort per week (effort_rate.csv), and every disagreement
planted on purpose (planted_errors.csv, gathered while the tables are drawn)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from loaders.demo.behaviour import ARCHETYPES, Rates
from loaders.demo.columns import labels, optional, refs
from loaders.demo.days import END_DAY, WEEK_START, dates
from loaders.demo.partners import Partners
from loaders.demo.program import ERROR_KINDS


@dataclass
class Planted:
    """Rows of truth/planted_errors.csv, with internal indices mapped to ids at the end."""

    kind: list[np.ndarray]
    cols: dict[str, list[np.ndarray]]

    FIELDS = (
        "payout",
        "deal",
        "partner",
        "registration",
        "other_partner",
        "other_registration",
        "other_payout",
        "expected",
        "actual",
    )

    @classmethod
    def empty(cls) -> Planted:
        return cls(kind=[], cols={f: [] for f in cls.FIELDS})

    def add(self, kind: str, n: int, **values: np.ndarray) -> None:
        self.kind.append(np.full(n, ERROR_KINDS.index(kind)))
        for f in self.FIELDS:
            default = np.full(n, np.nan) if f in ("expected", "actual") else np.full(n, -1)
            self.cols[f].append(np.asarray(values.get(f, default)))

    def column(self, field: str) -> np.ndarray:
        return np.concatenate(self.cols[field]) if self.cols[field] else np.zeros(0)


def _money_text(col: str) -> pl.Expr:
    cents = (pl.col(col) * 100).round(0).cast(pl.Int64)
    return pl.concat_str((cents // 100).cast(pl.String), pl.lit("."), (cents % 100).cast(pl.String).str.zfill(2))


def story_frame(p: Partners, partner_ids: pl.Series) -> pl.DataFrame:
    """truth/archetypes.csv: each partner's story and its turning days (empty where the story has none)."""

    def day_or_null(day: np.ndarray, present: np.ndarray) -> pl.Series:
        return optional(dates(np.clip(day, 0, END_DAY)), present)

    declining, dips = p.decline_day <= END_DAY, p.dip_lo <= END_DAY
    return pl.DataFrame(
        {
            "partner_id": partner_ids,
            "archetype": labels(ARCHETYPES, p.archetype),
            "regular_rhythm": p.rhythm_days > 0,  # acts every rhythm_days (+/- a week), not at random times
            "rhythm_days": optional(p.rhythm_days, p.rhythm_days > 0),
            "stopped_on": day_or_null(p.work_hi + 1, p.work_hi < END_DAY),  # first day without effort
            "paused_from": day_or_null(p.gap_lo, p.gap_lo <= END_DAY),
            "resumed_on": day_or_null(p.gap_hi, p.gap_lo <= END_DAY),
            "decline_from": day_or_null(p.decline_day, declining),
            "kept_share": optional(np.round(p.kept, 3), declining),  # of its own effort rate, after the decline
            "dip_from": day_or_null(p.dip_lo, dips),
            "dip_to": day_or_null(p.dip_hi, dips),
            "dip_kept_share": optional(np.round(p.dip_kept, 3), dips),
        }
    )


def effort_frame(p: Partners, rates: Rates, partner_ids: pl.Series) -> pl.DataFrame:
    """truth/effort_rate.csv: each partner's expected effort per week as steps [from_date, to_date).

    Effort = the activities its weekly stream is drawn from (everything but logins, support tickets,
    certification lapses, deal registrations, which follow its deals, and a newcomer's first training);
    the stream draws each week around this rate (gamma, sd 0.5) and then Poisson. Regular partners act
    every rhythm_days: 7 / rhythm_days per week from joining. Steps where the rate is 0 are listed too.
    """
    work = rates.work
    change = np.ones(work.shape, dtype=bool)
    change[1:] = ~np.isclose(work[1:], work[:-1], rtol=1e-9, atol=0.0)
    who, week = np.nonzero(change.T)  # by partner, then week
    start = np.maximum(WEEK_START[week], 0)
    following = np.append(start[1:], END_DAY + 1)
    last_of_partner = np.append(who[1:] != who[:-1], True)
    end = np.where(last_of_partner, END_DAY + 1, following)
    rate = work[week, who]
    regular = p.rhythm_days[who] > 0
    who, start, end, rate = who[~regular], start[~regular], end[~regular], rate[~regular]
    steady = np.flatnonzero(p.rhythm_days > 0)
    before = steady[p.join[steady] > 0]
    who = np.concatenate([who, before, steady])
    start = np.concatenate([start, np.zeros(len(before), np.int64), p.join[steady]])
    end = np.concatenate([end, p.join[before], np.full(len(steady), END_DAY + 1)])
    rate = np.concatenate([rate, np.zeros(len(before)), 7.0 / np.maximum(p.rhythm_days[steady], 1)])
    order = np.lexsort((start, who))
    return pl.DataFrame(
        {
            "partner_id": partner_ids.gather(who[order]),
            "from_date": dates(start[order]),
            "to_date": dates(end[order]),
            "effort_per_week": np.round(rate[order], 4),
        }
    ).filter(pl.col("from_date") < pl.col("to_date"))


def planted_frame(
    planted: Planted, payout_ids: pl.Series, deal_ids: pl.Series, partner_ids: pl.Series, reg_ids: pl.Series
) -> pl.DataFrame:
    col = planted.column
    kind = np.concatenate(planted.kind)
    frame = pl.DataFrame(
        {
            "kind": labels(list(ERROR_KINDS), kind),
            "payout_id": refs(payout_ids, col("payout")),
            "opportunity_id": refs(deal_ids, col("deal")),
            "partner_id": refs(partner_ids, col("partner")),
            "registration_id": refs(reg_ids, col("registration")),
            "other_partner": refs(partner_ids, col("other_partner")),
            "other_registration": refs(reg_ids, col("other_registration")),
            "other_payout": refs(payout_ids, col("other_payout")),
            "expected": col("expected"),
            "actual": col("actual"),
        }
    )
    k = pl.col("kind")
    detail = (
        pl.when(k == "duplicate_payout")
        .then(pl.concat_str(pl.lit("duplicate of "), pl.col("other_payout")))
        .when(k == "payout_without_credit")
        .then(pl.concat_str(pl.lit("paid "), _money_text("actual"), pl.lit(" with no touchpoint on the deal")))
        .when(k == "credit_without_payout")
        .then(pl.concat_str(pl.lit("credit "), _money_text("expected"), pl.lit(", commission due "), _money_text("actual")))
        .when(k == "payout_amount_mismatch")
        .then(pl.concat_str(pl.lit("expected "), _money_text("expected"), pl.lit(", paid "), _money_text("actual")))
        .when((k == "registration_conflict") & pl.col("opportunity_id").is_null())
        .then(pl.concat_str(pl.lit("same account as "), pl.col("other_registration"), pl.lit(" by "), pl.col("other_partner")))
        .when(k == "registration_conflict")
        .then(
            pl.concat_str(pl.lit("same opportunity as "), pl.col("other_registration"), pl.lit(" by "), pl.col("other_partner"))
        )
        .when(k == "crm_vs_registration")
        .then(pl.concat_str(pl.lit("CRM sourced partner is "), pl.col("other_partner")))
        .otherwise(pl.lit("approved registration on a direct deal with no sourced partner"))
    )
    return (
        frame.with_columns(detail=detail)
        .select("kind", "payout_id", "opportunity_id", "partner_id", "registration_id", "detail")
        .sort("kind", "opportunity_id", "partner_id", "payout_id", "registration_id", nulls_last=False)
    )
