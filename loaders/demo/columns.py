"""Turning the generator's arrays into the extracts' columns: ids, labels from a vocabulary,
references that may be empty, and the CSV writer every file goes through."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl


def ids(prefix: str, n: int, width: int) -> pl.Series:
    """Zero-padded ids (P00001, ...), widened when n needs more digits."""
    width = max(width, len(str(n)))
    digits = pl.int_range(1, n + 1, dtype=pl.Int64).cast(pl.String).str.zfill(width)
    return pl.select(pl.concat_str(pl.lit(prefix), digits)).to_series()


def labels(vocab: list[str], codes: np.ndarray) -> pl.Series:
    return pl.Series(vocab, dtype=pl.String).gather(codes)


def refs(keys: pl.Series, index: np.ndarray) -> pl.Series:
    """keys[index], null where index is -1."""
    picked = keys.gather(np.maximum(index, 0))
    return pl.DataFrame({"v": picked, "m": index >= 0}).select(pl.when("m").then("v")).to_series()


def optional(values: np.ndarray, present: np.ndarray) -> pl.Series:
    return pl.DataFrame({"v": values, "m": present}).select(pl.when("m").then("v")).to_series()


def write_csv(frame: pl.DataFrame, path: Path) -> None:
    frame.write_csv(path, datetime_format="%Y-%m-%d %H:%M:%S", float_precision=2)
