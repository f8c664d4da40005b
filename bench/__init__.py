"""Benchmarks at scale (`make bench`); figures go to bench/RESULTS.md. Not part of `make test`."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def write_section(section: str, text: str) -> None:
    """Put `text` between `<!-- section -->` and `<!-- /section -->` in RESULTS.md (appended the first time)."""
    start, end = f"<!-- {section} -->", f"<!-- /{section} -->"
    results = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    block = f"{start}\n{text}{end}"
    if start in results:
        results = results[: results.index(start)] + block + results[results.index(end) + len(end) :]
    else:
        results = results.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(results)
