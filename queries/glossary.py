"""The glossary: every metric and model the app shows, defined once.

The words live in `glossary.toml` beside this module, one `[[term]]` table per entry with
named fields (the file's header says what each means); this module only loads them and
shapes them for the app. Each entry's `definition` is docs/design.md's sentence, word for
word, where it gives one; `detail` says how this app computes it where that adds something
(thresholds, settings, edge cases). Every help tooltip (the ⓘ beside a card, a column or a
heading) is `tooltip(key)`: the definition and the detail of one entry. The Glossary page
(`pages/glossary.py`), `docs/metrics.md`, the KPI words of `program/kpi_definitions.py` and the
pages' tooltips all read from here; the numbers themselves are computed under `queries/` (see
`where_computed`).

Regenerate the docs with `python -m queries.glossary > docs/metrics.md` (a test checks the
committed file equals this output).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Term:
    key: str  # stable id, the name the code uses (a KPI, a flag column, a model, a disagreement kind)
    term: str  # what the app calls it
    area: str
    definition: str  # docs/design.md's words where it defines the term
    where_shown: str  # page (and part of it)
    detail: str = ""  # how this app computes it, where that adds to the definition
    where_computed: str = ""  # the query or module that computes it
    in_design: bool = True  # False: the app's own term, which docs/design.md does not define


GLOSSARY_FILE = Path(__file__).with_name("glossary.toml")


def load(path: Path = GLOSSARY_FILE) -> tuple[list[str], list[Term]]:
    """The areas, in page order, and every term, in the file's order."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    fields = set(Term.__dataclass_fields__)
    for number, entry in enumerate(data["term"], start=1):
        unknown = set(entry) - fields
        if unknown:  # a misspelt field would otherwise be a TypeError naming no entry
            raise ValueError(f"{path.name}: term {number} ({entry.get('key')!r}) has unknown fields {sorted(unknown)}")
    return list(data["areas"]), [Term(**entry) for entry in data["term"]]


AREAS, GLOSSARY = load()


def by_key() -> dict[str, Term]:
    """Every term by its key: `glossary.by_key()["is_dormant"].definition`."""
    return {term.key: term for term in GLOSSARY}


def definition(key: str) -> str:
    """The definition of one term, as written (docs/design.md's words where it defines the term)."""
    return by_key()[key].definition


def tooltip(key: str) -> str:
    """The help tooltip of a number: its term's definition, as a sentence, then how the app computes it.

    Every `help=` that defines a metric reads this, so a card, a column and the Glossary page
    cannot say different things.
    """
    term = by_key()[key]
    text = term.definition.strip().rstrip(";,.")
    if re.fullmatch(r"[a-z][a-z-]*", text.split(" ", 1)[0]):  # a word, not a formula or a column name
        text = text[0].upper() + text[1:]
    return f"{text}. {term.detail}" if term.detail else f"{text}."


def tooltips() -> set[str]:
    """Every tooltip text, for tests that check each help shown comes from here."""
    return {tooltip(term.key) for term in GLOSSARY}


def markdown() -> str:
    """The glossary as Markdown, grouped by area: the text of docs/metrics.md."""
    lines = [
        "# Metrics and models",
        "",
        "Generated from `queries/glossary.toml` by `python -m queries.glossary > docs/metrics.md`; do not edit by "
        "hand. Definitions are the words of the design, [design.md](design.md), where it defines the term; the app's "
        "Glossary page shows the same entries.",
        "",
    ]
    for area in AREAS:
        lines += [f"## {area}", "", "| term | definition | how it is computed | where shown |", "| --- | --- | --- | --- |"]
        for term in (t for t in GLOSSARY if t.area == area):
            source = f"(`{term.where_computed}`)" if term.where_computed else ""
            own = "" if term.in_design else "The app's own term: docs/design.md does not define it."
            computed = " ".join(part for part in (own, term.detail, source) if part)
            cells = [f"**{term.term}**", term.definition, computed, term.where_shown]
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(), end="")
