"""Loading a large extract in pieces, so a build holds a piece of a file in memory, not the file.

This module owns cutting a large CSV extract into pieces of whole records and the one rule
that spans pieces: duplicate keys. Reading and checking a piece are `read.py`'s and
`validate.py`'s, unchanged: each piece is written as a file of its own (the header line, then
a run of records, cut at a line end outside quoted values) and read by `read_extract`, and its
rows are renumbered to their lines in the whole file. Memory then grows with PIECE_BYTES, not
with the extract (a 20-million-row activity file reads and checks in about 6x its size).

Duplicate keys across pieces: a row whose key an earlier piece already loaded is quarantined
as `validate.check_duplicate_keys` would quarantine it ("duplicate activity_id 'A1' (first on
line N)"), through the reader's per-row reason, so it is checked like any row and its raw
values are kept. Two differences from checking the file at once, both in the reason text of
rows quarantined anyway: on a row that also breaks another rule, the duplicate comes first
among its reasons; and a row quarantined for another rule, whose key first loads in a later
piece, does not also say it is a duplicate. Which rows load is the same.

Read whole, as before: files of at most PIECE_BYTES, Parquet and Excel extracts, CSV files
that are not UTF-8 (detecting an encoding looks at the whole file) unless the settings name
a one-byte encoding for them, and the tables the build names in `build.WHOLE_TABLES`, whose
checks look at all of their rows at once. The rules that span the rows of a table read in
pieces besides duplicate keys (history stages the stage map lacks: one warning and one
settings snippet for the table) are the build's (`build.load_table`).
"""

from __future__ import annotations

import codecs
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import duckdb
import polars as pl

from loaders.read import LINE, READ_ERROR, Extract, RefusedFile, read_extract

# About 128 MB of CSV per piece: reading and checking one takes about 0.8 GB at the peak.
PIECE_BYTES = 128 * 1024**2
CSV_SUFFIXES = (".csv", ".tsv", ".txt")


def in_pieces(path: Path, encoding: str | None = None) -> bool:
    """Whether `read_pieces` reads this file in more than one piece: a CSV larger than a piece, in
    UTF-8 (or in the one-byte-per-line-end encoding the settings name for it).

    Other text is read whole, as before: detecting an encoding looks at the whole file (a file
    mixing UTF-8 and another encoding is refused), and UTF-16 has no byte-sized line ends to cut at."""
    if path.suffix.lower() not in CSV_SUFFIXES or path.stat().st_size <= PIECE_BYTES:
        return False
    if encoding:
        return not codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))
    return is_utf8(path)


def is_utf8(path: Path) -> bool:
    """Whether the file is UTF-8 text (with or without BOM), read a block at a time."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as source:
        if source.read(2) in (b"\xff\xfe", b"\xfe\xff"):
            return False  # a UTF-16 byte order mark
        source.seek(0)
        try:
            while block := source.read(PIECE_BYTES):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def read_pieces(path: Path, scratch: Path, encoding: str | None = None, many: bool | None = None) -> Iterator[Extract]:
    """The extract as `read_extract` reads it (text, `_line` in the whole file), a piece at a time.

    `scratch`: a folder for the pieces' files (removed when done); `encoding`: the settings' for
    the file; `many`: `in_pieces(path, encoding)`, when the caller knows it already. A file that
    is not a large UTF-8 CSV comes as one piece. When `read_extract` refuses a piece, the whole
    file is read to refuse it with the line in the whole file. Pieces without rows (blank lines)
    are skipped, unless no piece has rows.
    """
    if not (in_pieces(path, encoding) if many is None else many):
        yield read_extract(path, encoding)
        return
    with path.open("rb") as source:
        header = source.readline()
        if not header.endswith(b"\n") or header.count(b'"') % 2:  # one header line, or read whole
            yield read_extract(path, encoding)
            return
        scratch.mkdir(parents=True, exist_ok=True)
        piece_file = scratch / path.name  # the same name, so that messages name the user's file
        lines_before = 1  # the header
        blank: Extract | None = None  # a piece without rows, yielded if no piece has rows
        yielded = False
        try:
            for piece in split_records(source, PIECE_BYTES):
                piece_file.write_bytes(header + piece)
                try:
                    extract = read_extract(piece_file, encoding)
                except RefusedFile:
                    read_extract(path, encoding)  # refused with the whole file's words (or read: then the piece's)
                    raise
                # The piece's data starts on its line 2; in the whole file, after `lines_before` lines.
                extract.frame = extract.frame.with_columns(pl.col(LINE) + (lines_before - 1))
                lines_before += piece.count(b"\n")
                if extract.frame.height == 0:
                    blank = blank or extract
                    continue
                yielded = True
                yield extract
            if not yielded and blank is not None:
                yield blank
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def split_records(source: BinaryIO, piece_bytes: int) -> Iterator[bytes]:
    """Runs of whole records of about `piece_bytes` each, from `source` positioned at a record's start."""
    carry = b""
    while block := source.read(piece_bytes):
        data = carry + block
        cut = record_end(data)
        carry = data[cut:]  # all of it while no line end is outside quotes (a long quoted value)
        if cut:
            yield data[:cut]
    if carry:
        yield carry


def record_end(data: bytes) -> int:
    """The index just past the last line end in `data` outside quoted values (0 if none).

    `data` starts at a record boundary; a line end is outside quotes when an even number of
    quote characters comes before it (a quote inside a quoted value is written twice)."""
    quotes = data.count(b'"')
    end = len(data)
    while True:
        at = data.rfind(b"\n", 0, end)
        if at < 0:
            return 0
        quotes -= data.count(b'"', at, end)
        if quotes % 2 == 0:
            return at + 1
        end = at


class SeenKeys:
    """The keys earlier pieces of one table loaded, with their first line, kept in DuckDB (not in Python)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, key: str | None) -> None:
        """`key`: the table's key column, or None when it has none or its file comes in one piece."""
        self.con, self.key, self.started = con, key, False

    def mark(self, frame: pl.DataFrame, label: str | None = None) -> pl.DataFrame:
        """`frame` (a piece, canonical column names) with rows whose key an earlier piece loaded marked
        as duplicates; `label`: the key column's name in the source file (for the reason)."""
        if not self.started or self.key not in frame.columns:
            return frame
        self.con.register("piece_keys", frame.select(pl.col(self.key).alias("key")).unique().drop_nulls())
        try:
            seen = self.con.sql("select key, line from seen_keys semi join piece_keys using (key)").pl()
        finally:
            self.con.unregister("piece_keys")
        if seen.is_empty():
            return frame
        frame = frame.join(seen.rename({"key": self.key, "line": "_first_line"}), on=self.key, how="left", maintain_order="left")
        duplicate = pl.lit(f"duplicate {label or self.key} '") + pl.col(self.key) + pl.lit("' (first on line ")
        duplicate = duplicate + pl.col("_first_line").cast(pl.String) + pl.lit(")")
        earlier = pl.col(READ_ERROR) if READ_ERROR in frame.columns else pl.lit(None, pl.String)
        reason = pl.concat_str(
            [earlier, pl.when(pl.col("_first_line").is_not_null()).then(duplicate)], separator="; ", ignore_nulls=True
        )
        return frame.with_columns(pl.when(reason != "").then(reason).alias(READ_ERROR)).drop("_first_line")

    def remember(self, rows: pl.DataFrame) -> None:
        """Keys of a piece's rows that passed their checks (before references, as the whole-file check counts them)."""
        if self.key is None or self.key not in rows.columns:
            return
        self.con.register("piece_rows", rows.select(pl.col(self.key).alias("key"), pl.col(LINE).alias("line")).drop_nulls())
        try:
            if not self.started:
                self.con.execute("create temp table seen_keys (key varchar, line bigint)")
                self.started = True
            self.con.execute("insert into seen_keys select key, line from piece_rows")
        finally:
            self.con.unregister("piece_rows")

    def close(self) -> None:
        if self.started:
            self.con.execute("drop table seen_keys")
            self.started = False
