"""Pure Plotly builders: frames in, `go.Figure` out, no `st.*` calls.

This package owns how things look: one template for the whole app, and fixed,
colour-blind-safe colours (Okabe-Ito) per partner type, per attribution model and per
method, so the same thing has the same colour on every page. Each page area has its own
module (`charts.health`, `charts.attribution`, ...) built on `figure()` below.
"""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go
import plotly.io as pio

from queries.formatting import SYMBOLS

# Okabe & Ito (2008), safe for the common colour-vision deficiencies; their black is a mid
# grey here (NEUTRAL), which reads on Streamlit's dark theme as well as on the light one.
NEUTRAL = "#6F6F6F"
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", NEUTRAL, "#999999"]

PARTNER_TYPE_COLORS = {
    "referral": "#0072B2",
    "reseller": "#E69F00",
    "integration": "#009E73",
    "services": "#CC79A7",
    "affiliate": "#56B4E9",
    "distributor": "#D55E00",
    "direct": "#999999",
}
MODEL_COLORS = {
    "crm_sourced": NEUTRAL,
    "registration": "#999999",
    "first_touch": "#0072B2",
    "last_touch": "#56B4E9",
    "linear": "#E69F00",
    "time_decay": "#D55E00",
    "position_based": "#CC79A7",
    "w_shaped": "#F0E442",
    "touch_value": "#009E73",
    "markov": "#7F3C8D",
    "shapley": "#11A579",
}
SERIES_COLORS = {"partner": "#0072B2", "direct": "#999999", "sourced": "#0072B2", "influenced": "#56B4E9"}

PULSE_TEMPLATE = go.layout.Template(
    layout=go.Layout(
        colorway=OKABE_ITO,
        font={"family": "Source Sans Pro, sans-serif", "size": 13},
        margin={"l": 40, "r": 20, "t": 40, "b": 40},
        hovermode="x unified",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        # Transparent so the chart follows Streamlit's light or dark theme background.
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
    )
)
# Plotly's own template with ours over it, merged once and made the default: every go.Figure()
# starts from it. Naming it per figure ("plotly+pulse") merged the two again each time, about
# a third of a second per chart on this 2-core machine, most of a page's Python time.
pio.templates["pulse"] = pio.templates.merge_templates(pio.templates["plotly"], PULSE_TEMPLATE)
pio.templates.default = "pulse"


# Fixed margins (px) that fit the app's titles, tick labels and axis titles; a chart whose labels
# are longer (partner names down the side) gives its own. Plotly's automargin (on in its own
# template and again in Streamlit's theme) measures every label and then draws the chart a
# second time with the margins it found: 1.6 s of 18.6 s of a new tab's main thread in a profile.
MARGIN = {"l": 72, "r": 24, "t": 40, "b": 56}
TITLED_TOP = 80  # a title, and under it the legend's row (the template puts the legend above the plot)


def figure(title: str | None = None, margin: dict[str, int] | None = None, **layout: object) -> go.Figure:
    """An empty figure with the app's template, fixed margins (MARGIN, with `margin`'s sides
    over it) and an optional title."""
    sides = {**MARGIN, "t": TITLED_TOP if title else MARGIN["t"], **(margin or {})}
    fig = go.Figure()
    # The title at the top of the chart, not in the middle of the top margin, where a legend of
    # two or three rows would run into it.
    heading = {"text": title, "yref": "container", "y": 1, "yanchor": "top", "pad": {"t": 10}} if title else None
    fig.update_layout(title=heading, margin=sides, **layout)
    fixed_margins(fig)
    return fig


# Labels down a chart's side longer than this are cut (with "…"), so they fit its fixed left margin.
LABEL_CHARS = 30


def shorten(label: str | None) -> str:
    label = label or ""
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…"


def fixed_margins(fig: go.Figure) -> go.Figure:
    """Automargin off on every axis of the figure. Set on the figure's own layout, not the
    template: Streamlit's theme writes automargin on into the template in the browser."""
    fig.update_xaxes(automargin=False)
    fig.update_yaxes(automargin=False)
    return fig


@dataclass(frozen=True)
class Amounts:
    """How a chart writes amounts in the reporting currency, as `queries.formatting.money` writes
    them as text: the symbol before the number for a currency that has one ($1,234), the code after
    it otherwise (1,234 EUR). The pages pass `ui.currency()`; a chart only knows the code."""

    currency: str = "USD"

    @property
    def dollars(self) -> bool:
        # d3's "$" in a number format is Plotly's locale currency sign, a dollar: it puts the minus
        # sign first (-$950, as `money` does); any other symbol is written as text before the number.
        return SYMBOLS.get(self.currency) == "$"

    @property
    def prefix(self) -> str:
        """The text before an amount: "$" for dollars, nothing for EUR."""
        return SYMBOLS.get(self.currency, "")

    @property
    def suffix(self) -> str:
        """The text after an amount: nothing for dollars, " EUR" for EUR."""
        return "" if self.currency in SYMBOLS else f" {self.currency}"

    def d3(self, spec: str) -> str:
        """A d3 number format for amounts: "$,.0f" for dollars, ",.0f" (and the suffix beside it) otherwise."""
        return f"${spec}" if self.dollars else spec

    def number(self, field: str, spec: str = ",.0f") -> str:
        """An amount in a hover or text template: "%{y:$,.0f}" for dollars, "%{y:,.0f} EUR" for EUR."""
        return ("" if self.dollars else self.prefix) + "%{" + field + ":" + self.d3(spec) + "}" + self.suffix

    def ticks(self, tickformat: str = "~s") -> dict[str, str]:
        """An amount axis's tick labels: $500k for dollars, 500k EUR for EUR (keywords for update_yaxes)."""
        sides = {"tickprefix": self.prefix} if self.prefix else {}
        return {**sides, **({"ticksuffix": self.suffix} if self.suffix else {}), "tickformat": tickformat}

    def title(self, words: str) -> str:
        """An amount axis's title with its unit: "Credit ($)", "Credit (EUR)"."""
        return f"{words} ({self.prefix or self.currency})"
