"""opportunities.csv: customer accounts, deals created over the three years (quarter-end
seasonality, growth, partner involvement as the program's capacity allows), won or lost, and
the CRM fields of their current state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from loaders.demo.behaviour import STAR, Rates
from loaders.demo.columns import ids, labels, refs
from loaders.demo.days import END_DAY, dates, quarter_end, week_of
from loaders.demo.draws import allocate, choose, stream
from loaders.demo.names import ACCOUNT_INDUSTRIES, ACCOUNT_QUALIFIERS, NAME_ENDINGS, NAME_STEMS, unique_names
from loaders.demo.vocabulary import (
    FORECAST_CATEGORIES,
    PRODUCTS,
    REGION_SHARES,
    REGIONS,
    SEGMENTS,
    SOURCES,
    STAGES,
    WON_STAGE,
)

if TYPE_CHECKING:
    from loaders.demo.history import History
    from loaders.demo.partners import Partners
    from loaders.demo.touchpoints import Touches

SEGMENT_SHARES = [0.50, 0.33, 0.17]
SEGMENT_MEDIAN_AMOUNT = [12_000.0, 40_000.0, 110_000.0]  # USD
SEGMENT_WIN_RATE = [0.27, 0.24, 0.20]  # direct deals; partner involvement lifts it
SEGMENT_CYCLE_FACTOR = [0.7, 1.0, 1.4]
PRODUCT_SHARES = [0.40, 0.20, 0.15, 0.15, 0.10]


@dataclass
class Accounts:
    """Customer accounts: ~2 deals each."""

    region: np.ndarray
    segment: np.ndarray
    names: pl.Series
    ids: pl.Series


def make_accounts(n: int, seed: int) -> Accounts:
    rng = stream(seed, "accounts")
    region = choose(rng, REGION_SHARES, n)
    segment = choose(rng, SEGMENT_SHARES, n)
    names = unique_names(rng, n, [NAME_STEMS, NAME_ENDINGS, ACCOUNT_INDUSTRIES], ACCOUNT_QUALIFIERS)
    return Accounts(region=region, segment=segment, names=names, ids=ids("ACC", n, 6))


@dataclass
class Deals:
    """Opportunities: base attributes first, outcome and CRM fields filled in later steps."""

    n: int
    created: np.ndarray
    close: np.ndarray
    closed: np.ndarray
    stale: np.ndarray  # open, but the expected close date has passed
    account: np.ndarray
    region: np.ndarray
    segment: np.ndarray
    amount: np.ndarray
    involved: np.ndarray  # drawn partner-involved (touches may still thin out)
    sourced: np.ndarray
    won: np.ndarray | None = None
    sourced_partner: np.ndarray | None = None
    source: np.ndarray | None = None


def make_deals(n: int, accounts: Accounts, rates: Rates, seed: int) -> Deals:
    rng = stream(seed, "deals")
    day = np.arange(END_DAY + 1)
    # The business grows ~70% over the three years; little is created at weekends.
    weight = (1 + 0.7 * day / END_DAY) * np.where(day % 7 < 5, 1.0, 0.15)
    created = np.sort(rng.choice(END_DAY + 1, size=n, p=weight / weight.sum()))
    account = rng.integers(0, len(accounts.region), n)
    segment, region = accounts.segment[account], accounts.region[account]

    cycle = rng.lognormal(np.log(75), 0.5, n) * np.array(SEGMENT_CYCLE_FACTOR)[segment]
    close = created + np.clip(cycle, 30, 200).astype(np.int64)
    # Quarter-end seasonality: many deals are pulled into the last days of their quarter.
    snapped = quarter_end(close) - rng.integers(0, 10, n)
    snap = (rng.random(n) < 0.45) & (snapped - created >= 30) & (snapped - created <= 200)
    close = np.where(snap, snapped, close)
    past = close <= END_DAY
    stale = past & (rng.random(n) < np.where(close > END_DAY - 150, 0.08, 0.015))

    # Partner involvement follows the program's capacity: few deals while few partners
    # have joined, ~45% overall.
    capacity = np.sqrt(rates.deal.sum(axis=1) / max(rates.deal.sum(axis=1).max(), 1e-9))
    capacity = capacity[week_of(created)]
    p_involved = np.minimum(0.85, 0.45 / max(capacity.mean(), 1e-9) * capacity)
    involved = rng.random(n) < p_involved
    sourced = involved & (rng.random(n) < 0.42)

    amount = rng.lognormal(np.log(np.array(SEGMENT_MEDIAN_AMOUNT)[segment]), 0.55)
    amount = np.round(np.clip(amount * np.where(involved, 1.3, 1.0), 1_500, 2_500_000), 2)
    return Deals(
        n=n,
        created=created,
        close=close,
        closed=past & ~stale,
        stale=stale,
        account=account,
        region=region,
        segment=segment,
        amount=amount,
        involved=involved,
        sourced=sourced,
    )


def decide_outcomes(d: Deals, t: Touches, p: Partners, seed: int) -> None:
    """Won or lost: partner involvement and stars lift the win rate; a partner's decline drags the
    deals it works on that close after it began (by the partner's own win factor)."""
    rng = stream(seed, "outcomes")
    touched = np.bincount(t.deal, minlength=d.n) > 0
    star = np.bincount(t.deal, weights=p.archetype[t.partner] == STAR, minlength=d.n) > 0
    drag = np.ones(d.n)
    after = p.declined(t.partner, d.close[t.deal])
    np.minimum.at(drag, t.deal[after], p.win_factor[t.partner[after]])
    p_win = np.array(SEGMENT_WIN_RATE)[d.segment] * np.where(touched | d.sourced, 1.45, 1.0) * np.where(star, 1.15, 1.0) * drag
    d.won = d.closed & (rng.random(d.n) < p_win)


def opportunities_frame(
    d: Deals, h: History, accounts: Accounts, reps: pl.Series, deal_ids: pl.Series, partner_ids: pl.Series, seed: int
) -> pl.DataFrame:
    """Each deal as it stands now (its last history row); owners are sales reps of its region."""
    n_deals = d.n
    rng = stream(seed, "crm")
    rep_count = allocate(len(reps) - len(REGIONS), REGION_SHARES) + 1  # every region has a rep
    rep_offset = np.cumsum(rep_count) - rep_count
    owner = rep_offset[d.region] + (rng.random(n_deals) * rep_count[d.region]).astype(np.int64)
    stage = h.stage[h.last]
    return pl.DataFrame(
        {
            "opportunity_id": deal_ids,
            "account_id": accounts.ids.gather(d.account),
            "account_name": accounts.names.gather(d.account),
            "amount": d.amount,
            "currency": pl.repeat("USD", n_deals, eager=True),
            "stage": labels(STAGES, stage),
            "created_at": dates(d.created),
            "close_date": dates(d.close),
            "is_closed": stage >= WON_STAGE,
            "is_won": stage == WON_STAGE,
            "owner": reps.gather(owner),
            "forecast_category": labels(FORECAST_CATEGORIES, h.forecast[h.last]),
            "source": labels(SOURCES, d.source),
            "sourced_partner_id": refs(partner_ids, d.sourced_partner),
            "region": labels(REGIONS, d.region),
            "segment": labels(SEGMENTS, d.segment),
            "product": labels(PRODUCTS, choose(rng, PRODUCT_SHARES, n_deals)),
        }
    )
