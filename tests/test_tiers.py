"""The tier check: partners whose trailing 12 months qualify them above or below the tier they
hold, why, and the payout difference their held tier makes under the commission plan."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import queries
from loaders.build import build_database
from settings import Settings, TierRule
from tests.conftest import TINY, open_page, write_extracts

# The tiny program (data as of 2026-06-20) plus P4, a registered partner planted to qualify for
# silver: two won deals it sourced and touched in the last 12 months, and one certification.
# P1 earned two certifications, one of which expired: one counts.
TIERS = dict(TINY)
TIERS["partners.csv"] = (
    TINY["partners.csv"].rstrip()
    + """
        P4,Delta Dynamics,referral,registered,2025-06-01,NA,US,Sam Reed,active
"""
)
TIERS["opportunities.csv"] = (
    TINY["opportunities.csv"].rstrip()
    + """
        O8,1000,Closed Won,2026-01-10,2026-03-01,true,true,closed,P4,NA,Hotel Corp
        O9,2000,Closed Won,2026-02-01,2026-05-01,true,true,closed,P4,NA,India Inc
"""
)
TIERS["touchpoints.csv"] = (
    TINY["touchpoints.csv"].rstrip()
    + """
        T5,O8,P4,referral,2026-01-10 09:00:00
        T6,O9,P4,referral,2026-02-01 09:00:00
"""
)
TIERS["partner_activities.csv"] = """
    activity_id,partner_id,activity_type,occurred_at,detail
    A1,P1,training_completed,2026-06-01 10:00:00,
    A2,P2,portal_login,2026-06-20 10:00:00,
    A3,P2,deal_registered,2026-02-10 10:00:00,
    A4,P3,co_marketing,2025-10-01 10:00:00,
    A5,P4,certification_earned,2026-03-15 10:00:00,Sales Certified
    A6,P1,certification_earned,2025-09-01 10:00:00,Sales Certified
    A7,P1,certification_expired,2026-03-01 10:00:00,Sales Certified
    A8,P1,certification_earned,2026-01-01 10:00:00,Technical Certified
"""


def build(folder: Path, settings: Settings | None = None) -> Path:
    db = folder / "tiers.duckdb"
    build_database(write_extracts(folder / "extracts", TIERS), db, settings=settings)
    return db


@pytest.fixture(scope="module")
def tiers_db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("tiers"))


@pytest.fixture
def tiers_db(tiers_db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PULSE_DB", str(tiers_db_path))
    return tiers_db_path


def check(db: Path, **params) -> dict[str, dict]:
    frame = queries.execute(queries.connect(db), "tier_check", **params)
    return {row["partner_id"]: row for row in frame.iter_rows(named=True)}


def test_a_registered_partner_with_two_wins_and_a_certification_qualifies_for_silver(tiers_db: Path):
    p4 = check(tiers_db)["P4"]
    assert (p4["held_tier"], p4["qualified_tier"], p4["standing"]) == ("registered", "silver", "higher")
    assert (p4["won_deals_12m"], float(p4["sourced_revenue_12m"]), p4["certifications"]) == (2, 3000.0, 1)
    assert p4["reason"] == (
        "Qualifies for silver: 2 won deals (needs 2) or $3,000 sourced (needs $100,000); 1 certifications (needs 1)."
    )
    # Linear credit over the last 12 months is 1000 + 2000; registered pays 5%, silver 8%.
    assert float(p4["credit_12m"]) == 3000.0
    assert float(p4["payout_difference"]) == pytest.approx(3000 * (0.05 - 0.08))


def test_an_expired_certification_no_longer_counts(tiers_db: Path):
    p1 = check(tiers_db)["P1"]
    assert p1["certifications"] == 1  # Sales Certified expired; Technical Certified stands


def test_partners_held_too_high_qualify_lower_and_show_what_the_held_tier_costs(tiers_db: Path):
    rows = check(tiers_db)
    p1, p2 = rows["P1"], rows["P2"]
    assert (p1["held_tier"], p1["qualified_tier"], p1["standing"]) == ("gold", "silver", "lower")
    assert p1["reason"].startswith("Misses gold: 2 won deals (needs 6)")
    assert float(p1["payout_difference"]) == pytest.approx(2500 * (0.10 - 0.08))  # O1 1000 + half of O2
    assert (p2["qualified_tier"], p2["standing"]) == ("registered", "lower")  # 1 win (O2), no certification
    assert float(p2["payout_difference"]) == pytest.approx(1500 * (0.08 - 0.05))
    assert "P3" not in rows  # terminated


def test_tier_rules_come_from_the_settings(tmp_path: Path):
    rules = [
        TierRule(tier="silver", min_won_deals=1),
        TierRule(tier="gold", min_won_deals=2, min_certifications=1),
    ]  # no platinum rule
    rows = check(build(tmp_path, Settings(tier_rules=rules)))
    assert rows["P2"]["standing"] == "as held"  # one won deal is enough for silver now
    assert rows["P1"]["standing"] == "as held"  # two wins and one certification: gold
    assert (rows["P4"]["qualified_tier"], rows["P4"]["standing"]) == ("gold", "higher")


def test_one_partner_and_the_filters_narrow_the_check(tiers_db: Path):
    assert list(check(tiers_db, partner_id="P4")) == ["P4"]
    assert list(check(tiers_db, regions=["EMEA"])) == ["P1"]


def test_program_health_lists_the_partner_planted_to_qualify_higher(tiers_db: Path):
    at = open_page("health")
    assert not at.exception, at.exception
    cards = {m.label: m.value for m in at.metric}
    assert cards["Qualify for a higher tier"] == "1"
    assert cards["Qualify only for a lower tier"] == "2"
    listed = [df.value for df in at.dataframe if "standing" in df.value.columns]
    assert listed, "the tier check table is missing"
    higher = listed[0][listed[0]["standing"] == "higher"]
    assert list(higher["partner_id"]) == ["P4"]


def test_partner_360_shows_the_partners_tier_standing(tiers_db: Path):
    at = open_page("partner", {"partner": "P4"})
    assert not at.exception, at.exception
    assert any("Qualifies for silver" in s.value for s in at.success)


def test_tier_check_frame_has_one_row_per_partner_not_terminated(tiers_db: Path):
    frame = queries.execute(queries.connect(tiers_db), "tier_check")
    assert frame["partner_id"].sort().to_list() == ["P1", "P2", "P4"]
    assert frame.filter(pl.col("standing") == "higher")["partner_id"].to_list() == ["P4"]
