"""Partner statement (finance): one partner's deals credited in the sidebar's period under the
commission plan's model, their commission, payouts by status, what is owed and when, and the
open disagreements involving them. Printable (the print styles leave the sidebar and buttons
out), and downloadable as Excel and CSV. Opened from Partner 360 or by `?partner=ID`."""

from __future__ import annotations

import polars as pl
import streamlit as st

import queries
import state
import ui
from queries import glossary, workbook
from queries.formatting import money as money_in
from queries.partner import statement

# On paper: the statement alone, no sidebar, header, buttons or partner picker.
PRINT_CSS = """
<style>
@media print {
  [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
  [data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stStatusWidget"],
  .st-key-statement_actions, .st-key-statement_partner { display: none !important; }
  [data-testid="stMain"] { margin-left: 0 !important; }
  [data-testid="stMainBlockContainer"] { padding: 0 !important; max-width: 100% !important; }
  [data-testid="stTable"] tr { break-inside: avoid; }
  @page { margin: 14mm 12mm; }
}
</style>
"""
PRINT_BUTTON = """
<button type="button" onclick="window.print()" title="Opens the browser's print dialog: choose a printer, or Save as PDF"
  style="font: inherit; padding: 0.25rem 0.75rem; border-radius: 0.5rem; border: 1px solid rgba(49, 51, 63, 0.2);
  background: transparent; color: inherit; cursor: pointer;">Print or save as PDF</button>
"""
DEALS = ["opportunity_id", "account_name", "close_date", "revenue", "weight", "credit", "rate", "commission"]
OWED = ["opportunity_id", "close_date", "commission", "paid", "owed", "due_date", "status"]
PAYOUTS = ["payout_id", "payout_type", "period", "opportunity_id", "status", "paid_at", "amount"]
DISAGREEMENTS = ["kind_label", "opportunity_id", "amount_at_stake", "detail"]

filters = ui.current_filters()
st.title("Partner statement")
st.html(PRINT_CSS)
if not ui.needs("partners"):
    st.stop()

scope = {key: filters.params()[key] for key in ("regions", "tiers", "partner_types", "managers")}
choices = queries.run("partner_search", **scope)
labels = dict(zip(choices["partner_id"], choices["label"], strict=True))
link = state.STATEMENT
linked = link.linked()
if linked and linked not in labels:  # a link names the partner, even one outside the sidebar filters
    extra = queries.run("partner_search", search=linked).filter(pl.col("partner_id") == linked)
    labels = dict(zip(extra["partner_id"], extra["label"], strict=True)) | labels
if linked and linked not in labels:
    st.warning(
        f"The link names partner {linked}, which the loaded data does not have. Choose one below.", icon=":material/link_off:"
    )
else:
    link.follow(linked)
partner_id = st.selectbox(
    "Partner",
    list(labels),
    format_func=labels.get,
    index=None,
    key=link.widget,
    placeholder="Type a partner's name or id",
)
if not partner_id:
    st.info("Choose a partner above, or open one's statement from Partner 360.", icon=":material/receipt_long:")
    st.stop()
link.show(partner_id)

doc = statement.gather(queries.run, partner_id, filters.start_date, filters.end_date)
if doc is None:
    st.warning(f"No partner with id {partner_id} in the loaded data.", icon=":material/person_off:")
    st.stop()
totals, partner, money = doc.totals, doc.partner, lambda value: money_in(value, doc.currency, "cents", missing="—")
st.header(partner["partner_name"])
st.caption(
    f"{partner['partner_id']} · {', '.join(partner['partner_types'] or [])} · {(partner['tier'] or 'no tier').capitalize()}"
    f" · manager {partner['partner_manager'] or 'none'}  \n"
    f"Deals closed **{doc.start_date:%Y-%m-%d} to {doc.end_date:%Y-%m-%d}** · plan: {doc.describe_plan()} · "
    f"amounts in {doc.currency} · data as of {doc.data_as_of or 'unknown'} · made {doc.made_on:%Y-%m-%d}"
)

with st.container(key="statement_actions", horizontal=True):
    st.html(PRINT_BUTTON, unsafe_allow_javascript=True, width="content")
    st.download_button(
        "Excel",
        lambda: workbook.statement_workbook(doc),
        file_name=f"{doc.file_stem()}.xlsx",
        mime=workbook.XLSX,
        icon=":material/download:",
        on_click="ignore",
    )
    for part, frame in (("deals", doc.deals), ("payouts", doc.payouts), ("disagreements", doc.disagreements)):
        ui.download(frame, f"{doc.file_stem()}_{part}.csv", label=f"CSV: {part}")

with st.container(horizontal=True, gap="large"):  # each card as wide as its amount, to the cent
    for label, key, term in (
        ("Credit", "credit", "plan_credit"),
        ("Commission", "commission", "commission"),
        ("Paid", "paid", "commission_paid"),
        ("Owed", "owed", "commission_owed"),
        ("Of which overdue", "overdue", "commission_owed"),
    ):
        st.metric(label, money(totals[key]), help=glossary.tooltip(term), width="content")

st.subheader(f"Deals credited under the plan ({doc.plan['model'].replace('_', ' ')})", help=glossary.tooltip("commission"))
if doc.deals.is_empty():
    st.info("No won deal closed in this period credits this partner under the plan's model. Widen the period in the sidebar.")
else:
    st.table(statement.readable(doc.deals, DEALS, doc.currency, total=["revenue", "credit", "commission"]), hide_index=True)

st.subheader("What is owed and when", help=glossary.tooltip("commission_owed"))
owed = doc.owed()
terms = doc.plan["payment_terms_days"]
if owed.is_empty():
    st.success(
        f"Nothing is owed on this period's deals: commission is due {terms} days after a deal closes.", icon=":material/check:"
    )
else:
    due = f"; the next falls due on {totals['next_due']:%Y-%m-%d}" if totals["next_due"] else ""
    owing = f"{money(totals['owed'])} owed, {money(totals['overdue'])} of it overdue{due}"
    st.caption(f"{owing}. Commission is due {terms} days after a deal closes.")
    st.table(statement.readable(owed, OWED, doc.currency, total=["commission", "paid", "owed"]), hide_index=True)

st.subheader("Payouts in the period, by status", help=glossary.tooltip("partner_payouts"))
st.table(statement.readable(doc.by_status(), ["status", "payouts", "amount"], doc.currency, total=["amount"]), hide_index=True)
if not doc.payouts.is_empty():
    st.table(statement.readable(doc.payouts, PAYOUTS, doc.currency, total=["amount"]), hide_index=True)

st.subheader("Open disagreements involving this partner", help=glossary.tooltip("disagreement"))
if doc.disagreements.is_empty():
    st.success("The CRM, deal registrations, credit and payouts agree on this partner.", icon=":material/handshake:")
else:
    st.caption(f"{totals['disagreements']} open, {money(totals['at_stake'])} at stake, as of {doc.data_as_of or 'today'}.")
    st.table(statement.readable(doc.disagreements, DISAGREEMENTS, doc.currency), hide_index=True)
