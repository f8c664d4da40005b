"""Where credit moves between two attribution scenarios: from which partner (and quarter) to which.

This module owns matching, deal by deal, what one partner loses to what another gains when
the CFO switches from scenario A to scenario B. The credit itself is
`queries.attribution.credit.scenario_rows` (the Attribution page's whole cents); the page's "Compare
two" tab and the scenario workbook's Moves sheet show the result.

Per won deal closed in the period, each party holds whole cents under A and under B: every
partner the filters keep, booked in a fiscal quarter, and "not credited (direct)", the
deal's revenue no partner shown is credited with (booked in the close quarter). Both sides
add up to the deal's revenue, so what the losers give up equals what the gainers take. The
losses are matched to the gains largest first (ties by partner id, then quarter), which
splits no cent; with one loser or one gainer, the usual case, it is the only answer.
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from queries.attribution import credit as attribution
from queries.attribution import scenarios

DIRECT = "Not credited (direct)"
PARTY = ["party_id", "party_name", "fiscal_quarter"]
MOVE_SCHEMA = {
    "from_partner_id": pl.String,
    "from_partner_name": pl.String,
    "from_quarter": pl.String,
    "to_partner_id": pl.String,
    "to_partner_name": pl.String,
    "to_quarter": pl.String,
    "credit": pl.Float64,
    "deals": pl.UInt32,
}


def attribution_moves(
    con: duckdb.DuckDBPyConnection,
    scenario_a: str = '{"model": "linear"}',
    scenario_b: str = '{"model": "time_decay"}',
    start_date: date | None = None,
    end_date: date | None = None,
    regions: list[str] | None = None,
    tiers: list[str] | None = None,
    partner_types: list[str] | None = None,
    managers: list[str] | None = None,
) -> pl.DataFrame:
    """Credit that scenario B books to another partner or quarter than scenario A does, from whom to whom.

    Grain: one row per from partner x from quarter x to partner x to quarter
    Money: none
    Scope: partner

    A partner id left empty is the revenue not credited to any partner shown ("Not credited
    (direct)"). For each partner, the credit moving in minus the credit moving out is its
    change in credit from A to B on the "Compare two" tab, to the cent.
    """
    filters = {"regions": regions, "tiers": tiers, "partner_types": partner_types, "managers": managers}
    rows = [scenarios.scenario_rows(con, scenario, start_date, end_date, **filters) for scenario in (scenario_a, scenario_b)]
    # Every deal either scenario credits, with its revenue: the direct remainder is taken from it on both sides.
    deals = pl.concat([r.select("opportunity_id", "amount", "close_date") for r in rows]).unique("opportunity_id")
    deals = deals.with_columns(
        revenue=(pl.col("amount").cast(pl.Float64) * 100).round(0).cast(pl.Int64),
        fiscal_quarter=attribution.quarter_labels(deals["close_date"], attribution.start_month(con)),
    )
    held = [deal_parties(r, deals).rename({"cents": side}) for r, side in zip(rows, ("a", "b"), strict=True)]
    keys = ["opportunity_id", *PARTY]
    both = (
        held[0]
        .join(held[1], on=keys, how="full", coalesce=True, nulls_equal=True)
        .with_columns(change=pl.col("b").fill_null(0) - pl.col("a").fill_null(0))
    )
    losers = interval_ends(both.filter(pl.col("change") < 0).with_columns(cents=-pl.col("change")))
    gainers = interval_ends(both.filter(pl.col("change") > 0).with_columns(cents=pl.col("change")))
    return match(losers, gainers)


def deal_parties(rows: pl.DataFrame, deals: pl.DataFrame) -> pl.DataFrame:
    """Whole cents per deal x party under one scenario, with the direct remainder of every deal in `deals`."""
    credited = rows.group_by("opportunity_id", "partner_id", "fiscal_quarter").agg(
        pl.col("partner_name").first(),
        (pl.col("credit").sum() * 100).round(0).cast(pl.Int64).alias("cents"),
    )
    direct = (
        deals.join(
            credited.group_by("opportunity_id").agg(pl.col("cents").sum().alias("credited")), on="opportunity_id", how="left"
        )
        .select(
            "opportunity_id",
            pl.lit(None, pl.String).alias("party_id"),
            pl.lit(DIRECT).alias("party_name"),
            "fiscal_quarter",
            (pl.col("revenue") - pl.col("credited").fill_null(0)).alias("cents"),
        )
        .filter(pl.col("cents") != 0)
    )
    named = credited.select(
        "opportunity_id",
        pl.col("partner_id").alias("party_id"),
        pl.col("partner_name").alias("party_name"),
        "fiscal_quarter",
        "cents",
    )
    return pl.concat([named, direct])


def interval_ends(side: pl.DataFrame) -> pl.DataFrame:
    """Each party's stretch [start, end) of its deal's moving cents, largest first."""
    ordered = side.sort(
        "opportunity_id", "cents", "party_id", "fiscal_quarter", descending=[False, True, False, False], nulls_last=True
    )
    return (
        ordered.with_columns(end=pl.col("cents").cum_sum().over("opportunity_id"))
        .with_columns(start=pl.col("end") - pl.col("cents"))
        .select("opportunity_id", *PARTY, "start", "end")
    )


def match(losers: pl.DataFrame, gainers: pl.DataFrame) -> pl.DataFrame:
    """Lay each deal's losses and gains side by side on one line of cents and pair what overlaps."""
    if losers.is_empty():
        return pl.DataFrame(schema=MOVE_SCHEMA)
    cuts = (
        pl.concat([losers.select("opportunity_id", "end"), gainers.select("opportunity_id", "end")])
        .unique()
        .sort("opportunity_id", "end")
        .with_columns(start=pl.col("end").shift(1, fill_value=0).over("opportunity_id"))
        .filter(pl.col("end") > pl.col("start"))
        .sort("start")
    )

    def party_at(side: pl.DataFrame, prefix: str) -> pl.DataFrame:
        return (
            side.sort("start")
            .rename(
                {
                    "party_id": f"{prefix}_partner_id",
                    "party_name": f"{prefix}_partner_name",
                    "fiscal_quarter": f"{prefix}_quarter",
                }
            )
            .drop("end")
        )

    # Sorted by start above; with `by` polars cannot check that itself.
    pieces = cuts.join_asof(party_at(losers, "from"), on="start", by="opportunity_id", check_sortedness=False)
    pieces = pieces.sort("start").join_asof(party_at(gainers, "to"), on="start", by="opportunity_id", check_sortedness=False)
    moves = pieces.group_by(*[c for c in MOVE_SCHEMA if c not in ("credit", "deals")]).agg(
        ((pl.col("end") - pl.col("start")).sum() / 100).alias("credit"), pl.col("opportunity_id").n_unique().alias("deals")
    )
    return moves.sort(
        ["credit", "from_partner_id", "to_partner_id", "from_quarter", "to_quarter"],
        descending=[True, False, False, False, False],
        nulls_last=True,
    ).cast(MOVE_SCHEMA)
