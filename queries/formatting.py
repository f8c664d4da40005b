"""Numbers in words: how an amount reads in a sentence, for the texts queries build and pages show.

This module owns only the formatting; which numbers a sentence states is decided where the
sentence is built (queries/forecast.py's notes, the pages' cards through ui.money).
"""

from __future__ import annotations


def money(value: float | None, currency: str = "$") -> str:
    """$1.2M, $12.4k, $950."""
    if value is None:
        return "n/a"
    sign = "-" if value < 0 else ""
    value = abs(float(value))
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if value >= limit:
            return f"{sign}{currency}{value / limit:.1f}{suffix}"
    return f"{sign}{currency}{value:,.0f}"
