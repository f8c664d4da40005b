"""Glossary: every metric and model the app shows, defined once (`queries/glossary.toml`),
searchable and grouped by area."""

from __future__ import annotations

import polars as pl
import streamlit as st

import ui
from queries.glossary import AREAS, GLOSSARY

ui.require_frame()
st.title("Glossary")
st.caption(
    "Every number and model in Partner Pulse, defined once. The definitions are the product design's words; "
    "the same text is the ⓘ help beside each number and `docs/metrics.md` in the repository."
)
left, right = st.columns([2, 1])
search = left.text_input(
    "Search", key="glossary_search", placeholder="e.g. dormant, markov, win rate", icon=":material/search:"
).strip().lower()
areas = right.multiselect("Area", AREAS, key="glossary_area", placeholder="All areas")

shown = [
    term
    for term in GLOSSARY
    if (not areas or term.area in areas)
    and (not search or any(search in text.lower() for text in (term.term, term.key, term.definition, term.detail)))
]
if not shown:
    st.info("No term matches. Clear the search or the area filter.", icon=":material/info:")
for area in AREAS:
    terms = [term for term in shown if term.area == area]
    if not terms:
        continue
    with st.expander(f"{area} ({len(terms)})", expanded=True):
        lines = []
        for term in terms:
            parts = [f"- **{term.term}**: {term.definition}"]
            if not term.in_design:
                parts.append(":gray[The app's own term: the product design does not define it.]")
            if term.detail:
                parts.append(f":gray[How Partner Pulse computes it: {term.detail}]")
            computed = f" · computed in `{term.where_computed}`" if term.where_computed else ""
            parts.append(f":gray[Shown on: {term.where_shown}{computed}]")
            lines.append("  \n  ".join(parts))
        st.markdown("\n".join(lines))

ui.download(pl.DataFrame([vars(term) for term in shown]), "glossary.csv", label="Download the glossary (CSV)")
