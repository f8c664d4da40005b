"""partner_activities.csv: each partner's effort week by week (Poisson around its weekly rate,
irregular from week to week), portal logins, support tickets from their own rate, a newcomer's
first training, the regular partners' beats, certifications earned and lapsing at their
anniversary unless renewed, and a deal_registered row for every registration."""

from __future__ import annotations

import numpy as np
import polars as pl

from loaders.demo.behaviour import NEW, Rates
from loaders.demo.columns import ids, labels
from loaders.demo.days import DAY, END_DAY, N_WEEKS, WEEK_MID, WEEK_START, timestamps
from loaders.demo.draws import choose_by_class, rank_in_group, stream
from loaders.demo.names import words
from loaders.demo.partners import Partners
from loaders.demo.program import CERTIFICATION_VALID_DAYS
from loaders.demo.registrations import Registrations
from loaders.demo.vocabulary import ACTIVITY_TYPES, INTEGRATION, shares

LOGIN, TRAINING, CERT_EARNED, CERT_EXPIRED, DEAL_REGISTERED, SUPPORT_TICKET, INTEGRATION_RELEASE = (
    ACTIVITY_TYPES.index(t)
    for t in (
        "portal_login",
        "training_completed",
        "certification_earned",
        "certification_expired",
        "deal_registered",
        "support_ticket",
        "integration_release",
    )
)
CONTENT = ACTIVITY_TYPES.index("content_download")
# Effort mixes (shares over ACTIVITY_TYPES). Deal registrations come from the registrations
# table, tickets from their own rate and expirations from earned certifications, so they are 0 here.
_MIX_NORMAL = shares(
    ACTIVITY_TYPES,
    {
        "training_completed": 0.15,
        "certification_earned": 0.05,
        "co_marketing": 0.08,
        "co_selling_call": 0.15,
        "business_review": 0.05,
        "content_download": 0.52,
    },
)
_MIX_ONBOARDING = shares(
    ACTIVITY_TYPES,
    {
        "training_completed": 0.42,
        "certification_earned": 0.16,
        "co_selling_call": 0.05,
        "business_review": 0.05,
        "content_download": 0.32,
    },
)
# A declining partner down to a couple of things.
_MIX_NARROW = shares(ACTIVITY_TYPES, {"co_selling_call": 0.2, "content_download": 0.8})
# Details from a small vocabulary per type.
ACTIVITY_DETAILS = {
    "training_completed": "Partner Sales Fundamentals, Technical Onboarding, Solution Selling, Advanced Integration Workshop, "
    "Product Update Briefing, Pricing & Packaging",
    "certification_earned": "Certified Sales Professional, Certified Implementation Engineer, Certified Integration Developer",
    "co_marketing": "Joint webinar, Co-branded campaign, Trade show booth, Customer case study",
    "co_selling_call": "Account planning call, Joint customer call, Demo support, Pipeline review",
    "business_review": "Quarterly business review, Annual planning session",
    "support_ticket": "Portal access issue, Commission question, Technical escalation, Lead routing question, "
    "Deal registration dispute",
    "content_download": "Battlecard, Pricing sheet, Product deck, Case study, Solution brief, Demo script",
    "integration_release": "Connector release, Connector patch release, New integration listing",
}
ACTIVITY_DETAILS["certification_expired"] = ACTIVITY_DETAILS["certification_earned"]


def _activity_mixes() -> np.ndarray:
    """Class table for effort activity types: class = 2 x phase + builds_integrations."""
    rows = []
    for phase, mix in enumerate([_MIX_NORMAL, _MIX_ONBOARDING, _MIX_NARROW]):
        for builds in (0, 1):
            weights = np.array(mix, dtype=float)
            if builds and phase != 2:  # integration partners ship connector releases
                weights[INTEGRATION_RELEASE] = 0.06 * weights.sum()
            rows.append(weights)
    return np.array(rows)


def make_activities(p: Partners, rates: Rates, reg: Registrations, reg_ids: pl.Series, seed: int) -> pl.DataFrame:
    rng = stream(seed, "activities")

    def expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        week, who = np.nonzero(counts)
        n = counts[week, who]
        return np.repeat(week, n), np.repeat(who, n)

    # Poisson streams on the weekly grid; an event lands on a random day of its week. Effort is
    # irregular: each week's rate is the expected one times a gamma draw (mean 1, sd 0.5).
    irregular = rng.gamma(4.0, 0.25, rates.work.shape)
    w_week, w_who = expand(rng.poisson(rates.work * irregular))
    l_week, l_who = expand(rng.poisson(rates.login))
    k_week, k_who = expand(rng.poisson(rates.ticket))
    w_day = WEEK_START[w_week] + rng.integers(0, 7, len(w_week))
    l_day = WEEK_START[l_week] + rng.integers(0, 7, len(l_week))
    k_day = WEEK_START[k_week] + rng.integers(0, 7, len(k_week))
    phase = np.select(
        [
            (p.archetype[w_who] == NEW) & (w_day - p.join[w_who] < 60),
            p.narrows[w_who] & p.declined(w_who, WEEK_MID[w_week]),
        ],
        [1, 2],
        0,
    )
    mixes = _activity_mixes()
    w_type = choose_by_class(rng, mixes, 2 * phase + (p.primary[w_who] == INTEGRATION))

    # Rows outside the weekly streams: each newcomer's first training, early in its first whole week,
    # and the regular partners' beats, every rhythm_days (+/- a week) back from a last one inside their
    # last rhythm.
    new = np.flatnonzero(p.archetype == NEW)
    first_week = WEEK_START[np.minimum(np.searchsorted(WEEK_START, p.join[new]), N_WEEKS - 1)]
    regular = np.flatnonzero(p.rhythm_days > 0)
    step = p.rhythm_days[regular]
    last = END_DAY - (rng.random(len(regular)) * step).astype(np.int64)
    beats = np.maximum((last - p.join[regular]) // step + 1, 0)
    r_who = np.repeat(regular, beats)
    r_day = np.repeat(last, beats) - p.rhythm_days[r_who] * rank_in_group(r_who) + rng.integers(-7, 8, len(r_who))
    r_ok = (r_day >= p.join[r_who]) & (r_day <= END_DAY)
    r_who, r_day = r_who[r_ok], r_day[r_ok]
    extra = [
        (new, np.minimum(first_week + rng.integers(0, 3, len(new)), END_DAY), np.full(len(new), TRAINING)),
        (r_who, r_day, choose_by_class(rng, mixes, np.zeros(len(r_who), dtype=np.int64))),
        (k_who, k_day, np.full(len(k_who), SUPPORT_TICKET)),
    ]
    who = np.concatenate([w_who, *[x[0] for x in extra]])
    day = np.concatenate([w_day, *[x[1] for x in extra]])
    kind = np.concatenate([w_type, *[x[2] for x in extra]])
    detail_code = rng.integers(0, 1 << 30, len(who))
    # A certification lapses at its anniversary unless renewed: 30% of them, and up to all of a
    # declining partner's that come due after its decline. The lapse is recorded whether or not the
    # partner still works, as long as it is on the books (not terminated by then).
    due = day + CERTIFICATION_VALID_DAYS
    p_lapse = np.where(p.declined(who, due), p.lapse_after[who], 0.3)
    lapses = (kind == CERT_EARNED) & (rng.random(len(kind)) < p_lapse) & (due <= END_DAY)
    lapses &= (p.terminated[who] < 0) | (due <= p.terminated[who])
    who = np.concatenate([who, who[lapses]])
    kind = np.concatenate([kind, np.full(lapses.sum(), CERT_EXPIRED)])
    detail_code = np.concatenate([detail_code, detail_code[lapses]])
    day = np.concatenate([day, due[lapses]])
    second = day * DAY + 8 * 3600 + rng.integers(0, 11 * 60, len(day)) * 60  # 08:00-18:59

    who = np.concatenate([who, l_who])
    kind = np.concatenate([kind, np.full(len(l_who), LOGIN)])
    detail_code = np.concatenate([detail_code, np.zeros(len(l_who), dtype=np.int64)])
    second = np.concatenate([second, l_day * DAY + 6 * 3600 + rng.integers(0, 17 * 60, len(l_day)) * 60])

    # Details from a small vocabulary per type (index 0 = no detail).
    flat: list[str | None] = [None]
    offset, size = np.zeros(len(ACTIVITY_TYPES), np.int64), np.ones(len(ACTIVITY_TYPES), np.int64)
    for code, name in enumerate(ACTIVITY_TYPES):  # eleven types
        vocab = words(ACTIVITY_DETAILS.get(name, ""))
        if vocab:
            offset[code], size[code] = len(flat), len(vocab)
            flat.extend(vocab)
    detail_index = np.where(offset[kind] > 0, offset[kind] + detail_code % size[kind], 0)
    u = rng.random(len(kind))
    quantity = np.where(
        (kind == CONTENT) & (u < 0.2), rng.integers(2, 6, len(kind)), np.where((kind == TRAINING) & (u < 0.05), 2, 1)
    )
    generated = pl.DataFrame(
        {
            "p": who,
            "t": kind,
            "s": second,
            "quantity": quantity,
            "detail": pl.Series(flat, dtype=pl.String).gather(detail_index),
        }
    )
    registered = pl.DataFrame(
        {
            "p": reg.partner,
            "t": np.full(len(reg.partner), DEAL_REGISTERED),
            "s": reg.second,
            "quantity": np.ones(len(reg.partner), dtype=np.int64),
            "detail": reg_ids,
        }
    )
    # Stable sort: rows tied on time, partner and type keep their (seeded) generation order.
    events = pl.concat([generated, registered]).sort(["s", "p", "t"], maintain_order=True)
    return pl.DataFrame(
        {
            "activity_id": ids("A", events.height, 8),
            "partner_id": p.frame["partner_id"].gather(events["p"]),
            "activity_type": labels(ACTIVITY_TYPES, events["t"].to_numpy()),
            "occurred_at": timestamps(events["s"].to_numpy()),
            "quantity": events["quantity"],
            "detail": events["detail"],
        }
    )
