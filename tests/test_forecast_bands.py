"""Bands that hold: each simulated run takes one past quarter's shared shock, so the P10-P90
band carries good and bad quarters (many deals slipping at once), not only deal-by-deal luck."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from queries import forecast


def totals(shocks: list[np.ndarray | None] | None) -> np.ndarray:
    # 200 open deals of 100.00, each won this quarter with probability 0.5.
    amounts = np.full(200, 100.0)
    segments = np.zeros(200, dtype=np.int64)
    won_by = forecast.won_by_quarter(np.zeros(200, dtype=np.int64), np.full(200, 0.5), np.zeros(200), 1)
    return forecast.simulate(amounts, segments, [won_by], runs=4000, shocks=shocks)[0][:, 0, 0]


def test_a_shared_quarter_shock_widens_the_band_and_keeps_the_expected_amount():
    alone = totals(None)
    shocked = totals([np.tile([0.5, 1.5], 2000)])  # half the runs a slow quarter, half a good one
    p10, p90 = np.percentile(alone, [10, 90])
    s10, s90 = np.percentile(shocked, [10, 90])
    assert p90 - p10 < 2_500  # independent deals: about 10,000 +/- 900
    assert (s10, s90) == (pytest.approx(5_000, abs=600), pytest.approx(15_000, abs=600))
    assert alone.mean() == pytest.approx(10_000, rel=0.01) and shocked.mean() == pytest.approx(10_000, rel=0.02)


def test_a_shock_of_one_changes_nothing():
    np.testing.assert_array_equal(totals([np.ones(4000)]), totals(None))


def examples(won_by_quarter: dict[date, int]) -> pl.DataFrame:
    rows = []
    for start, won in won_by_quarter.items():
        for i in range(2):
            rows.append(
                {"quarter_start": start, "amount": 100.0, "outcome": "won" if i < won else "lost", "probability": 0.25,
                 "stage": "Prospecting", "age_bucket": "0-30 days", "segment": "direct", "partner_type": "direct"}
            )  # fmt: skip
    return pl.DataFrame(rows)


def test_each_past_quarters_shock_is_what_its_open_deals_won_over_what_the_rates_said_relative_to_the_mean():
    # Two deals of 100.00 open on each eve: 1, 2 and 0 won, shares 1/2, 1 and 0 of their amount, over
    # their mean of 1/2: shocks 1, 2 and 0. CRM weighted gave each deal 0.25 (50.00 a quarter): won over
    # that, 2, 4 and 0, over their mean of 2.
    quarters = {date(2025, 1, 1): 1, date(2025, 4, 1): 2, date(2025, 7, 1): 0}
    shocks = forecast._quarter_shocks(examples(quarters))
    np.testing.assert_allclose(shocks["historical"], [1.0, 2.0, 0.0])
    np.testing.assert_allclose(shocks["crm_weighted"], [1.0, 2.0, 0.0])


def test_below_three_past_quarters_the_bands_carry_no_shock():
    assert forecast._quarter_shocks(examples({date(2025, 1, 1): 1, date(2025, 4, 1): 2})) is None
    assert forecast._quarter_shocks(examples({date(2025, 1, 1): 0, date(2025, 4, 1): 0, date(2025, 7, 1): 0})) is None
