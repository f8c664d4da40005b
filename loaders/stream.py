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

Files at most PIECE_BYTES, Parquet and Excel extracts are read whole, as before.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import duckdb
import polars as pl

from loaders.read import LINE, READ_ERROR, RefusedFile, read_extract

# About 128 MB of CSV per piece: reading and checking one takes about 0.8 GB at the peak.
PIECE_BYTES = 128 * 1024**2
CSV_SUFFIXES = (".csv", ".tsv", ".txt")


def in_pieces(path: Path) -> bool:
    """Whether `read_pieces` reads this file in more than one piece (a CSV larger than a piece)."""
    return path.suffix.lower() in CSV_SUFFIXES and path.stat().st_size > PIECE_BYTES


def read_pieces(path: Path, scratch: Path) -> Iterator[pl.DataFrame]:
    """The extract's rows as `read_extract` reads them (text, `_line` in the whole file), a piece at a time.

    `scratch`: a folder for the pieces' files (removed when done). A file that is not a large CSV
    comes as one piece. When `read_extract` refuses a piece, the whole file is read to refuse it
    with the line in the whole file (a piece of nothing but blank lines, which the whole file is
    not refused for, is skipped).
    """
    if not in_pieces(path):
        yield read_extract(path)
        return
    with path.open("rb") as source:
        header = source.readline()
        if not header.endswith(b"\n") or header.count(b'"') % 2:  # one header line, or read whole
            yield read_extract(path)
            return
        scratch.mkdir(parents=True, exist_ok=True)
        piece_file = scratch / path.name  # the same name, so that messages name the user's file
        lines_before = 1  # the header
        try:
            for piece in split_records(source, PIECE_BYTES):
                piece_file.write_bytes(header + piece)
                try:
                    frame: pl.DataFrame | None = read_extract(piece_file)
                except RefusedFile:
                    read_extract(path)
                    frame = None
                if frame is not None:
                    # The piece's data starts on its line 2; in the whole file, after `lines_before` lines.
                    yield frame.with_columns(pl.col(LINE) + (lines_before - 1))
                lines_before += piece.count(b"\n")
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

    def mark(self, frame: pl.DataFrame) -> pl.DataFrame:
        """`frame` (a piece, canonical column names) with rows whose key an earlier piece loaded marked as duplicates."""
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
        duplicate = pl.lit(f"duplicate {self.key} '") + pl.col(self.key) + pl.lit("' (first on line ")
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
