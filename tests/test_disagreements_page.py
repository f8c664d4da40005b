"""The Disagreements page (AppTest on the tiny and the demo program), its figures, and the
ledger against the demo program's planted errors (`truth/planted_errors.csv`)."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

import queries
from charts import disagreements as charts
from tests.conftest import open_page
from tests.test_disagreements import LEDGER, write_extracts

# How each planted kind is identified: the ledger's key columns for it.
KEYS = {
    "crm_vs_registration": ["registration_id"],
    "registration_conflict": ["registration_id"],
    "channel_conflict": ["registration_id"],
    "payout_without_credit": ["payout_id"],
    "duplicate_payout": ["payout_id"],
    "credit_without_payout": ["opportunity_id", "partner_id"],
    "payout_amount_mismatch": ["opportunity_id", "partner_id"],
}


def metric_values(at) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def test_the_page_shows_a_card_per_kind_and_an_empty_ledger_on_the_tiny_program(tiny_db: Path) -> None:
    at = open_page("disagreements")
    assert not at.exception
    values = metric_values(at)
    assert [label for label in values if label != "Total at stake"] == list(charts.KIND_LABELS.values())
    assert values["Total at stake"] == "$0"
    assert any("No disagreements as of this date" in box.value for box in at.success)
    assert all(metric.help for metric in at.metric)


def test_the_page_totals_money_at_stake_per_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hand-built ledger program (tests/test_disagreements.py), read as of its data's last
    day, 2026-07-05: besides the 2026-06-30 ledger, R26 (registered that day) conflicts and
    PO33 (period 2026-07-01) pays Cobalt without credit; R71 is approved only on 2026-07-10."""
    from loaders.build import build_database

    db = tmp_path / "ledger.duckdb"
    build_database(write_extracts(tmp_path / "extracts", LEDGER), db)
    monkeypatch.setenv("PULSE_DB", str(db))
    at = open_page("disagreements")
    assert not at.exception
    values = metric_values(at)
    assert values["Payout amount mismatch"] == "$600"
    assert values["Duplicate payout"] == "$4.8k"
    assert values["Channel conflict"] == "$3.5k"
    assert values["Payout without credit"] == "$3.1k"  # PO30 $2,400 and PO33 $700
    assert values["Registration conflict"] == "$62.0k"  # O22, and O20 twice (R21, R26)
    ledger = at.dataframe[0].value
    assert ledger["amount_at_stake"].iloc[0] == 22000
    assert "partner_link" in ledger.columns

    at.multiselect(key="disagreements_kind").set_value(["duplicate_payout"]).run()
    assert not at.exception
    assert at.dataframe[0].value["payout_id"].tolist() == ["PO61"]
    assert at.selectbox(key="disagreements_deal").value == "O60"
    # Side by side: the CRM, (no registrations), the touchpoints, credit and payouts; then trust.
    credit_and_payouts = at.dataframe[-2].value
    assert sorted(credit_and_payouts["reference"].tolist()) == ["PO60", "PO61", "linear"]


def test_the_page_runs_on_the_demo_program(demo_db: Path) -> None:
    at = open_page("disagreements")
    assert not at.exception
    assert metric_values(at)["Total at stake"] != "$0"
    assert at.dataframe[0].value.shape[0] > 0
    assert at.selectbox(key="disagreements_deal").value is not None


def test_a_partner_lead_filter_narrows_the_ledger(demo_db: Path) -> None:
    everyone = queries.execute(queries.connect(demo_db), "attribution_disagreements")
    manager = everyone["partner_manager"].drop_nulls()[0]
    at = open_page("disagreements", query={"manager": manager})
    assert not at.exception
    shown = at.dataframe[0].value
    assert set(shown["partner_manager"]) == {manager}
    assert len(shown) == everyone.filter(pl.col("partner_manager") == manager).height


def test_the_trust_chart_stacks_shares_that_sum_to_one(demo_db: Path) -> None:
    trust = queries.execute(queries.connect(demo_db), "attribution_trust_by_quarter")
    fig = charts.trust_by_quarter(trust)
    assert [bar.name for bar in fig.data] == list(charts.AGREEMENT_LABELS.values())
    totals = [sum(values) for values in zip(*(bar.y for bar in fig.data), strict=True)]
    assert totals == pytest.approx([1.0] * trust.height)


def test_every_planted_error_in_the_demo_is_found(demo_db: Path) -> None:
    """Every planted payout error and disagreement is in the ledger, for the planted partner;
    nothing else is (the demo is otherwise clean). One exception, by the design's own rule: a
    planted conflict whose earlier registration was rejected or had expired before the second
    partner registered is no conflict, and must not be found."""
    planted = pl.read_csv(demo_db.parent / "extracts" / "truth" / "planted_errors.csv", infer_schema_length=0)
    con = queries.connect(demo_db)
    ledger = queries.execute(con, "attribution_disagreements")
    ended = ended_before(con, planted)
    for kind, keys in KEYS.items():
        expected = planted.filter(pl.col("kind") == kind)
        if kind == "registration_conflict":
            expected = expected.filter(~pl.col("registration_id").is_in(ended))
        found = ledger.filter(pl.col("kind") == kind)
        assert expected.height > 0, kind
        missed = expected.join(found, on=keys, how="anti")
        extra = found.join(expected, on=keys, how="anti")
        assert missed.is_empty(), f"{kind}: missed {missed.head(5).to_dicts()}"
        assert extra.is_empty(), f"{kind}: not planted {extra.head(5).to_dicts()}"
        both = expected.join(found, on=keys, suffix="_found")
        if "partner_id_found" in both.columns:
            assert (both["partner_id"] == both["partner_id_found"]).all(), kind
    assert not ledger.filter(pl.col("registration_id").is_in(ended)).height


def ended_before(con, planted: pl.DataFrame) -> list[str]:
    """Planted conflicts whose other registration (named in the detail) was rejected or had
    expired before the planted one was registered."""
    conflicts = planted.filter(pl.col("kind") == "registration_conflict")
    pairs = [
        (row["registration_id"], match.group(1))
        for row in conflicts.iter_rows(named=True)
        if (match := re.search(r"\b(R\d+)\b", row["detail"] or ""))
    ]
    if not pairs:
        return []
    frame = pl.DataFrame(pairs, schema=["registration_id", "other_registration_id"], orient="row")
    registrations = con.cursor().sql("select registration_id, registered_at, status, decided_at from deal_registrations").pl()
    joined = frame.join(registrations.select("registration_id", "registered_at"), on="registration_id").join(
        registrations.rename({"registration_id": "other_registration_id"}).select(
            "other_registration_id", "status", "decided_at"
        ),
        on="other_registration_id",
    )
    return joined.filter(pl.col("status").is_in(["rejected", "expired"]) & (pl.col("decided_at") < pl.col("registered_at")))[
        "registration_id"
    ].to_list()
