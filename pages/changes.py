"""Pipeline changes: what changed in the pipeline between two dates (a waterfall from the
opening pipeline to the closing one, and the deals behind each bar), and how each method's
forecast for the quarter moved week by week.

A page of its own rather than a tab of Pipeline forecast: it answers the Monday question
("what changed since last week?") with its own dates, and the forecast page stays as fast as
it was (it runs no history)."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import streamlit as st

import queries
import state
import ui
from charts import changes as charts
from charts.forecast import SEGMENT_LABELS
from queries import fiscal, glossary
from queries.forecast import pipeline_changes as changes

st.title("Pipeline changes")
filters = ui.current_filters()
scope = {"regions": filters.regions, "tiers": filters.tiers, "partner_types": filters.partner_types, "managers": filters.managers}
if not ui.needs("opportunities"):
    st.stop()

start_month = int(ui.meta().get("fiscal_year_start_month") or 1)
as_of = filters.as_of
offered = changes.default_dates(as_of, start_month)
controls = st.columns([3, 3])
compare = (
    controls[0].segmented_control(
        "Compare",
        [*offered, "Two dates"],
        default="Last 7 days",
        key="changes_compare",
        help="The pipeline at the end of the first day against the pipeline at the end of the second.",
    )
    or "Last 7 days"
)
if compare == "Two dates":
    picked = controls[0].date_input(
        "From the end of, to the end of",
        value=offered["Last 7 days"],
        max_value=as_of,
        key="changes_dates",
        format="YYYY-MM-DD",
    )
    from_date, to_date = (picked[0], picked[1]) if len(picked) == 2 else offered["Last 7 days"]
else:
    from_date, to_date = offered[compare]
pipeline = (
    controls[1].segmented_control(
        "Pipeline",
        list(SEGMENT_LABELS),
        format_func=SEGMENT_LABELS.get,
        default="partner",
        key="changes_pipeline",
        help=glossary.tooltip("pipeline_segment"),
    )
    or "partner"
)

with st.spinner(f"Rebuilding the pipeline as of {from_date:%Y-%m-%d} and {to_date:%Y-%m-%d}..."):
    totals = queries.run("pipeline_change_totals", from_date=from_date, to_date=to_date, **scope)
    rows = queries.run("pipeline_changes", from_date=from_date, to_date=to_date, **scope)

current = fiscal.quarter_label(to_date, start_month)
offered_quarters = changes.quarters(totals) or [current]
quarter = st.selectbox(
    "Quarter in view",
    offered_quarters,
    index=offered_quarters.index(current) if current in offered_quarters else 0,
    key="changes_quarter",
    help="The fiscal quarter the deals were due to close in: a change counts in the quarter it changes.",
)
step = changes.waterfall(totals, quarter, pipeline).row(0, named=True)


def forecast_on(day: date, history: pl.DataFrame) -> float | None:
    """The historical method's expected amount for the quarter in view, as it stood at the end of `day`."""
    known = history.filter((pl.col("as_of") == day) & (pl.col("method") == "historical"))
    if known.height:
        return known["expected"][0]
    then = queries.run("pipeline_forecast", as_of=day, **scope).filter(
        (pl.col("segment") == pipeline) & (pl.col("fiscal_quarter") == quarter) & (pl.col("method") == "historical")
    )
    return then["expected"][0] if then.height else None


with st.spinner("Rebuilding the forecast as of each week of the quarter..."):
    history = queries.run("forecast_history", fiscal_quarter=quarter, segment=pipeline, **scope)
    before, after = forecast_on(from_date, history), forecast_on(to_date, history)
st.markdown("**" + changes.moved_sentence(pipeline, quarter, before, after, from_date, step) + "**")
st.caption(
    f"From the end of **{from_date:%Y-%m-%d}** to the end of **{to_date:%Y-%m-%d}** (data as of {as_of:%Y-%m-%d}), "
    "each deal rebuilt from its history. The forecast is the historical method's expected amount, won so far included. "
    "Region, tier, partner type and manager filters apply; the period does not."
)

st.plotly_chart(
    charts.waterfall(step, f"{SEGMENT_LABELS[pipeline]} due in {quarter}: opening to closing", ui.currency()), width="stretch"
)
if step["opening"] == 0 and step["closing"] == 0 and not any(step[kind] for kind in changes.CHANGE_KINDS):
    st.info(
        f"No pipeline of this kind was due in {quarter} on either day. Choose another quarter, pipeline or dates above.",
        icon=":material/info:",
    )

money_columns = {
    step_name: ui.money_column(label, help=glossary.tooltip(f"change_{step_name}")) for step_name, label in changes.STEPS.items()
}
by_labels = {"involvement": "Involvement", "partner_type": "Partner type", "region": "Region", "partner_manager": "Manager"}
by = st.segmented_control("Broken down by", list(by_labels), format_func=by_labels.get, default="involvement", key="changes_by")
by = by or "involvement"
ui.table(
    changes.waterfall(totals, quarter, pipeline, by=by),
    f"pipeline_changes_{quarter.replace(' ', '_')}_by_{by}.csv",
    {by: by_labels[by], "deals": st.column_config.NumberColumn("Deals", format="localized"), **money_columns},
    empty="No deal of this pipeline was due in this quarter on either day.",
)

st.subheader("The deals behind each bar", help=glossary.tooltip("pipeline_change"))
in_view = rows.filter((pl.col("fiscal_quarter") == quarter) & pl.col("involvement").is_in(list(changes.PIPELINES[pipeline])))
counts = dict(in_view.group_by("change_kind").len().iter_rows())
kind = st.selectbox(
    "Change",
    list(changes.CHANGE_KINDS),
    format_func=lambda k: f"{changes.CHANGE_KINDS[k]} ({counts.get(k, 0):,} deals)",
    key="changes_kind",
    help=glossary.tooltip("pipeline_change"),
)
deals = in_view.filter(pl.col("change_kind") == kind)
assumed = deals.filter(pl.col("basis") == "created_close_dates").height
if assumed:
    st.caption(
        f"{assumed:,} of these deals have no history rows: their state on a past day is taken from their created and "
        "close dates at the first open stage (Rebuilt from: created and close dates)."
    )
ui.table(
    deals.sort(pl.col("amount_change").abs(), descending=True),
    f"pipeline_changes_{kind}_{from_date}_{to_date}.csv",
    {
        "opportunity_id": "Deal",
        "account_name": "Account",
        "partner_name": "Partner",
        "amount_change": ui.money_column("Change", help=glossary.tooltip("pipeline_change")),
        "change_kind": None,
        "fiscal_quarter": None,
        "quarter_start": None,
        "from_date": None,
        "to_date": None,
        "from_amount": ui.money_column(f"Amount on {from_date:%Y-%m-%d}"),
        "to_amount": ui.money_column(f"Amount on {to_date:%Y-%m-%d}"),
        "from_close_date": st.column_config.DateColumn(f"Close date on {from_date:%Y-%m-%d}", format=ui.DATE_FORMAT),
        "to_close_date": st.column_config.DateColumn(f"Close date on {to_date:%Y-%m-%d}", format=ui.DATE_FORMAT),
        "from_stage": f"Stage on {from_date:%Y-%m-%d}",
        "to_stage": f"Stage on {to_date:%Y-%m-%d}",
        "basis": st.column_config.SelectboxColumn(
            "Rebuilt from",
            options=["history", "created_close_dates"],
            format_func={"history": "History", "created_close_dates": "Created and close dates"}.get,
        ),
    },
    empty=f"No deal was {changes.CHANGE_KINDS[kind].lower()} in {quarter} between these dates.",
)

st.subheader(f"How the forecast for {quarter} moved", help=glossary.tooltip("won_to_date"))
left, right = st.columns([3, 2])
with left:
    if history.is_empty():
        st.info(
            f"No forecast to show for {quarter}: it had not begun by {as_of + timedelta(days=1):%Y-%m-%d}.",
            icon=":material/info:",
        )
    else:
        st.plotly_chart(charts.history_lines(history, quarter, ui.currency()), width="stretch")
with right:
    with st.spinner("Backtesting each method..."):
        accuracy = queries.run("forecast_accuracy", segment=pipeline, **scope)
    if accuracy.height:
        st.success(accuracy["verdict"][0], icon=":material/verified:")
        ui.table(
            accuracy.select("method_label", "mape", "coverage_pct", "quarters"),
            f"forecast_accuracy_{pipeline}.csv",
            {
                "method_label": "Method",
                "mape": st.column_config.NumberColumn("Mean error", format="%.1f%%", help=glossary.tooltip("mape")),
                "coverage_pct": st.column_config.NumberColumn(
                    "In P10-P90", format="%.0f%%", help=glossary.tooltip("coverage_pct")
                ),
                "quarters": st.column_config.NumberColumn("Quarters", format="%d"),
            },
        )
    else:
        st.info("No past quarter to backtest yet.", icon=":material/info:")
weekly_table = ui.expander("Forecast week by week (table)", state.CHANGES_WEEKLY_TABLE)
if weekly_table.open:
    with weekly_table:
        ui.table(
            history,
            f"forecast_history_{quarter.replace(' ', '_')}_{pipeline}.csv",
            {
                "method": None,
                "segment": None,
                "method_label": "Method",
                "week_start": st.column_config.DateColumn("Week from", format=ui.DATE_FORMAT),
                "as_of": st.column_config.DateColumn("Forecast as of", format=ui.DATE_FORMAT),
                **{
                    c: ui.money_column(label)
                    for c, label in (("expected", "Expected"), ("p10", "P10"), ("p90", "P90"), ("won_to_date", "Won so far"))
                },
                "open_deals": st.column_config.NumberColumn("Open deals due", format="localized"),
            },
            empty=f"No forecast to show for {quarter}.",
        )
