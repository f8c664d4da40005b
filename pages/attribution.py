"""Attribution scenarios (CFO): two to four scenarios side by side (model, parameters, booking
basis, commission rates), their credit and payout liability, and what moves between two.
The scenario set lives in the URL (`?scenarios=[...]`), so a link reproduces the view."""

import json

import polars as pl
import streamlit as st

import charts.attribution as charts
import queries
import state
import ui
from queries import glossary, workbook
from queries.attribution import credit as attribution
from queries.attribution import scenarios

DEFAULT = [{"model": "linear"}, {"model": "time_decay"}]
LETTERS = "ABCD"
BASES = {"close_date": "Close date", "touch_date": "Each touch's date"}
RULE_COLUMNS = {
    "partner_type": "Partner type",
    "tier": "Tier",
    "touch_type": "Touch type",
    "rate": st.column_config.NumberColumn("Rate", min_value=0.0, max_value=1.0, format="percent"),
}
TOTALS = {
    "won_revenue": "Won revenue",
    "credited": "Credited",
    "not_credited": "Not credited (direct)",
    "liability": "Payout liability",
}


def from_url() -> list[dict]:
    try:
        specs = [scenarios.parse_scenario(json.dumps(s)) for s in json.loads(state.in_url(state.SCENARIOS) or "")]
    except (ValueError, TypeError):
        return DEFAULT
    return specs[:4] if len(specs) >= 2 else DEFAULT


def scenario_form(i: int, seed: dict, plan: pl.DataFrame) -> dict:
    key = f"attribution_{i}"
    st.markdown(f"**Scenario {LETTERS[i]}**")
    models = attribution.MODELS
    model = st.selectbox(
        "Model",
        models,
        index=models.index(seed["model"]),
        key=f"{key}_model",
        format_func=lambda m: m.replace("_", " "),
        help="How a won deal's revenue is split between its partners; the Glossary (under Help) defines each model.",
    )
    spec: dict = {"model": model}
    if model == "time_decay":
        spec["half_life_days"] = st.number_input(
            "Half-life (days)",
            1.0,
            720.0,
            float(seed.get("half_life_days") or 30),
            key=f"{key}_half_life",
            help="A touch this many days before close counts half.",
        )
    if model in attribution.TOUCH_MODELS:
        spec["lookback_days"] = st.number_input(
            "Lookback (days)",
            0,
            3650,
            int(seed.get("lookback_days") or 365),
            key=f"{key}_lookback",
            help="Touches earlier than this before close are ignored.",
        )
    spec["booking_basis"] = st.radio(
        "Book revenue at",
        list(BASES),
        format_func=BASES.get,
        horizontal=True,
        index=list(BASES).index(seed.get("booking_basis", "close_date")),
        key=f"{key}_basis",
    )
    with st.expander("Commission rates (what-if)"):
        start = pl.DataFrame(seed["rates"]) if seed.get("rates") else plan
        edited = st.data_editor(
            start.select("partner_type", "tier", "touch_type", "rate"),
            num_rows="dynamic",
            key=f"{key}_rates",
            hide_index=True,
            column_config=RULE_COLUMNS,
        )
        edited = pl.DataFrame(edited) if not isinstance(edited, pl.DataFrame) else edited
        if not edited.equals(plan.select("partner_type", "tier", "touch_type", "rate")):
            spec["rates"] = edited.to_dicts()
    return spec


def money_columns(frame: pl.DataFrame, letters: dict[str, str] | None = None) -> dict:
    """Dollar columns labelled in words: 'credit A' -> 'Credit, A'; 'liability_b' -> 'Liability, <To>'."""
    letters = letters or {}

    def label(column: str) -> str:
        if column in TOTALS:
            return TOTALS[column]
        words = column.replace(":", "").replace("_", " ")
        name, _, letter = words.rpartition(" ")
        if name and (letter in LETTERS or letter in letters):
            return f"{name.capitalize()}, {letters.get(letter, letter)}"
        return words.capitalize()

    helps = {"credit": glossary.tooltip("attribution"), "liability": glossary.tooltip("payout_liability")}
    return {
        c: ui.money_column(label(c), help=helps.get(c.split(" ")[0].split("_")[0]))
        for c, t in frame.schema.items()
        if t.is_float()
    } | {"scenario": "Scenario", "partner_name": "Partner", "partner_type": "Partner type", "tier": "Tier"}


filters = ui.current_filters()
st.title("Attribution scenarios")
st.caption("Compare how attribution models and commission plans share won revenue between partners, and what they owe.")
# The period and the partner filters; as_of does not apply (every won deal is closed).
period = {key: value for key, value in filters.params().items() if key != "as_of"}
seed = state.remember(state.ATTRIBUTION_SEED, from_url)
count = st.segmented_control("Number of scenarios", [2, 3, 4], default=len(seed), key="attribution_count") or 2
plan = queries.run("attribution_commission_rules")
specs = []
for i, column in enumerate(st.columns(count)):
    with column:
        specs.append(scenario_form(i, seed[i] if i < len(seed) else {"model": "last_touch"}, plan))
state.to_url(state.SCENARIOS, json.dumps(specs, separators=(",", ":")))
if any(s["model"] in attribution.TOUCH_MODELS for s in specs):
    ui.needs("touchpoints")

# Frames are keyed by the scenario's letter (short column names); `labels` says what each letter is.
labels = {LETTERS[i]: s for i, s in enumerate(specs)}
with st.spinner("Attributing won deals..."):
    frames = {label: queries.run("attribution_scenario", scenario=json.dumps(s), **period) for label, s in labels.items()}
shown = {key: scenarios.scenario_label(labels[key], frame) for key, frame in frames.items()}
if any(name.startswith(attribution.MARKOV_GROUPED) for name in shown.values()):
    note = ui.meta().get("markov_note")
    st.info(
        f"**Markov (grouped)**: {note + '. ' if note else ''}{glossary.tooltip('markov_grouped')}",
        icon=":material/info:",
    )
won = float(queries.run("attribution_won_revenue", start_date=filters.start_date, end_date=filters.end_date)["won_revenue"][0])

totals = pl.DataFrame([{"scenario": f"{key}: {shown[key]}", **scenarios.reconcile(frame, won)} for key, frame in frames.items()])
for column, total in zip(st.columns(count), totals.to_dicts(), strict=True):
    column.metric(f"Credit, scenario {total['scenario'][:1]}", ui.money(total["credited"]), help=glossary.tooltip("attribution"))
    column.metric(
        f"Payout liability, {total['scenario'][:1]}", ui.money(total["liability"]), help=glossary.tooltip("payout_liability")
    )
st.caption(f"Won revenue in the period: **{ui.money(won)}**; credited + not credited (direct) = won revenue.")
ui.table(totals, "attribution_totals.csv", column_config=money_columns(totals))
actions = st.container()  # the workbook's download, once the tabs below have chosen what to compare

by_partner, by_type, by_quarter, delta_tab, payouts_tab = ui.tabs(
    ["By partner", "By partner type & tier", "By fiscal quarter", "Compare two", "Payout liability"], state.ATTRIBUTION_VIEW
)
# Chosen in "Compare two", read by the workbook whichever tab is open: kept while that tab is closed.
names = list(frames)
a = state.keep(state.ATTRIBUTION_A, names, names[0])
b = state.keep(state.ATTRIBUTION_B, names, names[1])
state.keep(state.ATTRIBUTION_BY, list(scenarios.ROLLUPS), "partner")
if by_partner.open:
    with by_partner:
        table = scenarios.side_by_side(frames, "partner")
        ui.table(
            table, "attribution_by_partner.csv", column_config=money_columns(table), empty="No partner credit in this period."
        )
if by_type.open:
    with by_type:
        table = scenarios.side_by_side(frames, "partner_type_tier")
        ui.table(table, "attribution_by_type_tier.csv", column_config=money_columns(table))
if by_quarter.open:
    with by_quarter:
        quarters = {label: scenarios.rollup(frame, "fiscal_quarter") for label, frame in frames.items()}
        st.plotly_chart(charts.credit_by_quarter(quarters, {label: s["model"] for label, s in labels.items()}, ui.currency()))
        table = scenarios.side_by_side(frames, "fiscal_quarter")
        ui.table(table, "attribution_by_quarter.csv", column_config=money_columns(table))
if delta_tab.open:
    with delta_tab:
        left, middle, right = st.columns(3)
        a = left.selectbox("From scenario", names, key=state.ATTRIBUTION_A)
        b = middle.selectbox("To scenario", names, key=state.ATTRIBUTION_B)
        st.caption(f"{a} = {shown[a]}; {b} = {shown[b]}. Change = {b} - {a}.")
        by = right.radio(
            "By",
            list(scenarios.ROLLUPS),
            horizontal=True,
            key=state.ATTRIBUTION_BY,
            format_func=lambda k: {"partner": "Partner", "partner_type_tier": "Type & tier", "fiscal_quarter": "Quarter"}[k],
        )
        delta = scenarios.compare(frames[a], frames[b], by)
        if by == "fiscal_quarter":
            st.plotly_chart(charts.quarter_shift(delta, ui.currency()))
        elif delta.height:
            st.plotly_chart(charts.credit_shift(delta, f"{b} minus {a}", currency=ui.currency()))
        ui.table(delta, f"attribution_change_{by}.csv", column_config=money_columns(delta, {"a": a, "b": b}))
        st.markdown(f"**Where the credit moves, {a} to {b}**", help=glossary.tooltip("credit_moves"))
        moves = queries.run("attribution_moves", scenario_a=json.dumps(labels[a]), scenario_b=json.dumps(labels[b]), **period)
        words = {
            "from_partner_name": "From partner",
            "to_partner_name": "To partner",
            "from_partner_id": "From id",
            "to_partner_id": "To id",
        }
        moved = ui.money_column("Credit moved", help=glossary.tooltip("credit_moves"))
        ui.table(
            moves, "attribution_moves.csv", column_config=words | {"credit": moved}, empty="No credit moves between these two."
        )
if payouts_tab.open:
    with payouts_tab:
        liability = scenarios.liability_by_quarter(queries.run("attribution_payouts_by_quarter", **period), frames)
        st.caption("Payouts by status per fiscal quarter of their period, beside what each scenario says is owed.")
        if liability.height:
            st.plotly_chart(charts.payouts_vs_owed(liability, ui.currency()))
        ui.table(
            liability,
            "attribution_payout_liability.csv",
            column_config=money_columns(liability),
            empty="No payouts or credit in this period.",
        )
book = workbook.gather(queries.run, list(labels.values()), (a, b), **period)
actions.download_button(
    "Download the scenario workbook (Excel)",
    lambda: workbook.scenario_workbook(book),
    file_name=workbook.file_name(book),
    mime=workbook.XLSX,
    icon=":material/download:",
    on_click="ignore",
    help="Summary, by partner, by partner type & tier, by fiscal quarter, moves between the two scenarios compared, payout "
    "liability and the commission plans: one sheet each.",
)
