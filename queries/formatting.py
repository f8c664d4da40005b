"""Numbers in words: how an amount reads in a sentence or a printed cell, for the texts queries
build and pages show. `money` is the one way Partner Pulse writes an amount as text.

This module owns only the formatting; which numbers a sentence states is decided where the
sentence is built (queries/forecast/methods.py's notes, the statement, the signals' reasons, the digest,
the pages' cards through ui.money). The currency is the program's reporting currency
(`queries.meta.currency(con)`), which every amount is converted to by the build.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

# Currencies written with their symbol before the amount ($1,234.56). Any other is written by its
# code after the amount (1,234.56 EUR), as the printed statement and the workbook write it.
SYMBOLS = {"USD": "$"}

Style = Literal["short", "whole", "cents"]


def money(value: float | Decimal | None, currency: str = "USD", style: Style = "short", missing: str = "n/a") -> str:
    """An amount in the reporting currency, as text.

    style: "short" ($1.2M, $12.4k, $950: cards and notes), "whole" ($279,382, and $0.40 under
    one: sentences about a partner), "cents" ($1,234.56: statements, workbooks). A minus sign
    goes first (-$950). A currency without a symbol reads 1.2M EUR, 1,234.56 EUR. `missing`
    stands for None.
    """
    if value is None:
        return missing
    sign = "-" if value < 0 else ""
    if style == "cents":
        # A Decimal keeps its own digits (no detour through float).
        number = f"{abs(value):,.2f}"
    else:
        amount = abs(float(value))
        number = f"{amount:,.0f}" if style == "short" or amount >= 1 else f"{amount:,.2f}"
        if style == "short":
            number = next(
                (f"{amount / limit:.1f}{suffix}" for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")) if amount >= limit),
                number,
            )
    symbol = SYMBOLS.get(currency)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {currency}"
