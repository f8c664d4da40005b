"""The component-by-component Markov solve gives the dense inverse's removal effects, and scales.

The reference is the previous solve: invert all of I - Q densely, RE_p = N[s,p] / N[p,p] x_p / x_s.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import queries.attribution.markov
from queries.attribution.markov import ChainTooLarge, lu_inverse_diagonal, path_counts, solve_removal_effects, topological_rank


def dense_removal_effects(counts, to_conversion: np.ndarray, to_null: np.ndarray) -> np.ndarray:
    """The dense solve: one (k+1) x (k+1) inverse."""
    counts = counts.toarray() if scipy.sparse.issparse(counts) else np.asarray(counts, dtype=float)
    k = counts.shape[0] - 1
    totals = counts.sum(axis=1) + to_conversion + to_null
    totals[totals == 0] = 1.0
    fundamental = np.linalg.inv(np.eye(k + 1) - counts / totals[:, None])
    converts = fundamental @ (to_conversion / totals)
    if converts[k] <= 0:
        return np.zeros(k)
    return np.clip(fundamental[k, :k] / np.diag(fundamental)[:k] * converts[:k] / converts[k], 0.0, 1.0)


def chain_from_paths(paths: list[list[int]], won: list[bool], k: int):
    starts = np.r_[0, np.cumsum([len(p) for p in paths])].astype(np.int64)
    partner = np.array([step for path in paths for step in path], dtype=np.int64)
    return path_counts(partner, starts, np.array(won, dtype=bool), k)


def grouped_paths(rng: np.random.Generator, k: int, groups: int, deals: int, forward: float):
    """Paths that mostly stay in one group of partners and sometimes move on to a later group:
    components of every size, one-way moves between them, and one-partner components."""
    group_of = np.sort(rng.integers(0, groups, k))
    members = [np.flatnonzero(group_of == g) for g in range(groups)]
    members = [m for m in members if len(m)]
    paths, won = [], []
    for _ in range(deals):
        g = int(rng.integers(0, len(members)))
        path = []
        for _ in range(int(rng.integers(1, 9))):
            if rng.random() < forward and g + 1 < len(members):
                g = int(rng.integers(g + 1, len(members)))
            path.append(int(rng.choice(members[g])))
        paths.append(path)
        won.append(bool(rng.random() < 0.3))
    return chain_from_paths(paths, won, k)


@pytest.mark.parametrize(
    ("k", "groups", "deals", "forward"),
    [(5, 1, 40, 0.0), (60, 6, 400, 0.1), (300, 1, 3000, 0.0), (400, 40, 2000, 0.2), (900, 3, 6000, 0.05), (250, 250, 500, 0.5)],
)
def test_the_component_solve_equals_the_dense_inverse_on_generated_paths(k, groups, deals, forward):
    counts, to_conversion, to_null = grouped_paths(np.random.default_rng(k + groups), k, groups, deals, forward)
    expected = dense_removal_effects(counts, to_conversion, to_null)
    assert solve_removal_effects(counts, to_conversion, to_null) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(("k", "density", "seed"), [(8, 0.5, 1), (40, 0.05, 2), (150, 0.02, 3), (400, 0.3, 4), (600, 0.004, 5)])
def test_the_component_solve_equals_the_dense_inverse_on_random_counts_with_self_loops(k, density, seed):
    rng = np.random.default_rng(seed)
    counts = np.where(rng.random((k + 1, k + 1)) < density, rng.integers(1, 20, (k + 1, k + 1)), 0).astype(float)
    counts[:, k] = 0  # nothing moves back to start
    to_conversion = np.where(rng.random(k + 1) < 0.5, rng.integers(0, 5, k + 1), 0).astype(float)
    to_null = rng.integers(1, 5, k + 1).astype(float)
    expected = dense_removal_effects(counts, to_conversion, to_null)
    assert solve_removal_effects(counts, to_conversion, to_null) == pytest.approx(expected, abs=1e-12)
    sparse = scipy.sparse.csr_array(counts)
    assert solve_removal_effects(sparse, to_conversion, to_null) == pytest.approx(expected, abs=1e-12)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 12).flatmap(
        lambda k: st.tuples(
            st.just(k),
            st.lists(st.tuples(st.lists(st.integers(0, k - 1), min_size=1, max_size=8), st.booleans()), min_size=1, max_size=30),
        )
    )
)
def test_the_component_solve_equals_the_dense_inverse_on_any_small_set_of_paths(case):
    k, deals = case
    counts, to_conversion, to_null = chain_from_paths([p for p, _ in deals], [w for _, w in deals], k)
    expected = dense_removal_effects(counts, to_conversion, to_null)
    assert solve_removal_effects(counts, to_conversion, to_null) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("k", [30, 20_000])  # counted in a dense array / by sorting move codes
def test_path_counts_equal_a_plain_count_of_moves(k):
    rng = np.random.default_rng(k)
    paths = [list(rng.integers(0, 30, rng.integers(1, 9))) for _ in range(300)]
    won = list(rng.random(300) < 0.4)
    counts, to_conversion, to_null = chain_from_paths(paths, won, k)
    moves: Counter[tuple[int, int]] = Counter()
    ends: Counter[tuple[int, bool]] = Counter()
    for path, w in zip(paths, won, strict=True):
        visits = [p for i, p in enumerate(path) if i == 0 or path[i - 1] != p]
        for a, b in zip([k, *visits], visits, strict=False):
            moves[(int(a), int(b))] += 1
        ends[(int(visits[-1]), bool(w))] += 1
    coo = counts.tocoo()
    assert dict(zip(zip(coo.row.tolist(), coo.col.tolist(), strict=True), coo.data.tolist(), strict=True)) == moves
    assert {(p, True): v for p, v in enumerate(to_conversion) if v} | {(p, False): v for p, v in enumerate(to_null) if v} == ends


def test_the_diagonal_of_the_inverse_from_pivoted_lu_factors_is_exact():
    rng = np.random.default_rng(7)
    for n in [1, 2, 3, 17, 64, 301]:
        a = rng.normal(size=(n, n))  # no diagonal dominance: partial pivoting swaps rows
        lu, pivots = scipy.linalg.lu_factor(a)
        assert (pivots != np.arange(n)).any() or n < 17
        assert lu_inverse_diagonal(lu, pivots) == pytest.approx(np.diag(np.linalg.inv(a)), rel=1e-9, abs=1e-9)


def test_components_are_put_in_topological_order_whatever_their_numbering():
    # 0 -> 1 -> 2 and 0 -> 2, numbered so that neither increasing nor decreasing order is topological.
    q = scipy.sparse.csr_array(np.array([[0, 1, 1], [0, 0, 1], [0, 0, 0]], dtype=float))
    label = np.array([1, 0, 2])
    rank = topological_rank(3, label, q)
    assert rank[label[0]] < rank[label[1]] < rank[label[2]]


def test_a_million_partners_on_one_way_paths_solve_without_a_k_by_k_matrix():
    # 250,000 paths of four partners each, no partner on two paths: RE = 1 / won paths for the
    # partners of won paths (the chain reaches each path with probability 1 / paths), 0 otherwise.
    paths = 250_000
    partner = np.arange(4 * paths, dtype=np.int64)
    starts = np.arange(0, 4 * paths + 1, 4, dtype=np.int64)
    is_won = np.arange(paths) % 3 == 0
    effects = solve_removal_effects(*path_counts(partner, starts, is_won, 4 * paths))
    np.testing.assert_allclose(effects, np.where(np.repeat(is_won, 4), 1 / is_won.sum(), 0.0), rtol=1e-12, atol=1e-15)


def test_the_limit_is_on_the_largest_group_of_partners_that_reach_one_another(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(queries.attribution.markov, "EXACT_SOLVE_MAX_PARTNERS", 2)
    # 60 partners in one-way paths: no group, solved.
    one_way = chain_from_paths([[i, i + 1, i + 2] for i in range(0, 58)], [True] * 58, 60)
    assert solve_removal_effects(*one_way).shape == (60,)
    # 0 -> 1 -> 2 -> 0: three partners reach one another.
    loop = chain_from_paths([[0, 1, 2, 0], [3]], [True, False], 4)
    with pytest.raises(ChainTooLarge, match="3 of the chain's 4 partners all reach one another"):
        solve_removal_effects(*loop)
