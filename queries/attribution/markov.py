"""The Markov attribution model: an absorbing chain over partners, solved exactly.

This module owns the linear algebra. The transition counts come from the ordered
touch paths (`queries.attribution.touch_paths`, counted here with integer codes; the same counts as
`tests/oracles/attribution_markov_transitions.sql`, which stays as their readable definition);
splitting a deal's revenue by the removal effects is `queries.attribution.credit`'s job.

States: one per partner, plus start (transient) and conversion / null (absorbing).
With Q the transient-to-transient probabilities, N = (I - Q)^-1 and x = N r the probability
of conversion from each state, the probability of converting from start when partner p is
removed (its visits sent to null) is x_s - h_p x_p, where h_p = N[s, p] / N[p, p] is the
probability of ever visiting p. So every removal effect comes from one inverse, with no
simulation: RE_p = h_p x_p / x_s.

How it is solved (`solve_removal_effects`): x and the row N[s, :] are two solves; the
diagonal of N is the costly part. A walk that leaves p and comes back never leaves p's
strongly connected component (the partners that can all reach one another), so N[p, p] is
the diagonal of the inverse of that component's own block of I - Q. With the components in
topological order, I - Q is block upper triangular: each component's block is factorised
once (dense LU; a component of one partner is a number), the two solves are block
substitutions through those factors, and each diagonal comes from inverting the block's
triangular factors in place. Memory is the largest component squared, not all partners
squared; the work is (4/3) c^3 for a component of c partners.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import polars as pl
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg
from scipy.linalg import lapack
from scipy.sparse.csgraph import connected_components

# Real programs make one component of nearly every partner (partners of a region share deals
# both ways): the demo at scale 10 has one of 4,605 of its 4,655 partners, at scale 100 one of
# 46,024 of 46,581. Its dense block takes 8 bytes x c^2 and (4/3) c^3 of work; measured on 2
# cores: 8 s and 0.8 GB at 8,000, 15 s and 1.1 GB at 10,000, 29 s and 1.5 GB at 12,000 (2-3 times
# slower when other work shares the cores), so 17 GB and about half an hour at 46,000. Above this
# many partners in one component (the default of the settings' attribution.markov_exact_max_partners)
# the attribution engine builds the chain over partner groups instead ("markov (grouped)").
EXACT_SOLVE_MAX_PARTNERS = 10_000


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
    moves = frame.filter(pl.col("dst").is_not_null())
    counts = scipy.sparse.coo_array(
        (moves["transitions"].to_numpy().astype(float), (moves["src"].to_numpy(), moves["dst"].to_numpy())), shape=(k + 1, k + 1)
    ).tocsr()  # duplicate (from, to) entries add up
    ends = frame.filter(pl.col("dst").is_null())
    to_conversion = np.zeros(k + 1)
    to_null = np.zeros(k + 1)
    np.add.at(to_conversion, ends["src"].to_numpy(), ends["conversions"].to_numpy().astype(float))
    np.add.at(to_null, ends["src"].to_numpy(), (ends["transitions"] - ends["conversions"]).to_numpy().astype(float))
    effects = solve_removal_effects(counts, to_conversion, to_null)
    total = effects.sum()
    share = effects / total if total > 0 else np.zeros(k)
    return pl.DataFrame({"partner_id": partners, "removal_effect": effects, "share": share})


def solve_removal_effects(
    counts: np.ndarray | scipy.sparse.sparray, to_conversion: np.ndarray, to_null: np.ndarray, limit: int | None = None
) -> np.ndarray:
    """Removal effect of each of the k partners from (k+1) x (k+1) move counts (last = start).

    `counts` dense or sparse; `to_conversion` / `to_null`: how many paths ended in conversion /
    null after each state. Raises ChainTooLarge when a component is over `limit` partners
    (default EXACT_SOLVE_MAX_PARTNERS).
    """
    limit = EXACT_SOLVE_MAX_PARTNERS if limit is None else limit
    moves = scipy.sparse.csr_array(counts, dtype=float)
    k = moves.shape[0] - 1
    start = k
    totals = moves.sum(axis=1) + to_conversion + to_null
    totals[totals == 0] = 1.0
    q = scipy.sparse.csr_array(scipy.sparse.diags_array(1.0 / totals) @ moves)
    q.eliminate_zeros()  # a move counted 0 times is no edge between components
    r = to_conversion / totals
    order, segments = component_order(q)
    largest = max((b - a for a, b, dense in segments if dense), default=1)
    if largest > limit:
        raise ChainTooLarge(
            f"markov: {largest:,} of the chain's {k:,} partners all reach one another, over the exact solve's "
            f"limit of {limit:,} partners in one such group"
        )
    # I - Q with the states in topological order of their components: block upper triangular.
    system = (scipy.sparse.eye_array(k + 1, format="csr") - q)[order][:, order]
    position = np.empty(k + 1, dtype=np.int64)
    position[order] = np.arange(k + 1)
    chain = BlockTriangular(system.tocsr(), segments)
    converts = chain.solve(r[order])[position]
    if converts[start] <= 0:
        return np.zeros(k)
    from_start = np.zeros(k + 1)
    from_start[position[start]] = 1.0
    visits = chain.solve_transposed(from_start)[position]  # N[s, :]
    diagonal = chain.inverse_diagonal()[position]  # N[p, p]; destroys the factors
    visited = visits[:k] / diagonal[:k]
    return np.clip(visited * converts[:k] / converts[start], 0.0, 1.0)


def component_order(q: scipy.sparse.csr_array) -> tuple[np.ndarray, list[tuple[int, int, bool]]]:
    """States in topological order of their strongly connected components, and the segments.

    Every move goes from a component to itself or to a later one. Segments (start, end, dense)
    cover the order: a component of two or more states (dense), or a run of one-state
    components (triangular among themselves).
    """
    n = q.shape[0]
    count, label = connected_components(q, directed=True, connection="strong")
    rank = topological_rank(count, label, q)
    order = np.argsort(rank[label], kind="stable")
    size = np.bincount(label, minlength=count)[label[order]]
    first = np.r_[True, label[order][1:] != label[order][:-1]]
    block_start = np.flatnonzero(first & (size > 1))
    segments: list[tuple[int, int, bool]] = []
    run_start = 0
    for a, b in zip(block_start.tolist(), (block_start + size[block_start]).tolist(), strict=True):
        if run_start < a:
            segments.append((run_start, a, False))
        segments.append((a, b, True))
        run_start = b
    if run_start < n:
        segments.append((run_start, n, False))
    return order, segments


def topological_rank(count: int, label: np.ndarray, q: scipy.sparse.csr_array) -> np.ndarray:
    """Rank of each component such that every move between components goes to a higher rank."""
    coo = q.tocoo()
    src, dst = label[coo.row], label[coo.col]
    across = src != dst
    src, dst = src[across], dst[across]
    # SciPy numbers the components as it completes them (Pearce's algorithm): sinks first.
    if np.all(src > dst):
        return count - 1 - np.arange(count)
    # Otherwise Kahn's algorithm on the condensed graph.
    edges = np.unique(src.astype(np.int64) * count + dst)
    src, dst = edges // count, edges % count
    indegree = np.bincount(dst, minlength=count)
    successors = np.split(dst, np.searchsorted(src, np.arange(1, count)))
    rank = np.empty(count, dtype=np.int64)
    ready = list(np.flatnonzero(indegree == 0))
    placed = 0
    while ready:
        node = ready.pop()
        rank[node] = placed
        placed += 1
        for nxt in successors[node]:
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                ready.append(nxt)
    return rank


class BlockTriangular:
    """A block upper triangular system (I - Q in component order), factorised block by block."""

    def __init__(self, system: scipy.sparse.csr_array, segments: list[tuple[int, int, bool]]) -> None:
        self.rows = system
        self.columns = system.tocsc()
        self.segments = segments
        self.blocks: list[tuple[np.ndarray, np.ndarray] | scipy.sparse.csr_array] = []
        for a, b, dense in segments:
            block = system[a:b][:, a:b]
            if dense:
                self.blocks.append(scipy.linalg.lu_factor(block.toarray(order="F"), overwrite_a=True, check_finite=False))
            else:
                self.blocks.append(block.tocsr())

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """x with (I - Q) x = rhs: block back substitution, last segment first."""
        rest = rhs.astype(float, copy=True)
        out = np.zeros_like(rest)
        for (a, b, dense), block in zip(reversed(self.segments), reversed(self.blocks), strict=True):
            if dense:
                out[a:b] = scipy.linalg.lu_solve(block, rest[a:b], check_finite=False)
            else:
                out[a:b] = scipy.sparse.linalg.spsolve_triangular(block, rest[a:b], lower=False)
            if a > 0:
                rest -= self.columns[:, a:b] @ out[a:b]
        return out

    def solve_transposed(self, rhs: np.ndarray) -> np.ndarray:
        """y with (I - Q)^T y = rhs: block forward substitution, first segment first."""
        rest = rhs.astype(float, copy=True)
        out = np.zeros_like(rest)
        n = len(rest)
        for (a, b, dense), block in zip(self.segments, self.blocks, strict=True):
            if dense:
                out[a:b] = scipy.linalg.lu_solve(block, rest[a:b], trans=1, check_finite=False)
            else:
                out[a:b] = scipy.sparse.linalg.spsolve_triangular(block.T.tocsr(), rest[a:b], lower=True)
            if b < n:
                rest -= self.rows[a:b].T @ out[a:b]
        return out

    def inverse_diagonal(self) -> np.ndarray:
        """Diagonal of (I - Q)^-1: each block's own (inverting the LU factors in place)."""
        out = np.empty(self.rows.shape[0])
        for (a, b, dense), block in zip(self.segments, self.blocks, strict=True):
            out[a:b] = lu_inverse_diagonal(*block) if dense else 1.0 / block.diagonal()
        self.blocks = []
        return out


def lu_inverse_diagonal(lu: np.ndarray, pivots: np.ndarray) -> np.ndarray:
    """diag(A^-1) from `scipy.linalg.lu_factor`'s (lu, pivots) of A, overwriting lu.

    A = P L U, so A^-1 = U^-1 L^-1 P^T: both triangular inverses in place (LAPACK trtri,
    (1/3) n^3 each, against getri's (4/3) n^3), then A^-1[i, i] = U^-1[i, :] . L^-1[:, j] with
    j the position row i was pivoted to.
    """
    n = lu.shape[0]
    inverse, info = lapack.dtrtri(lu, lower=0, unitdiag=0, overwrite_c=1)
    if info != 0:
        raise np.linalg.LinAlgError("markov: singular component (a group of partners no path ever leaves)")
    inverse, _ = lapack.dtrtri(inverse, lower=1, unitdiag=1, overwrite_c=1)
    permutation = np.arange(n)
    for i, p in enumerate(pivots):
        permutation[i], permutation[p] = permutation[p], permutation[i]
    pivoted_to = np.argsort(permutation)
    out = np.empty(n)
    chunk = max(1, (1 << 22) // max(n, 1))
    below = np.arange(n)[:, None]
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        upper = np.triu(inverse[lo:hi], k=lo)  # U^-1 rows lo..hi
        column = pivoted_to[lo:hi]
        lower = np.where(below > column, inverse[:, column], 0.0)  # L^-1 columns, unit diagonal added below
        lower[column, np.arange(hi - lo)] = 1.0
        out[lo:hi] = np.einsum("ij,ji->i", upper, lower)
    return out


def path_counts(
    partner: np.ndarray, starts: np.ndarray, is_won: np.ndarray, k: int
) -> tuple[scipy.sparse.csr_array, np.ndarray, np.ndarray]:
    """Move counts of the chain from ordered paths (what `tests/oracles/attribution_markov_transitions.sql` counts).

    `partner`: each touch's partner code (0..k-1), paths one after another; `starts`: first
    touch of each path plus the total; `is_won`: per path. Consecutive touches by the same
    partner are one visit. Returns (counts, to_conversion, to_null) for `solve_removal_effects`;
    counts is sparse (a few moves per partner, not k x k).
    """
    is_won = np.asarray(is_won, dtype=bool)
    touched = np.diff(starts) > 0
    if not touched.all():  # a path without touches never leaves start
        starts, is_won = np.r_[starts[:-1][touched], starts[-1]], is_won[touched]
    new_visit = np.ones(len(partner), dtype=bool)
    if len(partner) > 1:
        np.not_equal(partner[1:], partner[:-1], out=new_visit[1:])
    new_visit[starts[:-1]] = True
    visit = partner[new_visit].astype(np.int64)
    first_visit = (np.cumsum(new_visit) - 1)[starts[:-1]]  # each path's first visit, in path order
    last_visit = np.r_[first_visit[1:] - 1, len(visit) - 1] if len(first_visit) else first_visit
    previous = np.empty(len(visit), dtype=np.int64)
    previous[1:] = visit[:-1]
    previous[first_visit] = k  # from start
    size = k + 1
    code = previous * size + visit
    if size * size <= max(4 * len(code), 1 << 22):  # few partners: counting in a dense array is faster than sorting
        counts = scipy.sparse.csr_array(np.bincount(code, minlength=size * size).reshape(size, size).astype(float))
    else:
        moves, times = np.unique(code, return_counts=True)
        counts = scipy.sparse.csr_array((times.astype(float), (moves // size, moves % size)), shape=(size, size))
    ends = visit[last_visit]
    to_conversion = np.bincount(ends[is_won], minlength=size).astype(float)
    to_null = np.bincount(ends[~is_won], minlength=size).astype(float)
    return counts, to_conversion, to_null


def present_partners(partner: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The codes (of k) that occur in `partner`, and `partner` renumbered 0.. over just those."""
    seen = np.bincount(partner, minlength=k) > 0
    present = np.flatnonzero(seen)
    return present, partner if len(present) == k else (np.cumsum(seen) - 1)[partner]


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
