"""The Markov attribution model: an absorbing chain over partners, solved exactly.

This module owns the linear algebra. The transition counts come from the ordered
touch paths (`queries.touch_paths`, counted here with integer codes; the same counts as
`attribution_markov_transitions.sql`, which stays as their readable definition);
splitting a deal's revenue by the removal effects is `queries.attribution`'s job.

States: one per partner, plus start (transient) and conversion / null (absorbing).
With Q the transient-to-transient probabilities, N = (I - Q)^-1 and x = N r the probability
of conversion from each state, the probability of converting from start when partner p is
removed (its visits sent to null) is x_s - h_p x_p, where h_p = N[s, p] / N[p, p] is the
probability of ever visiting p. So every removal effect comes from one inverse, with no
simulation: RE_p = h_p x_p / x_s.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import polars as pl
import scipy.linalg

# The exact solve inverts a dense (k+1) x (k+1) matrix: 8 bytes x k^2 of memory and k^3 work.
# Above this many partners in the chain (a program of tens of thousands of partners) the model
# is not computed rather than approximated; the build records why (load_meta `markov_note`).
EXACT_SOLVE_MAX_PARTNERS = 8_000


class ChainTooLarge(ValueError):
    pass


TRANSITION_SCHEMA = {"from_partner": pl.String, "to_partner": pl.String, "transitions": pl.Int64, "conversions": pl.Int64}


def removal_effects(transitions: pl.DataFrame) -> pl.DataFrame:
    """Removal effect of every partner in the chain from its transition counts.

    `transitions`: from_partner (NULL = start), to_partner (NULL = end of path), transitions,
    conversions (how many of the transitions to the end were conversions).
    Returns partner_id, removal_effect (0..1), share (removal effects normalised to sum 1).
    """
    partners = sorted(set(transitions["from_partner"].drop_nulls()) | set(transitions["to_partner"].drop_nulls()))
    if not partners:
        return pl.DataFrame(schema={"partner_id": pl.String, "removal_effect": pl.Float64, "share": pl.Float64})
    k = len(partners)
    start = k
    index = pl.DataFrame({"partner": partners, "i": np.arange(k)})
    frame = (
        transitions.join(index.rename({"partner": "from_partner", "i": "src"}), on="from_partner", how="left")
        .join(index.rename({"partner": "to_partner", "i": "dst"}), on="to_partner", how="left")
        .with_columns(pl.col("src").fill_null(start))
    )
    counts = np.zeros((k + 1, k + 1))
    moves = frame.filter(pl.col("dst").is_not_null())
    np.add.at(counts, (moves["src"].to_numpy(), moves["dst"].to_numpy()), moves["transitions"].to_numpy().astype(float))
    ends = frame.filter(pl.col("dst").is_null())
    to_conversion = np.zeros(k + 1)
    to_null = np.zeros(k + 1)
    np.add.at(to_conversion, ends["src"].to_numpy(), ends["conversions"].to_numpy().astype(float))
    np.add.at(to_null, ends["src"].to_numpy(), (ends["transitions"] - ends["conversions"]).to_numpy().astype(float))
    effects = solve_removal_effects(counts, to_conversion, to_null)
    total = effects.sum()
    share = effects / total if total > 0 else np.zeros(k)
    return pl.DataFrame({"partner_id": partners, "removal_effect": effects, "share": share})


def solve_removal_effects(counts: np.ndarray, to_conversion: np.ndarray, to_null: np.ndarray) -> np.ndarray:
    """Removal effect of each of the k partners from (k+1) x (k+1) move counts (last = start).

    `to_conversion` / `to_null`: how many paths ended in conversion / null after each state.
    """
    k = counts.shape[0] - 1
    if k > EXACT_SOLVE_MAX_PARTNERS:
        raise ChainTooLarge(
            f"markov: {k:,} partners in the chain exceed the exact solve limit of {EXACT_SOLVE_MAX_PARTNERS:,}"
        )
    start = k
    totals = counts.sum(axis=1) + to_conversion + to_null
    totals[totals == 0] = 1.0
    q = counts / totals[:, None]
    r = to_conversion / totals
    # LAPACK getrf + getri in place: about twice as fast as numpy's inv (a solve against I) at k in the thousands.
    fundamental = scipy.linalg.inv(np.eye(k + 1) - q, overwrite_a=True, check_finite=False)
    converts = fundamental @ r
    if converts[start] <= 0:
        return np.zeros(k)
    visited = fundamental[start, :k] / np.diag(fundamental)[:k]
    return np.clip(visited * converts[:k] / converts[start], 0.0, 1.0)


def path_counts(partner: np.ndarray, starts: np.ndarray, is_won: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Move counts of the chain from ordered paths (what `attribution_markov_transitions.sql` counts).

    `partner`: each touch's partner code (0..k-1), paths one after another; `starts`: first
    touch of each path plus the total; `is_won`: per path. Consecutive touches by the same
    partner are one visit. Returns (counts, to_conversion, to_null) for `solve_removal_effects`.
    """
    paths = len(starts) - 1
    path_of = np.repeat(np.arange(paths), np.diff(starts))
    new_visit = np.ones(len(partner), dtype=bool)
    new_visit[1:] = (partner[1:] != partner[:-1]) | (path_of[1:] != path_of[:-1])
    visit = partner[new_visit].astype(np.int64)
    visit_path = path_of[new_visit]
    first = np.ones(len(visit), dtype=bool)
    first[1:] = visit_path[1:] != visit_path[:-1]
    previous = np.empty(len(visit), dtype=np.int64)
    previous[0:1] = k
    previous[1:] = visit[:-1]
    previous[first] = k  # from start
    size = k + 1
    moves, times = np.unique(previous * size + visit, return_counts=True)
    counts = np.zeros(size * size)
    counts[moves] = times
    counts = counts.reshape(size, size)
    last = np.ones(len(visit), dtype=bool)
    last[:-1] = visit_path[1:] != visit_path[:-1]
    won = is_won[visit_path[last]].astype(bool)
    to_conversion = np.bincount(visit[last][won], minlength=size).astype(float)
    to_null = np.bincount(visit[last][~won], minlength=size).astype(float)
    return counts, to_conversion, to_null


def transitions_from_paths(paths: Iterable[Sequence[str]], conversions: Iterable[float], nulls: Iterable[float]) -> pl.DataFrame:
    """Transition counts from aggregated paths (consecutive repeats collapsed), as SQL gives them.

    For reference data such as ChannelAttribution's `Data.csv`, where each path comes with how
    many journeys converted and how many did not.
    """
    moves: Counter[tuple[str | None, str | None]] = Counter()
    converted: Counter[tuple[str | None, str | None]] = Counter()
    for path, won, lost in zip(paths, conversions, nulls, strict=True):
        visits = [step for i, step in enumerate(path) if i == 0 or path[i - 1] != step]
        if not visits:
            continue
        journeys = won + lost
        previous: str | None = None
        for step in visits:
            moves[(previous, step)] += journeys
            previous = step
        moves[(previous, None)] += journeys
        converted[(previous, None)] += won
    rows = [(a, b, n, converted.get((a, b), 0)) for (a, b), n in moves.items()]
    return pl.DataFrame(
        rows,
        schema={"from_partner": pl.String, "to_partner": pl.String, "transitions": pl.Float64, "conversions": pl.Float64},
        orient="row",
    )
