"""Building the database: a folder of extracts in, one validated DuckDB file out.

This module owns the build as a whole: finding each table's file, mapping, validating,
the quarantine alarms (warn past `quarantine_warn_share` of a table's rows, refuse past
`quarantine_fail_share`, or on any row when strict), writing every table (and the settings
the data was built with) into a new file beside the old one, and swapping it in with
`os.replace`, so a reader never sees half a load and a refused build leaves the old file
byte-identical. Rules live in `validate.py`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl

import queries
from loaders import salesforce
from loaders.derived import build_derived
from loaders.presets import ColumnMap, apply_map, column_map_for, extract_files, find_files, looked_for
from loaders.read import LINE, Extract, RefusedFile, read_extract
from loaders.schema import KEYS, REFERENCES, TABLES, column_specs
from loaders.stream import SeenKeys, in_pieces, read_pieces
from loaders.validate import (
    POLARS_TYPES,
    QUARANTINE_SCHEMA,
    UNKNOWN_STAGE,
    Checked,
    check_references,
    check_table,
    convert_history_currency,
    settle_history_stages,
)
from settings import Settings, load_settings

Progress = Callable[[float, str], None]

# The latest day of each table (the "data as of" of the Data page), as a fixed SQL expression:
# the day something was created, changed or done. Never a close date: CRMs keep lost deals
# dated in the future, and open deals' close dates are expectations.
FRESHNESS: dict[str, str] = {
    "partners": "max(joined_at)",
    "partner_activities": "max(occurred_at)",
    "opportunities": "max(created_at)",
    "opportunity_history": "max(changed_at)",
    "touchpoints": "max(occurred_at)",
    "deal_registrations": "max(registered_at)",
    "payouts": "max(period)",
}
# The tables whose latest day moves with every daily export: the data's as-of date is the latest
# of them (queries/data/stale_tables.sql calls the same tables "daily"). A payout period is a month
# and a join date is not an event: they set the date only for a program that has nothing else.
DAILY_TABLES = ("partner_activities", "opportunities", "opportunity_history", "touchpoints", "deal_registrations")


# The days each event table has data on, for its rhythm (stale_tables.sql), as fixed SQL. Partners are
# not events: a join date says nothing about when the export ran.
EVENT_DAYS: dict[str, str] = {
    "partner_activities": "select cast(occurred_at as date) as day from partner_activities",
    "opportunities": "select created_at as day from opportunities",
    "opportunity_history": "select cast(changed_at as date) as day from opportunity_history",
    "touchpoints": "select cast(occurred_at as date) as day from touchpoints",
    "deal_registrations": "select cast(registered_at as date) as day from deal_registrations",
    "payouts": "select period as day from payouts",
}
# A table's rhythm: the 95th percentile of the gaps between its event days over the 180 days up to its
# own latest one (days; null with fewer than two event days there). `{days}` is one of EVENT_DAYS.
RHYTHM_SQL = """
with days as (select distinct day from ({days}) where day is not null),
window_days as (select day from days where day > (select max(day) from days) - 180),
gaps as (select day - lag(day) over (order by day) as gap from window_days)
select quantile_disc(gap, 0.95) from gaps where gap is not null
"""
# Without partners or deals there is no program: a header-only file of these refuses the build.
REQUIRED_TABLES = ("partners", "opportunities")


class BuildRefused(ValueError):
    """The build did not happen; the message says which file and why."""


def build_database(
    source_dir: Path | str,
    db_path: Path | str,
    preset: str | None = None,
    settings: Settings | None = None,
    settings_path: Path | str | None = None,
    progress: Progress | None = None,
    strict: bool = False,
    as_of: date | None = None,
) -> pl.DataFrame:
    """Load the extracts in `source_dir` into `db_path` and return the load report.

    as_of: the day the export was taken, overriding the settings' `as_of` (kept with the
    settings in the database, so a rebuild from the same extracts keeps it).
    Raises BuildRefused, leaving `db_path` untouched, when a file cannot be loaded at all, when a
    table's quarantined share passes `quarantine_fail_share`, or (`strict`) on any quarantined row.
    """
    source_dir, db_path = Path(source_dir), Path(db_path)
    report = progress or (lambda fraction, message: None)
    if settings is None:
        settings = load_settings(settings_path)
    if as_of is not None:
        settings = settings.model_copy(update={"as_of": as_of})
    if not source_dir.is_dir():
        raise BuildRefused(f"{source_dir}: no such folder of extracts")
    try:
        column_map = column_map_for(preset, settings)
    except ValueError as exc:
        raise BuildRefused(str(exc)) from None
    files = find_files(source_dir, list(TABLES), column_map)
    if not any(table in files for table in REQUIRED_TABLES):
        present = [path.name for path in extract_files(source_dir)]
        raise BuildRefused(
            f"{source_dir}: found neither a partners nor an opportunities extract "
            f"({'the ' + preset + ' preset' if preset else 'Partner Pulse'} looks for "
            f"{looked_for(column_map, list(REQUIRED_TABLES))}, or .tsv, .xlsx, .parquet; other tables are optional; "
            f"found {', '.join(present[:12]) + (', ...' if len(present) > 12 else '') if present else 'no extract file'})"
        )

    db_path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_builds(db_path)
    building = db_path.with_name(f".{db_path.name}.building-{os.getpid()}")
    building.unlink(missing_ok=True)
    # A WAL left beside a reused name would be replayed into the new file.
    building.with_name(building.name + ".wal").unlink(missing_ok=True)
    try:
        con = duckdb.connect(str(building))
        try:
            limit_memory(con, building)
            scratch = Path(f"{building}.pieces")
            result = load_extracts(con, source_dir, files, column_map, preset, settings, strict, report, scratch)
            report(len(files) / (len(files) + 1), "Computing the derived tables")
            write_derived(con, settings, source_dir, preset)
        finally:
            con.close()
        os.replace(building, db_path)
    except BaseException:
        building.unlink(missing_ok=True)
        building.with_name(building.name + ".wal").unlink(missing_ok=True)
        shutil.rmtree(f"{building}.pieces", ignore_errors=True)
        shutil.rmtree(f"{building}.tmp", ignore_errors=True)
        raise
    report(1.0, "Done")
    return result


# Tables read whole even when large: their checks look at all of their rows at once (a column
# of deal probabilities is in percent when any value is above 1, HubSpot stages are qualified by
# pipeline when pipelines disagree, stages the stage map lacks and implausible FX rates are
# warned about over all deals), and later tables are checked against them.
WHOLE_TABLES = ("partners", "opportunities")
# What later tables need of partners and opportunities once those are written: the keys that
# references are checked against, the deal's stage (history stages the stage map lacks), and the
# deal's currency and close date (history amounts). Their quarantined rows stay too: a row naming
# a quarantined partner or deal says why that one was quarantined. (sourced_partner_id too:
# check_references checks every reference between the tables it is given, and the deals' own is
# clean already, so it finds nothing again.)
KEPT_FOR_LATER = {
    "partners": ["partner_id"],
    "opportunities": ["opportunity_id", "stage", "currency", "close_date", "sourced_partner_id"],
}


def load_extracts(
    con: duckdb.DuckDBPyConnection,
    source_dir: Path,
    files: dict[str, Path],
    column_map: ColumnMap,
    preset: str | None,
    settings: Settings,
    strict: bool,
    report: Progress,
    scratch: Path,
) -> pl.DataFrame:
    """Read, check and write the extracts one table at a time, in load order; return the load report.

    One extract is in memory at a time, and of a large CSV one piece at a time (`loaders.stream`):
    each piece is checked, written and freed before the next is read. Of partners and
    opportunities only what later tables are checked against stays (KEPT_FOR_LATER). A table's
    quarantine alarm is sounded when its last piece is in (the share is the table's own); the
    build is refused, after every extract was checked, when a table passed quarantine_fail_share
    (or, `strict`, has any quarantined row). `scratch`: a folder for the pieces.
    Raises BuildRefused when a file cannot be loaded at all or an alarm refuses the build.
    """

    def read(path: Path) -> Extract:
        return read_extract(path, settings.encoding_for(path.name))

    # Rates the export carries (Salesforce's CurrencyType) convert amounts; the stored settings stay the user's.
    rated = settings
    checked: dict[str, Checked] = {}
    loaded: dict[str, int] = {}
    quarantined: dict[str, int] = {}
    kept: dict[str, Checked] = {}
    alarms: set[str] = set()
    refusals: list[str] = []
    try:
        # A Salesforce Data Export's files need one another (which accounts are partners, the org's
        # rates): they are read together, and small.
        prepared = salesforce.Prepared()
        if preset == "salesforce":
            partner_roles = column_map.values.get("touchpoints", {}).get("touch_type", {})
            prepared = salesforce.prepare(files, extract_files(source_dir), settings, read, partner_roles)
        if prepared.fx_rates:
            rated = settings.model_copy(update={"fx_rates": [*settings.fx_rates, *prepared.fx_rates]})
        for table in TABLES:
            path = files.get(table)
            if path is None:
                materialise(con, table, empty_table(table))
                continue
            report(len(checked) / (len(files) + 1), f"Reading {path.name}")
            extract = prepared.extracts.pop(table, None)
            encoding = settings.encoding_for(path.name)
            many = extract is None and table not in WHOLE_TABLES and in_pieces(path, encoding)
            pieces = iter([extract]) if extract is not None else read_pieces(path, scratch, encoding, many)
            result, loaded[table] = load_table(con, table, pieces, many, column_map, rated, kept)
            result.warnings[:0] = prepared.warnings.get(table, [])
            alarm, refusal = sound_alarm(result, loaded[table], settings, strict)
            if alarm:
                alarms.add(table)
            if refusal:
                refusals.append(refusal)
            quarantined[table] = result.quarantined.height
            (append if len(checked) else materialise)(con, "quarantine_unsorted", result.quarantined)
            if table not in kept:
                result.quarantined = result.quarantined.clear()  # written: free it
            checked[table] = result
    except RefusedFile as exc:
        raise BuildRefused(str(exc)) from None
    if refusals:
        raise BuildRefused("\n".join(refusals))
    if not checked:
        materialise(con, "quarantine_unsorted", pl.DataFrame(schema=QUARANTINE_SCHEMA))
    con.execute("create table quarantine as select * from quarantine_unsorted order by table_name, line_number")
    con.execute("drop table quarantine_unsorted")
    report_frame = load_report(checked, alarms, loaded, quarantined)
    materialise(con, "load_report", report_frame)
    return report_frame


def load_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    pieces: Iterator[Extract],
    many: bool,
    column_map: ColumnMap,
    settings: Settings,
    kept: dict[str, Checked],
) -> tuple[Checked, int]:
    """Check and write one extract, piece by piece (`many`: more than one may come); add what later
    tables need to `kept`. Returns its quarantined rows, warnings and settings snippet (rows
    emptied: they are in the database) and how many rows loaded.

    Each piece goes through every rule a whole file does: its own (`check_extract`), duplicate
    keys across pieces (`SeenKeys`), references to the tables loaded before, history stages and
    currencies. History stages the stage map lacks are warned about once, for the whole table."""
    seen = SeenKeys(con, KEYS.get(table) if many else None)
    # A large table sorted on write is written unsorted first, then sorted once (STORED_ORDER).
    unsorted = f"{table}_unsorted" if many and table in STORED_ORDER else table
    # The tables this one is checked against (references; a deal's stage and currency for history).
    targets = {target for (source, _), (target, _) in REFERENCES.items() if source == table}
    if table == "opportunity_history":
        targets.add("opportunities")
    parts: list[Checked] = []
    loaded = 0
    unknown_stages: set[str] = set()
    for extract in pieces:
        result = check_extract(table, extract, column_map, settings, seen.mark if many else None)
        del extract
        seen.remember(result.rows)
        context = {**{target: kept[target] for target in targets if target in kept}, table: result}
        check_references(context)
        if table == "opportunity_history":
            if UNKNOWN_STAGE in result.rows.columns:
                unknown_stages.update(result.rows.filter(pl.col(UNKNOWN_STAGE))["stage"].to_list())
            before = len(result.warnings)
            settle_history_stages(context, settings)
            # Warned about once for the whole table, below.
            del result.warnings[before:]
            result.snippet = None
            convert_history_currency(context, settings)
        if table in KEPT_FOR_LATER:
            part, bad = result.rows.select(KEPT_FOR_LATER[table]), result.quarantined
            if table in kept:
                part = pl.concat([kept[table].rows, part])
                bad = pl.concat([kept[table].quarantined, bad]).sort("line_number")
            kept[table] = replace(result, rows=part, quarantined=bad, warnings=[])
        (append if parts else materialise)(con, unsorted, result.rows.drop(LINE))
        loaded += result.rows.height
        result.rows = result.rows.clear()  # written: free it before the next piece is read
        parts.append(result)
    seen.close()
    if unsorted != table:
        con.execute(
            'create table "' + table + '" as select * from "' + unsorted + '" order by ' + STORED_ORDER[table]  # noqa: S608 - fixed names
        )
        con.execute('drop table "' + unsorted + '"')
    first = parts[0]
    merged = replace(
        first,
        quarantined=pl.concat([part.quarantined for part in parts]).sort("line_number"),
        warnings=list(dict.fromkeys(w for part in parts for w in part.warnings)),
    )
    if unknown_stages and "opportunities" in kept:
        # The one warning and settings snippet a whole file gives, for the stages of every piece.
        stages = pl.DataFrame({"stage": sorted(unknown_stages), UNKNOWN_STAGE: True})
        whole = Checked(table, first.source_file, stages, first.quarantined.clear(), labels=first.labels)
        settle_history_stages({"opportunities": kept["opportunities"], table: whole}, settings)
        merged.warnings += whole.warnings
        merged.snippet = whole.snippet
    return merged, loaded


def check_extract(
    table: str,
    extract: Extract,
    column_map: ColumnMap,
    settings: Settings,
    mark: Callable[[pl.DataFrame, str], pl.DataFrame] | None = None,
) -> Checked:
    """One extract (or a piece of one) mapped and validated. A file with a header and no rows
    loads empty (with a warning), except partners and opportunities: there is no program without
    them. `mark`: marks rows whose key an earlier piece loaded (`SeenKeys.mark`)."""
    if extract.frame.height == 0 and table in REQUIRED_TABLES:
        raise RefusedFile(f"{extract.source_file}: the file has a header but no data rows")
    mapped = apply_map(table, extract, column_map)
    frame = mapped.frame
    key = KEYS.get(table)
    if mark is not None and key is not None:
        frame = mark(frame, mapped.labels.get(key, key))
    checked = check_table(table, extract.source_file, frame, settings, mapped.labels)
    checked.encoding = extract.encoding
    checked.warnings[:0] = mapped.warnings
    if extract.frame.height == 0:
        checked.warnings.insert(0, f"the file has a header and no rows: {table.replace('_', ' ')} loaded empty")
    return checked


def reason_kind(reason: pl.Expr) -> pl.Expr:
    """A reason without its values (quoted text, numbers), so rows that broke the same rule group together."""
    return reason.str.replace_all(r"'[^']*'", "'…'").str.replace_all(r"\d[\d.,:\-]*", "…")


def top_reasons(quarantined: pl.DataFrame, limit: int = 3) -> str:
    """The commonest reasons of a table's quarantined rows, each with its count and one example line."""
    groups = (
        quarantined.with_columns(reason_kind(pl.col("reason")).alias("_kind"))
        .group_by("_kind", maintain_order=True)
        .agg(pl.len().alias("rows"), pl.col("source_file").first(), pl.col("line_number").first(), pl.col("reason").first())
        .sort("rows", "line_number", descending=[True, False])
    )
    parts = [
        f"{row['rows']:,} × {row['_kind']} (e.g. {row['source_file']} line {row['line_number']}: {row['reason'][:300]})"
        for row in groups.head(limit).iter_rows(named=True)
    ]
    more = groups.height - limit
    return "; ".join(parts) + (f"; and {more:,} other reason{'s' if more > 1 else ''}" if more > 0 else "")


def sound_alarm(result: Checked, loaded: int, settings: Settings, strict: bool) -> tuple[bool, str | None]:
    """A table's quarantine alarm: whether its quarantined share passed quarantine_warn_share (the
    table gets a warning that names its top reasons), and why the build is refused, if it is:
    past quarantine_fail_share, or with `strict` on any quarantined row (the same words)."""
    quarantined = result.quarantined.height
    read = loaded + quarantined
    if quarantined == 0:
        return False, None
    share = quarantined / read
    said = f"{quarantined:,} of {read:,} rows ({share:.1%}) of {result.source_file} were quarantined"
    if strict:
        return False, f"{said} and --strict refuses any quarantined row; top reasons: {top_reasons(result.quarantined)}"
    if share > settings.quarantine_fail_share:
        return False, (
            f"{said}, over quarantine_fail_share ({settings.quarantine_fail_share:.0%}); "
            f"top reasons: {top_reasons(result.quarantined)}"
        )
    if share > settings.quarantine_warn_share:
        result.warnings.insert(
            0,
            f"{said}, over quarantine_warn_share ({settings.quarantine_warn_share:.0%}): pages that read "
            f"{result.table.replace('_', ' ')} leave them out; top reasons: {top_reasons(result.quarantined)}",
        )
        return True, None
    return False, None


def load_report(
    checked: dict[str, Checked], alarms: set[str], loaded_rows: dict[str, int], quarantined_rows: dict[str, int]
) -> pl.DataFrame:
    rows = []
    for table in TABLES:
        result = checked.get(table)
        if result is None:
            rows.append((table, None, "absent", 0, 0, 0, "", None, False, None))
            continue
        loaded, quarantined = loaded_rows[table], quarantined_rows[table]
        rows.append(
            (
                table,
                result.source_file,
                "loaded",
                loaded + quarantined,
                loaded,
                quarantined,
                "\n".join(result.warnings),
                result.encoding,
                table in alarms,
                result.snippet,
            )
        )
    return pl.DataFrame(
        rows,
        schema={
            "table_name": pl.String,
            "source_file": pl.String,
            "status": pl.String,
            "rows_read": pl.Int64,
            "rows_loaded": pl.Int64,
            "rows_quarantined": pl.Int64,
            "warnings": pl.String,
            # The text encoding the file was read in (null for Parquet and .xlsx).
            "encoding": pl.String,
            # The quarantined share passed quarantine_warn_share: pages reading the table show a banner.
            "quarantine_alarm": pl.Boolean,
            # Settings to paste (TOML) that would settle a warning, e.g. stages not in the stage map.
            "settings_snippet": pl.String,
        },
        orient="row",
    )


def empty_table(table: str) -> pl.DataFrame:
    schema = {spec.name: POLARS_TYPES[spec.kind] for spec in column_specs(table)}
    if table in ("opportunities", "payouts", "opportunity_history"):
        schema["amount_original"] = pl.Decimal(18, 2)
    return pl.DataFrame(schema=schema)


def write_derived(con: duckdb.DuckDBPyConnection, settings: Settings, source_dir: Path, preset: str | None) -> None:
    """Everything after the extracts: settings tables, freshness, meta, the derived steps."""
    write_settings_tables(con, settings)
    write_freshness(con)
    write_meta(con, settings, source_dir, preset)
    queries.create_macros(con)
    build_derived(con, settings)
    con.execute("checkpoint")


def limit_memory(con: duckdb.DuckDBPyConnection, building: Path) -> None:
    """Cap DuckDB's memory during a build and let it spill to disk beside the new file."""
    con.execute("set memory_limit = $limit", {"limit": f"{build_memory_limit_mb()}MB"})
    con.execute("set temp_directory = $dir", {"dir": str(building) + ".tmp"})


# DuckDB's memory during a build, at most: what it needs more spills to disk beside the new file.
# With a piece of an extract in Python (about 1 GB at the peak), a build stays under 4 GB.
BUILD_DUCKDB_MB = 2048


def build_memory_limit_mb() -> int:
    """DuckDB's memory during a build: BUILD_DUCKDB_MB, or half a smaller machine's memory (at least 1 GB)."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return max(1024, min(BUILD_DUCKDB_MB, total // 2 // 1024**2))


def remove_stale_builds(db_path: Path) -> None:
    """Delete the temp files of builds that were killed (SIGKILL, power loss) before cleaning up.

    A build's temp file carries its process id; a file whose process is gone is garbage.
    Files of builds still running (another process) are left alone.
    """
    prefix = f".{db_path.name}.building-"
    for path in db_path.parent.iterdir():
        if not path.name.startswith(prefix):
            continue
        pid = path.name.removeprefix(prefix).split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not process_alive(int(pid)):
            if path.is_dir():  # DuckDB's spill folder
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def write_settings_tables(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """The settings as tables, so SQL can join them (stage probabilities, rates, weights)."""
    tables = {
        "stage_map": pl.DataFrame(
            [(name, s.order, s.probability, s.is_closed, s.is_won) for name, s in settings.stage_map.items()],
            schema={
                "stage": pl.String,
                "stage_order": pl.Int64,
                "probability": pl.Float64,  # NULL: the stage has none (deals use their own)
                "is_closed": pl.Boolean,
                "is_won": pl.Boolean,
            },
            orient="row",
        ),
        "tier_order": pl.DataFrame({"tier": settings.tier_order, "tier_rank": list(range(1, len(settings.tier_order) + 1))}),
        "activity_weights": pl.DataFrame(
            {"activity_type": list(settings.activity_weights), "weight": list(settings.activity_weights.values())}
        ),
        "touch_values": pl.DataFrame(
            {
                "touch_type": list(settings.attribution.touch_values),
                "touch_value": list(settings.attribution.touch_values.values()),
            }
        ),
        "commission_rules": pl.DataFrame(
            [(i + 1, r.partner_type, r.tier, r.touch_type, r.rate) for i, r in enumerate(settings.commission_plan.rules)],
            schema={
                "rule_order": pl.Int64,
                "partner_type": pl.String,
                "tier": pl.String,
                "touch_type": pl.String,
                "rate": pl.Float64,
            },
            orient="row",
        ),
    }
    for name, frame in tables.items():
        materialise(con, name, frame)
    # Fiscal calendar macros; the start month is a validated int (1-12) from the settings.
    start = int(settings.fiscal_year_start_month)
    shift = "((month(d) - {m} + 12) % 12)".replace("{m}", str(start))
    con.execute(
        "create macro fiscal_year(d) as year(d) + case when {m} > 1 and month(d) >= {m} then 1 else 0 end".replace(
            "{m}", str(start)
        )
    )
    con.execute("create macro fiscal_quarter_number(d) as " + shift + " // 3 + 1")
    con.execute("create macro fiscal_quarter(d) as 'FY' || fiscal_year(d) || ' Q' || fiscal_quarter_number(d)")
    con.execute("create macro fiscal_quarter_start(d) as cast(date_trunc('month', d) - to_months(" + shift + " % 3) as date)")


def write_freshness(con: duckdb.DuckDBPyConnection) -> None:
    latest = [
        (table, con.execute("select cast(" + latest + ' as date) from "' + table + '"').fetchall()[0][0])  # noqa: S608 - fixed
        for table, latest in FRESHNESS.items()
    ]
    frame = pl.DataFrame(latest, schema={"table_name": pl.String, "latest_date": pl.Date}, orient="row")
    rhythm = {table: con.execute(RHYTHM_SQL.replace("{days}", days)).fetchall()[0][0] for table, days in EVENT_DAYS.items()}
    frame = frame.with_columns(rhythm_days=pl.col("table_name").replace_strict(rhythm, default=None, return_dtype=pl.Int64))
    materialise(con, "freshness", frame)


# What a database built by this version looks like: tables, columns and types, and the names of
# its SQL macros. Pages read tables the build derives and outputs call its macros, so a database
# built by an older version is refused with "rebuild it" rather than failing on a missing table or
# macro. Change the schema, and tests/test_build_format.py says to bump BUILD_FORMAT and gives the
# new fingerprint.
BUILD_FORMAT = 11  # 11: stored forecast views count stale deals in the historical method (schema unchanged)
BUILD_SCHEMA_SHA = "3f3507968a4f0747"


def schema_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """sha256 of every table's columns and types, and of the macros' names. Extract tables count by
    their canonical columns only: they keep the source file's column order and any extra columns it has."""
    rows = con.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = 'main' order by table_name, column_name"
    ).fetchall()
    canonical = {(table, spec.name) for table in TABLES for spec in column_specs(table)}
    kept = [row for row in rows if row[0] not in TABLES or (row[0], row[1]) in canonical]
    macros = con.execute(
        "select distinct function_name from duckdb_functions() "
        "where not internal and function_type in ('macro', 'table_macro') order by 1"
    ).fetchall()
    return hashlib.sha256(repr(kept + macros).encode()).hexdigest()[:16]


def outdated(meta: dict[str, str]) -> str | None:
    """Why a database (its `load_meta` as a dict) was built by another version, in words, or None if current."""
    if not meta:  # no load_meta at all: some other DuckDB file, not an older build of ours
        return "it has no load_meta table, so it was not built by `python -m loaders build`"
    built = meta.get("build_format")
    if built == str(BUILD_FORMAT):
        return None
    return (
        f"it was built by {'an older' if built is None or int(built) < BUILD_FORMAT else 'a newer'} version of "
        f"Partner Pulse (build format {built or 1}; this version reads format {BUILD_FORMAT})"
    )


def rebuild_from_source(db_path: Path, progress: Progress | None = None) -> pl.DataFrame:
    """Build `db_path` again from the extracts, preset and settings it was built with."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        meta = dict(con.execute("select key, value from load_meta").fetchall())
    finally:
        con.close()
    source = Path(meta.get("source_dir", ""))
    if not meta.get("source_dir") or not source.is_dir():
        raise BuildRefused(
            f"{db_path}: the extracts it was built from ({meta.get('source_dir') or 'unknown'}) are gone; "
            "build it from your extracts with `python -m loaders build DIR --db FILE`"
        )
    settings = Settings.model_validate_json(meta["settings_json"]) if meta.get("settings_json") else None
    return build_database(source, db_path, preset=meta.get("preset") or None, settings=settings, progress=progress)


def latest_day(con: duckdb.DuckDBPyConnection) -> tuple[date | None, str]:
    """The data's own "today" when the settings do not set it, and in words where it comes from.

    The latest day of the daily tables (something created, changed or done); else a payout's
    period or payment; else the latest join. Never a close date.
    """
    rows = con.execute(
        "select table_name, latest_date from freshness where list_contains($daily, table_name) and latest_date is not null "
        "order by latest_date desc, table_name limit 1",
        {"daily": list(DAILY_TABLES)},
    ).fetchall()
    if rows:
        return rows[0][1], f"the latest day in {rows[0][0].replace('_', ' ')}"
    paid = con.execute("select cast(greatest(max(period), max(paid_at)) as date) from payouts").fetchall()[0][0]
    if paid is not None:
        return paid, "the latest payout period or payment"
    joined = con.execute("select max(joined_at) from partners").fetchall()[0][0]
    return joined, "the latest partner join" if joined else ""


def write_meta(con: duckdb.DuckDBPyConnection, settings: Settings, source_dir: Path, preset: str | None) -> None:
    # The data's own "today", so pages replay consistently: the export's date, set in the
    # settings or else read from the data.
    if settings.as_of is not None:
        data_as_of, basis = settings.as_of, "set by the as_of setting"
    else:
        data_as_of, basis = latest_day(con)
    meta = {
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source_dir": str(source_dir.resolve()),
        "preset": preset or "",
        "data_as_of": data_as_of.isoformat() if data_as_of else "",
        "data_as_of_basis": basis,
        "reporting_currency": settings.reporting_currency,
        "fiscal_year_start_month": str(settings.fiscal_year_start_month),
        "settings_json": settings.model_dump_json(),
        "build_format": str(BUILD_FORMAT),
    }
    materialise(con, "load_meta", pl.DataFrame({"key": list(meta), "value": list(meta.values())}))


# Tables stored sorted by partner: DuckDB skips row groups by their min/max, so Partner 360's
# lookups of one partner read a few row groups instead of the whole table (fixed SQL text).
STORED_ORDER = {
    "partner_activities": "partner_id, occurred_at",
    "touchpoints": "partner_id, occurred_at",
    "deal_registrations": "partner_id, registered_at",
    "payouts": "partner_id, period",
}


def append(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    """Add a frame's rows to a table `materialise` created from a frame with the same columns."""
    con.register("incoming", frame)
    con.execute('insert into "' + name + '" by name select * from incoming')  # noqa: S608 - fixed names
    con.unregister("incoming")


def materialise(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    """Copy a frame into a table; `name` always comes from a fixed list in this module."""
    con.register("incoming", frame)
    order = f" order by {STORED_ORDER[name]}" if name in STORED_ORDER else ""
    con.execute('create table "' + name + '" as select * from incoming' + order)  # noqa: S608 - fixed names
    con.unregister("incoming")
