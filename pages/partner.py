"""Partner 360: one partner's profile, tier standing, timeline of everything it did, engagement,
deals, payouts, credit under each attribution model, health score and the outreach log (contacts
recorded with it). Opened by search or `?partner=ID`."""

from __future__ import annotations

import polars as pl
import streamlit as st

import outreach
import queries
import state
import ui
from charts import health_score as health_charts
from charts import partner as charts
from queries import glossary
from queries.attribution import credit as attribution

filters = ui.current_filters()
scope = {key: filters.params()[key] for key in ("regions", "tiers", "partner_types", "managers")}
st.title("Partner 360")
if not ui.needs("partners"):
    st.stop()

# A link (?partner=ID) chooses the partner, even one outside the sidebar filters.
link = state.PARTNER_360
linked = link.linked()
link.follow(linked)
choices = queries.run("partner_search", **scope)
labels = dict(zip(choices["partner_id"], choices["label"], strict=True))
if linked and linked not in labels:
    # Outside the sidebar filters, but never outside the viewer's own partners (the runner keeps a lead to theirs).
    extra = queries.run("partner_search", search=linked)
    extra = extra.filter(pl.col("partner_id") == linked)
    labels = dict(zip(extra["partner_id"], extra["label"], strict=True)) | labels
if not labels:
    st.info(
        "No partner matches the sidebar filters (or no partners extract is loaded). "
        "Clear a filter, or load partners on the Data page."
    )
    st.stop()
link.keep_if_in(labels)
partner_id = st.selectbox(
    "Partner",
    list(labels),
    format_func=labels.get,
    index=None,
    key=link.widget,
    placeholder="Type a partner's name or id",
    help="Search over partner names and ids.",
)
if not partner_id:
    st.info("Choose a partner above, or open one from any table's Partner 360 link.", icon=":material/person_search:")
    st.stop()
link.show(partner_id)

profile = queries.run("partner_profile", partner_id=partner_id)
if profile.is_empty():
    st.info("This partner is not in the loaded data, or not one of yours.", icon=":material/person_off:")
    st.stop()
profile = profile.row(0, named=True)
st.header(profile["partner_name"])
if ui.may("partner_statement"):  # the statement page is offered to the roles that may read statements
    view: dict[str, list[str]] = {}
    for key, value in ui.link_view():
        view.setdefault(key, []).append(value)
    st.page_link(
        "pages/statement.py",
        label="Statement: credit, commission, what is owed",
        icon=":material/receipt_long:",
        query_params={**view, state.PARTNER: partner_id},
    )
st.caption(
    f"{profile['partner_id']} · {', '.join(profile['partner_types'] or [])} · "
    f"{profile['country'] or ''} · joined {profile['joined_at']:%Y-%m-%d}"
    + (f" · terminated {profile['terminated_at']:%Y-%m-%d}" if profile["terminated_at"] else "")
)
cards = st.columns(4)
# Profile fields, not metrics: no definition to give (the tier has one).
cards[0].metric("Tier", (profile["tier"] or "n/a").capitalize(), help=glossary.tooltip("tier"))
cards[1].metric("Region", profile["region"] or "n/a")
cards[2].metric("Partner manager", profile["partner_manager"] or "none")
cards[3].metric("Status", profile["status"].capitalize())
cards = st.columns(4)
cards[0].metric(
    "Won deals",
    f"{profile['won_deals']:,}",
    help=glossary.tooltip("partner_won_deals"),
)
cards[1].metric("Won revenue", ui.money(float(profile["won_amount"])), help=glossary.tooltip("partner_won_revenue"))
cards[2].metric("Open pipeline", ui.money(float(profile["open_amount"])), help=glossary.tooltip("open_pipeline"))
if "payouts" in profile:  # a money column: absent for a viewer without money access
    cards[3].metric("Payouts", ui.money(float(profile["payouts"])), help=glossary.tooltip("partner_payouts"))

standing = queries.run("tier_check", partner_id=partner_id, as_of=filters.as_of)
if not standing.is_empty():
    row = standing.row(0, named=True)
    note = row["reason"] + (
        f" Payout difference from the held tier: {ui.money(float(row['payout_difference']))} over the last 12 months."
        if row.get("payout_difference")
        else ""
    )
    show = {"higher": st.success, "lower": st.warning}.get(row["standing"], st.info)
    show(f"**Tier check:** {note}", icon=":material/military_tech:")

st.subheader("Timeline and engagement")
# One chart at a time: each chart costs a new tab a fixed few tenths of a second in the browser.
timeline_tab, score_tab, activity_tab = ui.tabs(
    ["Everything this partner did", "Engagement score by month", "Activities by month"], state.PARTNER_CHARTS
)
if timeline_tab.open:
    timeline_tab.plotly_chart(
        charts.timeline(queries.run("partner_timeline", partner_id=partner_id), ui.currency()), width="stretch"
    )
if score_tab.open:
    with score_tab:
        scores = queries.run("engagement_by_month", as_of=filters.as_of, months=12, partner_id=partner_id)
        st.plotly_chart(charts.engagement_score(scores), width="stretch")
if activity_tab.open:
    with activity_tab:
        monthly = queries.run("partner_activity_by_month", partner_id=partner_id)
        if monthly.is_empty():
            st.info("No activity recorded for this partner (or no partner_activities extract is loaded).")
        else:
            st.plotly_chart(charts.activity_by_month(monthly), width="stretch")

st.subheader("Deals, payouts and credit")
deals = queries.run("partner_deals", partner_id=partner_id)
payouts = queries.run("partner_payouts", partner_id=partner_id)
# One table at a time: a closed tab's table is not sent (ui.tabs).
deals_tab, payouts_tab, credit_tab = ui.tabs(
    [f"Deals ({deals.height:,})", f"Payouts ({payouts.height:,})", "Credit under each attribution model"],
    state.PARTNER_DETAIL,
)
if deals_tab.open:
    with deals_tab:
        ui.table(
            deals,
            f"deals_{partner_id}.csv",
            column_config={
                "opportunity_id": "Deal",
                "account_name": "Account",
                "outcome": "Outcome",
                "stage": "Stage",
                "amount": ui.money_column("Amount"),
                "created_at": st.column_config.DateColumn("Created", format=ui.DATE_FORMAT),
                "close_date": st.column_config.DateColumn("Close date", format=ui.DATE_FORMAT),
                "involvement": st.column_config.TextColumn(
                    "This partner's part", help="How this partner took part: sourced it, touched it, or registered it (approved)."
                ),
                "sourced_partner_id": st.column_config.TextColumn(
                    "Sourced by", help="The partner id the CRM names as source (blank: none, or a partner you do not manage)"
                ),
            },
            empty="No deal involves this partner.",
        )
if payouts_tab.open:
    with payouts_tab:
        if "amount" not in payouts.columns:  # a money column: absent for a viewer without money access
            st.caption("Payout amounts are for finance, executives and admins.")
        ui.table(
            payouts,
            f"payouts_{partner_id}.csv",
            column_config={
                "payout_id": "Payout",
                "payout_type": "Type",
                "period": st.column_config.DateColumn("Period", format=ui.DATE_FORMAT),
                "amount": ui.money_column("Amount"),
                "status": "Status",
                "paid_at": st.column_config.DateColumn("Paid", format=ui.DATE_FORMAT),
                "opportunity_id": "Deal",
            },
            empty="No payout to this partner.",
        )
if credit_tab.open:
    with credit_tab:
        if "partner_credit_by_model" in queries.outputs():
            # The build says when its Markov chain was over partner groups (a program too large for the exact solve).
            markov_shown = ui.meta().get("markov_model", "markov")
            ui.table(
                queries.run("partner_credit_by_model", partner_id=partner_id),
                f"credit_by_model_{partner_id}.csv",
                column_config={
                    "model": st.column_config.SelectboxColumn(
                        "Model",
                        help="Each model is defined in the Glossary (under Help).",
                        options=attribution.MODELS,
                        format_func=lambda model: (
                            (markov_shown if model == "markov" else model).replace("_", " ").capitalize().replace("Crm ", "CRM ")
                        ),
                    ),
                    "credit": ui.money_column("Credit", help=glossary.tooltip("attribution")),
                    "deals": st.column_config.NumberColumn("Deals", format="%d"),
                },
                empty="No attributed credit for this partner.",
            )
        else:
            st.info("Credit by attribution model is coming with the attribution scenarios.", icon=":material/construction:")

st.subheader("Health score", help=glossary.tooltip("health_score"))
with st.spinner("Scoring the partner's last quarters..."):
    history = queries.run("partner_health_history", partner_id=partner_id, as_of=filters.as_of)
if history.is_empty():
    st.info("No health score: the partner was not on the books on these days (not joined yet, or terminated).")
else:
    now = history.row(-1, named=True)
    before = history.row(-2, named=True) if history.height > 1 else None
    cards = st.columns(4)
    cards[0].metric(
        "Health score",
        f"{now['health_score']:.0f}",
        f"{now['health_score'] - before['health_score']:+.1f} since {before['fiscal_quarter']} start" if before else None,
        help=glossary.tooltip("health_score"),
    )
    cards[1].metric("Rank", f"{now['rank']:,}", help=glossary.tooltip("health_rank"))
    cards[2].metric("Rests on own history", f"{now['history_share']:.0%}", help=glossary.tooltip("history_share"))
    cards[3].metric(
        "P(won deal next quarter)",
        f"{now['p_won_next_quarter']:.0%}" if now["p_won_next_quarter"] is not None else "hidden",
        help=glossary.tooltip("p_won_next_quarter"),
    )
    st.caption(
        f"Own history alone scores {now['observed_score']:.0f}; partners of its type and tier average "
        f"{now['segment_score']:.0f}. Components are percentile ranks among all partners on {now['scored_on']:%Y-%m-%d}."
    )
    # The cards above say the score; its parts and its quarters are a closer look: collapsed, the two
    # charts are not sent until opened (each chart costs a new tab a few tenths of a second).
    score_charts = ui.expander(
        "Charts: the score's five components, and the score at each quarter start",
        state.PARTNER_HEALTH_CHARTS,
        ":material/bar_chart:",
    )
    if score_charts.open:
        with score_charts:
            bars, lines = st.columns(2)
            bars.plotly_chart(health_charts.component_bars(now), width="stretch")
            lines.plotly_chart(health_charts.score_history(history), width="stretch")
    ui.download(history, f"health_history_{partner_id}.csv", key="partner_health_csv")

outreach.show_log(partner_id)
