"""payouts.csv: what the demo program's plan owes on each won deal (linear credit over the touches
of the lookback, times the partner's tier rate), paid after the payment terms, with the planted
ledger errors (unpaid credit, wrong amounts, payouts booked twice, payouts to a partner who never
touched the deal); and payouts tied to no deal (mdf, rebates, spiffs, bonuses)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from loaders.demo.behaviour import STAR, Rates, sample_partners
from loaders.demo.columns import ids, labels, optional, refs
from loaders.demo.days import DAY, END_DAY, dates, month_start, week_of
from loaders.demo.draws import contains, pick_rows, sorted_unique, stream, without
from loaders.demo.opportunities import Deals
from loaders.demo.partners import Partners
from loaders.demo.program import LOOKBACK_DAYS, PAYMENT_TERMS_DAYS, PLANTED_ERROR_SHARES, TIER_RATES
from loaders.demo.touchpoints import Touches
from loaders.demo.truth import Planted
from loaders.demo.vocabulary import DISTRIBUTOR, PAYOUT_STATUSES, PAYOUT_TYPES, REFERRAL, RESELLER, TIERS

ACCRUED, APPROVED, PAID, CLAWED_BACK = (PAYOUT_STATUSES.index(s) for s in ("accrued", "approved", "paid", "clawed_back"))
GOLD, PLATINUM = TIERS.index("gold"), TIERS.index("platinum")


@dataclass
class Payouts:
    partner: np.ndarray
    deal: np.ndarray  # -1 for payouts not tied to a deal (mdf, spiff, bonus, rebate)
    amount: np.ndarray
    type: np.ndarray
    period: np.ndarray  # day of the month's first day
    status: np.ndarray
    paid: np.ndarray  # day, -1 when not paid


def _payout_status(rng: np.random.Generator, ref_day: np.ndarray, lag: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Paid (lag days after ref_day) once the payment terms have passed; else approved / accrued."""
    age = END_DAY - ref_day
    status = np.select([age >= PAYMENT_TERMS_DAYS, age >= 30], [PAID, APPROVED], ACCRUED)
    paid = np.where(status == PAID, ref_day + rng.integers(lag[0], lag[1] + 1, len(ref_day)), -1)
    return status, paid


def make_payouts(d: Deals, t: Touches, p: Partners, rates: Rates, planted: Planted, seed: int) -> Payouts:
    rng = stream(seed, "payouts")
    tier_rate = np.array([TIER_RATES[name] for name in TIERS])[p.tier]
    commission_type = np.where(p.primary == REFERRAL, PAYOUT_TYPES.index("referral_fee"), PAYOUT_TYPES.index("commission"))

    # The plan: linear credit over the eligible touches of each won deal (on or before the
    # close date, at most LOOKBACK_DAYS before it), times the partner's tier rate.
    day = t.second // DAY
    eligible = d.won[t.deal] & (day <= d.close[t.deal]) & (d.close[t.deal] - day <= LOOKBACK_DAYS)
    n_eligible = np.bincount(t.deal[eligible], minlength=d.n)
    keys, count = np.unique(t.deal[eligible] * p.n + t.partner[eligible], return_counts=True)
    deal, partner = keys // p.n, keys % p.n
    credit = d.amount[deal] * count / n_eligible[deal]
    due = np.round(credit * tier_rate[partner], 2)
    n_due = len(deal)

    # Planted: credit left unpaid well past the payment terms.
    late = np.flatnonzero(d.close[deal] <= END_DAY - PAYMENT_TERMS_DAYS - 15)
    unpaid = pick_rows(rng, late, PLANTED_ERROR_SHARES["credit_without_payout"], n_due)
    planted.add(
        "credit_without_payout",
        len(unpaid),
        deal=deal[unpaid],
        partner=partner[unpaid],
        expected=credit[unpaid],
        actual=due[unpaid],
    )
    paid_rows = without(np.arange(n_due), unpaid)
    deal, partner, credit, due = deal[paid_rows], partner[paid_rows], credit[paid_rows], due[paid_rows]
    amount = due.copy()
    n_paid = len(deal)

    # Planted: amounts off by 5-30% (only where that is well above the 1-unit tolerance).
    wrong = pick_rows(rng, np.flatnonzero(due >= 100), PLANTED_ERROR_SHARES["payout_amount_mismatch"], n_due)
    sign = np.where(rng.random(len(wrong)) < 0.5, -1.0, 1.0)
    amount[wrong] = np.round(due[wrong] * (1 + sign * rng.uniform(0.05, 0.30, len(wrong))), 2)
    planted.add(
        "payout_amount_mismatch",
        len(wrong),
        payout=wrong,
        deal=deal[wrong],
        partner=partner[wrong],
        expected=due[wrong],
        actual=amount[wrong],
    )

    # Planted: the same payout booked twice (copies come after all other payouts).
    twice = pick_rows(rng, without(np.arange(n_paid), wrong), PLANTED_ERROR_SHARES["duplicate_payout"], n_due)

    # Planted: a payout to a partner who never touched the deal.
    won = np.flatnonzero(d.won)
    n_uncredited = max(1, round(PLANTED_ERROR_SHARES["payout_without_credit"] * n_due))
    w_deal = np.sort(rng.choice(won, size=min(len(won), n_uncredited), replace=False))
    touch_keys = sorted_unique(t.deal * p.n + t.partner)
    w_partner = np.full(len(w_deal), -1, dtype=np.int64)
    todo = np.arange(len(w_deal))
    for _ in range(8):  # redraw rounds over the clashing rows only
        drawn = sample_partners(
            rng, week_of(d.close[w_deal[todo]]), d.region[w_deal[todo]], np.ones(len(todo), bool), rates.deal, p.region
        )
        ok = (drawn >= 0) & ~contains(touch_keys, w_deal[todo] * p.n + drawn)
        w_partner[todo[ok]] = drawn[ok]
        todo = todo[~ok]
    w_deal, w_partner = w_deal[w_partner >= 0], w_partner[w_partner >= 0]
    w_amount = np.round(d.amount[w_deal] * tier_rate[w_partner] * rng.uniform(0.2, 0.6, len(w_deal)), 2)
    planted.add(
        "duplicate_payout",
        len(twice),
        payout=n_paid + np.arange(len(twice)),
        deal=deal[twice],
        partner=partner[twice],
        other_payout=twice,
        actual=amount[twice],
    )
    planted.add(
        "payout_without_credit",
        len(w_deal),
        payout=n_paid + len(twice) + np.arange(len(w_deal)),
        deal=w_deal,
        partner=w_partner,
        actual=w_amount,
    )
    c_deal = np.concatenate([deal, deal[twice], w_deal])
    c_partner = np.concatenate([partner, partner[twice], w_partner])
    c_amount = np.concatenate([amount, amount[twice], w_amount])
    c_status, c_paid = _payout_status(rng, d.close[c_deal], (30, 60))

    # Payouts without an opportunity, on a partner x month grid while the partner is active.
    months = sorted_unique(month_start(np.arange(END_DAY + 1)))
    months = months[months >= 0]
    month_no = (dates(months).astype("datetime64[M]").astype(np.int64) % 12) + 1
    mp, mm = np.meshgrid(np.arange(p.n), np.arange(len(months)), indexing="ij")
    mp, mm = mp.ravel(), mm.ravel()
    active = (p.join[mp] <= months[mm]) & (months[mm] <= p.work_hi[mp])
    quarter_first = month_no[mm] % 3 == 1  # Jan, Apr, Jul, Oct
    u = rng.random((4, len(mp)))
    rules = [  # (type, who and when, amount range in USD, rounding)
        ("mdf", active & quarter_first & (p.tier[mp] >= GOLD) & (u[0] < 0.35), (2_000, 25_000), -2),
        (
            "rebate",
            active & quarter_first & ((p.primary[mp] == RESELLER) | (p.primary[mp] == DISTRIBUTOR)) & (u[1] < 0.4),
            (500, 15_000),
            -1,
        ),
        ("spiff", active & (u[2] < 0.025), (250, 2_500), -1),
        (
            "bonus",
            active & (month_no[mm] == 1) & ((p.archetype[mp] == STAR) | (p.tier[mp] == PLATINUM)) & (u[3] < 0.6),
            (5_000, 40_000),
            -2,
        ),
    ]
    o_partner, o_period, o_type, o_amount = [], [], [], []
    for name, mask, (low, high), digits in rules:  # four payout types, not rows
        rows = np.flatnonzero(mask)
        o_partner.append(mp[rows])
        o_period.append(months[mm[rows]])
        o_type.append(np.full(len(rows), PAYOUT_TYPES.index(name)))
        o_amount.append(np.round(rng.uniform(low, high, len(rows)), digits))
    o_partner, o_period = np.concatenate(o_partner), np.concatenate(o_period)
    o_type, o_amount = np.concatenate(o_type), np.concatenate(o_amount)
    o_status, o_paid = _payout_status(rng, o_period, (20, 45))
    # A few paid rebates are clawed back (returned goods).
    clawed = (o_type == PAYOUT_TYPES.index("rebate")) & (o_status == PAID) & (rng.random(len(o_type)) < 0.05)
    o_status = np.where(clawed, CLAWED_BACK, o_status)

    return Payouts(
        partner=np.concatenate([c_partner, o_partner]),
        deal=np.concatenate([c_deal, np.full(len(o_partner), -1)]),
        amount=np.concatenate([c_amount, o_amount]),
        type=np.concatenate([commission_type[c_partner], o_type]),
        period=np.concatenate([month_start(d.close[c_deal]), o_period]),
        status=np.concatenate([c_status, o_status]),
        paid=np.concatenate([c_paid, o_paid]),
    )


def payouts_frame(pay: Payouts, partner_ids: pl.Series, deal_ids: pl.Series) -> tuple[pl.DataFrame, pl.Series]:
    """The file, by period and partner, and each payout's id by its index in pay."""
    index = np.arange(len(pay.partner))
    order = np.lexsort((index, pay.deal, pay.type, pay.partner, pay.period))
    position = np.empty(len(order), dtype=np.int64)
    position[order] = index
    payout_id_of = ids("PO", len(order), 7).gather(position)
    frame = pl.DataFrame(
        {
            "payout_id": payout_id_of.gather(order),
            "partner_id": partner_ids.gather(pay.partner[order]),
            "opportunity_id": refs(deal_ids, pay.deal[order]),
            "amount": pay.amount[order],
            "currency": pl.repeat("USD", len(order), eager=True),
            "payout_type": labels(PAYOUT_TYPES, pay.type[order]),
            "period": dates(pay.period[order]),
            "status": labels(PAYOUT_STATUSES, pay.status[order]),
            "paid_at": optional(dates(np.maximum(pay.paid[order], 0)), pay.paid[order] >= 0),
        }
    )
    return frame, payout_id_of
