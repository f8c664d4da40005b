"""BG/NBD against the published CDNOW fit (Fader, Hardie & Lee 2005), and its basic behaviour.

The CDNOW summary (2,357 customers: frequency, recency, T in weeks) is the data file the
`lifetimes` package ships (requirements-dev.txt). It is read from the installed
distribution's files, without importing the package.
"""

from __future__ import annotations

import importlib.metadata
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import queries
from queries.engagement import bgnbd

# Published maximum-likelihood estimates on the CDNOW sample (FHL 2005, p. 280).
CDNOW = bgnbd.BgNbdFit(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=-9582.4, customers=2357, converged=True)


def cdnow_summary() -> pl.DataFrame:
    try:
        dist = importlib.metadata.distribution("lifetimes")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("lifetimes==0.11.3 (requirements-dev.txt) is not installed: it ships the CDNOW summary")
    path = Path(str(dist.locate_file("lifetimes/datasets/cdnow_customers_summary.csv")))
    return pl.read_csv(path)


def test_fit_matches_the_published_cdnow_estimates_to_two_decimals():
    data = cdnow_summary()
    assert data.height == 2357
    model = bgnbd.fit(data["frequency"].to_numpy(), data["recency"].to_numpy(), data["T"].to_numpy())
    assert (round(model.r, 2), round(model.alpha, 2), round(model.a, 2), round(model.b, 2)) == (0.24, 4.41, 0.79, 2.43)
    assert model.log_likelihood == pytest.approx(-9582.4, abs=0.1)


def test_p_alive_falls_as_the_last_purchase_gets_older_for_a_fixed_frequency():
    recency = np.array([38.0, 30.0, 20.0, 10.0, 2.0])
    alive = bgnbd.p_alive(CDNOW, np.full(5, 4), recency, np.full(5, 38.86))
    assert list(alive) == sorted(alive, reverse=True)
    assert alive[0] > 0.8 and alive[-1] < 0.05


def test_a_customer_without_a_repeat_purchase_is_alive_with_certainty():
    assert bgnbd.p_alive(CDNOW, np.array([0]), np.array([0.0]), np.array([38.86]))[0] == 1.0


@given(
    x=st.integers(min_value=1, max_value=200),
    t_x=st.floats(min_value=0, max_value=100),
    gap=st.floats(min_value=0.1, max_value=100),
)
def test_p_alive_is_a_probability_and_expected_transactions_are_not_negative(x: int, t_x: float, gap: float):
    args = (np.array([x]), np.array([t_x]), np.array([t_x + gap]))
    alive = bgnbd.p_alive(CDNOW, *args)[0]
    assert 0.0 <= alive <= 1.0
    expected = bgnbd.expected_transactions(CDNOW, 13.0, *args)[0]
    assert np.isfinite(expected) and expected >= 0


def test_expected_transactions_grow_with_the_horizon():
    args = (np.array([2]), np.array([30.43]), np.array([38.86]))
    short, long = (bgnbd.expected_transactions(CDNOW, t, *args)[0] for t in (10.0, 39.0))
    assert 0 < short < long


def test_too_few_partners_give_no_fit_and_no_p_alive(tiny_db: Path):
    con = queries.connect(tiny_db)
    fitted = con.sql("select r, partners from bgnbd_fit").fetchall()
    assert fitted == [(None, 3)]
    assert queries.execute(con, "partner_signals")["p_alive"].null_count() == 2


def test_the_build_stores_the_fit_and_another_as_of_refits(demo_db: Path):
    con = queries.connect(demo_db)
    stored = con.sql("select as_of, r, alpha, a, b from bgnbd_fit").fetchall()[0]
    assert all(value is not None and value > 0 for value in stored[1:])
    at_build = bgnbd.partner_p_alive(con)
    assert at_build.equals(con.sql("select partner_id, p_alive, expected_activities_90d from bgnbd_partner").pl())
    earlier = bgnbd.partner_p_alive(con, stored[0].replace(day=1) if stored[0].day > 1 else date(stored[0].year, 1, 1))
    assert earlier.height > 0 and earlier["p_alive"].null_count() == 0
    assert not earlier.equals(at_build)
