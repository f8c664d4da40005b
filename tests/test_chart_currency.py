"""Charts write amounts in the program's reporting currency, as the cards and tables do
(queries/formatting.py `money`): a dollar sign before the number for USD, as they always have,
and the currency's code after it otherwise ("500k EUR" on an axis, "1,200 EUR" in a hover).

Each money chart is built on a tiny hand-made frame once in euros (no "$" anywhere in the figure,
" EUR" where amounts are) and once in dollars (the tick prefix and hover formats of before)."""

from __future__ import annotations

from datetime import date, datetime

import plotly.graph_objects as go
import polars as pl
import pytest

import charts.attribution
import charts.changes
import charts.disagreements
import charts.forecast
import charts.health
import charts.partner
from charts import Amounts
from queries.forecast.pipeline_changes import STEPS

Q = ["FY2026 Q1", "FY2026 Q2"]
STARTS = [date(2026, 1, 1), date(2026, 4, 1)]


def forecast_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "segment": ["partner"] * 4,
            "quarter_start": STARTS * 2,
            "fiscal_quarter": Q * 2,
            "method": ["historical", "historical", "crm_weighted", "crm_weighted"],
            "method_label": ["Historical", "Historical", "CRM weighted", "CRM weighted"],
            "expected": [1200.0, 1500.0, 1000.0, 1100.0],
            "p10": [900.0, 1000.0, None, None],
            "p90": [1500.0, 2000.0, None, None],
            "new_business": [100.0, 200.0, None, None],
        }
    )


def backtest_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "segment": ["partner"] * 2,
            "quarter_start": STARTS,
            "fiscal_quarter": Q,
            "actual": [1000.0, 1300.0],
            "method": ["historical"] * 2,
            "method_label": ["Historical"] * 2,
            "forecast": [1100.0, 1200.0],
            "abs_pct_error": [10.0, 7.7],
        }
    )


def history_frame() -> pl.DataFrame:
    days = [date(2026, 4, 7), date(2026, 4, 14)]
    return pl.DataFrame(
        {
            "as_of": days * 2,
            "method": ["historical", "historical", "crm_weighted", "crm_weighted"],
            "method_label": ["Historical", "Historical", "CRM weighted", "CRM weighted"],
            "expected": [1200.0, 1250.0, 1000.0, 1050.0],
            "p10": [900.0, 950.0, None, None],
            "p90": [1500.0, 1550.0, None, None],
            "won_to_date": [100.0, 300.0, 100.0, 300.0],
        }
    )


def kpi_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "kpi": ["sourced_revenue"] * 2,
            "label": ["Sourced revenue"] * 2,
            "unit": ["money"] * 2,
            "quarter_start": STARTS,
            "quarter_end": [date(2026, 3, 31), date(2026, 6, 30)],
            "fiscal_quarter": Q,
            "in_progress": [False, False],
            "value": [1000.0, 2000.0],
            "partner_value": [600.0, 1500.0],
            "direct_value": [400.0, 500.0],
            "same_days_value": [None, None],
        },
        schema_overrides={"same_days_value": pl.Float64},
    )


def timeline_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "kind": ["Deal won", "Payout"],
            "occurred_at": [datetime(2026, 5, 15), datetime(2026, 6, 1)],
            "event": ["Won", "Payout paid"],
            "opportunity_id": ["O1", "O1"],
            "amount": [1000.0, 100.0],
            "detail": [None, "paid"],
        }
    )


def money_charts(currency: str) -> dict[str, go.Figure]:
    """Every chart that draws amounts, built in `currency`."""
    quarters = pl.DataFrame({"fiscal_quarter": Q, "credit": [1000.0, 3000.0]})
    delta = pl.DataFrame({"partner_name": ["Acme", "Globex"], "credit_change": [3000.0, -3000.0]})
    shift = pl.DataFrame({"fiscal_quarter": Q, "credit_change": [500.0, -200.0], "liability_change": [50.0, -20.0]})
    payouts = pl.DataFrame(
        {"fiscal_quarter": Q, "paid": [100.0, 0.0], "approved": [0.0, 50.0], "accrued": [0.0, 10.0], "clawed_back": [0.0, 0.0]}
    ).with_columns(pl.lit(120.0).alias("owed: A"))
    trust = pl.DataFrame(
        {
            "fiscal_quarter": Q,
            "partner_revenue": [1000.0, 2000.0],
            "agreed_revenue": [600.0, 1000.0],
            "partial_revenue": [300.0, 500.0],
            "conflicting_revenue": [100.0, 500.0],
        }
    )
    step = {name: 100.0 for name in STEPS}
    return {
        "credit_by_quarter": charts.attribution.credit_by_quarter({"A": quarters}, {"A": "linear"}, currency),
        "credit_shift": charts.attribution.credit_shift(delta, "B minus A", currency=currency),
        "quarter_shift": charts.attribution.quarter_shift(shift, currency),
        "payouts_vs_owed": charts.attribution.payouts_vs_owed(payouts, currency),
        "trust_by_quarter": charts.disagreements.trust_by_quarter(trust, currency),
        "waterfall": charts.changes.waterfall(step, "Partner pipeline", currency),
        "history_lines": charts.changes.history_lines(history_frame(), "FY2026 Q2", currency),
        "forecast_bars": charts.forecast.forecast_bars(forecast_frame(), currency=currency),
        "backtest_lines": charts.forecast.backtest_lines(backtest_frame(), currency=currency),
        "kpi_trend": charts.health.kpi_trend(kpi_frame(), "sourced_revenue", currency),
        "timeline": charts.partner.timeline(timeline_frame(), currency),
    }


@pytest.mark.parametrize("name", list(money_charts("USD")))
def test_a_chart_in_euros_has_no_dollar_sign_and_says_eur_where_it_shows_amounts(name):
    spec = money_charts("EUR")[name].to_json()
    assert "$" not in spec
    assert "EUR" in spec
    assert "$" in money_charts("USD")[name].to_json()  # and the same chart in dollars has its dollar signs


def test_a_chart_in_dollars_keeps_its_prefix_and_hover_formats():
    figs = money_charts("USD")
    bars = figs["forecast_bars"]
    assert bars.layout.yaxis.tickprefix == "$" and bars.layout.yaxis.ticksuffix is None and bars.layout.yaxis.tickformat == "~s"
    assert bars.data[0].hovertemplate == (
        "%{x}<br>Historical: %{y:$,.0f}<br>P10-P90: %{customdata[0]:$,.0f} to %{customdata[1]:$,.0f}"
        "<br>of which new business: %{customdata[2]:$,.0f}<extra></extra>"
    )
    assert figs["credit_by_quarter"].layout.yaxis.title.text == "Credit ($)"
    # d3's "$" puts a clawed-back quarter's minus first: -$950, not $-950.
    assert figs["credit_by_quarter"].data[0].hovertemplate == "%{x}: %{y:$,.0f}<extra>A</extra>"
    assert figs["credit_shift"].data[0].hovertemplate == "%{y}: %{x:$,.0f}<extra></extra>"
    assert figs["quarter_shift"].data[1].hovertemplate == "%{x}: %{y:$,.0f}<extra>Payout liability</extra>"
    assert figs["waterfall"].data[0].texttemplate == "%{y:$,.3s}"
    assert figs["kpi_trend"].layout.yaxis.tickformat == "$,.3s" and figs["kpi_trend"].layout.yaxis.ticksuffix is None
    assert "<br>$1,000" in figs["timeline"].data[0].hovertext[0]


def test_a_chart_in_euros_writes_the_code_after_the_amount():
    figs = money_charts("EUR")
    bars = figs["forecast_bars"]
    assert bars.layout.yaxis.ticksuffix == " EUR" and bars.layout.yaxis.tickprefix is None
    assert bars.data[1].hovertemplate == "%{x}<br>CRM weighted: %{y:,.0f} EUR<extra></extra>"
    assert figs["credit_by_quarter"].layout.yaxis.title.text == "Credit (EUR)"
    assert figs["credit_shift"].layout.xaxis.title.text == "Change in credit (EUR)"
    assert figs["quarter_shift"].data[0].hovertemplate == "%{x}: %{y:,.0f} EUR<extra>Credit</extra>"
    assert figs["trust_by_quarter"].data[0].hovertemplate.startswith("%{y:.0%} (%{customdata:,.0f} EUR)")
    assert figs["waterfall"].data[0].texttemplate == "%{y:,.3s} EUR"
    assert (figs["kpi_trend"].layout.yaxis.tickformat, figs["kpi_trend"].layout.yaxis.ticksuffix) == (",.3s", " EUR")
    assert "<br>1,000 EUR" in figs["timeline"].data[0].hovertext[0]


def test_the_pieces_follow_the_currency():
    dollars, euros = Amounts("USD"), Amounts("EUR")
    assert (dollars.prefix, dollars.suffix, euros.prefix, euros.suffix) == ("$", "", "", " EUR")
    assert dollars.number("y") == "%{y:$,.0f}" and euros.number("y", ",.2f") == "%{y:,.2f} EUR"
    assert dollars.ticks() == {"tickprefix": "$", "tickformat": "~s"}
    assert euros.ticks() == {"ticksuffix": " EUR", "tickformat": "~s"}
    assert (dollars.title("Amount"), euros.title("Amount")) == ("Amount ($)", "Amount (EUR)")


def test_the_health_cards_write_money_in_the_reporting_currency():
    assert charts.health.format_value(1_250_000.0, "money", "EUR") == "1.2M EUR"
    assert charts.health.format_change(2000, 1000, "money", "EUR") == "+1.0k EUR"
    assert charts.health.format_change(1000.4, 1000, "money", "EUR") == "0 EUR"
    assert charts.health.format_change(1000.4, 1000, "money") == "$0"
