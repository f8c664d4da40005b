"""Pipeline forecast: what partners should bring in this quarter and the next three, by
method, beside each method's track record, and the open deals behind the number."""

from __future__ import annotations

import polars as pl
import streamlit as st

import queries
import state
import ui
from charts import forecast as charts
from queries import glossary
from queries.forecast.methods import BACKTEST_QUARTERS, NEW_BUSINESS_QUARTERS, in_segment

filters = ui.current_filters()
st.title("Pipeline forecast")
scope = {"regions": filters.regions, "tiers": filters.tiers, "partner_types": filters.partner_types, "managers": filters.managers}
if not ui.needs("opportunities"):
    st.stop()

report = queries.run("load_report")
loaded = dict(zip(report["table_name"], report["rows_loaded"], strict=True))
# A CRM export without partners has no partner pipeline: start on all of it.
default = "partner" if loaded.get("partners") else "all"
state.seed_from_url(state.FORECAST_SEGMENT, default, lambda raw: raw[-1] if raw[-1] in charts.SEGMENT_LABELS else default)
segment = (
    st.segmented_control(
        "Pipeline",
        list(charts.SEGMENT_LABELS),
        format_func=charts.SEGMENT_LABELS.get,
        key=state.FORECAST_SEGMENT,
        help=glossary.tooltip("pipeline_segment"),
    )
    or "partner"
)
state.to_url(state.FORECAST_SEGMENT, segment)  # always written, the default too
st.caption(
    f"As of **{filters.as_of:%Y-%m-%d}**: the current fiscal quarter (including what is already won in it) and the "
    "next three. Region, tier, partner type and manager filters apply; the period does not."
)

# The forecast draws before the backtest is computed: with a filter both are computed on demand,
# and on a large program the backtest takes as long again.
with st.spinner("Simulating 10,000 outcomes of every open deal..."):
    forecast = queries.run("pipeline_forecast", as_of=filters.as_of, **scope)
    all_deals = queries.run("forecast_deals", as_of=filters.as_of, **scope)
    caveats = queries.run("forecast_caveats", as_of=filters.as_of, **scope).filter(pl.col("segment") == segment)
# Deals the forecast cannot count as the CRM states them: stale ones, stages without a probability.
for kind, message in caveats.select("kind", "message").iter_rows():
    if kind == "stale":
        st.warning(f"{message} They are listed under **Stale: past their close date** below.", icon=":material/event_busy:")
    elif kind == "no_probability":
        st.warning(message, icon=":material/percent:")
    else:
        st.caption(message)

current = forecast.filter((pl.col("segment") == segment) & (pl.col("quarter_start") == pl.col("quarter_start").min()))
now = {row["method"]: row for row in current.iter_rows(named=True)}
if now:
    quarter = next(iter(now.values()))["fiscal_quarter"]
    cards = st.columns(4)
    hist = now["historical"]
    cards[0].metric(
        f"Historical, {quarter}",
        ui.money(hist["expected"]),
        border=True,
        delta=f"P10-P90: {ui.money(hist['p10'])} to {ui.money(hist['p90'])}",
        delta_color="off",
        delta_arrow="off",
        help=glossary.tooltip("historical"),
    )
    cards[1].metric(
        f"CRM weighted, {quarter}",
        ui.money(now["crm_weighted"]["expected"]),
        border=True,
        help=glossary.tooltip("crm_weighted"),
    )
    cards[2].metric(
        f"Sales call, {quarter}",
        ui.money(now["sales_commit"]["expected"]),
        border=True,
        delta=f"{ui.money(now['sales_best_case']['expected'])} with best case",
        delta_color="off",
        delta_arrow="off",
        help=glossary.tooltip("sales_call"),
    )
    cards[3].metric(
        f"Won so far, {quarter}",
        ui.money(hist["won_to_date"]),
        border=True,
        help=glossary.tooltip("won_to_date"),
    )
    # How much of the historical number rests on deals that exist, and how much on deals to come.
    pipeline_part = hist["expected"] - hist["won_to_date"] - hist["new_business"]
    st.caption(
        f"Historical, {quarter}: {ui.money(hist['won_to_date'])} won so far + {ui.money(pipeline_part)} expected from "
        f"the open deals + {ui.money(hist['new_business'])} expected **new business** (deals not created yet, as in "
        f"the last {NEW_BUSINESS_QUARTERS} quarters). CRM weighted and the sales call count only the deals open today."
    )
if all_deals.is_empty():
    st.info(
        "No open deal to forecast: every deal in the loaded data is closed (or, in an export like Maven's, open deals "
        "were quarantined for lack of an amount or close date; see the Data page). The backtest below still shows "
        "how each method would have done.",
        icon=":material/info:",
    )
else:
    st.plotly_chart(charts.forecast_bars(forecast, segment, ui.currency()), width="stretch")
note = forecast["note"].drop_nulls()
if len(note) and note[0]:
    st.caption(f"Historical {note[0]} (finest group with at least 30 closed examples; coarser groups otherwise).")

st.subheader("Which method to trust")
if not loaded.get("opportunity_history"):
    st.warning(
        "The full backtest needs the **opportunity_history** extract. Without it, this backtest uses created and "
        "close dates only: the stage and forecast category each deal had then are unknown (the first open stage "
        "is assumed, the sales call is left out), and amounts and close dates are the final ones.",
        icon=":material/history_toggle_off:",
    )
with st.spinner(f"Rebuilding each method's forecast on the first day of the last {BACKTEST_QUARTERS} quarters..."):
    backtest = queries.run("forecast_backtest", **scope)
    accuracy = queries.run("forecast_accuracy", segment=segment, **scope)
if accuracy.height:
    st.success(accuracy["verdict"][0], icon=":material/verified:")
    st.plotly_chart(charts.backtest_lines(backtest, segment, ui.currency()), width="stretch")
    ui.table(
        accuracy.drop("verdict"),
        "forecast_accuracy.csv",
        column_config={
            "method": None,
            "method_label": "Method",
            "quarters": st.column_config.NumberColumn("Quarters", format="%d"),
            "mape": st.column_config.NumberColumn("Mean error", format="%.1f%%", help=glossary.tooltip("mape")),
            "bias_pct": st.column_config.NumberColumn("Bias", format="%+.1f%%", help=glossary.tooltip("bias_pct")),
            "coverage_pct": st.column_config.NumberColumn("In P10-P90", format="%.0f%%", help=glossary.tooltip("coverage_pct")),
            "band_judged_against": "Band judged against",
            "times_closest": st.column_config.NumberColumn("Times closest", format="%d", help=glossary.tooltip("times_closest")),
        },
    )
    notes = backtest.filter((pl.col("segment") == segment) & pl.col("stale_note").is_not_null())
    notes = notes.unique("quarter_start").sort("quarter_start")["stale_note"].to_list()
    if notes:
        st.warning(
            "**Why some errors are large: stale deals.** A deal still open after its close date can close any time, "
            "or never.\n\n" + "\n".join(f"- {note}" for note in notes),
            icon=":material/event_busy:",
        )
    backtest_table = ui.expander("Backtest, quarter by quarter", state.FORECAST_BACKTEST_TABLE)
    if backtest_table.open:
        with backtest_table:
            ui.table(
                backtest.filter(pl.col("segment") == segment),
                f"forecast_backtest_{segment}.csv",
                column_config={
                    "fiscal_quarter": "Quarter",
                    "quarter_start": None,
                    "method": None,
                    "method_label": "Method",
                    "segment": None,  # the pipeline chosen above
                    **{
                        c: ui.money_column(label)
                        for c, label in (("forecast", "Forecast"), ("actual", "Actual"), ("error", "Error"))
                        + tuple((c, c.upper()) for c in ("p10", "p50", "p90"))
                    },
                    "abs_pct_error": st.column_config.NumberColumn(
                        "Error (%)", format="%.1f%%", help=glossary.tooltip("abs_pct_error")
                    ),
                    "in_band": st.column_config.CheckboxColumn("In P10-P90", help=glossary.tooltip("coverage_pct")),
                    "open_deals": st.column_config.NumberColumn("Open deals then", format="localized"),
                    "basis": "Rebuilt from",
                    "stale_deals": st.column_config.NumberColumn(
                        "Stale deals then", format="localized", help=glossary.tooltip("stale_open_deal")
                    ),
                    "stale_amount": ui.money_column("Stale amount"),
                    "stale_forecast": ui.money_column("Forecast from stale deals"),
                    "stale_won": ui.money_column("Actual from stale deals"),
                    "stale_note": None,
                    "new_business": ui.money_column("Of which new business", help=glossary.tooltip("new_business")),
                    "pipeline_actual": ui.money_column("Actual from the deals counted", help=glossary.tooltip("coverage_pct")),
                    "new_business_actual": ui.money_column("Actual from deals created in it"),
                },
            )
elif backtest.height:
    st.info(
        "Nothing in this pipeline closed won in the backtested quarters: choose another pipeline above.", icon=":material/info:"
    )
else:
    st.info(
        "No past quarter to backtest yet: the backtest needs at least one finished quarter with closed history "
        "before it (30 closed examples).",
        icon=":material/info:",
    )

st.subheader("Open deals driving the number")
st.caption(f"{charts.SEGMENT_LABELS[segment]}, as chosen above.")
deals = all_deals.filter(in_segment(segment))
PROBABILITY_SOURCES = {"stage_map": "Stage map", "deal": "The deal (CRM)", "none": "None (counted at 0)"}
money = {
    c: ui.money_column(label)
    for c, label in (("amount", "Amount"), ("crm_weighted", "CRM weighted"), ("expected_value", "Expected value"))
}
deal_columns = {
    **money,
    "opportunity_id": "Deal",
    "account_name": "Account",
    "partner_name": "Partner",
    "segment": st.column_config.SelectboxColumn(
        "Involvement",
        help=glossary.tooltip("pipeline_segment"),
        options=list(charts.SEGMENT_LABELS),
        format_func=charts.SEGMENT_LABELS.get,
    ),
    "stage": "Stage",
    "forecast_category": "Category",
    "close_date": st.column_config.DateColumn("Close date", format=ui.DATE_FORMAT),
    "fiscal_quarter": "Quarter",
    "p_win": st.column_config.ProgressColumn("P(won within a year)", min_value=0, max_value=1, format="percent"),
    "historical_group": "Rates from",
    "probability_source": st.column_config.SelectboxColumn(
        "Probability from",
        help=glossary.tooltip("probability_source"),
        options=list(PROBABILITY_SOURCES),
        format_func=PROBABILITY_SOURCES.get,
    ),
    "times_slipped": st.column_config.NumberColumn("Times slipped", format="%d"),
    "days_slipped": st.column_config.NumberColumn("Days slipped", format="%d"),
    "days_past_close": st.column_config.NumberColumn("Days past close", format="%d"),
    "age_days": st.column_config.NumberColumn("Age (days)", format="%d"),
    "is_slipped": None,
    "is_stale": None,
    "in_forecast": None,  # false: a stale deal CRM weighted leaves out (its CRM weighted is empty)
    "owner": "Owner",
}
largest, slipped, stale = ui.tabs(
    ["Largest expected value", "Most slipped", "Stale: past their close date"], state.FORECAST_DEAL_LIST
)
if largest.open:
    with largest:
        ui.table(
            deals.head(100),  # every open deal: the historical method counts stale ones too
            "forecast_largest_deals.csv",
            deal_columns,
            empty="No open deal of this pipeline is forecast for these filters.",
        )
if slipped.open:
    with slipped:
        ui.table(
            deals.filter(deals["is_slipped"]).sort(["times_slipped", "days_slipped"], descending=True).head(100),
            "forecast_slipped_deals.csv",
            deal_columns,
            empty="No open deal has had its close date moved later.",
        )
if stale.open:
    with stale:
        # The whole list: it is the CRM cleanup to do.
        ui.table(
            deals.filter(deals["is_stale"]).sort(["days_past_close", "amount"], descending=True),
            "forecast_stale_deals.csv",
            deal_columns,
            empty=f"No open deal in this pipeline has a close date before {filters.as_of:%Y-%m-%d}.",
        )
