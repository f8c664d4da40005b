"""Attribution credit in whole cents: each row is its exact share rounded down or up, the
leftover cents of a deal go one each to the largest remainders (at the exported grain), and
every deal adds up to its revenue to the cent. Hand-worked deals loaded by the real loaders,
and properties over generated shares and generated programs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import queries
from loaders.build import build_database
from queries.attribution import credit as attribution
from tests.conftest import write_extracts
from tests.test_attribution import deals, engine_con, frames_from

# O1: $1,000.07 touched once by each of three partners. O2: $100.00 touched by P1 in two fiscal
# quarters (2025-12-15 in FY2025 Q4, 2026-01-15 in FY2026 Q1) and by P2 once. O0 ($0.03, P3
# then P2) comes last in the file.
CENTS = {
    "partners.csv": """
        partner_id,partner_name,partner_types,tier,joined_at
        P1,One,referral,gold,2024-01-01
        P2,Two,integration,silver,2024-01-01
        P3,Three,services,registered,2024-01-01
    """,
    "opportunities.csv": """
        opportunity_id,amount,stage,created_at,close_date
        O1,1000.07,Closed Won,2026-01-01,2026-03-31
        O2,100.00,Closed Won,2025-12-01,2026-03-31
        O0,0.03,Closed Won,2026-01-01,2026-03-31
    """,
    "touchpoints.csv": """
        touchpoint_id,opportunity_id,partner_id,touch_type,occurred_at
        T11,O1,P1,referral,2026-02-01 09:00:00
        T12,O1,P2,referral,2026-02-02 09:00:00
        T13,O1,P3,referral,2026-02-03 09:00:00
        T21,O2,P1,referral,2025-12-15 09:00:00
        T22,O2,P1,referral,2026-01-15 09:00:00
        T23,O2,P2,referral,2026-02-15 09:00:00
        T01,O0,P3,referral,2026-03-01 09:00:00
        T02,O0,P2,referral,2026-03-02 09:00:00
    """,
}


@pytest.fixture(scope="module")
def cents_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cents")
    db = folder / "cents.duckdb"
    build_database(write_extracts(folder / "extracts", CENTS), db)
    return db


def split(db: Path, opportunity_id: str, **params) -> dict[tuple[str, str], float]:
    frame = queries.execute(queries.connect(db), "attribution_credit", model="linear", **params)
    rows = frame.filter(pl.col("opportunity_id") == opportunity_id)
    return {(r["partner_id"], r["fiscal_quarter"]): float(r["credit"]) for r in rows.iter_rows(named=True)}


def test_two_leftover_cents_of_a_three_way_split_go_one_each_to_the_first_two_partners(cents_db: Path):
    # 1000.07 / 3 = 333.3566...: 33,335 cents each leave 2 cents over, with equal remainders (0.67 cent),
    # so the first two partner ids take one each. Every row is 0.33 or 0.67 cent from 333.3567.
    # (All leftover cents used to go to the one largest share: 333.37, 1.33 cents off.)
    assert split(cents_db, "O1") == {("P1", "FY2026 Q1"): 333.36, ("P2", "FY2026 Q1"): 333.36, ("P3", "FY2026 Q1"): 333.35}


def test_the_export_lists_deals_by_opportunity_id_then_partner_id_whatever_the_file_order(cents_db: Path):
    for basis in attribution.BOOKING_BASES:
        frame = queries.execute(queries.connect(cents_db), "attribution_credit", model="linear", booking_basis=basis)
        assert frame.select("opportunity_id", "partner_id").rows()[:3] == [("O0", "P2"), ("O0", "P3"), ("O1", "P1")]
    # 1.5 cents each: the leftover cent goes to P2, the first partner id of the equal remainders.
    assert split(cents_db, "O0") == {("P2", "FY2026 Q1"): 0.02, ("P3", "FY2026 Q1"): 0.01}


def test_the_build_stores_the_same_cents_as_the_export(cents_db: Path):
    stored = queries.connect(cents_db).sql(
        "select partner_id, credit from attribution_credit_default where model = 'linear' and opportunity_id = 'O1' "
        "order by partner_id"
    )
    assert [(p, float(c)) for p, c in stored.fetchall()] == [("P1", 333.36), ("P2", 333.36), ("P3", 333.35)]


def test_booked_at_close_a_partner_with_two_touches_is_one_row_rounded_once(cents_db: Path):
    # P1 holds 2/3 of $100.00 (6,666.67 cents) and P2 1/3 (3,333.33): the leftover cent goes to P1's larger remainder.
    assert split(cents_db, "O2") == {("P1", "FY2026 Q1"): 66.67, ("P2", "FY2026 Q1"): 33.33}


def test_booked_at_touch_dates_each_partner_quarter_is_rounded_and_the_deal_still_adds_up(cents_db: Path):
    # Three rows of 3,333.33 cents each: the leftover cent goes to the first by partner_id, then quarter.
    booked = split(cents_db, "O2", booking_basis="touch_date")
    assert booked == {("P1", "FY2025 Q4"): 33.34, ("P1", "FY2026 Q1"): 33.33, ("P2", "FY2026 Q1"): 33.33}
    assert round(sum(booked.values()), 2) == 100.00


def test_shares_equal_but_for_float_rounding_count_as_equal_remainders():
    # 0.4 + 3 x 1/45 summed in two orders: 0.4666666666666666 and 0.4666666666666667, the same share.
    # Exact: 28,920.537 33 twice and 4,131.505 33; the two leftover cents go to the two equal remainders (0.73 cent).
    touches = pl.DataFrame(
        {
            "model": "position_based",
            "opportunity_id": "O1",
            "partner_id": ["P1", "P2", "P3"],
            "touch_type": "referral",
            "touch_date": date(2026, 1, 1),
            "close_date": date(2026, 3, 31),
            "amount": 61972.58,
            "weight": [0.4666666666666666, 0.4666666666666667, 0.2 / 3],
        }
    ).cast(attribution.TOUCH_SCHEMA)  # type: ignore[arg-type]
    credit = attribution.credit_from_touches(touches, "close_date", 1)
    assert dict(credit.select("partner_id", pl.col("credit").cast(pl.Float64)).iter_rows()) == {
        "P1": 28920.54,
        "P2": 28920.54,
        "P3": 4131.50,
    }


def test_a_share_a_hair_under_a_whole_cent_counts_as_that_cent():
    # 0.1 x 100,000 cents is 9,999.999... in floating point: it is 10,000 cents, with nothing left over.
    cents = attribution.whole_cents(np.array([0.1 * 100_000, 0.9 * 100_000]), np.array([0, 2]), np.array([100_000]))
    assert cents.tolist() == [10_000, 90_000]


# ---- properties -------------------------------------------------------------------------------

group = st.tuples(
    st.integers(0, 10**9),  # the deal's revenue in cents
    st.lists(st.integers(1, 1000), min_size=1, max_size=12),  # its partners' relative shares
)


@settings(max_examples=300, deadline=None)
@given(st.lists(group, min_size=1, max_size=20))
def test_largest_remainder_keeps_every_row_within_a_cent_and_every_deal_exact(groups):
    exact, starts, totals = [], [0], []
    for total, parts in groups:
        share = np.array(parts, dtype=float) / sum(parts)
        exact.extend(share * total)
        starts.append(starts[-1] + len(parts))
        totals.append(total)
    exact_cents = np.array(exact)
    cents = attribution.whole_cents(exact_cents, np.array(starts), np.array(totals))
    for g, (first, end) in enumerate(zip(starts[:-1], starts[1:], strict=True)):
        got, want = cents[first:end], exact_cents[first:end]
        assert got.sum() == totals[g]
        off = got - want
        assert (np.abs(off) < 1 + 1e-6).all()  # rounded down or up, never further
        assert_largest_remainders_rounded_up(got, want)


def assert_largest_remainders_rounded_up(got: np.ndarray, want: np.ndarray) -> None:
    """No row rounded down has a larger remainder than a row rounded up, and so every row is within
    half a cent whenever rounding each to the nearest cent adds up to the deal (else no rounding that
    adds up can be)."""
    remainder = want - np.floor(np.round(want, 6))
    up = got > np.floor(np.round(want, 6))
    if up.any() and (~up).any():
        assert remainder[up].min() >= remainder[~up].max() - 1e-6
    if np.rint(want).sum() == got.sum() and not np.any(np.isclose(remainder, 0.5)):
        assert (np.abs(got - want) <= 0.5 + 1e-6).all()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deals, st.sampled_from(attribution.BOOKING_BASES))
def test_every_credit_row_of_every_model_is_its_exact_share_rounded_by_largest_remainder(generated, booking_basis):
    opp, tp = frames_from(generated)
    con = engine_con(opp, tp)
    touches = attribution.touch_weights(con, attribution.TOUCH_MODELS)
    credit = attribution.credit_from_touches(touches, booking_basis, 1)
    con.close()
    amounts = dict(opp.select("opportunity_id", pl.col("amount").cast(pl.Float64)).iter_rows())
    for (_, opportunity_id), part in credit.group_by("model", "opportunity_id"):
        got = np.rint(part["credit"].cast(pl.Float64).to_numpy() * 100).astype(np.int64)
        want = part["weight"].to_numpy() * round(amounts[opportunity_id] * 100)
        assert got.sum() == round(amounts[opportunity_id] * 100)
        assert (np.abs(got - want) < 1 + 1e-6).all()
        assert_largest_remainders_rounded_up(got, want)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 10**9),
            st.lists(st.tuples(st.integers(0, 1000), st.booleans()), min_size=1, max_size=12),  # share, sharing?
        ),
        min_size=1,
        max_size=20,
    )
)
def test_rows_that_take_no_share_change_nothing_for_the_rows_that_do(groups):
    # The build rounds every model over all of a deal's partners at once, marking the partners the model
    # credits; that must give the same cents as rounding the credited rows alone.
    exact, starts, totals, credited = [], [0], [], []
    for total, parts in groups:
        weight = np.array([share if sharing else 0 for share, sharing in parts], dtype=float)
        share = weight / weight.sum() if weight.sum() > 0 else weight
        exact.extend(share * total)
        credited.extend(share > 0)
        starts.append(starts[-1] + len(parts))
        totals.append(total)
    exact, credited = np.array(exact), np.array(credited, dtype=bool)
    masked = attribution.whole_cents(exact, np.array(starts), np.array(totals), credited)
    kept_groups = [g for g in range(len(totals)) if credited[starts[g] : starts[g + 1]].any()]
    kept_starts = np.r_[0, np.cumsum([credited[starts[g] : starts[g + 1]].sum() for g in kept_groups])]
    alone = attribution.whole_cents(exact[credited], kept_starts, np.array(totals)[kept_groups])
    assert (masked[~credited] == 0).all()
    assert masked[credited].tolist() == alone.tolist()


def largest_remainder_by_hand(exact_cents: list[float], total: int) -> list[int]:
    """One group, worked the slow way: floor each micro-cent-rounded share, then give the leftover cents one each
    to the largest remainders, ties to the earlier row."""
    micro = [round(x * 1e6) for x in exact_cents]
    cents = [m // 1_000_000 for m in micro]
    ranked = sorted(range(len(micro)), key=lambda i: (-(micro[i] % 1_000_000), i))
    for i in ranked[: total - sum(cents)]:
        cents[i] += 1
    return cents


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 10**7),  # the deal's revenue in cents
            # its partners' relative shares (ties are frequent)
            st.lists(st.integers(1, 12), min_size=1, max_size=attribution.COMPARED_ROWS + 2),
            st.booleans(),  # an even split of a multiple of the row count: nothing left over to place
        ),
        min_size=1,
        max_size=30,
    )
)
def test_whole_cents_hands_the_leftover_cents_to_the_largest_remainders_of_each_group(groups):
    # Groups of up to COMPARED_ROWS rows are ranked by comparing rows, larger ones (two rows more here) by
    # sorting: either way, and with the groups precomputed for several models, each group gets the cents
    # worked by hand.
    exact, starts, totals, want = [], [0], [], []
    for total, parts, even in groups:
        if even:
            parts, total = [1] * len(parts), total - total % len(parts)
        share = np.array(parts, dtype=float) / sum(parts)
        exact.extend(share * total)
        want.extend(largest_remainder_by_hand(list(share * total), total))
        starts.append(starts[-1] + len(parts))
        totals.append(total)
    args = (np.array(exact), np.array(starts), np.array(totals))
    assert attribution.whole_cents(*args).tolist() == want
    assert attribution.whole_cents(*args, groups=attribution.RowGroups.of(np.array(starts))).tolist() == want
