"""The Shapley attribution model: partners are players, a coalition's worth is its conversion rate.

This module owns the game: v(S) = won / closed over the closed opportunities whose partner
set is exactly S (0 for a set never seen, and for the empty set: no partner, no partner
credit). Each won deal's partners share by their Shapley values within that deal's own set,
exactly for up to `MAX_EXACT` partners and by sampled permutations (fixed seed) above.
A negative marginal value is clipped to 0 before normalising, so no partner owes credit.

Sets are identified by the XOR of a random 64-bit key per partner, so subsets of many deals
are looked up at once with numpy instead of one Python dict lookup per subset.
"""

from __future__ import annotations

from math import factorial

import numpy as np
import polars as pl

MAX_EXACT = 12
SAMPLED_PERMUTATIONS = 2000
# Cells of the (deals x subsets) block evaluated at once; bounds memory (8 bytes each).
BLOCK_CELLS = 1 << 22


def shapley_weights(closed_sets: pl.DataFrame, seed: int = 0) -> pl.DataFrame:
    """Per-deal Shapley weights of the partners on won deals.

    `closed_sets`: opportunity_id, partner_id, is_won (one row per closed deal x distinct
    partner). Returns opportunity_id, partner_id, weight (sums to 1 per won deal).
    """
    empty = pl.DataFrame(schema={"opportunity_id": pl.String, "partner_id": pl.String, "weight": pl.Float64})
    if closed_sets.is_empty():
        return empty
    partners = closed_sets["partner_id"].unique().sort()
    rows = closed_sets.with_columns(pl.col("partner_id").cast(pl.Enum(partners)).to_physical().alias("player")).sort(
        "opportunity_id", "player"
    )
    player = rows["player"].to_numpy().astype(np.int64)
    opp_codes = rows["opportunity_id"].rle_id().to_numpy()
    starts = np.flatnonzero(np.r_[True, opp_codes[1:] != opp_codes[:-1]])
    won = rows["is_won"].to_numpy()[starts].astype(bool)
    weight = pair_weights(player, np.r_[starts, len(player)], won, len(partners), seed)
    keep = ~np.isnan(weight)
    return pl.DataFrame(
        {
            "opportunity_id": rows["opportunity_id"].filter(pl.Series(keep)),
            "partner_id": partners.gather(pl.Series(player[keep])),
            "weight": weight[keep],
        }
    )


def pair_weights(player: np.ndarray, bounds: np.ndarray, won: np.ndarray, players: int, seed: int = 0) -> np.ndarray:
    """Shapley weight of each deal x partner pair (NaN on lost deals), from integer arrays.

    `player`: each pair's partner code 0..players-1 (codes in partner name order), pairs
    grouped by deal and sorted by player within it; `bounds`: first pair of each deal plus the
    total; `won`: per deal. Sets are worth their conversion rate over all closed deals; one
    game is solved per distinct partner set among won deals.
    """
    out = np.full(len(player), np.nan)
    starts = bounds[:-1]
    if len(starts) == 0 or not won.any():
        return out
    rng = np.random.default_rng(seed)
    keys = rng.integers(1, np.iinfo(np.int64).max, size=players, dtype=np.int64).astype(np.uint64)
    set_hash = np.bitwise_xor.reduceat(keys[player], starts)
    sizes = np.diff(bounds)

    # v(S) for every observed set.
    unique_hash, inverse = np.unique(set_hash, return_inverse=True)
    worth = np.bincount(inverse, weights=won) / np.bincount(inverse)

    def value(hashes: np.ndarray) -> np.ndarray:
        at = np.searchsorted(unique_hash, hashes)
        at_clipped = np.minimum(at, len(unique_hash) - 1)
        found = (at < len(unique_hash)) & (unique_hash[at_clipped] == hashes)
        return np.where(found & (hashes != 0), worth[at_clipped], 0.0)

    # One game per distinct partner set among won deals.
    won_deals = np.flatnonzero(won)
    game_hash, first, game_of_won = np.unique(set_hash[won_deals], return_index=True, return_inverse=True)
    games = won_deals[first]
    offsets = np.r_[0, np.cumsum(sizes[games])]
    flat = np.zeros(offsets[-1])
    for n in np.unique(sizes[games]):
        in_group = np.flatnonzero(sizes[games] == n)
        group = games[in_group]
        members = player[starts[group][:, None] + np.arange(n)]
        phi = exact_values(members, keys, value) if n <= MAX_EXACT else sampled_values(members, keys, value, rng)
        phi = np.clip(phi, 0.0, None)
        total = phi.sum(axis=1, keepdims=True)
        weights = np.where(total > 0, phi / np.where(total > 0, total, 1.0), 1.0 / n)
        flat[(offsets[in_group][:, None] + np.arange(n)).ravel()] = weights.ravel()

    # Every won deal with the same set has the same members in the same (player) order.
    deal_sizes = sizes[won_deals]
    within = np.arange(deal_sizes.sum()) - np.repeat(np.cumsum(deal_sizes) - deal_sizes, deal_sizes)
    pair_at = np.repeat(starts[won_deals], deal_sizes) + within
    from_flat = np.repeat(offsets[game_of_won], deal_sizes) + within
    out[pair_at] = flat[from_flat]
    return out


def exact_values(members: np.ndarray, keys: np.ndarray, value) -> np.ndarray:
    """Exact Shapley values, one row per game; `members` is (games x n) player indices."""
    games, n = members.shape
    masks = np.arange(1 << n)
    bits = (masks[:, None] >> np.arange(n)) & 1  # (subsets x n)
    set_size = bits.sum(axis=1)
    coalition_weight = np.array([factorial(s) * factorial(n - s - 1) / factorial(n) for s in range(n)])
    phi = np.zeros((games, n))
    block = max(1, BLOCK_CELLS // (1 << n))
    member_keys = keys[members]
    for lo in range(0, games, block):
        chunk = member_keys[lo : lo + block]
        hashes = np.zeros((len(chunk), 1 << n), dtype=np.uint64)
        for j in range(n):
            hashes ^= np.where(bits[:, j].astype(bool)[None, :], chunk[:, j : j + 1], np.uint64(0))
        worth = value(hashes.ravel()).reshape(hashes.shape)
        for i in range(n):
            without = masks[bits[:, i] == 0]
            marginal = worth[:, without | (1 << i)] - worth[:, without]
            phi[lo : lo + block, i] = marginal @ coalition_weight[set_size[without]]
    return phi


def sampled_values(members: np.ndarray, keys: np.ndarray, value, rng: np.random.Generator) -> np.ndarray:
    """Shapley values estimated from random orderings of each game's players."""
    games, n = members.shape
    phi = np.zeros((games, n))
    for g in range(games):
        order = np.argsort(rng.random((SAMPLED_PERMUTATIONS, n)), axis=1)
        running = np.bitwise_xor.accumulate(keys[members[g]][order], axis=1)
        worth = value(running.ravel()).reshape(running.shape)
        marginal = np.diff(np.c_[np.zeros(SAMPLED_PERMUTATIONS), worth], axis=1)
        np.add.at(phi[g], order.ravel(), marginal.ravel())
        phi[g] /= SAMPLED_PERMUTATIONS
    return phi
