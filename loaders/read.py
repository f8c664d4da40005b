"""Reading extract files into all-text Polars frames, with the source line of every row.

This module owns file formats (CSV with any of `,` `;` tab and an optional BOM, Parquet,
.xlsx) and the refusals that concern a whole file. Types and rules are left to
`validate.py`: everything comes out as text so that a bad value can be quarantined with
its line instead of failing the whole read.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import polars as pl

EXTENSIONS = (".csv", ".tsv", ".txt", ".parquet", ".xlsx")
LINE = "_line"
# Set on a row the reader could only read in part (more fields than the header): validation
# quarantines it with this reason instead of refusing the whole file.
READ_ERROR = "_read_error"
BOM = b"\xef\xbb\xbf"
# An .xlsx is a zip: refuse one that would expand past this (a zip bomb), in bytes. The
# reader holds the expanded sheet in memory; real extracts this big belong in CSV or Parquet.
MAX_XLSX_UNCOMPRESSED = 512 * 1024**2
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class RefusedFile(ValueError):
    """A file that cannot be loaded at all; the message names the file and what was expected."""


def detect_delimiter(header: str) -> str:
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    return max(counts, key=lambda sep: counts[sep]) if any(counts.values()) else ","


def read_csv(path: Path) -> pl.DataFrame:
    raw = path.read_bytes()
    if raw.startswith(BOM):
        raw = raw[len(BOM) :]
    elif raw.startswith(UTF16_BOMS):
        raise RefusedFile(f"{path.name}: UTF-16 text (it starts with a UTF-16 byte order mark); save the extract as UTF-8 CSV")
    if not raw.strip():
        raise RefusedFile(f"{path.name}: the file is empty (expected a header row and data rows)")
    if b"\n" not in raw and b"\r" in raw:
        raw = raw.replace(b"\r", b"\n")  # old Mac line endings (CR only)
    first_line_end = raw.find(b"\n")
    header = raw[: first_line_end if first_line_end >= 0 else len(raw)]
    try:
        header_text = header.decode("utf-8")
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise RefusedFile(
            f"{path.name}: not UTF-8 text (line {line}, byte {exc.start}); save the extract as UTF-8 CSV"
        ) from None
    separator = detect_delimiter(header_text)
    names = [name.strip().strip('"').strip() for name in header_text.rstrip("\r").split(separator)]
    repeated = sorted({name for name in names if name and names.count(name) > 1})
    if repeated:
        raise RefusedFile(
            f"{path.name}: column {', '.join(repr(n) for n in repeated)} appears more than once in the header row "
            "(which one holds the data is ambiguous)"
        )
    try:
        frame = pl.read_csv(
            io.BytesIO(raw),
            separator=separator,
            infer_schema=False,
            truncate_ragged_lines=False,
        )
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError, pl.exceptions.ShapeError) as exc:
        if "more fields than defined" in str(exc):
            return read_ragged_csv(path.name, raw.decode("utf-8"), separator, names)
        raise RefusedFile(f"{path.name}: not a readable CSV file ({str(exc).splitlines()[0]})") from None
    # A quoted value may span lines: later rows start that many lines further down the file.
    spanned = pl.sum_horizontal(pl.col(name).str.count_matches("\n").fill_null(0) for name in frame.columns)
    return _with_lines(frame, first_data_line=2, extra_lines=frame.select(spanned.cum_sum() - spanned).to_series())


def read_ragged_csv(file_name: str, text: str, separator: str, names: list[str]) -> pl.DataFrame:
    """A CSV where some rows have more fields than the header, read record by record.

    Only reached when the fast reader refuses the file, so a clean extract never pays for it.
    Each over-long row keeps its first fields and carries `_read_error` (naming the extra
    values), so it is quarantined on its own line while every other row loads.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    next(reader)  # the header, already parsed
    width = len(names)
    columns: list[list[str | None]] = [[] for _ in range(width)]
    lines: list[int] = []
    errors: list[str | None] = []
    first_line = reader.line_num + 1
    try:
        for record in reader:
            if record:
                lines.append(first_line)
                values = record[:width] + [None] * (width - len(record))
                for column, value in zip(columns, values, strict=True):
                    column.append(value)
                extra = record[width:]
                errors.append(
                    f"the row has {len(record)} fields but the header has {width} "
                    f"(extra values: {', '.join(repr(v[:60]) for v in extra[:5])}{', ...' if len(extra) > 5 else ''})"
                    if extra
                    else None
                )
            first_line = reader.line_num + 1
    except csv.Error as exc:
        raise RefusedFile(f"{file_name}: not a readable CSV file (line {reader.line_num}: {exc})") from None
    frame = pl.DataFrame(
        {**{name: column for name, column in zip(names, columns, strict=True)}, READ_ERROR: errors},
        schema={**dict.fromkeys(names, pl.String), READ_ERROR: pl.String},
    )
    index = pl.Series(range(frame.height), dtype=pl.Int64)
    return _with_lines(frame, first_data_line=2, extra_lines=pl.Series(lines, dtype=pl.Int64) - index - 2)


def read_parquet(path: Path) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a refusal of this file
        raise RefusedFile(f"{path.name}: not a readable Parquet file ({str(exc).splitlines()[0]})") from None
    return _with_lines(_as_text(frame), first_data_line=1)


def read_xlsx(path: Path) -> pl.DataFrame:
    try:
        with zipfile.ZipFile(path) as archive:
            expanded = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise RefusedFile(f"{path.name}: not a readable .xlsx file (not a zip archive)") from None
    if expanded > MAX_XLSX_UNCOMPRESSED:
        raise RefusedFile(
            f"{path.name}: the workbook expands to {expanded:,} bytes, over the "
            f"{MAX_XLSX_UNCOMPRESSED:,}-byte limit; export it as CSV instead"
        )
    try:
        frame = pl.read_excel(path, engine="calamine", infer_schema_length=0)
    except Exception as exc:  # noqa: BLE001
        raise RefusedFile(f"{path.name}: not a readable .xlsx file ({str(exc).splitlines()[0]})") from None
    # Row 1 of the sheet is the header.
    return _with_lines(_as_text(frame), first_data_line=2)


def read_extract(path: Path) -> pl.DataFrame:
    """Every column as text (null for empty), plus `_line`: the row's line or row number."""
    if path.stat().st_size == 0:
        raise RefusedFile(f"{path.name}: the file is empty (0 bytes)")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        frame = read_csv(path)
    elif suffix == ".parquet":
        frame = read_parquet(path)
    elif suffix == ".xlsx":
        frame = read_xlsx(path)
    else:
        raise RefusedFile(f"{path.name}: unsupported file type (expected one of {', '.join(EXTENSIONS)})")
    if frame.height == 0:
        raise RefusedFile(f"{path.name}: the file has a header but no data rows")
    blank_names = [name for name in frame.columns if not name.strip()]
    if blank_names:
        raise RefusedFile(f"{path.name}: a column has no name in the header row")
    return frame


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.col(name).cast(pl.String) if not isinstance(dtype, pl.List) else pl.col(name).list.join(";")
        for name, dtype in frame.schema.items()
    )


def _with_lines(frame: pl.DataFrame, first_data_line: int, extra_lines: pl.Series | None = None) -> pl.DataFrame:
    stripped = frame.rename({name: name.strip() for name in frame.columns})
    stripped = stripped.with_columns(
        pl.col(name).str.strip_chars().replace("", None) for name in stripped.columns
    )
    numbered = stripped.with_row_index(LINE, offset=first_data_line).with_columns(pl.col(LINE).cast(pl.Int64))
    if extra_lines is not None and stripped.width:
        numbered = numbered.with_columns(pl.col(LINE) + extra_lines.cast(pl.Int64))
    # A blank line (every value empty) is not a data row: it is neither read nor quarantined.
    if stripped.width:
        numbered = numbered.filter(pl.any_horizontal(pl.col(name).is_not_null() for name in stripped.columns))
    return numbered
