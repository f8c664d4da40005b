"""Every named output, exported to a folder: a snapshot to compare before and after a change.

`python -m scripts.export_all --db FILE --out DIR` writes, for each output `python -m queries
list` names, the CSV `python -m queries export` would write (`safe_csv`) under a few views:
`default` (every parameter left out, required ones given a sample value from the database),
`filtered` (one region, or one partner manager, for outputs that take them: the computed path
of outputs with a stored default view) and `past` (as of 100 days before data as of). It also
writes `list.txt` (the catalogue) and `errors.txt` (outputs that failed, with why). Compare two
snapshots with `diff -r`: a refactoring that keeps every export must leave no difference.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb

import queries
from queries.export import safe_csv


def samples(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """A value from the database for each required parameter some output takes."""

    def first(sql: str) -> Any:
        rows = con.sql(sql).fetchall()
        return rows[0][0] if rows else None

    as_of = date.fromisoformat(first("select value from load_meta where key = 'data_as_of'"))
    partner = first("select partner_id from touchpoints group by partner_id order by count(*) desc, partner_id limit 1")
    deals = [
        row[0]
        for row in con.sql(
            "select distinct opportunity_id from payouts where opportunity_id is not null order by 1 limit 5"
        ).fetchall()
    ]
    quarter = date(as_of.year, (as_of.month - 1) // 3 * 3 + 1, 1)
    return {
        "partner_id": partner,
        "opportunity_id": deals[0] if deals else None,
        "opportunity_ids": deals,
        "model": "linear",
        "touch_rows": [1, 2, 3],
        "kind": "final",
        "days": [as_of],
        "period_starts": [quarter],
        "period_ends": [as_of],
        "as_of": as_of,
    }


def views(con: duckdb.DuckDBPyConnection, output: queries.Output, sample: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The parameter sets an output is exported under, by view name."""
    base = {param.name: sample[param.name] for param in output.params if param.required}
    chosen = {"default": base}
    if output.takes("regions"):
        region = con.sql("select min(region) from partners").fetchall()[0][0]
        chosen["filtered"] = {**base, "regions": [region]}
    elif output.takes("managers"):
        manager = con.sql("select min(partner_manager) from partners").fetchall()[0][0]
        chosen["filtered"] = {**base, "managers": [manager]}
    if output.takes("as_of"):
        chosen["past"] = {**base, "as_of": sample["as_of"] - timedelta(days=100)}
    return chosen


def export_all(db: Path, out: Path, only: list[str] | None = None) -> list[str]:
    """Write every output's views to `out`; returns the names that failed."""
    out.mkdir(parents=True, exist_ok=True)
    con = queries.connect(db)
    catalogue = queries.outputs()
    (out / "list.txt").write_text(
        "".join(f"{o.name}\t{o.summary}\t{o.signature()}\t{o.grain}\t{o.money}\t{o.scope}\n" for o in catalogue.values()),
        encoding="utf-8",
    )
    sample = samples(con)
    failed: list[str] = []
    errors = []
    for name, output in catalogue.items():
        if only and name not in only:
            continue
        for view, params in views(con, output, sample).items():
            try:
                frame = queries.execute(con, name, **params)
            except Exception as exc:  # recorded: the snapshot says which outputs fail, and why
                errors.append(f"{name}\t{view}\t{type(exc).__name__}: {exc}".splitlines()[0])
                failed.append(name)
                continue
            (out / f"{name}__{view}.csv").write_bytes(safe_csv(frame))
    (out / "errors.txt").write_text("".join(line + "\n" for line in errors), encoding="utf-8")
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.export_all", description=__doc__)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("names", nargs="*", help="only these outputs (default: every one)")
    args = parser.parse_args(argv)
    failed = export_all(args.db, args.out, args.names or None)
    print(f"wrote {args.out}; {len(set(failed))} outputs failed (errors.txt)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
