"""Disagreements between the CRM, deal registrations, credit and payouts: stored at build, read per view.

The definitions are the SQL outputs' own files: `attribution_disagreements.sql` (the ledger)
and `attribution_trust_by_quarter.sql` (agreement of the sources by quarter). Both are "as of a
date" and filtered by partner (region, tier, type, manager). The page's default view is as of
data_as_of, so the build stores that (`store_disagreements`, in loaders/derived.py): the whole
ledger, and each won deal's agreement with the partners it involves. As of data_as_of (or no
date) the outputs apply the partner filters to the stored rows (`*_stored.sql`), with the
filters' exact semantics; any other date, or a database built before these tables, computes.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import polars as pl

import queries

LEDGER_TABLE = "attribution_disagreements_stored"
TRUST_TABLE = "attribution_trust_deals_stored"
# Read what the build stored when it applies; False computes everything (tests compare the two).
USE_STORED = True


def attribution_disagreements(
    con: duckdb.DuckDBPyConnection,
    as_of: date | None = None,
    regions: list[str] | None = None,
    tiers: list[str] | None = None,
    partner_types: list[str] | None = None,
    managers: list[str] | None = None,
) -> pl.DataFrame:
    """Where the CRM, deal registrations, attributed credit and payouts disagree, as of a date, and the money at stake.

    Grain: one row per disagreement: a registration, a payout or a deal x partner, by kind
    Money: amount_at_stake, detail
    Scope: partner

    Definitions: queries/attribution_disagreements.sql. As of data_as_of (the default) the
    ledger the build stored is filtered; any other date computes it.
    """
    scope = {"regions": regions, "tiers": tiers, "partner_types": partner_types, "managers": managers}
    con = con.cursor()
    if _default_view(con, as_of):
        return _sql(con, "attribution_disagreements_stored", **scope)
    return _sql(con, "attribution_disagreements", as_of=as_of, **scope)


def attribution_trust_by_quarter(
    con: duckdb.DuckDBPyConnection,
    as_of: date | None = None,
    regions: list[str] | None = None,
    tiers: list[str] | None = None,
    partner_types: list[str] | None = None,
    managers: list[str] | None = None,
) -> pl.DataFrame:
    """How much partner revenue the CRM, deal registrations and touchpoints agree on, by fiscal quarter of the close.

    Grain: one row per fiscal quarter with partner revenue
    Money: none
    Scope: program

    Definitions: queries/attribution_trust_by_quarter.sql. As of data_as_of (the default) the
    deals the build classified are filtered and summed; any other date computes.
    """
    scope = {"regions": regions, "tiers": tiers, "partner_types": partner_types, "managers": managers}
    con = con.cursor()
    if _default_view(con, as_of):
        return _sql(con, "attribution_trust_by_quarter_stored", **scope)
    return _sql(con, "attribution_trust_by_quarter", as_of=as_of, **scope)


def store_disagreements(con: duckdb.DuckDBPyConnection, settings: Any = None) -> None:
    """Derived step at build time (after the default credit and the rollups it reads).

    Tables: attribution_disagreements_stored (the unfiltered ledger as of data_as_of, with
    row_number giving its order) and attribution_trust_deals_stored (each won deal naming a
    partner, as of data_as_of: quarter, amount, agreement, partners involved).
    """
    ledger = _sql(con, "attribution_disagreements")
    queries.store_table(con, LEDGER_TABLE, ledger.with_row_index("row_number"))
    deals = queries.load_sql("attribution_trust_deals")
    con.execute("create or replace table " + TRUST_TABLE + " as " + deals, {"as_of": None})  # noqa: S608 - fixed name and file


def _sql(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> pl.DataFrame:
    """A SQL output by its file (`queries.execute` would call the Python output of the same name)."""
    sql = queries.load_sql(name)
    return con.sql(sql, params={key: params.get(key) for key in queries.body_params(sql)}).pl()


def _default_view(con: duckdb.DuckDBPyConnection, as_of: date | None) -> bool:
    """As of data_as_of, on a database built with the stored tables."""
    if not USE_STORED:
        return False
    if not queries.has_tables(con, LEDGER_TABLE, TRUST_TABLE):
        return False
    if as_of is None:
        return True
    stored = con.sql("select max(try_cast(value as date)) from load_meta where key = 'data_as_of'").fetchall()[0][0]
    return as_of == stored
