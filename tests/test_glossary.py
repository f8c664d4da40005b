"""The glossary: one definition per metric and model, DESIGN.md's words where it gives them,
the committed docs/metrics.md generated from it, and the Glossary page that shows it."""

from __future__ import annotations

import re

import pytest

from queries import glossary
from tests.conftest import PROJECT, open_page

DESIGN = PROJECT.parent / "shared" / "DESIGN.md"


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_the_committed_metrics_doc_is_the_generated_text():
    committed = (PROJECT / "docs" / "metrics.md").read_text(encoding="utf-8")
    assert committed == glossary.markdown(), "regenerate it: python -m queries.glossary > docs/metrics.md"


@pytest.mark.skipif(not DESIGN.exists(), reason="DESIGN.md is not in ../shared")
def test_every_definition_from_design_is_its_text_word_for_word():
    design = flat(DESIGN.read_text(encoding="utf-8"))
    own = [t for t in glossary.GLOSSARY if t.in_design]
    missing = [t.key for t in own if flat(t.definition) not in design]
    assert not missing, f"definitions not found in DESIGN.md: {missing}"


def test_every_model_disagreement_kind_and_partner_flag_has_one_entry():
    from charts.disagreements import KIND_LABELS
    from queries.attribution import MODELS

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
