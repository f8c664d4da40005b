"""Disagreements: where the CRM, deal registrations, the plan's credit and payouts disagree, the
money at stake, the evidence on each deal, and whether the data is getting more trustworthy."""

from __future__ import annotations

import polars as pl
import streamlit as st

import queries
import state
import ui
from charts import disagreements as charts
from queries import glossary

DEALS_LISTED = 200  # deals offered in the evidence's list; any other is typed

filters = ui.current_filters()
st.title("Disagreements")
if not ui.needs("opportunities"):
    st.stop()

scope = {key: value for key, value in filters.params().items() if key not in ("start_date", "end_date")}
plan = queries.run("disagreement_plan").row(0, named=True)
terms, model = plan["payment_terms_days"], plan["model"]
tolerance = f"{plan['tolerance_pct']:g}% (at least {ui.money(plan['tolerance_min'])})"
st.caption(
    f"As of **{filters.as_of:%Y-%m-%d}**: nothing registered, decided, paid or closed later counts. "
    f"Plan: {model} credit x commission rate, payment terms {terms} days after close, tolerance {tolerance}. "
    "The sidebar's region, tier, type and manager filters apply; its period does not."
)
complete = ui.needs("deal_registrations", "touchpoints", "payouts")

with st.spinner("Checking every deal, registration and payout..."):
    ledger = queries.run("attribution_disagreements", **scope)

totals = dict(ledger.group_by("kind").agg(pl.col("amount_at_stake").sum()).iter_rows())
counts = dict(ledger.group_by("kind").len().iter_rows())
cards = [*st.columns(4), *st.columns(4)]
for column, kind in zip(cards[:3] + cards[4:], charts.KIND_LABELS, strict=True):
    column.metric(
        charts.KIND_LABELS[kind],
        ui.money(float(totals.get(kind) or 0)),
        f"{counts.get(kind, 0):,} cases",
        delta_color="off",
        delta_arrow="off",
        help=glossary.tooltip(kind),
    )
cards[3].metric(
    "Total at stake",
    ui.money(float(ledger["amount_at_stake"].sum() or 0)),
    f"{ledger.height:,} cases",
    delta_color="off",
    delta_arrow="off",
    help=glossary.tooltip("amount_at_stake"),
)

st.subheader("Ledger")
if ledger.is_empty() and state.no_partner_match():
    ui.nothing_matches("No disagreement to show.", key="disagreements")
elif ledger.is_empty() and not complete:
    st.info("No disagreement in the extracts loaded; the missing ones named above may hold some.", icon=":material/info:")
elif ledger.is_empty():
    st.success(
        "No disagreements as of this date: the CRM, registrations, credit and payouts agree for these partners.",
        icon=":material/check_circle:",
    )
else:
    kind_col, partner_col, quarter_col = st.columns(3)
    kinds = kind_col.multiselect(
        "Kind", list(charts.KIND_LABELS), format_func=charts.KIND_LABELS.get, key="disagreements_kind", placeholder="All"
    )
    partners = partner_col.multiselect(
        "Partner", ledger["partner_name"].unique().sort().to_list(), key="disagreements_partner", placeholder="All"
    )
    quarters = quarter_col.multiselect(
        "Fiscal quarter",
        ledger["fiscal_quarter"].drop_nulls().unique().sort(descending=True).to_list(),
        key="disagreements_quarter",
        placeholder="All",
    )
    shown = ledger.filter(
        pl.col("kind").is_in(kinds or list(charts.KIND_LABELS)),
        pl.col("partner_name").is_in(partners) if partners else pl.lit(True),
        pl.col("fiscal_quarter").is_in(quarters) if quarters else pl.lit(True),
    )
    ui.table(
        shown,
        "disagreements.csv",
        column_config={
            "kind": st.column_config.SelectboxColumn(
                "Kind",
                help="See the cards above for each kind's definition",
                options=list(charts.KIND_LABELS),
                format_func=charts.KIND_LABELS.get,
            ),
            "opportunity_id": "Deal",
            "partner_id": None,
            "partner_name": "Partner",
            "partner_manager": "Manager",
            "payout_id": "Payout",
            "registration_id": "Registration",
            "other_partner_id": st.column_config.TextColumn("Other partner", help="The partner on the other side"),
            "fiscal_quarter": st.column_config.TextColumn("Quarter", help="Fiscal quarter of the deal's close"),
            "amount_at_stake": ui.money_column("At stake", help=glossary.tooltip("amount_at_stake")),
            "detail": st.column_config.TextColumn("What disagrees", width="large"),
        },
        empty="No disagreement matches these filters. Clear the kind, partner or quarter filter to see more.",
    )

    st.subheader("Evidence on one deal")
    deals = (
        shown.drop_nulls("opportunity_id")
        .group_by("opportunity_id", maintain_order=True)
        .agg(pl.col("amount_at_stake").sum(), pl.col("kind").unique().sort())
    )
    if deals.is_empty():
        st.info("The rows shown name no deal.", icon=":material/info:")
    else:
        # The deals most at stake are listed (the ledger is sorted by amount at stake); any other is
        # typed: every deal of a large ledger was 430 kB of options sent on every run of the page.
        labels = {
            deal: f"{deal}: {ui.money(float(amount))} at stake ({', '.join(charts.KIND_LABELS[k] for k in kinds_of)})"
            for deal, amount, kinds_of in deals.head(DEALS_LISTED).iter_rows()
        }
        deal = st.selectbox(
            "Deal",
            list(labels),
            format_func=lambda deal: labels.get(deal, deal),
            key="disagreements_deal",
            accept_new_options=deals.height > DEALS_LISTED,
            help=f"The {DEALS_LISTED} deals most at stake in the rows shown are listed; type any other deal's id."
            if deals.height > DEALS_LISTED
            else None,
        )
        evidence = queries.run("disagreement_evidence", opportunity_id=deal, as_of=filters.as_of)
        config = {
            "partner_link": ui.partner_link_column(),
            "partner_name": "Partner",
            "reference": "Ref",
            "on_date": st.column_config.DateColumn("Date", format="YYYY-MM-DD"),
            "status": "Status",
            "amount": ui.money_column("Amount"),
            "note": "Note",
            "counts_as_of": st.column_config.CheckboxColumn("Counts", help="Dated on or before the as-of date"),
        }
        sides = {  # title: (sources, columns shown)
            "CRM": (["crm"], ["partner_name", "reference", "status", "amount", "note"]),
            "Registrations": (["registration"], ["partner_name", "reference", "on_date", "status", "note"]),
            "Touchpoints": (["touchpoint"], ["partner_name", "reference", "on_date", "status", "note"]),
            f"Credit ({model}) and payouts": (
                ["credit", "payout"],
                ["partner_name", "reference", "on_date", "status", "amount", "counts_as_of"],
            ),
        }
        columns = [*st.columns(2), *st.columns(2)]
        for column, (title, (sources, shown_columns)) in zip(columns, sides.items(), strict=True):
            column.markdown(f"**{title}**")
            part = evidence.filter(pl.col("source").is_in(sources))
            if part.is_empty():
                column.caption("None recorded.")
            else:
                column.dataframe(
                    ui.with_partner_link(part),
                    hide_index=True,
                    column_config=config,
                    column_order=["partner_link", *shown_columns],
                )
        ui.download(evidence, f"evidence_{deal}.csv", label="Download this deal's evidence")

st.subheader("Is the data getting more trustworthy?", help=glossary.tooltip("source_agreement"))
trust = queries.run("attribution_trust_by_quarter", **scope)
if trust.is_empty():
    st.info("No won deal names a partner yet, so there is nothing to compare.", icon=":material/info:")
else:
    st.plotly_chart(charts.trust_by_quarter(trust, ui.currency()))
    ui.table(
        trust,
        "attribution_trust_by_quarter.csv",
        column_config={
            "fiscal_quarter": "Quarter",
            "partner_deals": st.column_config.NumberColumn("Partner deals", format="localized"),
            "partner_revenue": ui.money_column("Partner revenue", help=glossary.tooltip("source_agreement")),
            "agreed_revenue": ui.money_column("All three agree", help=glossary.tooltip("source_agreement")),
            "partial_revenue": ui.money_column("No contradiction", help=glossary.tooltip("source_agreement")),
            "conflicting_revenue": ui.money_column("Contradict", help=glossary.tooltip("source_agreement")),
            "agreed_share": st.column_config.ProgressColumn(
                "Agree", format="percent", min_value=0, max_value=1, help=glossary.tooltip("source_agreement")
            ),
            "conflicting_share": st.column_config.NumberColumn("Contradict", format="percent"),
        },
    )
