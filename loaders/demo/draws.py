"""Drawing and set helpers every table shares: a seeded stream per generation step, whole counts
by share, categories by share (per class), and fast set operations on sorted integer keys."""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, step: str) -> np.random.Generator:
    """An independent stream per generation step, so changing one step leaves the others' draws alone."""
    return np.random.default_rng([seed, zlib.crc32(step.encode())])


def allocate(n: int, shares: list[float]) -> np.ndarray:
    """Split n into whole counts by share (largest remainder), so small scales keep every class."""
    raw = np.asarray(shares, dtype=float) / sum(shares) * n
    counts = np.floor(raw).astype(np.int64)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return counts


def choose(rng: np.random.Generator, shares: list[float], size: int) -> np.ndarray:
    p = np.asarray(shares, dtype=float)
    return rng.choice(len(p), size=size, p=p / p.sum())


def choose_by_class(rng: np.random.Generator, table: np.ndarray, cls: np.ndarray) -> np.ndarray:
    """Draw one category per row from the row's class's distribution (table[class] = shares)."""
    cdf = np.cumsum(table / table.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(cls))
    out = np.empty(len(cls), dtype=np.int64)
    for c in np.flatnonzero(np.bincount(cls)):  # a loop over a few classes, not rows
        rows = cls == c
        out[rows] = np.minimum(np.searchsorted(cdf[c], u[rows], side="right"), table.shape[1] - 1)
    return out


# numpy's plain unique / isin / setdiff1d hash their input, which is very slow for millions of
# int64 keys (~30 s for 6M); sorting is ~50x faster, so set operations go through these.
def sorted_unique(a: np.ndarray) -> np.ndarray:
    s = np.sort(a)
    return s[group_starts(s)]


def contains(sorted_keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """values in sorted_keys, elementwise."""
    at = np.minimum(np.searchsorted(sorted_keys, values), max(len(sorted_keys) - 1, 0))
    return (sorted_keys[at] == values) if len(sorted_keys) else np.zeros(len(values), dtype=bool)


def without(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The values of a (sorted, unique) that are not in b."""
    return a[~contains(np.sort(b), a)]


def group_starts(sorted_keys: np.ndarray) -> np.ndarray:
    """Boolean mask: True at the first row of each run of equal keys."""
    first = np.ones(len(sorted_keys), dtype=bool)
    first[1:] = sorted_keys[1:] != sorted_keys[:-1]
    return first


def rank_in_group(group: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within each run of equal values of a grouped (contiguous) array."""
    idx = np.arange(len(group))
    starts = np.maximum.accumulate(np.where(group_starts(group), idx, 0))
    return idx - starts


def pick_rows(rng: np.random.Generator, candidates: np.ndarray, share: float, base: int) -> np.ndarray:
    """About share x base rows from candidates (at least one when any), for a planted error."""
    n = min(len(candidates), max(1, round(share * base)))
    return np.sort(rng.choice(candidates, size=n, replace=False)) if n else candidates[:0]
