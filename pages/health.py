"""Program health: is the partner program healthy? Every KPI of docs/design.md against the previous
period (to date while the period is not over), its trend by fiscal quarter, a breakdown by partner
dimension, and the tier check."""

from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

import queries
import state
import ui
from charts import MODEL_COLORS
from charts import health as charts
from charts import health_score as health_charts
from queries import glossary
from queries.program.kpi_definitions import SECTIONS, definition
from queries.program.kpis import COMPARISONS, DIMENSIONS

FORMATS = {"share": "percent", "money": "dollar", "days": "%.0f", "count": "localized", "ratio": "%.1fx"}
TIER_COLUMNS = {
    "partner_name": "Partner",
    "partner_types": "Types",
    "region": "Region",
    "partner_manager": "Manager",
    "held_tier": "Held tier",
    "qualified_tier": "Qualifies for",
    "standing": "Standing",
    "won_deals_12m": st.column_config.NumberColumn("Won deals (12 mo)", format="%d"),
    "sourced_revenue_12m": ui.money_column("Sourced revenue (12 mo)"),
    "certifications": st.column_config.NumberColumn("Certifications", format="%d"),
    "reason": st.column_config.TextColumn("Why", width="large"),
    "credit_12m": ui.money_column("Credit (12 mo)", help=glossary.tooltip("plan_credit")),
    "held_rate": st.column_config.NumberColumn("Held rate", format="percent"),
    "qualified_rate": st.column_config.NumberColumn("Qualified rate", format="percent"),
    "payout_difference": ui.money_column("Payout difference", help=glossary.tooltip("payout_difference")),
}
WIN_MODEL_COLUMNS = {
    "fiscal_quarter": "Held-out quarter",
    "quarter_start": None,
    "trained_through": st.column_config.DateColumn("Trained through", format=ui.DATE_FORMAT),
    "train_rows": st.column_config.NumberColumn("Training rows", format="localized"),
    "partners": st.column_config.NumberColumn("Partners", format="localized"),
    "won": st.column_config.NumberColumn("Won a deal", format="localized"),
    "auc_model": st.column_config.NumberColumn("AUC, model", format="%.2f", help=glossary.tooltip("win_model_auc")),
    "auc_baseline": st.column_config.NumberColumn("AUC, won last quarter", format="%.2f"),
    "brier_model": st.column_config.NumberColumn("Brier, model", format="%.3f", help=glossary.tooltip("brier_score")),
    "brier_baseline": st.column_config.NumberColumn("Brier, won last quarter", format="%.3f"),
    "model_shown": st.column_config.CheckboxColumn("Model shown"),
}

filters = ui.current_filters()
st.title("Program health")
choices = st.columns(2)
model = choices[0].selectbox(
    "Attribution model for cost of channel and ROI",
    list(MODEL_COLORS),
    index=list(MODEL_COLORS).index("linear"),
    key="health_model",
    help="Partner-attributed revenue is each partner's credit under this model; the Glossary (under Help) defines each.",
)
state.seed_from_url(state.HEALTH_COMPARE, "to_date", lambda raw: raw[-1] if raw[-1] in COMPARISONS else "to_date")
compare = (
    choices[1].segmented_control(
        "Compare a period not over yet with",
        list(COMPARISONS),
        format_func=lambda mode: COMPARISONS[mode].capitalize(),
        key=state.HEALTH_COMPARE,
        help=glossary.tooltip("period"),
    )
    or "to_date"
)
state.to_url(state.HEALTH_COMPARE, compare, "to_date")
params = filters.params()
with st.spinner("Computing the KPIs..."):
    kpis = queries.run("program_kpis", **params, model=model, compare=compare)
if kpis.height:  # which dates the cards compare
    dates = kpis.row(0, named=True)
    st.caption(
        charts.comparison_caption(
            dates["start_date"],
            dates["end_date"],
            dates["previous_start_date"],
            dates["previous_end_date"],
            dates["in_progress"],
            compare,
        )
        + " Hover a card's ⓘ for its definition."
    )

for section in SECTIONS:
    rows = kpis.filter(pl.col("section") == section)
    if rows.is_empty():
        continue
    st.subheader(section)
    cards = st.columns(max(4, rows.height) if section == "Tier mix" else 4)
    for i, row in enumerate(rows.iter_rows(named=True)):
        card = cards[i % len(cards)]
        if row["needs"]:
            card.metric(row["label"], "n/a", help=row["definition"])
            card.caption(f"Needs the **{row['needs']}** extract.")
            continue
        card.metric(
            row["label"],
            charts.format_value(row["value"], row["unit"], ui.currency()),
            delta=charts.format_change(row["value"], row["previous_value"], row["unit"], ui.currency()),
            delta_color=charts.change_color(
                row["value"], row["previous_value"], row["unit"], definition(row["kpi"]).higher_is_better
            ),
            delta_arrow="off" if charts.no_change(row["value"], row["previous_value"], row["unit"]) else "auto",
            help=row["definition"],
        )
        if row["partner_value"] is not None or row["direct_value"] is not None:
            card.caption(
                f"Partner {charts.format_value(row['partner_value'], row['unit'], ui.currency())} · "
                f"direct {charts.format_value(row['direct_value'], row['unit'], ui.currency())}"
            )

st.subheader("Trend by fiscal quarter")
computable = kpis.filter(pl.col("needs").is_null())
labels = dict(zip(computable["label"], computable["kpi"], strict=True))
if labels:
    choice = st.selectbox("KPI", list(labels), key="health_trend_kpi")
    with st.spinner("Computing the quarters..."):
        trend = queries.run("kpi_trend_by_quarter", **params, model=model, compare=compare)
    st.plotly_chart(charts.kpi_trend(trend, labels[choice], ui.currency()), width="stretch")
else:
    st.info("No KPI can be computed from the loaded extracts. Load partners and opportunities on the Data page.")

st.subheader("Breakdown")
if ui.needs("partners"):
    dimension = (
        st.segmented_control(
            "Split by", list(DIMENSIONS), format_func=DIMENSIONS.get, default="partner_type", key="health_dimension"
        )
        or "partner_type"
    )
    breakdown = queries.run("kpi_breakdown", **params, dimension=dimension, model=model)
    formats = FORMATS | {"money": ui.money_format()}  # amounts in the reporting currency, as on the cards
    ui.table(
        breakdown,
        f"kpis_by_{dimension}.csv",
        column_config={dimension: DIMENSIONS[dimension]}
        | {
            row["kpi"]: st.column_config.NumberColumn(row["label"], help=row["definition"], format=formats[row["unit"]])
            for row in kpis.iter_rows(named=True)
        },
        empty="No partners match these filters. Clear a sidebar filter to see the breakdown.",
    )
    st.caption(
        "Win rate, deal size and cycle length are for partner-involved deals; a deal counts in every group of its partners."
        + (f" Counted to {dates['end_date']:%Y-%m-%d}, as on the cards." if kpis.height and dates["in_progress"] else "")
    )

st.subheader("Tier check")
as_of = min(filters.end_date, filters.as_of or date.today())
check = queries.run(
    "tier_check", **{k: v for k, v in params.items() if k not in ("start_date", "end_date", "as_of")}, as_of=as_of
)
if check.is_empty():
    st.info("The tier check needs the **partners** extract, and partners matching the filters.")
else:
    higher = check.filter(pl.col("standing") == "higher")
    lower = check.filter(pl.col("standing") == "lower")
    cards = st.columns(3)
    cards[0].metric("Qualify for a higher tier", f"{higher.height:,}", help=glossary.tooltip("tier_standing"))
    cards[1].metric("Qualify only for a lower tier", f"{lower.height:,}", help=glossary.tooltip("tier_standing"))
    if "payout_difference" in check.columns:  # a money column: absent for a viewer without money access
        cards[2].metric(
            "Payout difference from held tiers",
            charts.format_value(float(check["payout_difference"].cast(pl.Float64).sum()), "money", ui.currency()),
            help=glossary.tooltip("payout_difference"),
        )
    st.caption(f"Trailing 12 months to {as_of:%Y-%m-%d}; rules from the settings (tier_rules).")
    # The chart pictures the cards and the table: collapsed, it is not sent until opened (a chart
    # costs a new tab a fixed few tenths of a second in the browser).
    tier_chart = ui.expander(
        "Chart: partners per held tier, by the tier the rules say", state.HEALTH_TIER_CHART, ":material/bar_chart:"
    )
    if tier_chart.open:
        tier_chart.plotly_chart(charts.tier_standing(check, queries.run("filter_options")["tiers"][0].to_list()), width="stretch")
    ui.table(
        check.filter(pl.col("standing") != "as held"),
        "tier_check.csv",
        column_config=TIER_COLUMNS,
        empty="Every partner holds the tier its last 12 months qualify for.",
    )

st.subheader("Partner health score", help=glossary.tooltip("health_score"))
health_scope = {k: v for k, v in params.items() if k not in ("start_date", "end_date", "as_of")}
with st.spinner("Scoring partners..."):
    health = queries.run("partner_health", **health_scope, as_of=as_of)
    movers = queries.run("partner_health_movers", **health_scope, as_of=as_of)
win_check = queries.run("win_model_evaluation").filter(pl.col("fiscal_quarter") == "all held-out")
if health.is_empty():
    st.info("No partner is on the books on this day in these filters. Clear a sidebar filter to see scores.")
else:
    cards = st.columns(3)
    cards[0].metric("Median health score", f"{health['health_score'].median():.0f}", help=glossary.tooltip("health_score"))
    cards[1].metric(
        "Scores resting mostly on the segment",
        f"{int((health['history_share'] < 0.5).sum()):,}",
        "under 50% own history",
        delta_color="off",
        delta_arrow="off",
        help=glossary.tooltip("history_share"),
    )
    if not win_check.is_empty() and win_check["auc_model"][0] is not None:
        auc, base = win_check["auc_model"][0], win_check["auc_baseline"][0] or 0.5
        cards[2].metric(
            "Win model AUC, held-out quarters",
            f"{auc:.2f}",
            f"{auc - base:+.2f} vs won-last-quarter",
            help=glossary.tooltip("win_model_auc"),
        )
    st.caption(
        f"Scores on {as_of:%Y-%m-%d}; moves against {movers['compared_with'][0] if movers.height else 'a quarter earlier'}."
    )
    mover_columns = {
        "partner_name": "Partner",
        "health_score": st.column_config.ProgressColumn(
            "Score", min_value=0, max_value=100, format="%.0f", help=glossary.tooltip("health_score")
        ),
        "score_before": st.column_config.ProgressColumn("A quarter ago", min_value=0, max_value=100, format="%.0f"),
        "change": st.column_config.NumberColumn("Change", format="%+.1f"),
        "moved_most_by": st.column_config.TextColumn("Moved most by", help="The component whose weighted change was largest."),
    }
    shown = ["partner_id", "partner_name", "health_score", "score_before", "change", "moved_most_by"]
    # One at a time, the fallers first (the ones to act on): a closed tab is not sent (ui.tabs).
    down, up, spread = ui.tabs(
        ["Moved down since last quarter", "Moved up since last quarter", "How the scores spread"], state.HEALTH_SCORES
    )
    if spread.open:
        spread.plotly_chart(health_charts.score_histogram(health), width="stretch")
    if down.open:
        with down:
            ui.table(
                movers.filter(pl.col("change") < 0).sort("change").head(10).select(shown),
                "health_movers_down.csv",
                mover_columns,
                empty="No partner's score fell since last quarter.",
            )
    if up.open:
        with up:
            ui.table(
                movers.filter(pl.col("change") > 0).head(10).select(shown),
                "health_movers_up.csv",
                mover_columns,
                empty="No partner's score rose since last quarter.",
            )
    calibration = ui.expander(
        "P(won deal next quarter): calibration against the baseline", state.HEALTH_CALIBRATION, ":material/analytics:"
    )
    if calibration.open:
        with calibration:
            st.plotly_chart(health_charts.calibration(queries.run("win_model_calibration")), width="stretch")
            st.caption(
                "Each past quarter predicted by a model trained only on the quarters before it. "
                + (
                    "The model beats the baseline and is shown."
                    if health["p_won_next_quarter"].is_not_null().any()
                    else "The model does not beat 'won a deal last quarter', so its probabilities are hidden."
                )
            )
            ui.table(queries.run("win_model_evaluation"), "win_model_evaluation.csv", WIN_MODEL_COLUMNS)
