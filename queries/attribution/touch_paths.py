"""Touch paths as sorted integer arrays: the one input every touch-based attribution model reads.

This module owns reading the eligible touches of closed opportunities once
(`attribution_eligible_touches.sql`, partners and touch types as integer codes in name
order) and putting each deal's touches in docs/design.md's order (occurred_at, then
touchpoint_id, then partner_id) with integer sorts only: touchpoint ids are fetched just for
the touches of one deal that share a timestamp. The build does that once (`store_paths`, a
derived step) and stores the paths already ordered, with every touch on or before its close
date, so a model run is a plain scan of integers and any lookback is a filter. The models
themselves are `queries.attribution.credit` (rule-based weights, credit), `queries.attribution.markov` and
`queries.attribution.shapley`.

Layout: touches sorted by deal, then order within the deal; `starts[d]` is deal d's first
touch; pairs are a deal's distinct partners (sorted by deal, then partner name).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

import queries

US_PER_SECOND = 1_000_000
# What the build stores (`store_paths`): touches in path order, their deals, the integer codes.
PATHS_TABLE = "attribution_paths"
PATH_DEALS_TABLE = "attribution_path_deals"
PATH_CODES_TABLE = "attribution_path_codes"
# A lookback that keeps every touch on or before its close date: the build stores them all.
EVERY_TOUCH = 2**31 - 1


@dataclass
class TouchPaths:
    """Eligible touches of closed deals, in path order, with their deals and partners."""

    # Per deal (closed deals with at least one eligible touch).
    opportunity_id: pl.Series
    is_won: np.ndarray
    amount: pl.Series  # decimal(18, 2)
    close_date: pl.Series
    starts: np.ndarray  # first touch of each deal; len(deals) + 1 entries (the last = touch count)
    # Per touch.
    deal: np.ndarray
    partner: np.ndarray  # partner code, in partner name order
    type_code: np.ndarray
    touch_date: pl.Series
    days_before_close: np.ndarray
    days_from_created: np.ndarray
    # Dictionaries.
    partner_ids: pl.Series  # code -> partner_id
    touch_types: pl.Series  # code -> touch_type
    type_values: np.ndarray  # code -> configured touch value (0 when not configured)

    @property
    def deals(self) -> int:
        return len(self.is_won)

    @property
    def counts(self) -> np.ndarray:
        return np.diff(self.starts)

    def pairs(self, state: np.ndarray | None = None, states: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Distinct deal x partner pairs: (pair of each touch, pair's deal, pair's partner), pairs sorted.

        With `state` (a code 0..states-1 per touch, e.g. the partner's group), deal x state pairs instead."""
        if state is None:
            state, states = self.partner, len(self.partner_ids)
        k = np.int64(max(states, 1))
        code = self.deal.astype(np.int64, copy=False) * k
        code += state
        # Touches come grouped by deal, so the codes are nearly sorted: a stable sort (timsort) runs
        # in about one pass, where np.unique's sort would start over.
        order = np.argsort(code, kind="stable")
        ordered = code[order]
        first = np.r_[True, ordered[1:] != ordered[:-1]] if len(ordered) else np.zeros(0, dtype=bool)
        pair_of_touch = np.empty(len(code), dtype=np.int64)
        pair_of_touch[order] = np.cumsum(first) - 1
        unique = ordered[first]
        return pair_of_touch, unique // k, unique % k

    def won(self) -> TouchPaths:
        """The same paths restricted to won deals."""
        keep_deal = self.is_won
        keep = keep_deal[self.deal]
        new_index = np.cumsum(keep_deal) - 1
        counts = self.counts[keep_deal]
        return TouchPaths(
            opportunity_id=self.opportunity_id.filter(pl.Series(keep_deal)),
            is_won=self.is_won[keep_deal],
            amount=self.amount.filter(pl.Series(keep_deal)),
            close_date=self.close_date.filter(pl.Series(keep_deal)),
            starts=np.r_[0, np.cumsum(counts)].astype(np.int64),
            deal=new_index[self.deal[keep]],
            partner=self.partner[keep],
            type_code=self.type_code[keep],
            touch_date=self.touch_date.filter(pl.Series(keep)),
            days_before_close=self.days_before_close[keep],
            days_from_created=self.days_from_created[keep],
            partner_ids=self.partner_ids,
            touch_types=self.touch_types,
            type_values=self.type_values,
        )


def path_order(
    con: duckdb.DuckDBPyConnection, deal: np.ndarray, before_us: np.ndarray, partner: np.ndarray, touch_row: np.ndarray
) -> np.ndarray:
    """Permutation putting touches in deal order, then occurred_at, touchpoint_id (nulls last), partner.

    One integer sort: deal x (time before the end of the close day, reversed), in seconds when
    every timestamp is whole seconds (the usual case) and the key fits 62 bits, else lexsort.
    Equal keys (one deal, one moment) are then re-sorted together, so stability is not needed.
    """
    if len(deal) == 0:
        return np.zeros(0, dtype=np.int64)
    deal = deal.astype(np.int64)
    whole_seconds = not np.any(before_us % US_PER_SECOND)
    offset = before_us // US_PER_SECOND if whole_seconds else before_us
    span = int(offset.max()) + 1
    if int(deal.max() + 1) * span < 2**62:
        order = np.argsort(deal * span + (span - 1 - offset))
    else:
        order = np.lexsort((-before_us, deal))
    # Touches of one deal at the same moment: order by touchpoint_id, then partner (codes are name order).
    sorted_deal, sorted_before = deal[order], before_us[order]
    same = (sorted_deal[1:] == sorted_deal[:-1]) & (sorted_before[1:] == sorted_before[:-1])
    if not same.any():
        return order
    tied = np.zeros(len(order), dtype=bool)
    tied[1:] |= same
    tied[:-1] |= same
    at = np.flatnonzero(tied)
    rows = order[at]
    ids = queries.execute(con, "attribution_tied_touches", touch_rows=touch_row[rows].tolist())
    lookup = dict(zip(ids["touch_row"].to_list(), ids["touchpoint_id"].to_list(), strict=True))
    frame = pl.DataFrame(
        {
            "row": rows,
            "deal": deal[rows],
            "before": before_us[rows],
            "touchpoint_id": [lookup.get(int(r)) for r in touch_row[rows]],
            "partner": partner[rows],
        }
    )
    resolved = frame.sort(["deal", "before", "touchpoint_id", "partner"], descending=[False, True, False, False], nulls_last=True)
    order = order.copy()
    order[at] = resolved["row"].to_numpy()
    return order


def touch_paths(con: duckdb.DuckDBPyConnection, lookback_days: int = 365, won_only: bool = False) -> TouchPaths:
    """The eligible touches of every closed (or only every won) opportunity, in path order.

    From the paths the build stored when the database has them (a filtered scan, no sort),
    else read and ordered from the extracts' tables."""
    if queries.has_tables(con, PATHS_TABLE, PATH_DEALS_TABLE, PATH_CODES_TABLE):
        return stored_touch_paths(con, lookback_days, won_only)
    paths = ordered_touch_paths(con, lookback_days)
    return paths.won() if won_only else paths


def stored_touch_paths(con: duckdb.DuckDBPyConnection, lookback_days: int, won_only: bool) -> TouchPaths:
    """`touch_paths` from the tables `store_paths` wrote: the same deals, touches and order."""
    reads = [
        ("attribution_paths_stored", {"lookback_days": int(lookback_days), "won_only": won_only}),
        ("attribution_path_deals_stored", {"won_only": won_only}),
        ("attribution_path_codes_stored", {}),
    ]
    # Three scans at once, each on its own cursor: DuckDB runs them side by side.
    with ThreadPoolExecutor(max_workers=len(reads)) as pool:
        touches, deals, codes = pool.map(lambda read: queries.execute(con.cursor(), read[0], **read[1]), reads)
    stored_deal = touches["deal"].to_numpy()
    # The lookback can leave a stored deal without touches: deals are renumbered over those that keep some.
    new_deal = np.r_[True, stored_deal[1:] != stored_deal[:-1]] if len(stored_deal) else np.zeros(0, dtype=bool)
    first = np.flatnonzero(new_deal)
    return TouchPaths(
        **deal_fields(deals, "deal", stored_deal[first]),
        starts=np.r_[first, len(stored_deal)].astype(np.int64),
        deal=np.cumsum(new_deal) - 1,
        # Stored as 32-bit integers and kept so (a copy to 64 bits would cost as much as the scan).
        partner=touches["partner"].to_numpy(),
        type_code=touches["type_code"].to_numpy(),
        touch_date=touches["touch_date"],
        days_before_close=touches["days_before_close"].to_numpy(),
        days_from_created=touches["days_from_created"].to_numpy(),
        **dictionaries(codes),
    )


def deal_fields(deals: pl.DataFrame, key: str, keys: np.ndarray) -> dict:
    """TouchPaths' per-deal fields for the deals whose `key` column holds `keys`, in that order."""
    position = np.full(int(deals[key].max() or 0) + 1 if deals.height else 1, -1, dtype=np.int64)
    position[deals[key].to_numpy()] = np.arange(deals.height)
    picked = pl.Series(position[keys])
    return {
        "opportunity_id": deals["opportunity_id"].gather(picked),
        "is_won": deals["is_won"].gather(picked).to_numpy().astype(bool),
        "amount": deals["amount"].gather(picked),
        "close_date": deals["close_date"].gather(picked),
    }


def dictionaries(codes: pl.DataFrame) -> dict:
    """The code -> name lists (and touch values) of `attribution_touch_codes.sql`'s rows."""
    partner_codes = codes.filter(pl.col("kind") == "partner").sort("code")
    type_codes = codes.filter(pl.col("kind") == "touch_type").sort("code")
    return {
        "partner_ids": partner_codes["name"],
        "touch_types": type_codes["name"],
        "type_values": type_codes["touch_value"].to_numpy().astype(float),
    }


def store_paths(con: duckdb.DuckDBPyConnection, settings: object = None) -> None:
    """Derived step: every closed deal's touches on or before its close date, ordered once, for
    `touch_paths` to scan (the tables are written in path order and DuckDB scans them in it)."""
    paths = ordered_touch_paths(con, EVERY_TOUCH)
    deals = pl.DataFrame(
        {
            "deal": np.arange(paths.deals, dtype=np.int32),
            "opportunity_id": paths.opportunity_id,
            "is_won": paths.is_won,
            "amount": paths.amount,
            "close_date": paths.close_date,
        }
    )
    touches = pl.DataFrame(
        {
            "deal": paths.deal.astype(np.int32),
            "is_won": paths.is_won[paths.deal],
            "partner": paths.partner.astype(np.int32),
            "type_code": paths.type_code.astype(np.int32),
            "touch_date": paths.touch_date,
            "days_before_close": paths.days_before_close.astype(np.int32),
            "days_from_created": paths.days_from_created.astype(np.int32),
        }
    )
    queries.store_table(con, PATH_DEALS_TABLE, deals)
    queries.store_table(con, PATHS_TABLE, touches)
    queries.store_table(con, PATH_CODES_TABLE, queries.execute(con, "attribution_touch_codes"))


def ordered_touch_paths(con: duckdb.DuckDBPyConnection, lookback_days: int = 365) -> TouchPaths:
    """Read and order the eligible touches of every closed opportunity (one SQL pass, integer sorts)."""
    cursor = con.cursor()
    touches = queries.execute(cursor, "attribution_eligible_touches", lookback_days=int(lookback_days))
    deals = queries.execute(cursor, "attribution_closed_deals")
    codes = queries.execute(cursor, "attribution_touch_codes")

    deal_row = touches["deal_row"].to_numpy().astype(np.int64)
    partner = touches["partner"].to_numpy().astype(np.int64)
    before_us = touches["before_close_us"].to_numpy().astype(np.int64)
    order = path_order(con, deal_row, before_us, partner, touches["touch_row"].to_numpy())
    deal_row, partner = deal_row[order], partner[order]

    # Deals with touches, in touch order; their index is the position of their first touch's run.
    first = np.flatnonzero(np.r_[True, deal_row[1:] != deal_row[:-1]]) if len(deal_row) else np.zeros(0, dtype=np.int64)
    deal_index = np.repeat(np.arange(len(first)), np.diff(np.r_[first, len(deal_row)]))
    gather = pl.Series(order)
    return TouchPaths(
        **deal_fields(deals, "deal_row", deal_row[first]),
        starts=np.r_[first, len(deal_row)].astype(np.int64),
        deal=deal_index,
        partner=partner,
        type_code=touches["type_code"].to_numpy().astype(np.int64)[order],
        touch_date=touches["touch_date"].gather(gather),
        days_before_close=touches["days_before_close"].to_numpy().astype(np.int64)[order],
        days_from_created=touches["days_from_created"].to_numpy().astype(np.int64)[order],
        **dictionaries(codes),
    )
