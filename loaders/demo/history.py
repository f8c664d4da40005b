"""opportunity_history.csv: one row per change of each deal (stage advances, one close-date slip,
one amount change, the close), with a forecast category consistent with the stage, so the
pipeline can be rebuilt as it stood on any past day."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from loaders.demo.columns import labels
from loaders.demo.days import DAY, END_DAY, dates, quarter_start, timestamps
from loaders.demo.draws import rank_in_group, stream
from loaders.demo.opportunities import Deals
from loaders.demo.vocabulary import FORECAST_CATEGORIES, LOST_STAGE, STAGES, WON_STAGE

FC_PIPELINE, FC_BEST_CASE, FC_COMMIT, FC_CLOSED, FC_OMITTED = (
    FORECAST_CATEGORIES.index(c) for c in ("pipeline", "best_case", "commit", "closed", "omitted")
)


def forecast_category(stage: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Forecast category consistent with the stage; u is the deal's rep temperament."""
    return np.select(
        [
            stage == WON_STAGE,
            stage == LOST_STAGE,
            stage <= 1,
            stage <= 3,
            stage <= 5,
            stage == 6,
        ],
        [
            FC_CLOSED,
            FC_OMITTED,
            np.where(u > 0.9, FC_OMITTED, FC_PIPELINE),
            np.where(u > 0.75, FC_BEST_CASE, FC_PIPELINE),
            np.where(u < 0.55, FC_BEST_CASE, np.where(u > 0.9, FC_COMMIT, FC_PIPELINE)),
            np.where(u < 0.5, FC_COMMIT, FC_BEST_CASE),
        ],
        np.where(u < 0.75, FC_COMMIT, FC_BEST_CASE),  # Negotiation/Review
    )


@dataclass
class History:
    deal: np.ndarray
    stage: np.ndarray
    second: np.ndarray
    amount: np.ndarray
    close: np.ndarray
    forecast: np.ndarray
    last: np.ndarray  # index of each deal's last row (its current state)


def make_history(d: Deals, seed: int) -> History:
    """One row per change: stage advances, one close-date slip, one amount change, the close."""
    rng = stream(seed, "history")
    n = d.n
    open_now = ~d.closed
    progress = (END_DAY - d.created) / np.maximum(d.close - d.created, 1)
    stage_open = np.clip(np.floor(progress * 7.5 + rng.normal(0, 0.8, n)), 0, 7).astype(np.int64)
    stage_open = np.where(d.stale, rng.integers(3, 8, n), stage_open)  # stuck mid-to-late funnel
    # Highest open stage reached: won deals went through negotiation, lost ones fell anywhere.
    top = np.where(d.won, np.where(rng.random(n) < 0.7, 7, 6), rng.integers(0, 7, n))
    top = np.where(open_now, stage_open, top)
    first = np.minimum(np.where(rng.random(n) < 0.6, 0, 1), top)
    n_stages = np.clip(1 + rng.poisson(1.8, n), 1, np.minimum(4, top - first + 1))
    first = np.where(n_stages == 1, top, first)

    # Intermediate stages: a random sorted pick strictly between first and top.
    keys = rng.random((n, 8))
    stage_idx = np.arange(8)[None, :]
    keys[(stage_idx <= first[:, None]) | (stage_idx >= top[:, None])] = 2.0
    middle = np.sort(np.argsort(keys, axis=1)[:, :2], axis=1)
    middle[:, 0] = np.where(n_stages == 3, np.argsort(keys, axis=1)[:, 0], middle[:, 0])
    path = np.column_stack([first, top, top, top])
    path[:, 1] = np.where(n_stages >= 3, middle[:, 0], top)
    path[:, 2] = np.where(n_stages == 4, middle[:, 1], top)

    # ~25% of deals slip: the close date was first set in an earlier quarter.
    first_close = quarter_start(d.close) - 1 - rng.integers(0, 16, n)
    slip = (rng.random(n) < 0.45) & (first_close >= d.created + 14)
    resized = rng.random(n) < 0.45
    first_amount = np.maximum(np.round(d.amount * rng.uniform(0.6, 1.4, n), -2), 500.0)
    resized &= first_amount != d.amount
    n_open = n_stages + slip + resized
    rows = n_open + d.closed
    deal = np.repeat(np.arange(n), rows)
    j = rank_in_group(deal)
    total = len(deal)

    # Which open-row transitions advance the stage (n_stages - 1 of them) and which are the
    # slip / resize changes: a random order within each deal.
    transition = (j >= 1) & (j < n_open[deal])
    key = np.where(transition, rng.random(total), 2.0)
    order = np.lexsort((key, deal))
    rank = np.empty(total, dtype=np.int64)
    rank[order] = rank_in_group(deal[order])
    advance = transition & (rank < n_stages[deal] - 1)
    extra = transition & ~advance
    starts = np.flatnonzero(j == 0)
    csum = np.cumsum(advance)
    step = csum - csum[starts][deal]
    stage = path[deal, np.minimum(step, 3)]
    is_close_row = j == n_open[deal]
    stage = np.where(is_close_row, np.where(d.won[deal], WON_STAGE, LOST_STAGE), stage)

    ecsum = np.cumsum(extra)
    extra_rank = ecsum - ecsum[starts][deal] - 1
    slip_first = rng.random(n) < 0.5
    slip_row = extra & slip[deal] & (~resized[deal] | (extra_rank == np.where(slip_first, 0, 1)[deal]))
    resize_row = extra & ~slip_row
    scsum, rcsum = np.cumsum(slip_row), np.cumsum(resize_row)
    slipped = (scsum - scsum[starts][deal]) > 0
    resized_yet = (rcsum - rcsum[starts][deal]) > 0
    close = np.where(slip[deal] & ~slipped, first_close[deal], d.close[deal])
    amount = np.where(resized[deal] & ~resized_yet, first_amount[deal], d.amount[deal])

    temper = rng.random(n)
    forecast = forecast_category(stage, temper[deal])
    last = np.cumsum(rows) - 1
    # Some stale deals were parked by their rep: omitted from the forecast.
    parked = d.stale & (rng.random(n) < 0.25)
    forecast[last[parked]] = FC_OMITTED

    # Times: created in the morning, closed on the close date, changes in between; open
    # deals were last touched some time before DEMO_END. +j minutes keeps rows strictly
    # ordered, so "the state as of t" is never ambiguous.
    t0 = d.created * DAY + 8 * 3600 + rng.integers(0, 240, n) * 60
    t_last = np.where(
        d.closed,
        d.close * DAY + 15 * 3600 + rng.integers(0, 120, n) * 60,
        t0 + rng.random(n) * ((END_DAY * DAY + 18 * 3600) - t0),
    ).astype(np.int64)
    t_last = np.where(rows == 1, t0, t_last)
    raw = t0[deal] + (rng.random(total) * (t_last - t0)[deal]).astype(np.int64)
    raw = np.where(j == 0, t0[deal], np.where(j == rows[deal] - 1, t_last[deal], raw))
    second = raw[np.lexsort((raw, deal))] // 60 * 60 + j * 60  # sorted within each deal
    return History(deal=deal, stage=stage, second=second, amount=amount, close=close, forecast=forecast, last=last)


def history_frame(h: History, deal_ids: pl.Series) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "opportunity_id": deal_ids.gather(h.deal),
            "stage": labels(STAGES, h.stage),
            "changed_at": timestamps(h.second),
            "amount": h.amount,
            "close_date": dates(h.close),
            "forecast_category": labels(FORECAST_CATEGORIES, h.forecast),
        }
    )
