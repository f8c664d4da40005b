"""Command line: `python -m loaders demo|build|watch|upgrade` (see docs/design.md, "Command line and exports")."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

from loaders.build import BuildRefused, build_database
from settings import SettingsError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loaders", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="write a demo partner program's extracts to DIR")
    demo.add_argument("dir", type=Path)
    demo.add_argument("--scale", type=float, default=1.0, help="1 = about 500 partners, 20k deals")
    demo.add_argument("--seed", type=int, default=7)

    build = commands.add_parser("build", help="load the extracts in DIR into a DuckDB file")
    build.add_argument("dir", type=Path)
    build.add_argument("--db", type=Path, required=True)
    build.add_argument("--preset", choices=["salesforce", "hubspot", "partnerstack"])
    build.add_argument("--settings", type=Path, help="program settings TOML (defaults apply when absent)")
    build.add_argument("--report", type=Path, help="also write the load report as JSON here")
    build.add_argument("--strict", action="store_true", help="refuse the build if any row is quarantined")
    build.add_argument(
        "--as-of",
        type=date.fromisoformat,
        metavar="DATE",
        help="the day the export was taken (YYYY-MM-DD), the data's 'today'; default: the latest day something was "
        "created, changed or done in the data (kept as the as_of setting of this database)",
    )

    watch = commands.add_parser("watch", help="rebuild --db whenever the extracts in DIR change (one JSON line per build)")
    watch.add_argument("dir", type=Path)
    watch.add_argument("--db", type=Path, required=True)
    watch.add_argument("--interval", type=float, default=5.0, help="seconds between looks at DIR (default 5)")
    watch.add_argument("--preset", choices=["salesforce", "hubspot", "partnerstack"])
    watch.add_argument("--settings", type=Path, help="program settings TOML (a change to it rebuilds too)")
    watch.add_argument("--once", action="store_true", help="wait for DIR to settle, build if it changed, exit")
    watch.add_argument("--strict", action="store_true", help="refuse a build if any row is quarantined")

    upgrade = commands.add_parser(
        "upgrade", help="rebuild --db from the extracts it was built from if an older version built it (else do nothing)"
    )
    upgrade.add_argument("--db", type=Path, required=True)

    args = parser.parse_args(argv)
    if args.command == "upgrade":
        return upgrade_database(args.db)
    if args.command == "watch":
        from loaders.watch import watch as watch_folder

        if not args.once:
            print(f"watching {args.dir} every {args.interval:g} s; building {args.db}", file=sys.stderr)
        return watch_folder(
            args.dir,
            args.db,
            interval=args.interval,
            preset=args.preset,
            settings_path=args.settings,
            once=args.once,
            strict=args.strict,
        )
    if args.command == "demo":
        from loaders.demo import write_demo

        started = time.perf_counter()
        counts = write_demo(args.dir, scale=args.scale, seed=args.seed)
        for table, rows in counts.items():
            print(f"{table:22} {rows:>12,}")
        print(f"wrote {args.dir} in {time.perf_counter() - started:.1f} s")
        return 0

    started = time.perf_counter()
    try:
        report = build_database(
            args.dir, args.db, preset=args.preset, settings_path=args.settings, strict=args.strict, as_of=args.as_of
        )
    except (BuildRefused, SettingsError) as exc:
        print(f"build refused: {exc}", file=sys.stderr)
        print(f"{args.db} was left as it was.", file=sys.stderr)
        return 1
    if args.report:
        args.report.write_text(json.dumps(report.to_dicts(), indent=2) + "\n", encoding="utf-8")
    for row in report.iter_rows(named=True):
        if row["status"] == "absent":
            print(f"{row['table_name']:22} absent")
            continue
        encoding = f", {row['encoding']}" if row["encoding"] not in (None, "UTF-8") else ""
        print(
            f"{row['table_name']:22} read {row['rows_read']:>10,}  loaded {row['rows_loaded']:>10,}  "
            f"quarantined {row['rows_quarantined']:>8,}  ({row['source_file']}{encoding})"
        )
        report_warnings(row)
    print(f"built {args.db} in {time.perf_counter() - started:.1f} s")
    return 0


def report_warnings(row: dict) -> None:
    """A table's warnings on stderr (a quarantine alarm first), and the settings it suggests."""
    for warning in (row["warnings"] or "").splitlines():
        print(f"warning: {row['table_name']}: {warning}", file=sys.stderr)
    if row["settings_snippet"]:
        print(f"# settings for {row['table_name']} to paste into your settings TOML:", file=sys.stderr)
        print(row["settings_snippet"], file=sys.stderr)


def upgrade_database(db: Path) -> int:
    import duckdb

    from loaders.build import outdated, rebuild_from_source

    if not db.exists():
        print(f"{db}: no database yet (build one with `python -m loaders build DIR --db {db}`)", file=sys.stderr)
        return 1
    try:
        con = duckdb.connect(str(db), read_only=True)
        meta = dict(con.execute("select key, value from load_meta").fetchall())
        con.close()
    except duckdb.Error as exc:
        meta, reason = {}, f"it cannot be read ({str(exc).splitlines()[0]})"
    else:
        reason = outdated(meta)
    if reason is None:
        print(f"{db} is current")
        return 0
    if not meta:
        print(f"{db}: {reason}; build it again with `python -m loaders build DIR --db {db}`", file=sys.stderr)
        return 1
    print(f"{db}: {reason}; rebuilding from {meta.get('source_dir')}", file=sys.stderr)
    started = time.perf_counter()
    try:
        rebuild_from_source(db)
    except (BuildRefused, SettingsError) as exc:
        print(f"rebuild refused: {exc}", file=sys.stderr)
        print(f"{db} was left as it was.", file=sys.stderr)
        return 1
    print(f"rebuilt {db} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
