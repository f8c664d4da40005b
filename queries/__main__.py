"""Command line: `python -m queries list | export NAME` (see DESIGN.md, "Command line")."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

import queries
from queries.export import safe_csv


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m queries", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the named outputs and their parameters")
    export = commands.add_parser("export", help="write a named output as CSV")
    export.add_argument("name")
    export.add_argument("--db", type=Path, default=None, help="database file (default: $PULSE_DB or data/pulse.duckdb)")
    export.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    export.add_argument("--out", type=Path, help="CSV file to write (default: standard output)")
    args = parser.parse_args(argv)

    catalogue = queries.outputs()
    if args.command == "list":
        for output in catalogue.values():
            params = ", ".join(f"{p.name} ({p.type})" for p in output.params) or "no parameters"
            print(f"{output.name}\n    {output.summary}\n    params: {params}\n    grain: {output.grain}")
        return 0

    if args.name not in catalogue:
        print(f"no output named {args.name!r}; `python -m queries list` shows them", file=sys.stderr)
        return 2
    params = parse_params(catalogue[args.name], args.param)
    try:
        con = queries.connect(args.db)
        frame = queries.execute(con, args.name, **params)
    except (FileNotFoundError, duckdb.Error) as exc:
        print(f"export {args.name} failed: {exc}", file=sys.stderr)
        return 1
    data = safe_csv(frame)
    if args.out:
        args.out.write_bytes(data)
        print(f"wrote {frame.height:,} rows to {args.out}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
