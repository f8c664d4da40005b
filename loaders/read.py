"""Reading extract files into all-text Polars frames, with the source line of every row.

This module owns file formats (CSV with any of `,` `;` tab, Parquet, .xlsx), text encodings
(UTF-8 with or without BOM, UTF-16 with BOM, else Windows-1252 / ISO-8859-1, or the one the
settings name for a file), header rows (read by the CSV parser, repeated names kept apart)
and the refusals that concern a whole file. Types and rules are left to `validate.py`:
everything comes out as text so that a bad value can be quarantined with its line instead of
failing the whole read. Whether a file with a header and no rows may load is the build's call.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
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
# A well-formed UTF-8 sequence of two to four bytes: in a file that is not valid UTF-8 as a
# whole, one of these means the file mixes UTF-8 with another encoding.
UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
# Bytes that Windows-1252 uses for letters and punctuation and ISO-8859-1 for control codes.
CP1252_ONLY = re.compile(rb"[\x80-\x9f]")


class RefusedFile(ValueError):
    """A file that cannot be loaded at all; the message names the file and what was expected."""


@dataclass
class Extract:
    """One file as read: every column as text, plus how it was read."""

    frame: pl.DataFrame
    source_file: str
    # The text encoding the file was read in (None for Parquet and .xlsx, which carry types).
    encoding: str | None = None
    # Header names that appear more than once: name -> the names its later copies are kept under.
    repeated: dict[str, list[str]] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        return [name for name in self.frame.columns if name != LINE]


def decode(raw: bytes, file_name: str, encoding: str | None = None) -> tuple[str, str]:
    """The file's text and the name of the encoding it was read in.

    UTF-8 (with or without BOM) and UTF-16 with a BOM are recognised; a file that is not valid
    UTF-8 is read as Windows-1252 (ISO-8859-1 where the two agree), unless it holds binary data
    or mixes UTF-8 with another encoding. `encoding` (from the settings) overrides all of this.
    """
    if encoding:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise RefusedFile(
                f"{file_name}: not {encoding} text as the settings say (line {line}, byte {exc.start}); "
                "fix the file's entry under [encodings] in the settings, or remove it to let the encoding be detected"
            ) from None
        return text.removeprefix("\ufeff"), codecs.lookup(encoding).name
    if raw.startswith(UTF16_BOMS):
        try:
            return raw.decode("utf-16").removeprefix("\ufeff"), "UTF-16"
        except UnicodeDecodeError:
            raise RefusedFile(f"{file_name}: starts with a UTF-16 byte order mark but is not UTF-16 text") from None
    with_bom = raw.startswith(BOM)
    try:
        return raw[len(BOM) if with_bom else 0 :].decode("utf-8"), "UTF-8 with BOM" if with_bom else "UTF-8"
    except UnicodeDecodeError as exc:
        bad_line = raw[: exc.start].count(b"\n") + 1
        where = f"line {bad_line}, byte {exc.start}"
    nul = raw.find(b"\x00")
    if nul >= 0:
        line = raw[:nul].count(b"\n") + 1
        raise RefusedFile(f"{file_name}: not a text file (binary data: a NUL byte on line {line}, byte {nul}); expected CSV text")
    if with_bom:
        raise RefusedFile(f"{file_name}: starts with a UTF-8 byte order mark but is not UTF-8 text ({where})")
    utf8 = UTF8_SEQUENCE.search(raw)
    if utf8:
        line = raw[: utf8.start()].count(b"\n") + 1
        raise RefusedFile(
            f"{file_name}: mixes encodings: line {line} is UTF-8 text and {where} is not; export the file "
            "again in one encoding, or name its encoding under [encodings] in the settings"
        )
    if CP1252_ONLY.search(raw):
        try:
            return raw.decode("cp1252"), "Windows-1252"
        except UnicodeDecodeError:
            pass  # a byte Windows-1252 leaves undefined: ISO-8859-1 reads every byte
    return raw.decode("latin-1"), "ISO-8859-1"


def detect_delimiter(header: str) -> str:
    """The one of `,` `;` tab that splits the header row into the most names (quotes honoured)."""
    counts = {sep: len(next(csv.reader([header], delimiter=sep), [])) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > 1 else ","


def header_names(text: str, separator: str) -> list[str]:
    """The header row's names as the CSV parser reads them: quoted names may hold the separator
    and doubled quotes, as in HubSpot's `Date entered "Closed Lost (CA, OR)"`."""
    try:
        row = next(csv.reader(io.StringIO(text, newline=""), delimiter=separator), [])
    except csv.Error as exc:
        raise RefusedFile(f"not a readable CSV header row ({exc})") from None
    return [name.strip() for name in row]


def keep_apart(names: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """Names made unique: a repeated name's later copies become `Name (2)`, `Name (3)`, ..."""
    seen: dict[str, int] = {}
    unique: list[str] = []
    repeated: dict[str, list[str]] = {}
    taken = set(names)
    for name in names:
        if name not in seen:
            seen[name] = 1
            unique.append(name)
            continue
        copy = seen[name]
        while True:
            copy += 1
            candidate = f"{name} ({copy})"
            if candidate not in taken:
                break
        seen[name] = copy
        taken.add(candidate)
        unique.append(candidate)
        repeated.setdefault(name, []).append(candidate)
    return unique, repeated


def read_csv(path: Path, encoding: str | None = None) -> Extract:
    raw = path.read_bytes()
    if not raw.strip(b" \t\r\n\f\v" + BOM):
        raise RefusedFile(f"{path.name}: the file is empty (expected a header row and data rows)")
    text, encoding_used = decode(raw, path.name, encoding)
    if not text.strip():
        raise RefusedFile(f"{path.name}: the file is empty (expected a header row and data rows)")
    # Polars reads UTF-8: the file's own bytes when they are UTF-8 already, else the decoded text.
    data = raw[len(BOM) :] if encoding_used == "UTF-8 with BOM" else raw if encoding_used == "UTF-8" else text.encode("utf-8")
    if b"\n" not in data and b"\r" in data:
        data = data.replace(b"\r", b"\n")  # old Mac line endings (CR only)
        text = text.replace("\r", "\n")
    first_line = text.split("\n", 1)[0].rstrip("\r")
    separator = detect_delimiter(first_line)
    try:
        names = header_names(text, separator)
    except RefusedFile as exc:
        raise RefusedFile(f"{path.name}: {exc}") from None
    if any(not name for name in names):
        raise RefusedFile(f"{path.name}: a column has no name in the header row")
    names, repeated = keep_apart(names)
    try:
        frame = pl.read_csv(
            io.BytesIO(data),
            separator=separator,
            infer_schema=False,
            truncate_ragged_lines=False,
            new_columns=names,
        )
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError, pl.exceptions.ShapeError) as exc:
        if "more fields than defined" in str(exc):
            frame = read_ragged_csv(path.name, data.decode("utf-8"), separator, names)
            return Extract(frame, path.name, encoding_used, repeated)
        raise RefusedFile(f"{path.name}: not a readable CSV file ({str(exc).splitlines()[0]})") from None
    if frame.width != len(names):
        raise RefusedFile(f"{path.name}: not a readable CSV file (the header row could not be read as {len(names)} names)")
    # A quoted value may span lines: later rows start that many lines further down the file.
    spanned = pl.sum_horizontal(pl.col(name).str.count_matches("\n").fill_null(0) for name in frame.columns)
    extra = frame.select(spanned.cum_sum() - spanned).to_series() if frame.width else None
    return Extract(_with_lines(frame, first_data_line=2, extra_lines=extra), path.name, encoding_used, repeated)


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


def read_parquet(path: Path) -> Extract:
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a refusal of this file
        raise RefusedFile(f"{path.name}: not a readable Parquet file ({str(exc).splitlines()[0]})") from None
    return Extract(_with_lines(_as_text(frame), first_data_line=1), path.name)


def read_xlsx(path: Path) -> Extract:
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
    return Extract(_with_lines(_as_text(frame), first_data_line=2), path.name)


def read_extract(path: Path, encoding: str | None = None) -> Extract:
    """Every column as text (null for empty), plus `_line`: the row's line or row number.

    A file with a header and no rows comes back with no rows; `encoding` (a CSV's, from the
    settings) overrides detection."""
    if path.stat().st_size == 0:
        raise RefusedFile(f"{path.name}: the file is empty (0 bytes)")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        extract = read_csv(path, encoding)
    elif suffix == ".parquet":
        extract = read_parquet(path)
    elif suffix == ".xlsx":
        extract = read_xlsx(path)
    else:
        raise RefusedFile(f"{path.name}: unsupported file type (expected one of {', '.join(EXTENSIONS)})")
    if any(not name.strip() for name in extract.columns):
        raise RefusedFile(f"{path.name}: a column has no name in the header row")
    return extract


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
