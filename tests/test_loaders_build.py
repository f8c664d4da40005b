"""The build as a whole: a refused build leaves the served file byte-identical, a rebuild of
the same extracts gives the same tables, the swap is atomic for readers, and for any mix of
broken rows every row read is either loaded or quarantined (docs/design.md, loading rules)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path
from unittest.mock import patch

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loaders.build import BuildRefused, build_database
from tests.conftest import PROJECT, TINY, write_extracts
from tests.loading import LENIENT, counts, query


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_refused_build_leaves_the_old_database_byte_identical(tmp_path: Path):
    folder = write_extracts(tmp_path / "extracts", TINY)
    db = tmp_path / "pulse.duckdb"
    build_database(folder, db)
    before = digest(db)
    (folder / "touchpoints.csv").write_text("opportunity_id,partner_id,occurred_at\nO1,P1,2026-04-01\n", encoding="utf-8")
    with pytest.raises(BuildRefused, match="touchpoints.csv: missing required column 'touch_type'"):
        build_database(folder, db)
    assert digest(db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["extracts", "pulse.duckdb"], "no half-built file is left behind"


def test_the_build_command_exits_non_zero_with_the_reason_and_leaves_the_file_untouched(tmp_path: Path):
    folder = write_extracts(tmp_path / "extracts", TINY)
    db = tmp_path / "pulse.duckdb"
    command = [sys.executable, "-m", "loaders", "build", str(folder), "--db", str(db), "--report", str(tmp_path / "r.json")]
    built = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, timeout=60)
    assert built.returncode == 0, built.stderr
    assert "partners               read          3  loaded          3  quarantined        0  (partners.csv)" in built.stdout
    assert '"rows_loaded": 3' in (tmp_path / "r.json").read_text()
    before = digest(db)
    (folder / "partners.csv").write_bytes(b"")
    refused = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1
    assert "build refused: partners.csv: the file is empty (0 bytes)" in refused.stderr
    assert f"{db} was left as it was." in refused.stderr
    assert digest(db) == before


def table_contents(db: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [row[0] for row in con.sql("select table_name from information_schema.tables order by 1").fetchall()]
        contents = {}
        for name in names:
            columns = [row[0] for row in con.sql(f'describe "{name}"').fetchall()]
            rows = con.sql(f'select * from "{name}"').fetchall()
            if name == "load_meta":  # the build time is the one thing allowed to differ
                rows = [row for row in rows if row[0] != "built_at"]
            contents[name] = [tuple(columns), *sorted(rows, key=repr)]
        return contents
    finally:
        con.close()


def test_building_the_same_extracts_twice_gives_the_same_tables(tmp_path: Path):
    folder = write_extracts(tmp_path / "extracts", TINY)
    (folder / "partners.csv").write_text((folder / "partners.csv").read_text() + "P1,duplicate,referral,gold,2025-01-01\n")
    first, second = tmp_path / "first.duckdb", tmp_path / "second.duckdb"
    build_database(folder, first)
    build_database(folder, second)
    one, two = table_contents(first), table_contents(second)
    assert {"partners", "opportunities", "touchpoints", "quarantine", "load_report", "stage_map"} <= set(one)
    assert one.keys() == two.keys()
    for name in one:
        assert one[name] == two[name], name
    # Rebuilding over the served file gives the same tables again.
    build_database(folder, first)
    assert table_contents(first) == one


def test_a_reader_keeps_the_old_data_while_a_rebuild_swaps_the_file_in(tmp_path: Path):
    folder = write_extracts(tmp_path / "extracts", TINY)
    db = tmp_path / "pulse.duckdb"
    build_database(folder, db)
    reader = duckdb.connect(str(db), read_only=True)
    try:
        (folder / "partners.csv").write_text((folder / "partners.csv").read_text() + "P4,Delta,affiliate,silver,2026-03-01\n")
        build_database(folder, db)
        assert reader.sql("select count(*) from partners").fetchall() == [(3,)]
    finally:
        reader.close()
    assert query(db, "select count(*) from partners") == [(4,)]


# ---- property: for random broken rows, read = loaded + quarantined, and exactly the good rows load ----

PARTNER_IDS = ["P1", "P2", "P3", ""]
NAMES = ["Acme", ""]
TYPES = ["referral", "reseller;services", "plumber", "referral;plumber", ""]
TIERS = ["gold", ""]
DATES = ["2025-01-15", "2025-02-30", "15/01/2025", ""]
AMOUNTS = ["100", "1,250.50", "0", "-5", "12k", "1234,50", ""]
STAGES = ["Closed Won", "Prospecting", "Signed", ""]

partner_rows = st.lists(
    st.tuples(*(st.sampled_from(v) for v in (PARTNER_IDS, NAMES, TYPES, TIERS, DATES))), min_size=1, max_size=12
)
deal_rows = st.lists(
    st.tuples(
        st.sampled_from(["O1", "O2", "O3", ""]),
        st.sampled_from(AMOUNTS),
        st.sampled_from(STAGES),
        st.sampled_from(DATES),
        st.sampled_from(["P1", "P2", "P9", ""]),
    ),
    min_size=1,
    max_size=12,
)


def expected_good(rows: list[tuple], required: list[int], checks: dict[int, set[str]]) -> list[bool]:
    """Which data rows pass their own rules: required values given, values valid, first good row of their key."""
    seen: set[str] = set()
    good = []
    for row in rows:
        ok = all(row[i] for i in required) and all(row[i] == "" or row[i] in allowed for i, allowed in checks.items())
        good.append(ok and (row[0] == "" or row[0] not in seen))
        if ok and row[0]:
            seen.add(row[0])
    return good


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(partners=partner_rows, deals=deal_rows)
def test_every_row_read_is_loaded_or_quarantined_whatever_breaks(tmp_path_factory: pytest.TempPathFactory, partners, deals):
    folder = tmp_path_factory.mktemp("random")
    partner_text = "partner_id,partner_name,partner_types,tier,joined_at\n" + "".join(",".join(r) + "\n" for r in partners)
    deal_text = "opportunity_id,amount,stage,created_at,close_date,sourced_partner_id\n" + "".join(
        f'{o},"{a}",{s},{d},2026-05-15,{p}\n' for o, a, s, d, p in deals
    )
    (folder / "partners.csv").write_text(partner_text, encoding="utf-8")
    (folder / "opportunities.csv").write_text(deal_text, encoding="utf-8")

    # Rows with every value empty are blank lines, not data.
    partners_read = [r for r in partners if any(r)]
    good_partners = expected_good(
        partners_read,
        required=[0, 1, 2, 3, 4],
        checks={2: {"referral", "reseller;services"}, 4: {"2025-01-15"}},
    )
    loaded_partner_ids = {r[0] for r, ok in zip(partners_read, good_partners, strict=True) if ok}
    good_deals = expected_good(
        deals, required=[0, 1, 2, 3], checks={1: {"100", "1,250.50", "0"}, 2: {"Closed Won", "Prospecting"}, 3: {"2025-01-15"}}
    )
    good_deals = [ok and (d[4] == "" or d[4] in loaded_partner_ids) for d, ok in zip(deals, good_deals, strict=True)]

    try:
        # The derived tables (model fits, credit) are not what this checks, and cost time per example.
        with patch("loaders.build.build_derived", lambda con, settings: None):
            report = build_database(folder, folder / "pulse.duckdb", settings=LENIENT)
    except BuildRefused as refused:
        assert not partners_read and "header but no data rows" in str(refused)
        return
    db = folder / "pulse.duckdb"
    read, loaded, rejected = counts(report, "partners")
    assert read == len(partners_read) == loaded + rejected
    assert loaded == sum(good_partners)
    read, loaded, rejected = counts(report, "opportunities")
    assert read == len(deals) == loaded + rejected
    assert loaded == sum(good_deals)
    assert query(db, "select table_name, count(*) from quarantine group by 1 order by 1") == [
        (t, n)
        for t, n in (("opportunities", len(deals) - sum(good_deals)), ("partners", len(partners_read) - sum(good_partners)))
        if n
    ]
    assert query(db, "select count(*) from opportunities") == [(sum(good_deals),)]
