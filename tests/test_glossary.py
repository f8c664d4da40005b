"""The glossary: one definition per metric and model, docs/design.md's words where it gives them,
the committed docs/metrics.md generated from it, and the Glossary page that shows it."""

from __future__ import annotations

import re

import pytest

from queries import glossary
from tests.conftest import PROJECT, open_page

DESIGN = PROJECT / "docs" / "design.md"


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_the_committed_metrics_doc_is_the_generated_text():
    committed = (PROJECT / "docs" / "metrics.md").read_text(encoding="utf-8")
    assert committed == glossary.markdown(), "regenerate it: python -m queries.glossary > docs/metrics.md"


def test_every_definition_from_the_design_is_its_text_word_for_word():
    design = flat(DESIGN.read_text(encoding="utf-8"))
    own = [t for t in glossary.GLOSSARY if t.in_design]
    missing = [t.key for t in own if flat(t.definition) not in design]
    assert not missing, f"definitions not found in docs/design.md: {missing}"


def test_every_model_disagreement_kind_and_partner_flag_has_one_entry():
    from charts.disagreements import KIND_LABELS
    from queries.attribution.credit import MODELS

    keys = [t.key for t in glossary.GLOSSARY]
    assert len(keys) == len(set(keys)), "a key is defined twice"
    wanted = [*MODELS, *KIND_LABELS, "engagement_score", "is_dormant", "p_alive", "burnout_risk", "returned", "at_risk"]
    assert not [key for key in wanted if key not in keys]
    assert {t.area for t in glossary.GLOSSARY} <= set(glossary.AREAS)


def test_the_glossary_page_lists_every_term_and_search_narrows_it(tiny_db):
    at = open_page("glossary")
    assert not at.exception
    shown = "\n".join(block.value for block in at.markdown)
    assert all(f"**{t.term}**" in shown for t in glossary.GLOSSARY)
    at.text_input(key="glossary_search").input("dormant").run()
    shown = "\n".join(block.value for block in at.markdown)
    assert "**Dormant**" in shown and "**Win rate, partner vs direct**" not in shown


# ---- every tooltip that defines a number reads the glossary ----

PAGES = ["health", "forecast", "changes", "engagement", "partner", "attribution", "disagreements", "statement", "data"]
# Helps that say what a column or a control is, or where to look, rather than define a number.
NOT_DEFINITIONS = {
    "Open this partner's page",
    "See the cards above for each kind's definition",
    "The partner on the other side",
    "Fiscal quarter of the deal's close",
    "Dated on or before the as-of date",
    "The component whose weighted change was largest.",
    "How this partner took part: sourced it, touched it, or registered it (approved).",
    "The partner id the CRM names as source (blank: none, or a partner you do not manage)",
    "Each model is defined in the Glossary (under Help).",
}
# Partner 360's profile fields are facts, not metrics: they have no definition.
PROFILE_FIELDS = {"Region", "Partner manager", "Status"}
DEFINING_CALLS = {
    "metric",
    "subheader",
    "header",
    "NumberColumn",
    "ProgressColumn",
    "TextColumn",
    "CheckboxColumn",
    "DateColumn",
    "DatetimeColumn",
    "LinkColumn",
    "Column",
    "SelectboxColumn",
    "ListColumn",
}


@pytest.fixture(scope="module")
def demo_pages(demo_db_path):
    """Every page once on the demo program, as an admin, over all time."""
    import duckdb
    from streamlit.testing.v1 import AppTest

    from tests.conftest import APP

    with duckdb.connect(str(demo_db_path), read_only=True) as con:
        partner = con.sql("select partner_id from touchpoints group by 1 order by count(*) desc, 1 limit 1").fetchall()[0][0]
    rendered = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PULSE_DB", str(demo_db_path))
        for page in PAGES:
            at = AppTest.from_file(str(APP), default_timeout=60)
            at.query_params["period"] = "All time"
            at.query_params["partner"] = partner
            at.run()
            at.switch_page(f"pages/{page}.py")
            rendered[page] = at.run()
    return rendered


def column_helps(at) -> list[tuple[str, str]]:
    import json

    found = []
    for table in at.dataframe:
        for column, config in json.loads(table.proto.columns or "{}").items():
            if config.get("help"):
                found.append((column, config["help"]))
    return found


@pytest.mark.parametrize("page", PAGES)
def test_every_cards_and_headings_help_on_a_page_is_a_glossary_tooltip(demo_pages, page: str):
    at = demo_pages[page]
    assert not at.exception, at.exception
    tooltips = glossary.tooltips()
    shown = [(m.label, m.proto.help) for m in at.metric] + [(h.value, h.proto.help) for h in at.subheader if h.proto.help]
    assert shown or page == "glossary"
    not_from_glossary = [(label, text[:60]) for label, text in shown if text not in tooltips and label not in PROFILE_FIELDS]
    assert not not_from_glossary, f"pages/{page}.py: help not read from the glossary: {not_from_glossary}"
    assert all(not text for label, text in shown if label in PROFILE_FIELDS)


@pytest.mark.parametrize("page", PAGES)
def test_every_column_help_that_defines_a_number_is_a_glossary_tooltip(demo_pages, page: str):
    tooltips = glossary.tooltips()
    odd = [(column, text[:60]) for column, text in column_helps(demo_pages[page]) if text not in tooltips | NOT_DEFINITIONS]
    assert not odd, f"pages/{page}.py: column help not read from the glossary: {odd}"


def test_no_page_writes_a_definition_of_its_own():
    """Statically, for what the demo may not show: a help on a card, heading or column is read
    from the glossary (or the KPI words, which read it), never written out in the page."""
    import ast

    composed = []
    for path in [*sorted((PROJECT / "pages").glob("*.py")), PROJECT / "ui.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            for keyword in node.keywords:
                if name not in DEFINING_CALLS or keyword.arg != "help":
                    continue
                value = keyword.value
                if isinstance(value, ast.Constant) and value.value in NOT_DEFINITIONS:
                    continue
                if isinstance(value, ast.Constant | ast.JoinedStr | ast.BinOp):
                    composed.append(f"{path.name}:{node.lineno} {name}(help={ast.unparse(value)[:60]})")
    assert not composed, "definitions written in a page instead of queries/glossary.py:\n" + "\n".join(composed)


def test_the_modules_that_compute_numbers_hold_no_definitions_of_their_own():
    import charts.disagreements
    import queries.engagement.signals
    import queries.health.health_score
    from queries.program.kpi_definitions import KPIS, definition

    assert not hasattr(queries.engagement.signals, "DEFINITIONS") and not hasattr(queries.health.health_score, "DEFINITIONS")
    assert not hasattr(charts.disagreements, "kind_help")
    keys = glossary.by_key()
    assert all(kpi.term in keys and kpi.definition == glossary.tooltip(kpi.term) for kpi in KPIS.values())
    assert definition("tier_gold").definition == glossary.tooltip("tier_mix")


def test_a_tooltip_is_the_definition_as_a_sentence_then_how_the_app_computes_it():
    assert glossary.tooltip("win_rate") == (
        "Won / (won + lost), for opportunities closed in the period. "
        "The card shows partner-involved and direct deals below the overall rate."
    )
    assert glossary.tooltip("returned").startswith("Returned: a gap of at least the dormancy threshold")
    assert glossary.tooltip("first_touch") == "w_1 = 1."


def test_a_misspelt_field_in_the_glossary_file_is_refused_naming_the_term(tmp_path):
    path = tmp_path / "glossary.toml"
    path.write_text(
        'areas = ["Data"]\n[[term]]\nkey = "k"\nterm = "K"\narea = "Data"\ndefinition = "d"\nwhere_shown = "w"\ndetial = "x"\n',
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match=r"term 1 \('k'\) has unknown fields \['detial'\]"):
        glossary.load(path)


def test_the_glossary_file_loads_every_field_by_name():
    areas, terms = glossary.load()
    dormant = next(term for term in terms if term.key == "is_dormant")
    assert dormant.area in areas and dormant.definition and dormant.where_computed
