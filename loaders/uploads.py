"""Loading from the app: the demo program, and extract files uploaded on the Data page.

This module owns where uploaded files go (a new folder per load under `data/extracts/`,
holding the uploaded files plus the current source's files for the tables not uploaded)
and the server-side checks on them. The build itself is `build.py`'s, with its atomic swap.
"""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

import queries
from loaders.build import BuildRefused, Progress, build_database, rebuild_from_source
from loaders.read import EXTENSIONS
from settings import Settings

DATA_DIR = queries.PROJECT_DIR / "data"
DEMO_DIR = DATA_DIR / "demo"
# Checked again here: the browser's limit (server.maxUploadSize) can be bypassed.
MAX_UPLOAD_BYTES = 200 * 1024**2
# Upload folders kept under data/extracts/ after a successful load (the newest ones; each holds
# a full copy of a source, so an old one is only worth keeping to look back at a recent load).
KEEP_UPLOAD_FOLDERS = 3


class UploadRefused(ValueError):
    pass


def build_demo(progress: Progress | None = None, scale: float = 1.0) -> pl.DataFrame:
    from loaders.demo import write_demo

    if progress:
        progress(0.0, "Writing the demo extracts")
    if not (DEMO_DIR / "partners.csv").exists():
        write_demo(DEMO_DIR, scale=scale)
    return build_database(DEMO_DIR, queries.db_path(), progress=progress)


def rebuild_served(progress: Progress | None = None) -> pl.DataFrame:
    """Build the served database again from the extracts and settings it was built with
    (after an upgrade of Partner Pulse changed what a build holds)."""
    try:
        return rebuild_from_source(queries.db_path(), progress=progress)
    except BuildRefused as exc:
        raise UploadRefused(str(exc)) from None


def current_source() -> tuple[Path | None, str | None]:
    """The folder and preset the served database was built from, if any."""
    try:
        con = queries.connect()
        rows = dict(con.sql("select key, value from load_meta").fetchall())
        con.close()
    except (FileNotFoundError, duckdb.Error):
        return None, None
    folder = Path(rows.get("source_dir", ""))
    return (folder if folder.is_dir() else None), (rows.get("preset") or None)


def current_settings() -> Settings | None:
    """The settings the served database was built with, so an upload keeps its stage map, FX..."""
    try:
        con = queries.connect()
        rows = dict(con.sql("select key, value from load_meta").fetchall())
        con.close()
    except (FileNotFoundError, duckdb.Error):
        return None
    return Settings.model_validate_json(rows["settings_json"]) if rows.get("settings_json") else None


def safe_name(name: str) -> str:
    base = Path(name).name
    if base != name or base.startswith("."):
        # A browser sends a bare file name; folders or a leading dot mean a crafted request.
        raise UploadRefused(f"{name!r}: not an extract file name (a bare file name: no folders, no leading dot)")
    if not re.fullmatch(r"[\w .\-()]+", base) or Path(base).suffix.lower() not in EXTENSIONS:
        raise UploadRefused(f"{base}: not an extract file name (expected one of {', '.join(EXTENSIONS)})")
    return base


def build_from_upload(
    files: list[tuple[str, bytes]],
    preset: str | None = None,
    replace_all: bool = False,
    progress: Progress | None = None,
) -> pl.DataFrame:
    """Build the served database from uploaded files (name, content) over the current source."""
    for name, content in files:
        safe_name(name)
        if len(content) > MAX_UPLOAD_BYTES:
            raise UploadRefused(f"{name}: {len(content):,} bytes, over the {MAX_UPLOAD_BYTES:,}-byte upload limit")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    folder = DATA_DIR / "extracts" / stamp
    folder.mkdir(parents=True)
    uploaded_stems = {Path(name).stem.lower() for name, _ in files}
    source, _ = current_source()
    if source is not None and not replace_all:
        for path in sorted(source.iterdir()):
            if path.is_file() and path.suffix.lower() in EXTENSIONS and path.stem.lower() not in uploaded_stems:
                shutil.copy2(path, folder / path.name)
    for name, content in files:
        (folder / safe_name(name)).write_bytes(content)
    try:
        report = build_database(folder, queries.db_path(), preset=preset, settings=current_settings(), progress=progress)
    except BuildRefused as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise UploadRefused(str(exc)) from None
    prune_upload_folders(keep=folder)
    return report


def prune_upload_folders(keep: Path) -> list[Path]:
    """Remove all but the newest KEEP_UPLOAD_FOLDERS upload folders; never `keep` (the served source)."""
    # Folder names are UTC timestamps, so name order is age order.
    folders = sorted(p for p in (DATA_DIR / "extracts").iterdir() if p.is_dir() and re.fullmatch(r"\d{8}T\d{12}", p.name))
    removed = [p for p in folders[: max(len(folders) - KEEP_UPLOAD_FOLDERS, 0)] if p != keep]
    for old in removed:
        shutil.rmtree(old, ignore_errors=True)
    return removed


__all__ = ["EXTENSIONS", "UploadRefused", "build_demo", "build_from_upload", "rebuild_served"]
