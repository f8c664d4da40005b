"""BG/NBD ("buy till you die"): is a partner still engaged, and how active will it be?

Fader, Hardie and Lee (2005), "Counting your customers the easy way: an alternative to the
Pareto/NBD model", Marketing Science 24(2). While alive, a partner's active days arrive as a
Poisson process with rate lambda ~ Gamma(r, alpha); after each active day it drops out for
good with probability p ~ Beta(a, b). From each partner's repeat count x, the time of its
last activity t_x and its age T (all measured from its first activity) the model gives
P(alive) and the expected number of active days in the next t.

This module owns the maths (likelihood, maximum-likelihood fit with scipy, p_alive, expected
transactions), the fit stored once per build (`store_fit`, registered in
`loaders/derived.py`) and the per-partner figures as of any date (`partner_p_alive`: read
from the stored fit at data_as_of, refitted in memory for any other date). What counts as an
active day is `queries/partner/partner_activity_summary.sql`; how the page uses it, `signals.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np
import polars as pl
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1

import queries
from queries import meta
from settings import Settings

# Partners' histories are fitted in weeks (days / 7): the parameters stay of order 1.
TIME_UNIT_DAYS = 7.0
HORIZON_DAYS = 90
# Fewer partners with a history than this and the fit is not worth showing.
MIN_PARTNERS = 20

FIT_TABLE = "bgnbd_fit"
PARTNER_TABLE = "bgnbd_partner"


@dataclass(frozen=True)
class BgNbdFit:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    customers: int
    converged: bool


def log_likelihood(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray, weights: np.ndarray | None = None
) -> float:
    """Total log-likelihood of (r, alpha, a, b) over customers (FHL 2005, equation 6)."""
    r, alpha, a, b = params
    weights = np.ones_like(x, dtype=float) if weights is None else weights
    a_1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a_2 = betaln(a, b + x) - betaln(a, b)
    a_3 = -(r + x) * np.log(alpha + big_t)
    with np.errstate(divide="ignore", invalid="ignore"):
        a_4 = np.where(
            x > 0,
            np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return float(np.sum(weights * (a_1 + a_2 + np.logaddexp(a_3, a_4))))


def fit(frequency: np.ndarray, recency: np.ndarray, age: np.ndarray) -> BgNbdFit:
    """Maximum-likelihood (r, alpha, a, b) for repeat counts, recency and age in one time unit."""
    x = np.asarray(frequency, dtype=float)
    t_x = np.asarray(recency, dtype=float)
    big_t = np.asarray(age, dtype=float)
    # Many customers share a history: fit over the distinct ones, weighted by their count.
    keys, counts = np.unique(np.column_stack([x, t_x, big_t]), axis=0, return_counts=True)
    x, t_x, big_t = keys[:, 0], keys[:, 1], keys[:, 2]
    weights = counts.astype(float)

    def objective(log_params: np.ndarray) -> float:
        value = log_likelihood(np.exp(log_params), x, t_x, big_t, weights)
        return -value if np.isfinite(value) else 1e300

    scale = max(float(np.mean(big_t)), 1e-6)
    best = None
    # The surface is flat along some directions (b large with a / b fixed): L-BFGS-B on the
    # log parameters from two starts finds the basin in a few hundred evaluations, then
    # Nelder-Mead polishes along the flat valley to the optimum (a few hundred more).
    # (Nelder-Mead from the starts alone took tens of thousands of evaluations.)
    for start in (np.log([1.0, scale, 1.0, 1.0]), np.zeros(4)):
        result = minimize(objective, start, method="L-BFGS-B", bounds=[(-20.0, 20.0)] * 4, options={"maxiter": 2000})
        if best is None or result.fun < best.fun:
            best = result
    # Capped: along the flat valley the simplex stops improving long before it meets the
    # tolerances (at demo scale 10 the next 18,000 iterations moved nothing but took 3 minutes).
    polished = minimize(objective, best.x, method="Nelder-Mead", options={"maxiter": 2_000, "xatol": 1e-8, "fatol": 1e-10})
    if polished.fun <= best.fun:
        best = polished
    r, alpha, a, b = np.exp(best.x)
    converged = bool(np.isfinite(best.fun) and best.fun < 1e299)
    return BgNbdFit(float(r), float(alpha), float(a), float(b), float(-best.fun), int(weights.sum()), converged)


def p_alive(model: BgNbdFit, frequency: np.ndarray, recency: np.ndarray, age: np.ndarray) -> np.ndarray:
    """P(still alive | x, t_x, T): 1 for a customer with no repeat, falling as the silence grows."""
    x = np.asarray(frequency, dtype=float)
    t_x = np.asarray(recency, dtype=float)
    big_t = np.asarray(age, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_ratio = (
            np.log(model.a)
            - np.log(np.maximum(model.b + x - 1, 1e-300))
            + (model.r + x) * (np.log(model.alpha + big_t) - np.log(model.alpha + t_x))
        )
        odds = np.where(x > 0, np.exp(np.minimum(log_ratio, 700)), 0.0)
    return 1.0 / (1.0 + odds)


def expected_transactions(
    model: BgNbdFit, horizon: float, frequency: np.ndarray, recency: np.ndarray, age: np.ndarray
) -> np.ndarray:
    """Expected transactions in (T, T + horizon] given the history (FHL 2005, equation 10)."""
    x = np.asarray(frequency, dtype=float)
    big_t = np.asarray(age, dtype=float)
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    if abs(a - 1) < 1e-9:
        a = 1 + 1e-9
    z = horizon / (alpha + big_t + horizon)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        hyper = hyp2f1(r + x, b + x, a + b + x - 1, z)
        head = (a + b + x - 1) / (a - 1)
        body = 1 - ((alpha + big_t) / (alpha + big_t + horizon)) ** (r + x) * hyper
        value = head * body * p_alive(model, x, recency, big_t)
    # Where the hypergeometric series does not converge numerically, fall back to the alive
    # partner's posterior mean rate over the horizon (ignores dropping out inside it).
    fallback = p_alive(model, x, recency, big_t) * (r + x) / (alpha + big_t) * horizon
    return np.where(np.isfinite(value) & (value >= 0), value, fallback)


# ---- partners ----------------------------------------------------------------------------


def fit_partners(summary: pl.DataFrame) -> BgNbdFit | None:
    """The fit over partners' activity histories (from partner_activity_summary), or None when too few."""
    if summary.height < MIN_PARTNERS or summary["frequency"].sum() == 0:
        return None
    model = fit(
        summary["frequency"].to_numpy(),
        summary["recency_days"].to_numpy() / TIME_UNIT_DAYS,
        summary["age_days"].to_numpy() / TIME_UNIT_DAYS,
    )
    return model if model.converged else None


def score_partners(model: BgNbdFit | None, summary: pl.DataFrame) -> pl.DataFrame:
    """p_alive and expected activities (active days) in the next 90 days, per partner."""
    if model is None:
        return summary.select(
            "partner_id",
            pl.lit(None, pl.Float64).alias("p_alive"),
            pl.lit(None, pl.Float64).alias("expected_activities_90d"),
        )
    args = (
        summary["frequency"].to_numpy(),
        summary["recency_days"].to_numpy() / TIME_UNIT_DAYS,
        summary["age_days"].to_numpy() / TIME_UNIT_DAYS,
    )
    return summary.select("partner_id").with_columns(
        p_alive=pl.Series(p_alive(model, *args)),
        expected_activities_90d=pl.Series(expected_transactions(model, HORIZON_DAYS / TIME_UNIT_DAYS, *args)),
    )


def store_fit(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Derived step at build time: fit at data_as_of, store the parameters and each partner's figures."""
    summary = queries.execute(con, "partner_activity_summary")
    as_of = meta.data_as_of(con)
    model = fit_partners(summary)
    fit_row = pl.DataFrame(
        {
            "as_of": [as_of],
            "r": [model.r if model else None],
            "alpha": [model.alpha if model else None],
            "a": [model.a if model else None],
            "b": [model.b if model else None],
            "log_likelihood": [model.log_likelihood if model else None],
            "partners": [summary.height],
            "time_unit_days": [TIME_UNIT_DAYS],
        },
        schema_overrides={"r": pl.Float64, "alpha": pl.Float64, "a": pl.Float64, "b": pl.Float64, "log_likelihood": pl.Float64},
    )
    scored = summary.join(score_partners(model, summary), on="partner_id")
    for name, frame in ((FIT_TABLE, fit_row), (PARTNER_TABLE, scored)):
        queries.store_table(con, name, frame)


def _stored_as_of(con: duckdb.DuckDBPyConnection) -> date | None:
    if not queries.has_tables(con, FIT_TABLE):
        return None
    rows = con.sql("select as_of from " + FIT_TABLE).fetchall()  # noqa: S608 - fixed name
    return rows[0][0] if rows else None


def partner_p_alive(con: duckdb.DuckDBPyConnection, as_of: date | None = None) -> pl.DataFrame:
    """partner_id, p_alive, expected_activities_90d as of a date: the build's fit, or a refit for another date."""
    con = con.cursor()
    stored = _stored_as_of(con)
    if stored is not None and (as_of is None or as_of == stored):
        return con.sql("select partner_id, p_alive, expected_activities_90d from " + PARTNER_TABLE).pl()  # noqa: S608
    summary = queries.execute(con, "partner_activity_summary", as_of=as_of)
    return score_partners(fit_partners(summary), summary)
