"""Helpers for the loader tests: build tiny extracts with the real loaders, read results back."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from loaders.build import build_database
from settings import Settings
from tests.conftest import write_extracts

# The rule tests load a bad row beside one or two good ones: a share of quarantined rows the
# build would refuse (quarantine_fail_share). Alarms have tests of their own (test_alarms.py).
LENIENT = Settings(quarantine_fail_share=1.0)

# Two good partners and one good deal: the fixtures the rule tests add one broken row to.
PARTNERS = """
    partner_id,partner_name,partner_types,tier,joined_at
    P1,Acme Partners,referral;reseller,gold,2025-01-15
    P2,Beacon Systems,integration,silver,2026-02-01
"""
OPPORTUNITIES_HEADER = "opportunity_id,amount,stage,created_at,close_date"
OPPORTUNITIES = f"""
    {OPPORTUNITIES_HEADER}
    O1,1000,Closed Won,2026-04-01,2026-05-15
"""


def build(folder: Path, files: dict[str, str], **kwargs) -> pl.DataFrame:
    """Write `files` into `folder`, build `folder/pulse.duckdb` and return the load report
    (with LENIENT settings unless the test gives its own)."""
    write_extracts(folder, files)
    if "settings" not in kwargs and "settings_path" not in kwargs:
        kwargs["settings"] = LENIENT
    return build_database(folder, folder / "pulse.duckdb", **kwargs)


def counts(report: pl.DataFrame, table: str) -> tuple[int, int, int]:
    """(rows_read, rows_loaded, rows_quarantined) of one table."""
    row = report.filter(pl.col("table_name") == table).row(0, named=True)
    return row["rows_read"], row["rows_loaded"], row["rows_quarantined"]


def query(db: Path, sql: str, params: dict | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql(sql, params=params).fetchall()
    finally:
        con.close()


def quarantined(db: Path, table: str) -> list[tuple[str, int, str]]:
    """(source_file, line_number, reason) of a table's quarantined rows, by line."""
    return query(
        db,
        "select source_file, line_number, reason from quarantine where table_name = $t order by line_number",
        {"t": table},
    )
