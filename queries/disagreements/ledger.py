"""Disagreements between the CRM, deal registrations, credit and payouts: what the build stores for them.

The outputs are SQL, `attribution_disagreements.sql` (the ledger) and
`attribution_trust_by_quarter.sql` (agreement of the sources by quarter): both "as of a date"
and filtered by partner (region, tier, type, manager). The page's default view is as of
data_as_of, so the build stores that (`store_disagreements`, in loaders/derived.py): the whole
ledger, and each won deal's agreement with the partners it involves. Each output declares the
SQL that reads its stored rows with the filters' exact semantics (`-- Stored:`), and the query
runner reads them as of data_as_of; any other date, or a database built before these tables,
computes.
"""

from __future__ import annotations

from typing import Any

import duckdb

import queries

LEDGER_TABLE = "attribution_disagreements_stored"
TRUST_TABLE = "attribution_trust_deals_stored"


def store_disagreements(con: duckdb.DuckDBPyConnection, settings: Any = None) -> None:
    """Derived step at build time (after the default credit and the rollups it reads).

    Tables: attribution_disagreements_stored (the unfiltered ledger as of data_as_of, with
    row_number giving its order) and attribution_trust_deals_stored (each won deal naming a
    partner, as of data_as_of: quarter, amount, agreement, partners involved).
    """
    ledger = queries.compute(con, "attribution_disagreements")
    queries.store_table(con, LEDGER_TABLE, ledger.with_row_index("row_number"))
    deals = queries.load_sql("attribution_trust_deals")
    con.execute("create or replace table " + TRUST_TABLE + " as " + deals, {"as_of": None})  # noqa: S608 - fixed name and file
