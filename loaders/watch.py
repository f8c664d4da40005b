"""Watching a folder of extracts: rebuild the database when a nightly job drops new files.

This module owns deciding *when* to build: it polls the folder, notices a changed set of
extract files (a new file, a new modification time or size, a file gone), waits until the
folder has stood still for one poll so a half-written file is never read, and then calls
`build_database`, which owns the build itself (the atomic swap, and refusing a file it
cannot load while the last good database keeps being served). Each build's outcome is one
JSON line on stdout; a refused file set is not retried until it changes again.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from loaders.build import BuildRefused, build_database
from loaders.read import EXTENSIONS
from settings import SettingsError

# file name -> (size in bytes, modification time in ns)
Snapshot = dict[str, tuple[int, int]]


def snapshot(source_dir: Path, settings_path: Path | None = None) -> Snapshot:
    """The extract files in the folder (and the settings file, which changes a build too).

    Hidden files (`.partners.csv.tmp`, a copy in progress) and Excel's `~$` lock files are
    not extracts, so a writer that writes beside and renames is picked up only once renamed.
    """
    files: Snapshot = {}
    if source_dir.is_dir():
        for path in source_dir.iterdir():
            if path.name.startswith((".", "~$")) or path.suffix.lower() not in EXTENSIONS:
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:  # removed between listing and stat
                continue
            if path.is_file():
                files[path.name] = (stat.st_size, stat.st_mtime_ns)
    if settings_path is not None and settings_path.is_file():
        stat = settings_path.stat()
        files[f"settings:{settings_path}"] = (stat.st_size, stat.st_mtime_ns)
    return files


def record_path(db_path: Path) -> Path:
    """Beside the database: the file set of the watcher's last good build, so a restart does not rebuild."""
    return db_path.with_name(f".{db_path.name}.watched.json")


def already_built(db_path: Path, files: Snapshot, source_dir: Path) -> bool:
    """True when the watcher's last good build into `db_path` was from exactly these files."""
    try:
        record = json.loads(record_path(db_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not db_path.exists() or record.get("db_inode") != db_path.stat().st_ino:
        return False  # built since by someone else (`build`, the Data page)
    same_files = {name: tuple(state) for name, state in record.get("files", {}).items()} == files
    return same_files and record.get("dir") == str(source_dir.resolve())


def remember(db_path: Path, files: Snapshot, source_dir: Path) -> None:
    record = {"dir": str(source_dir.resolve()), "db_inode": db_path.stat().st_ino, "files": files}
    partial = record_path(db_path).with_suffix(".partial")
    partial.write_text(json.dumps(record), encoding="utf-8")
    partial.replace(record_path(db_path))


def outcome(report: Any = None, reason: str | None = None, **extra: Any) -> dict[str, Any]:
    """One build's outcome as a JSON-ready dict (the report is build_database's frame)."""
    line: dict[str, Any] = {"time": datetime.now(UTC).isoformat(timespec="seconds"), "ok": reason is None}
    line.update(extra)
    if reason is not None:
        line["reason"] = reason
        return line
    line["tables"] = {
        row["table_name"]: {
            "status": row["status"],
            "source_file": row["source_file"],
            "rows_read": row["rows_read"],
            "rows_loaded": row["rows_loaded"],
            "rows_quarantined": row["rows_quarantined"],
            "quarantine_alarm": row["quarantine_alarm"],
        }
        for row in report.iter_rows(named=True)
    }
    return line


class Watcher:
    """Decides, one poll at a time, whether the folder has changed and is ready to build.

    `poll()` is the whole policy, with no sleeping, so tests can drive it step by step.
    """

    def __init__(
        self,
        source_dir: Path | str,
        db_path: Path | str,
        preset: str | None = None,
        settings_path: Path | str | None = None,
        log: Callable[[dict[str, Any]], None] | None = None,
        strict: bool = False,
    ) -> None:
        self.source_dir = Path(source_dir)
        self.db_path = Path(db_path)
        self.preset = preset
        self.strict = strict
        self.settings_path = Path(settings_path) if settings_path else None
        self.log = log or (lambda line: None)
        self.previous: Snapshot | None = None  # what the last poll saw
        self.attempted: Snapshot | None = None  # the file set of the last build, good or refused
        self.started = False

    def poll(self) -> dict[str, Any] | None:
        """Look once; build when the files changed and stood still since the last poll.

        Returns the build's outcome (also passed to `log`), or None when nothing was built.
        """
        current = snapshot(self.source_dir, self.settings_path)
        settled = current == self.previous
        self.previous = current
        if not settled or current == self.attempted:
            return None
        if not self.started:
            # First settled look: a database already built from these very files needs no rebuild.
            self.started = True
            if already_built(self.db_path, current, self.source_dir):
                self.attempted = current
                return None
        self.attempted = current
        line = self.build(current)
        self.log(line)
        return line

    def build(self, files: Snapshot) -> dict[str, Any]:
        started = time.perf_counter()
        common = {"dir": str(self.source_dir), "db": str(self.db_path), "files": sorted(files)}
        try:
            report = build_database(
                self.source_dir, self.db_path, preset=self.preset, settings_path=self.settings_path, strict=self.strict
            )
        except (BuildRefused, SettingsError) as exc:
            return outcome(reason=f"build refused: {exc}; still serving the last good database", **common)
        except Exception as exc:  # a watcher outlives one bad night; the log says why
            return outcome(reason=f"build failed: {type(exc).__name__}: {exc}; still serving the last good database", **common)
        remember(self.db_path, files, self.source_dir)
        return outcome(report, seconds=round(time.perf_counter() - started, 2), **common)


def watch(
    source_dir: Path | str,
    db_path: Path | str,
    interval: float = 5.0,
    preset: str | None = None,
    settings_path: Path | str | None = None,
    once: bool = False,
    stop: threading.Event | None = None,
    out: TextIO | None = None,
    strict: bool = False,
) -> int:
    """Poll until stopped (SIGINT, SIGTERM or `stop`); with `once`, until one settled look.

    Returns 0, or 1 when `once` ended on a refused build.
    """
    stop = stop or threading.Event()
    out = out or sys.stdout

    def log(line: dict[str, Any]) -> None:
        out.write(json.dumps(line, default=str) + "\n")
        out.flush()

    watcher = Watcher(source_dir, db_path, preset=preset, settings_path=settings_path, log=log, strict=strict)
    restore = _stop_on_signals(stop)
    try:
        while not stop.is_set():
            line = watcher.poll()
            if once and watcher.previous == watcher.attempted and watcher.started:
                return 0 if line is None or line["ok"] else 1
            stop.wait(max(interval, 0.05))
        return 0
    finally:
        restore()


def _stop_on_signals(stop: threading.Event) -> Callable[[], None]:
    """Let SIGINT/SIGTERM end the loop between polls (a build under way finishes first)."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda signum, frame: stop.set())

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore
