"""touchpoints.csv: the partners on each partner-involved deal (mostly of its region, the first
drawn sourcing it) and their touches, typed by the kind of business each partner does. A few
touches fall after close or beyond the plan's lookback: attribution must ignore both."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from loaders.demo.behaviour import STAR, Rates, sample_partners
from loaders.demo.columns import ids, labels
from loaders.demo.days import DAY, END_DAY, timestamps, week_of
from loaders.demo.draws import choose, choose_by_class, group_starts, rank_in_group, stream
from loaders.demo.opportunities import Deals
from loaders.demo.partners import Partners
from loaders.demo.program import LOOKBACK_DAYS
from loaders.demo.vocabulary import PARTNER_TYPES, TOUCH_TYPES, shares

# P(touch type | partner's primary type); deal_registration is set where a registration is.
TOUCH_BY_PRIMARY = {
    "referral": {"referral": 0.55, "co_selling": 0.15, "marketing": 0.30},
    "reseller": {"referral": 0.15, "co_selling": 0.50, "technical_validation": 0.15, "marketing": 0.20},
    "integration": {"co_selling": 0.10, "technical_validation": 0.35, "integration": 0.55},
    "services": {"co_selling": 0.25, "technical_validation": 0.30, "implementation": 0.45},
    "affiliate": {"referral": 0.60, "marketing": 0.40},
    "distributor": {"referral": 0.20, "co_selling": 0.50, "marketing": 0.30},
}


@dataclass
class Touches:
    deal: np.ndarray
    partner: np.ndarray
    second: np.ndarray  # occurred_at, seconds since DEMO_START
    type: np.ndarray
    pair: np.ndarray  # index into the (deal, partner) pairs below
    pair_deal: np.ndarray
    pair_partner: np.ndarray
    pair_lead: np.ndarray  # the sourcing partner's pair
    pair_first: np.ndarray  # index of the pair's earliest touch


def make_touches(d: Deals, p: Partners, rates: Rates, seed: int) -> Touches:
    rng = stream(seed, "touches")
    # 1-6 partners per involved deal, drawn among the partners active in the creation week
    # (mostly of the deal's region); the first drawn is the sourcing partner.
    k = np.where(d.involved, choose(rng, [0.34, 0.28, 0.18, 0.11, 0.06, 0.03], d.n) + 1, 0)
    row_deal = np.repeat(np.arange(d.n), k)
    lead = (rank_in_group(row_deal) == 0) & d.sourced[row_deal]
    partner = sample_partners(
        rng,
        week_of(d.created[row_deal]),
        d.region[row_deal],
        rng.random(len(row_deal)) < 0.85,
        rates.deal,
        p.region,
    )
    drawn = np.flatnonzero(partner >= 0)
    _, first = np.unique(row_deal[drawn] * p.n + partner[drawn], return_index=True)
    keep = np.sort(drawn[first])  # one pair per (deal, partner), the first draw kept
    pair_deal, pair_partner, pair_lead = row_deal[keep], partner[keep], lead[keep]
    d.sourced = np.zeros(d.n, dtype=bool)
    d.sourced[pair_deal[pair_lead]] = True

    n_touch = 1 + rng.poisson(np.where(p.archetype[pair_partner] == STAR, 2.4, 1.7))
    pair = np.repeat(np.arange(len(pair_deal)), n_touch)
    deal, who = pair_deal[pair], pair_partner[pair]
    n = len(pair)
    lo = np.maximum(d.created[deal] - 60, p.join[who])
    hi = np.where(d.closed[deal], d.close[deal], END_DAY)
    day = np.where(lo <= hi, lo + (rng.random(n) * (hi - lo + 1)).astype(np.int64), -1)
    # The sourcing partner's first touch comes first: up to a month before creation.
    forced = pair_lead[pair] & (rank_in_group(pair) == 0)
    early = np.maximum(p.join[who], d.created[deal] - rng.integers(0, 31, n))
    early = np.where(p.alive(who, early), early, d.created[deal])
    day = np.where(forced, early, day)
    # A few touches after close, and a few more than the 365-day lookback before it:
    # attribution must ignore both.
    u = rng.random(n)
    after = ~forced & d.closed[deal] & (u < 0.02)
    day = np.where(after, d.close[deal] + rng.integers(1, 46, n), day)
    ancient = ~forced & (u >= 0.02) & (u < 0.03)
    day = np.where(ancient, d.close[deal] - rng.integers(LOOKBACK_DAYS + 6, 501, n), day)
    valid = (day >= 0) & (day <= END_DAY) & p.alive(who, day)
    # After its decline a partner keeps only its kept share of its touches.
    fading = p.declined(who, day) & ~forced
    valid &= ~(fading & (rng.random(n) >= p.kept[who]))
    second = day * DAY + 8 * 3600 + rng.integers(0, 120, n) * 300  # 08:00-17:55, 5-min steps
    table = np.array([shares(TOUCH_TYPES, TOUCH_BY_PRIMARY[primary]) for primary in PARTNER_TYPES], dtype=float)
    touch_type = choose_by_class(rng, table, p.primary[who])

    deal, who, second, touch_type, pair = deal[valid], who[valid], second[valid], touch_type[valid], pair[valid]
    # Re-index the pairs that kept at least one touch.
    kept_pairs, pair = np.unique(pair, return_inverse=True)
    order = np.lexsort((second, pair))
    pair_first = np.empty(len(kept_pairs), dtype=np.int64)
    pair_first[pair[order[group_starts(pair[order])]]] = order[group_starts(pair[order])]
    return Touches(
        deal=deal,
        partner=who,
        second=second,
        type=touch_type,
        pair=pair,
        pair_deal=pair_deal[kept_pairs],
        pair_partner=pair_partner[kept_pairs],
        pair_lead=pair_lead[kept_pairs],
        pair_first=pair_first,
    )


def touchpoints_frame(t: Touches, deal_ids: pl.Series, partner_ids: pl.Series) -> pl.DataFrame:
    order = np.lexsort((t.partner, t.deal, t.second))
    return pl.DataFrame(
        {
            "touchpoint_id": ids("T", len(order), 8),
            "opportunity_id": deal_ids.gather(t.deal[order]),
            "partner_id": partner_ids.gather(t.partner[order]),
            "touch_type": labels(TOUCH_TYPES, t.type[order]),
            "occurred_at": timestamps(t.second[order]),
        }
    )
