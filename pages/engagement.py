"""Engagement & burnout: which of my partners are going quiet, burning out, back, or putting money at risk."""

from datetime import date

import polars as pl
import streamlit as st

import outreach
import queries
import state
import ui
from charts import engagement as charts
from charts.health_score import COMPONENT_LABELS
from queries import glossary

filters = ui.current_filters()
st.title("Engagement & burnout")
if not ui.needs("partners", "partner_activities"):
    st.stop()

state.seed_from_url(state.ENGAGEMENT_AS_OF, filters.as_of, lambda raw: min(date.fromisoformat(raw[-1]), filters.as_of))
as_of = st.sidebar.date_input(
    "Signals as of",
    key=state.ENGAGEMENT_AS_OF,
    max_value=filters.as_of,
    format="YYYY-MM-DD",
    help=glossary.tooltip("as_of"),
)
state.to_url(state.ENGAGEMENT_AS_OF, as_of.isoformat(), filters.as_of.isoformat())
scope = {
    "as_of": as_of,
    "managers": filters.managers,
    "regions": filters.regions,
    "tiers": filters.tiers,
    "partner_types": filters.partner_types,
}
who = ", ".join(filters.managers) if filters.managers else "all managers (narrow it in the sidebar)"
st.caption(f"Partners of **{who}**, as of **{as_of:%Y-%m-%d}**. Each name opens Partner 360.")

with st.spinner("Scoring partners..."):
    signals = queries.run("partner_signals", **scope)
if signals.is_empty():
    ui.nothing_matches("No partners match these filters.", key="engagement")
    st.stop()
# The last contact and next step due from the outreach log, for the roles that keep one.
signals = outreach.with_last_contact(signals)
contact = ["last_contact_on", "next_step_due"]
lists = {
    "At risk": (
        "at_risk",
        ["at_risk_reasons", *contact, "open_pipeline", "unpaid_credit", "days_since_activity", "burnout_signals"],
    ),
    "Dormant": (
        "is_dormant",
        ["last_activity_at", "days_since_activity", *contact, "p_alive", "expected_activities_90d", "open_pipeline"],
    ),
    "Overdue": ("is_overdue", ["days_since_activity", "usual_gap_days", "is_dormant", "p_alive", "engagement_score"]),
    "Burning out": (
        "burnout_risk",
        ["burnout_signal_count", "burnout_signals", *contact, "activity_fall_p", "engagement_score", "open_pipeline"],
    ),
    "Returned": ("returned", ["returned_at", "gap_before_return_days", "engagement_score", "open_pipeline"]),
}
columns = st.columns(len(lists) + 1)
columns[0].metric("Partners", signals.height, help=glossary.tooltip("partners_on_books"))
for column, (label, (flag, _)) in zip(columns[1:], lists.items(), strict=True):
    column.metric(label, int(signals[flag].sum()), help=glossary.tooltip(flag))

config = {
    "partner_name": st.column_config.TextColumn("Partner"),
    "partner_manager": st.column_config.TextColumn("Manager"),
    "engagement_score": st.column_config.ProgressColumn(
        "Engagement", min_value=0, max_value=100, format="%.0f", help=glossary.tooltip("engagement_score")
    ),
    "p_alive": st.column_config.ProgressColumn(
        "P(still engaged)", min_value=0, max_value=1, format="percent", help=glossary.tooltip("p_alive")
    ),
    "expected_activities_90d": st.column_config.NumberColumn(
        "Expected active days, next 90", format="%.1f", help=glossary.tooltip("expected_activities_90d")
    ),
    "open_pipeline": ui.money_column("Open pipeline", help=glossary.tooltip("open_pipeline")),
    "open_deals": st.column_config.NumberColumn("Open deals", format="%d"),
    "unpaid_credit": ui.money_column("Unpaid commission", help=glossary.tooltip("unpaid_credit")),
    "last_activity_at": st.column_config.DatetimeColumn("Last activity", format=ui.DATE_FORMAT),
    "returned_at": st.column_config.DateColumn("Returned on", format=ui.DATE_FORMAT),
    "is_dormant": st.column_config.CheckboxColumn("Dormant", help=glossary.tooltip("is_dormant")),
    "is_overdue": st.column_config.CheckboxColumn("Overdue", help=glossary.tooltip("is_overdue")),
    "burnout_risk": st.column_config.CheckboxColumn("Burning out", help=glossary.tooltip("burnout_risk")),
    "returned": st.column_config.CheckboxColumn("Returned", help=glossary.tooltip("returned")),
    "at_risk": st.column_config.CheckboxColumn("At risk", help=glossary.tooltip("at_risk")),
    "as_of": None,  # the page's as-of day, said above the tables
    "days_since_activity": st.column_config.NumberColumn("Days quiet", format="%d"),
    "usual_gap_days": st.column_config.NumberColumn("Usual gap (days)", format="%.0f"),
    "burnout_signal_count": st.column_config.NumberColumn("Signals (severity)", format="%d"),
    "activity_fall_p": st.column_config.NumberColumn(
        "Activity fall p-value", format="%.4f", help=glossary.tooltip("activity_fall_p")
    ),
    "burnout_signals": st.column_config.TextColumn("Burnout signals (last window against the usual rate)", width="large"),
    "at_risk_reasons": st.column_config.TextColumn("Why at risk", width="large"),
    "gap_before_return_days": st.column_config.NumberColumn("Gap before return (days)", format="%d"),
    **outreach.LIST_COLUMNS,
}
tabs = ui.tabs(
    [f"{label} ({int(signals[flag].sum())})" for label, (flag, _) in lists.items()] + ["All partners"], state.ENGAGEMENT_LIST
)
for tab, (label, (flag, shown)) in zip(tabs[:-1], lists.items(), strict=True):
    if not tab.open:
        continue
    with tab:
        st.caption(glossary.tooltip(flag))
        shown = [column for column in shown if column in signals.columns]
        rows = signals.filter(pl.col(flag)).select("partner_id", "partner_name", "partner_manager", *shown)
        if flag == "burnout_risk":  # the most signals (the most severe) first
            rows = rows.sort("burnout_signal_count", descending=True, maintain_order=True)
        ui.table(rows, f"partners_{flag}.csv", config, empty=f"No partner is {label.lower()} in these filters.")
if tabs[-1].open:
    with tabs[-1]:
        ui.table(signals.sort("engagement_score", descending=True), "partner_signals.csv", config)
outreach.download_log(key="engagement_outreach_csv")

st.subheader("Engagement by month", help=glossary.tooltip("engagement_score"))
monthly = queries.run("engagement_by_month", months=12, **scope)
st.plotly_chart(charts.engagement_heatmap(monthly), width="stretch")
st.caption("The 60 partners most engaged this month; the CSV has every partner.")
ui.download(monthly, "engagement_by_month.csv", key="engagement_monthly_csv")

st.subheader("Cohorts by join quarter")
curves = queries.run("cohort_curves", **scope)
# Secondary to the lists above: collapsed, the chart is not sent until opened.
cohort_chart = ui.expander(
    "Activation and survival curves by join quarter", state.ENGAGEMENT_COHORT_CHART, ":material/show_chart:"
)
if cohort_chart.open:
    cohort_chart.plotly_chart(charts.cohort_curves(curves), width="stretch")
    cohort_chart.caption(
        "Kaplan-Meier: partners still young are followed as long as they have been with us, not counted as failures."
    )
ui.download(curves, "cohort_curves.csv", key="engagement_cohorts_csv")

st.subheader("Health score", help=glossary.tooltip("health_score"))
health = queries.run("partner_health", **scope)
if not health.is_empty():
    with st.expander("Component weights: drag to re-rank", icon=":material/tune:"):
        sliders = st.columns(len(COMPONENT_LABELS))
        weights = {
            f"w_{part}": column.slider(label, 0, 100, round(health[f"{part}_weight"][0]), step=5, key=f"engagement_w_{part}")
            for column, (part, label) in zip(sliders, COMPONENT_LABELS.items(), strict=True)
        }
        st.caption("Weights are relative (the score divides by their sum); defaults from the settings' health_weights.")
    # The sliders start at the frame's own weights: only a moved slider needs a second query.
    defaults = {f"w_{part}": round(health[f"{part}_weight"][0]) for part in COMPONENT_LABELS}
    if sum(weights.values()) > 0 and weights != defaults:
        health = queries.run("partner_health", **scope, **weights)
    parts = [f"{part}_component" for part in COMPONENT_LABELS]
    bars = {"health_score": "Health score"} | {f"{part}_component": label for part, label in COMPONENT_LABELS.items()}
    ui.table(
        health.select(
            "partner_id", "partner_name", "partner_manager", "tier", "health_score", "history_share", "p_won_next_quarter", *parts
        ),
        "partner_health.csv",
        config
        | {
            name: st.column_config.ProgressColumn(label, min_value=0, max_value=100, format="%.0f", help=glossary.tooltip(name))
            for name, label in bars.items()
        }
        | {
            "history_share": st.column_config.ProgressColumn(
                "Rests on own history", min_value=0, max_value=1, format="percent", help=glossary.tooltip("history_share")
            ),
            "p_won_next_quarter": st.column_config.NumberColumn(
                "P(won deal next quarter)", format="percent", help=glossary.tooltip("p_won_next_quarter")
            ),
        },
    )
    if health["p_won_next_quarter"].is_null().all():
        st.caption("P(won deal next quarter) is hidden: the model does not beat 'won a deal last quarter' on held-out quarters.")
    st.caption(
        "Components are percentile ranks among all partners that day; young partners lean on their type and tier's average."
    )
