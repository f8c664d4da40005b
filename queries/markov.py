"""The Markov attribution model: an absorbing chain over partners, solved exactly.

This module owns the linear algebra. The transition counts come from SQL
(`attribution_markov_transitions.sql`); splitting a deal's revenue by the removal effects is
`queries.attribution`'s job.

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
    totals = counts.sum(axis=1) + to_conversion + to_null
    totals[totals == 0] = 1.0
    q = counts / totals[:, None]
    r = to_conversion / totals
    fundamental = np.linalg.inv(np.eye(k + 1) - q)
    converts = fundamental @ r
    if converts[start] <= 0:
        effects = np.zeros(k)
    else:
        visited = fundamental[start, :k] / np.diag(fundamental)[:k]
        effects = np.clip(visited * converts[:k] / converts[start], 0.0, 1.0)
    total = effects.sum()
    share = effects / total if total > 0 else np.zeros(k)
    return pl.DataFrame({"partner_id": partners, "removal_effect": effects, "share": share})


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
