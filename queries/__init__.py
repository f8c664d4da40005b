"""The analytics: named outputs over the built database, each a `.sql` file or a Python function.

An output is either `<name>.sql` in a domain folder under queries/ (one read-only SELECT with
`$named` parameters and a header comment, see docs/design.md; the layout is in README.md, "A map
of the house") or a Python function registered in `PYTHON_OUTPUTS` for
what SQL cannot say well (Markov, Shapley, BG/NBD, simulation), called as
`function(con, **params)` and returning a Polars frame.

Stored default views: the build computes some outputs' default view once and stores it
(loaders/derived.py). Such an output declares `-- Stored: <reader>` (a Python output: `Stored:`
in its docstring), `<reader>` being the SQL output that reads those rows. The runner, and
only the runner, chooses between them (`stored_view`): it reads the stored rows when every
parameter the reader does not take is left at its default (`as_of` may also be the data's
as-of date), no filter given to the reader is an empty list, and the database holds the
stored tables. A reader that holds some views of its output, not all, says which: "or computed
when it has no rows" (the runner computes when it returns none), "when as_of in <output>"
(the days it holds are that output's first column), or "when <output> has rows" (that output,
given the call's parameters it takes, answers with a row when the stored rows are the view
asked for: say, the dates a page passes are the stored ones). Tests prove both
paths give the same frames (tests/test_stored_views.py).

- `execute(con, name, **params)`: pure, for tests, the command line and outputs built on other
  outputs. Every value is bound by DuckDB. A parameter the output does not take, or a required
  one left out, is refused (`ParamError`, naming the parameters it takes): a misspelt filter must
  not quietly mean "every partner". An optional one left out is NULL (its header says what NULL
  means; a parameter whose header gives no NULL meaning is required).
- `run(name, **params)`: for pages; the served database, cached per database file version, as
  the signed-in viewer may see it (`access.py`: the viewer's partners, money dropped or not).

Every output also declares what `access.py` needs to serve it to a viewer: `-- Money:` the
columns holding payout money (payouts, commissions, liabilities, plan rates), dropped for a
viewer without money access, or `none`; and `-- Scope: partner` (its rows name or describe
partners: a partner lead may run it only when it takes `$managers`) or `-- Scope: program`
(program-wide figures naming no partner). A Python output declares both in its docstring
(`Money: ...`, `Scope: ...`, beside `Grain: ...`). An output that writes money into rows or
text takes `sees_money` (boolean, NULL = true) and builds them without amounts when false;
the runner sets it from the viewer.

Shared filter parameters, by the same names in every output that takes them (NULL = all):
`$start_date`, `$end_date` (date), `$regions`, `$tiers`, `$partner_types`, `$managers`
(varchar[]). A partner lead's scope reaches SQL as `$managers`.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import uuid
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

QUERIES_DIR = Path(__file__).parent
PROJECT_DIR = QUERIES_DIR.parent
DEFAULT_DB = PROJECT_DIR / "data" / "pulse.duckdb"

# Outputs computed in Python: name -> "module:function".
# Register with a one-line edit each; do not rewrite this dict wholesale.
PYTHON_OUTPUTS: dict[str, str] = {
    "partner_signals": "queries.engagement.signals:partner_signals",
    "partner_signal_rows": "queries.engagement.signals:partner_signal_rows",
    "program_kpis": "queries.program.kpis:program_kpis",
    "kpi_trend_by_quarter": "queries.program.kpis:kpi_trend_by_quarter",
    "kpi_breakdown": "queries.program.kpis:kpi_breakdown",
    "attribution_credit": "queries.attribution.credit:attribution_credit",
    "attribution_scenario": "queries.attribution.scenarios:attribution_scenario",
    "attribution_moves": "queries.attribution.scenario_moves:attribution_moves",
    "partner_statement": "queries.partner.statement:partner_statement",
    "partner_statement_disagreements": "queries.partner.statement:partner_statement_disagreements",
    "pipeline_forecast": "queries.forecast.methods:pipeline_forecast",
    "forecast_deals": "queries.forecast.methods:forecast_deals",
    "forecast_backtest": "queries.forecast.methods:forecast_backtest",
    "forecast_accuracy": "queries.forecast.methods:forecast_accuracy",
    "forecast_caveats": "queries.forecast.methods:forecast_caveats",
    "partner_health": "queries.health.health_score:partner_health",
    "win_model_evaluation": "queries.health.win_model:win_model_evaluation",
    "partner_health_movers": "queries.health.health_score:partner_health_movers",
    "partner_health_scores": "queries.health.health_score:partner_health_scores",
    "partner_health_history": "queries.health.health_score:partner_health_history",
    "win_model_calibration": "queries.health.win_model:win_model_calibration",
    "win_model_coefficients": "queries.health.win_model:win_model_coefficients",
    "pipeline_changes": "queries.forecast.pipeline_changes:pipeline_changes",
    "pipeline_change_totals": "queries.forecast.pipeline_changes:pipeline_change_totals",
    "forecast_history": "queries.forecast.forecast_history:forecast_history",
}

PARAM_LINE = re.compile(r"^--\s+\$(\w+)\s*\(([^)]*)\)\s*:?\s*(.*)$")
BODY_PARAM = re.compile(r"\$([A-Za-z_]\w*)")


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # date, integer, double, varchar, varchar[], boolean
    help: str
    required: bool = False


@dataclass(frozen=True)
class Output:
    name: str
    summary: str
    grain: str
    params: tuple[Param, ...]
    # Columns of payout money, dropped for a viewer without money access; None = not declared.
    money: tuple[str, ...] | None = None
    # "partner" (rows name or describe partners) or "program"; None = not declared (treated as partner).
    scope: str | None = None
    # The SQL output reading the rows the build stored for the default view (None = always computed),
    # and whether that reader answers with no rows for a view it does not hold.
    stored: str | None = None
    stored_may_miss: bool = False
    # The output listing the as_of days the reader holds (first column); None = data_as_of only.
    stored_days: str | None = None
    # The output that answers with a row when the stored rows are the view the call asks for.
    stored_when: str | None = None

    def takes(self, name: str) -> bool:
        return any(param.name == name for param in self.params)

    def signature(self) -> str:
        """The parameters, as error messages and `python -m queries list` show them."""
        return ", ".join(f"{p.name} ({p.type}{', required' if p.required else ''})" for p in self.params) or "none"


class ParamError(ValueError):
    """A call that names a parameter the output does not take, or leaves out a required one."""


def db_path() -> Path:
    return Path(os.environ.get("PULSE_DB", DEFAULT_DB))


def connect(path: Path | str | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection that can read nothing but its own database file."""
    return connect_versioned(path)[0]


Version = tuple[str, int, int, int]


def connect_versioned(path: Path | str | None = None) -> tuple[duckdb.DuckDBPyConnection, Version]:
    """`connect`, and the version (see `database_version`) of the file it actually opened,
    which may be newer than the one seen a moment before if a build swapped it in meanwhile."""
    path = Path(path or db_path())
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: no database yet. Build one with `python -m loaders build DIR --db {path}` "
            "(or `make run`, which builds the demo program)."
        )
    con, version = open_snapshot(path)
    # Order matters: allowed_directories must be set before external access is turned off,
    # and the configuration locked last so SQL cannot turn it back on. No output reads a
    # file, and allowing the data folder would let `copy ... to` or `export database`
    # overwrite files there (the served database included) and `attach` read any database
    # in it: so no directory is allowed (DuckDB still spills to its own temp directory).
    con.execute("set allowed_directories = $dirs", {"dirs": []})
    con.execute("set enable_external_access = false")
    con.execute("set lock_configuration = true")
    return con, version


def open_snapshot(path: Path) -> tuple[duckdb.DuckDBPyConnection, Version]:
    """Open the file as it is now, even if another connection in this process has an older
    version of the same path open.

    DuckDB hands a new connection to a path the database it already has open there, so after
    a build swaps the file in, connecting by its name would return the old data. A hard link
    with a name of its own opens the current file as a new database; the link is removed at
    once (the open file stays readable), and connections to the old file keep serving it
    until they close, so a page run under way never sees a mix.
    """
    link = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex}.open")
    try:
        os.link(path, link)
    except OSError:
        return duckdb.connect(str(path), read_only=True), database_version(path)
    try:
        stat = link.stat()
        return duckdb.connect(str(link), read_only=True), (str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size)
    except duckdb.Error as exc:
        # Name the file the user knows (a corrupt database), not the hidden link.
        raise type(exc)(str(exc).replace(str(link), str(path))) from None
    finally:
        link.unlink(missing_ok=True)


# SQL macros several outputs share (queries/macros/<name>.sql, one `create or replace macro` each):
# the build creates them in the database, in this order (a macro is bound when it is created, so
# what it calls must exist by then), and every connection to it has them. Not outputs: the runner
# never lists or runs them by name.
MACROS_DIR = QUERIES_DIR / "macros"
MACROS = ("partner_in_scope", "trust_deals", "trust_by_quarter", "unpaid_commission", "deals_by_group")


def create_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create the shared SQL macros in the database being built (after the extracts and load_meta)."""
    for name in MACROS:
        con.execute((MACROS_DIR / f"{name}.sql").read_text(encoding="utf-8"))


@cache
def sql_files() -> dict[str, Path]:
    """Every SQL output's file by its name, the file's stem, wherever it sits under queries/ (a
    domain folder, its `inputs/` or `stored/`). Names are unique across folders: the name is what
    users export, and a folder is only where the file lives."""
    files: dict[str, Path] = {}
    for path in sorted(QUERIES_DIR.rglob("*.sql")):
        if MACROS_DIR in path.parents:
            continue
        if path.stem in files:
            raise RuntimeError(f"two queries named {path.stem!r}: {files[path.stem]} and {path}")
        files[path.stem] = path
    return files


@cache
def load_sql(name: str) -> str:
    path = sql_files().get(name)
    if path is None:
        raise KeyError(f"no query named {name!r}")
    return path.read_text(encoding="utf-8")


def strip_comments_and_strings(sql: str) -> str:
    """SQL without string literals and comments, scanned left to right in one pass, so an
    apostrophe in a comment or `--` in a string cannot hide what follows."""
    return re.sub(r"'(?:[^']|'')*'|--[^\n]*", lambda m: "''" if m.group(0).startswith("'") else "", sql)


def body_params(sql: str) -> list[str]:
    """The `$names` a query's body uses, in first-use order."""
    return list(dict.fromkeys(BODY_PARAM.findall(strip_comments_and_strings(sql))))


def declared(lines: list[str], label: str) -> str | None:
    """The text after `label:` on the first line that starts with it (None when absent)."""
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith(f"{label}:")), None)


def money_columns(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    # "none", optionally followed by why: "none (payout KPIs are rows, left out when sees_money is false)".
    return () if text.lower().startswith("none") else tuple(column.strip() for column in text.split(","))


def stored_declaration(text: str | None) -> dict[str, Any]:
    """`Stored: reader [, or computed when it has no rows | , when as_of in <output> | , when <output>
    has rows]` as Output fields."""
    if text is None:
        return {}
    days = re.search(r"when as_of in (\w+)", text)
    gate = re.search(r"when (\w+) has rows", text)
    return {
        "stored": text.split()[0].rstrip(",;"),
        "stored_may_miss": "no rows" in text,
        "stored_days": days.group(1) if days else None,
        "stored_when": gate.group(1) if gate else None,
    }


def sql_output(name: str) -> Output:
    sql = load_sql(name)
    header = [line for line in sql.splitlines() if line.startswith("--")]
    summary = header[0].lstrip("- ").strip() if header else ""
    bare = [line.removeprefix("--").strip() for line in header]
    params = []
    for line in header:
        match = PARAM_LINE.match(line)
        if match:
            kind = match.group(2).split(",")[0].strip()
            required = "null" not in match.group(2).lower()
            params.append(Param(match.group(1), kind, match.group(3).strip(), required))
    scope = declared(bare, "Scope")
    return Output(
        name,
        summary,
        declared(bare, "Grain") or "",
        tuple(params),
        money_columns(declared(bare, "Money")),
        scope.split()[0] if scope else None,
        **stored_declaration(declared(bare, "Stored")),
    )


PY_TYPES = {date: "date", int: "integer", float: "double", str: "varchar", bool: "boolean", list[str]: "varchar[]"}


def python_function(name: str) -> Any:
    module_name, function_name = PYTHON_OUTPUTS[name].split(":")
    return getattr(importlib.import_module(module_name), function_name)


def python_output(name: str) -> Output:
    function = python_function(name)
    doc = inspect.getdoc(function) or ""
    lines = [line.strip() for line in doc.splitlines()]
    hints = inspect.get_annotations(function, eval_str=True)
    params = []
    for param in list(inspect.signature(function).parameters.values())[1:]:
        hint = hints.get(param.name, str)
        hint = next((a for a in getattr(hint, "__args__", ()) if a is not type(None)), hint)
        required = param.default is inspect.Parameter.empty
        params.append(Param(param.name, PY_TYPES.get(hint, "varchar"), "", required))
    scope = declared(lines, "Scope")
    return Output(
        name,
        lines[0] if lines else "",
        declared(lines, "Grain") or "",
        tuple(params),
        money_columns(declared(lines, "Money")),
        scope.split()[0] if scope else None,
        **stored_declaration(declared(lines, "Stored")),
    )


def output(name: str) -> Output:
    """One named output (KeyError when there is none by that name)."""
    return python_output(name) if name in PYTHON_OUTPUTS else sql_output(name)


def outputs() -> dict[str, Output]:
    """Every named output, SQL and Python, by name."""
    names = set(sql_files()) | set(PYTHON_OUTPUTS)
    return {name: output(name) for name in sorted(names)}


def has_tables(con: duckdb.DuckDBPyConnection, *names: str) -> bool:
    """Whether the database holds every one of these tables (a derived table is absent from a
    database built before the step that writes it)."""
    rows = con.sql(
        "select count(distinct table_name) from duckdb_tables() where list_contains($names, table_name)",
        params={"names": list(names)},
    ).fetchall()
    return rows[0][0] == len(set(names))


def store_table(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    """Write `frame` as table `name`, replacing it: how the build's derived steps keep what they
    computed. `name` is always a module constant, never a user's value."""
    con.register("incoming_frame", frame)
    try:
        con.execute('create or replace table "' + name + '" as select * from incoming_frame')  # noqa: S608 - fixed names
    finally:
        con.unregister("incoming_frame")


def checked_params(name: str, params: dict[str, Any]) -> Output:
    """The output, once `params` are known to be what it takes: no parameter it does not take,
    no required one missing (None counts as missing). Raises ParamError naming its parameters."""
    described = output(name)
    taken = {param.name for param in described.params}
    unknown = sorted(set(params) - taken)
    if unknown:
        raise ParamError(f"{name} takes no parameter {', '.join(unknown)} (it takes: {described.signature()})")
    missing = [param.name for param in described.params if param.required and params.get(param.name) is None]
    if missing:
        raise ParamError(f"{name} needs {', '.join(missing)} (it takes: {described.signature()})")
    return described


def execute(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> pl.DataFrame:
    """Run a named output on `con` with bound parameters and return the collected frame: its
    stored default view when that answers (`stored_view`), else computed.

    Raises ParamError for a parameter the output does not take or a required one left out."""
    described = checked_params(name, params)
    if described.stored is not None:
        stored = stored_view(con, described, params)
        if stored is not None:
            return stored
    return _compute(con, name, params)


def compute(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> pl.DataFrame:
    """Run a named output computed, never from a stored view: what the build's derived steps store."""
    checked_params(name, params)
    return _compute(con, name, params)


def relation(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> duckdb.DuckDBPyRelation:
    """A named SQL output as a DuckDB relation with bound parameters, not yet fetched: for a build
    step that writes a large result straight into a table instead of through Python."""
    checked_params(name, params)
    sql = load_sql(name)
    return con.sql(sql, params={key: params.get(key) for key in body_params(sql)})


def _compute(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> pl.DataFrame:
    if name in PYTHON_OUTPUTS:
        # None = the function's default (the same meaning NULL has in SQL).
        return python_function(name)(con, **{key: value for key, value in params.items() if value is not None})
    sql = load_sql(name)
    bound = {key: params.get(key) for key in body_params(sql)}
    return con.cursor().sql(sql, params=bound).pl()


# Read stored default views when they answer; tests turn it off to compute every view and compare.
READ_STORED = True


def stored_view(con: duckdb.DuckDBPyConnection, described: Output, params: dict[str, Any]) -> pl.DataFrame | None:
    """The output's rows as the build stored them, or None when the stored rows do not answer these params.

    They answer when: stored views are read (READ_STORED); the database has a data as-of date
    (every stored view is built as of it); each parameter the reader does not take is left out
    or at the function's default, `as_of` also when it is the data's as-of date, any parameter
    when the `when ... has rows` output takes it; no filter the reader takes is an empty list;
    the reader's tables exist (a database built before the step that stores them has none);
    `as_of` (or data as of) is one of the days the reader holds; the `when` output, given the
    parameters it takes, has rows; and, for a reader that may miss, it returned rows."""
    if not READ_STORED or described.stored is None:
        return None
    from queries import meta
    as_of = meta.data_as_of(con)
    if as_of is None:
        return None
    reader = output(described.stored)
    gate = output(described.stored_when) if described.stored_when else None
    defaults = _defaults(described.name)
    passed, asked = {}, {}
    for key, value in params.items():
        if value is None:
            continue
        if gate is not None and gate.takes(key):
            asked[key] = value
        if reader.takes(key):
            if isinstance(value, list) and not value:
                return None
            passed[key] = value
        elif key not in asked and not (
            value == defaults.get(key, inspect.Parameter.empty) or (key == "as_of" and value == as_of)
        ):
            return None
    try:
        if gate is not None and execute(con, gate.name, **asked).is_empty():
            return None
        if described.stored_days is not None:
            held = execute(con, described.stored_days).to_series(0)
            if (params.get("as_of") or as_of) not in held:
                return None
        frame = execute(con, reader.name, **passed)
    except duckdb.CatalogException:
        return None
    if described.stored_may_miss and frame.is_empty():
        return None
    return frame


def _defaults(name: str) -> dict[str, Any]:
    """A Python output's parameter defaults (SQL outputs default every parameter to NULL)."""
    if name not in PYTHON_OUTPUTS:
        return {}
    parameters = inspect.signature(python_function(name)).parameters.values()
    return {param.name: param.default for param in parameters if param.default is not inspect.Parameter.empty}


# ---- pages: the served database, cached ------------------------------------------------


def database_version(path: Path | None = None) -> tuple[str, int, int, int]:
    """Changes whenever the file is swapped by a build, so caches keyed by it renew."""
    path = path or db_path()
    stat = path.stat()
    return (str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size)


def run(name: str, **params: Any) -> pl.DataFrame:
    """A named output on the served database (cached; do not mutate the result)."""
    from queries import serving
    return serving.run(name, **params)
