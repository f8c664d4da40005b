"""Command line: `python -m queries list | export NAME | export --all --out-dir DIR | workbook | statement | digest`
(docs/design.md, "Command line").

Exports run as the database's owner (whoever can read the file sees everything), or, with
`--as EMAIL`, as that user sees the app: their role and partners from the settings' roles,
through the same rules as the pages (access.py).
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

import access
import queries
from queries import meta, workbook
from queries.export import safe_csv
from queries.program import digest


def convert(value: str, kind: str) -> Any:
    """A `--param` value as the type the output declares."""
    if value == "" or value.lower() == "null":
        return None
    if kind == "date":
        return date.fromisoformat(value)
    if kind in ("integer", "int", "bigint"):
        return int(value)
    if kind in ("double", "float", "decimal"):
        return float(value)
    if kind == "boolean":
        return value.lower() in ("true", "1", "yes")
    if kind.endswith("[]"):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def parse_params(output: queries.Output, pairs: list[str]) -> dict[str, Any]:
    kinds = {param.name: param.type for param in output.params}
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--param {pair!r}: expected KEY=VALUE")
        if key not in kinds:
            known = ", ".join(kinds) or "none"
            raise SystemExit(f"--param {key}: {output.name} takes no such parameter (it takes: {known})")
        try:
            params[key] = convert(value, kinds[key])
        except ValueError as exc:
            raise SystemExit(f"--param {key}={value}: expected {kinds[key]} ({exc})") from None
    return params


def connect_current(db: Path | None) -> duckdb.DuckDBPyConnection:
    """The database, refused in words when another version of Partner Pulse built it: its stored
    views and columns are not the ones this version's queries read, and a binder error naming a
    column is no answer in a scheduler's log."""
    from loaders.build import outdated

    con = queries.connect(db)
    reason = outdated(meta.values(con))
    if reason is not None:
        con.close()
        path = db or queries.db_path()
        raise Outdated(f"{path}: {reason}. Rebuild it with `python -m loaders upgrade --db {path}`.")
    return con


class Outdated(Exception):
    """The database was built by another version of Partner Pulse."""


def viewer_named(con: duckdb.DuckDBPyConnection, email: str | None) -> access.Viewer | None:
    """The viewer `--as EMAIL` names, placed by the roles the database was built with (None without --as)."""
    if email is None:
        return None
    program = dict(queries.execute(con, "program_meta").iter_rows())
    return access.viewer_for({"is_logged_in": True, "email": email}, program.get("settings_json"))


def produce(con: duckdb.DuckDBPyConnection, viewer: access.Viewer | None, name: str, params: dict[str, Any]) -> pl.DataFrame:
    """The output's frame: as the viewer sees it with --as, else whole."""
    if viewer is None:
        return queries.execute(con, name, **params)
    return access.run(con, viewer, name, **params)


def export_many(parser: argparse.ArgumentParser, catalogue: dict[str, queries.Output], args: argparse.Namespace) -> int:
    """Several outputs in one call, each to OUT_DIR/NAME.csv or .parquet, for a scheduler or a BI tool.

    A --param goes to the outputs that take it and is ignored by the others. With --all, an
    output that needs a parameter not given (partner_profile's partner_id, ...) is skipped and
    named. Each file is written beside its final name and renamed, so a reader never picks up
    half a file.
    """
    if args.out:
        parser.error("--out writes one output; with several use --out-dir")
    if not args.out_dir:
        parser.error("name one output, or give --out-dir for several (or --all)")
    if args.all and args.names:
        parser.error("give --all or a list of names, not both")
    names = list(catalogue) if args.all else list(dict.fromkeys(args.names))
    if not names:
        parser.error("name the outputs to export, or give --all")
    unknown = [name for name in names if name not in catalogue]
    if unknown:
        print(f"no output named {', '.join(map(repr, unknown))}; `python -m queries list` shows them", file=sys.stderr)
        return 2
    pairs = [pair.partition("=") for pair in args.param]
    taken = {param.name for name in names for param in catalogue[name].params}
    for key, sep, _ in pairs:
        if not sep:
            raise SystemExit(f"--param {key!r}: expected KEY=VALUE")
        if key not in taken:
            raise SystemExit(f"--param {key}: none of the outputs exported takes it")
    try:
        con = connect_current(args.db)
        viewer = viewer_named(con, args.viewer)
    except (FileNotFoundError, duckdb.Error) as exc:
        print(f"export failed: {exc}", file=sys.stderr)
        return 1
    except Outdated as exc:
        print(f"export refused: {exc}", file=sys.stderr)
        return 2
    args.out_dir.mkdir(parents=True, exist_ok=True)
    failed = []
    for name in names:
        takes = {param.name for param in catalogue[name].params}
        params = parse_params(catalogue[name], [pair for pair in args.param if pair.partition("=")[0] in takes])
        needs = [p.name for p in catalogue[name].params if p.required and p.name not in params]
        if args.all and needs:
            print(f"skipped {name}: it needs --param {', '.join(needs)}", file=sys.stderr)
            continue
        try:
            frame = produce(con, viewer, name, params)
        except Exception as exc:  # one failing output must not stop a scheduled export of the others
            print(f"export {name} failed: {exc}", file=sys.stderr)
            failed.append(name)
            continue
        target = args.out_dir / f"{name}.{args.format}"
        partial = target.with_name(f".{target.name}.partial")
        if args.format == "parquet":
            frame.write_parquet(partial)
        else:
            partial.write_bytes(safe_csv(frame))
        os.replace(partial, target)
        print(f"wrote {frame.height:,} rows to {target}", file=sys.stderr)
    if failed:
        print(f"{len(failed)} of {len(names)} outputs failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m queries", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the named outputs and their parameters")
    export = commands.add_parser("export", help="write named outputs as CSV (or Parquet, with --out-dir)")
    export.add_argument("names", nargs="*", metavar="NAME", help="one output, or several with --out-dir")
    export.add_argument("--all", action="store_true", help="every output (with --out-dir)")
    export.add_argument("--out-dir", type=Path, help="write each output to OUT_DIR/NAME.csv (or .parquet)")
    export.add_argument("--format", choices=["csv", "parquet"], default="csv", help="file format with --out-dir")
    export.add_argument("--db", type=Path, default=None, help="database file (default: $PULSE_DB or data/pulse.duckdb)")
    export.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    export.add_argument("--out", type=Path, help="CSV file to write (default: standard output)")
    export.add_argument(
        "--as",
        dest="viewer",
        metavar="EMAIL",
        help="export as this user sees the app (their role's outputs, their partners, money only for finance roles)",
    )
    workbook.add_commands(commands)
    digest.add_command(commands)
    args = parser.parse_args(argv)
    if hasattr(args, "handler"):
        return args.handler(args)

    catalogue = queries.outputs()
    if args.command == "list":
        for output in catalogue.values():
            params = output.signature() if output.params else "no parameters"
            print(f"{output.name}\n    {output.summary}\n    params: {params}\n    grain: {output.grain}")
        return 0

    if args.all or args.out_dir or len(args.names) != 1:
        return export_many(parser, catalogue, args)
    args.name = args.names[0]
    if args.name not in catalogue:
        print(f"no output named {args.name!r}; `python -m queries list` shows them", file=sys.stderr)
        return 2
    params = parse_params(catalogue[args.name], args.param)
    try:
        con = connect_current(args.db)
        frame = produce(con, viewer_named(con, args.viewer), args.name, params)
    except (FileNotFoundError, duckdb.Error) as exc:
        print(f"export {args.name} failed: {exc}", file=sys.stderr)
        return 1
    except Outdated as exc:
        print(f"export {args.name} refused: {exc}", file=sys.stderr)
        return 2
    except (queries.ParamError, access.Refused) as exc:
        print(f"export {args.name} refused: {exc}", file=sys.stderr)
        return 2
    data = safe_csv(frame)
    if args.out:
        args.out.write_bytes(data)
        print(f"wrote {frame.height:,} rows to {args.out}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
