"""CSV that is safe to open in a spreadsheet, for the app's downloads and the CLI's exports.

A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return can run as a formula in
Excel or Sheets (OWASP "CSV injection"); such text cells get a leading `'`. Numbers stay
numbers: a negative amount is a number column, not text, and is left alone.
"""

from __future__ import annotations

import polars as pl

FORMULA_START = r"^[=+\-@\t\r]"


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    text_columns = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    lists = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.List)]
    frame = frame.with_columns(pl.col(name).list.join("; ") for name in lists)
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(FORMULA_START)).then("'" + pl.col(name)).otherwise(pl.col(name)).alias(name)
        for name in [*text_columns, *lists]
    )


def safe_csv(frame: pl.DataFrame) -> bytes:
    other_nested = [name for name, dtype in frame.schema.items() if dtype.is_nested() and not isinstance(dtype, pl.List)]
    frame = frame.with_columns(pl.col(name).struct.json_encode() for name in other_nested)
    return neutralise_formulas(frame).write_csv().encode("utf-8")
