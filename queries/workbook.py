"""Excel files for finance: the scenario workbook (Attribution page, `python -m queries workbook`)
and the partner statement (`pages/statement.py`, `python -m queries statement`).

This module owns writing .xlsx: every table with its header frozen, a filter on, column widths
set and a Total row under it; numbers as numbers (money in the reporting currency's format,
rates and weights as percentages, dates as dates); text always as text. xlsxwriter is told never
to turn a string into a formula, a link or a number, and every string goes through
`write_string`, so a partner named `=HYPERLINK(...)` stays that text. The numbers are
`queries.attribution.credit`'s, `queries.attribution.scenario_moves`'s and `queries.partner.statement`'s; nothing here
computes beyond the totals of the columns it writes.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import polars as pl
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from queries.attribution import credit as attribution
from queries.attribution import scenarios
from queries.formatting import SYMBOLS, money
from queries.partner.statement import COLUMNS as STATEMENT_COLUMNS
from queries.partner.statement import STATUSES, Meta, Run, Statement

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LETTERS = "ABCD"
# Column kinds: how a column's cells are written and formatted.
KINDS = ("text", "money", "percent", "date", "integer", "number")
MIN_WIDTH, MAX_WIDTH = 8, 60


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    kind: str


class Book:
    """One workbook being written in memory: its formats, and tables written the house way."""

    def __init__(self, currency: str = "USD") -> None:
        self.buffer = io.BytesIO()
        self.workbook = xlsxwriter.Workbook(
            self.buffer,
            {
                "in_memory": True,
                # Text from the data stays text: no formula, link or number is made of a string.
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "remove_timezone": True,
            },
        )
        # Excel's number format for the reporting currency, written as queries.formatting.money writes it.
        symbol = SYMBOLS.get(currency)
        amount = f'"{symbol}"#,##0.00;-"{symbol}"#,##0.00' if symbol else f'#,##0.00" {currency}";-#,##0.00" {currency}"'
        self.currency = currency
        add = self.workbook.add_format
        self.formats = {
            "header": add({"bold": True, "bg_color": "#E8EEF4", "bottom": 1, "text_wrap": True, "valign": "top"}),
            "text": add({}),
            "money": add({"num_format": amount}),
            "percent": add({"num_format": "0.0#%"}),
            "date": add({"num_format": "yyyy-mm-dd"}),
            "integer": add({"num_format": "#,##0"}),
            "number": add({"num_format": "#,##0.00"}),
            "label": add({"bold": True}),
            "total": add({"bold": True, "top": 1}),
            "total_money": add({"bold": True, "top": 1, "num_format": amount}),
            "total_integer": add({"bold": True, "top": 1, "num_format": "#,##0"}),
        }

    def write(self, sheet: Worksheet, row: int, col: int, value: Any, kind: str, style: str | None = None) -> None:
        """One cell: None stays empty, text is always a string cell, the rest numbers or dates."""
        fmt = self.formats[style or kind]
        if value is None:
            sheet.write_blank(row, col, None, fmt)
        elif kind in ("money", "percent", "integer", "number"):
            sheet.write_number(row, col, float(value), fmt)
        elif kind == "date":
            moment = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
            sheet.write_datetime(row, col, moment, fmt)
        else:
            sheet.write_string(row, col, text_of(value), fmt)

    def table(
        self, name: str, frame: pl.DataFrame, columns: list[Column], totals: list[str] | None = None, note: str | None = None
    ) -> Worksheet:
        """A sheet holding one table: header in row 1 (frozen), the rows under it with a filter,
        then a blank row and a Total row summing the `totals` columns (every money column by
        default). A `note` goes two rows under the total."""
        sheet = self.workbook.add_worksheet(sheet_name(name))
        totals = [c.name for c in columns if c.kind == "money"] if totals is None else totals
        for col, column in enumerate(columns):
            sheet.write_string(0, col, column.label, self.formats["header"])
        for row, values in enumerate(frame.select([c.name for c in columns]).iter_rows(), start=1):
            for col, (column, value) in enumerate(zip(columns, values, strict=True)):
                self.write(sheet, row, col, value, column.kind)
        last = max(frame.height, 1)
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, last, len(columns) - 1)
        if totals:
            total_row = last + 2
            for col, column in enumerate(columns):
                if column.name in totals:
                    value = frame[column.name].cast(pl.Float64).sum() if frame.height else 0.0
                    value = round(float(value), 2) if column.kind == "money" else value
                    style = "total_money" if column.kind == "money" else "total_integer"
                    self.write(sheet, total_row, col, value, column.kind, style)
                elif col == 0:
                    sheet.write_string(total_row, col, "Total (all rows)", self.formats["total"])
                else:
                    sheet.write_blank(total_row, col, None, self.formats["total"])
        if note:
            sheet.write_string(last + 4, 0, note)
        self.widths(sheet, frame, columns)
        return sheet

    def pairs(self, name: str, rows: list[tuple[str, Any, str]]) -> Worksheet:
        """A sheet of labelled values (Item | Value), each value written as its kind."""
        sheet = self.workbook.add_worksheet(sheet_name(name))
        sheet.write_string(0, 0, "Item", self.formats["header"])
        sheet.write_string(0, 1, "Value", self.formats["header"])
        for row, (label, value, kind) in enumerate(rows, start=1):
            sheet.write_string(row, 0, label, self.formats["label"])
            self.write(sheet, row, 1, value, kind)
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, max(len(rows), 1), 1)
        sheet.set_column(0, 0, min(MAX_WIDTH, max(len(label) for label, _, _ in rows) + 2) if rows else MIN_WIDTH)
        sheet.set_column(1, 1, min(MAX_WIDTH, max([len(shown(v, k, self.currency)) for _, v, k in rows] + [MIN_WIDTH]) + 2))
        return sheet

    def widths(self, sheet: Worksheet, frame: pl.DataFrame, columns: list[Column]) -> None:
        """Each column as wide as its longest value as shown (or its header's longest word), within limits."""
        for col, column in enumerate(columns):
            values = frame[column.name].to_list() if frame.height else []
            longest = max([len(shown(v, column.kind, self.currency)) for v in values[:5000]] + [0])
            header = max(len(word) for word in column.label.split()) if column.label.strip() else 0
            sheet.set_column(col, col, max(MIN_WIDTH, min(MAX_WIDTH, max(longest, header, len(column.label) // 2) + 2)))

    def close(self) -> bytes:
        self.workbook.close()
        return self.buffer.getvalue()


def text_of(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "; ".join(text_of(v) for v in value)
    return str(value)


def shown(value: Any, kind: str, currency: str = "USD") -> str:
    """About what Excel shows for a value, to size its column."""
    if value is None:
        return ""
    if kind == "money":
        return money(float(value), currency, "cents")
    if kind == "percent":
        return f"{float(value) * 100:.2f}%"
    if kind == "date":
        return "2026-12-31"
    if kind == "integer":
        return f"{int(value):,}"
    return text_of(value)


def sheet_name(name: str) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\."""
    return re.sub(r"[\[\]:*?/\\]", "-", name)[:31]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# ---- the scenario workbook -----------------------------------------------------------------

BY = {"partner": "By partner", "partner_type_tier": "By partner type & tier", "fiscal_quarter": "By fiscal quarter"}
KEY_COLUMNS = [
    Column("partner_id", "Partner id", "text"),
    Column("partner_name", "Partner", "text"),
    Column("partner_type", "Partner type", "text"),
    Column("tier", "Tier", "text"),
    Column("fiscal_quarter", "Fiscal quarter", "text"),
]


@dataclass(frozen=True)
class Scenarios:
    """Everything the scenario workbook holds, gathered from named outputs (see `gather`)."""

    specs: dict[str, dict]  # letter -> scenario (parse_scenario's dict)
    frames: dict[str, pl.DataFrame]  # letter -> attribution_scenario
    plans: dict[str, pl.DataFrame]  # letter -> the commission rules it used
    won_revenue: float
    payouts: pl.DataFrame  # attribution_payouts_by_quarter
    moves: pl.DataFrame  # attribution_moves between `compared`
    compared: tuple[str, str]
    start_date: date
    end_date: date
    filters: dict[str, list[str] | None]
    settings: dict
    currency: str
    data_as_of: date | None
    made_on: date

    def label(self, letter: str) -> str:
        # As computed: "markov (grouped)" when the chain was built over partner groups.
        return scenarios.scenario_label(self.specs[letter], self.frames.get(letter))


def gather(
    run: Run,
    specs: list[dict],
    compared: tuple[str, str] = ("A", "B"),
    start_date: date | None = None,
    end_date: date | None = None,
    regions: list[str] | None = None,
    tiers: list[str] | None = None,
    partner_types: list[str] | None = None,
    managers: list[str] | None = None,
    **_: Any,
) -> Scenarios:
    """The workbook's content from named outputs: `run(name, **params)` is `queries.run` on the
    Attribution page (its cached frames) or `queries.execute` on a connection for the command
    line. No dates: the fiscal quarter of the data's as-of date, the app's default period."""
    if not 2 <= len(specs) <= len(LETTERS):
        raise ValueError(f"give 2 to {len(LETTERS)} scenarios, not {len(specs)}")
    parsed = {LETTERS[i]: scenarios.parse_scenario(json.dumps(spec)) for i, spec in enumerate(specs)}
    if len(compared) != 2 or any(letter not in parsed for letter in compared):
        raise ValueError(f"compare two of the scenarios {', '.join(parsed)}, not {', '.join(compared)}")
    meta = Meta.read(run)
    start, end = meta.period(start_date, end_date)
    filters = {"regions": regions, "tiers": tiers, "partner_types": partner_types, "managers": managers}
    period = {"start_date": start, "end_date": end}
    frames = {
        letter: run("attribution_scenario", scenario=json.dumps(spec), **period, **filters) for letter, spec in parsed.items()
    }
    settings_plan = run("attribution_commission_rules")
    a, b = compared
    return Scenarios(
        specs=parsed,
        frames=frames,
        plans={letter: scenarios.rules_of(spec.get("rates"), settings_plan) for letter, spec in parsed.items()},
        won_revenue=float(run("attribution_won_revenue", **period)["won_revenue"][0]),
        payouts=run("attribution_payouts_by_quarter", **period, **filters),
        moves=run("attribution_moves", scenario_a=json.dumps(parsed[a]), scenario_b=json.dumps(parsed[b]), **period, **filters),
        compared=(a, b),
        start_date=start,
        end_date=end,
        filters=filters,
        settings=json.loads(meta.values["settings_json"]) if meta.values.get("settings_json") else {},
        currency=meta.currency,
        data_as_of=meta.data_as_of,
        made_on=date.today(),
    )


def file_name(book: Scenarios) -> str:
    """scenarios_<A>_vs_<B>..._<date made>.xlsx, each scenario by its label."""
    names = "_vs_".join(slug(book.label(letter)) for letter in book.specs)[:150]
    return f"scenarios_{names}_{book.made_on:%Y-%m-%d}.xlsx"


def plan_text(rules: pl.DataFrame) -> str:
    """A commission plan in words: 'tier gold 10%; referral x integration 12%; anything else 10%'."""
    parts = []
    for rule in rules.iter_rows(named=True):
        scope = [f"{field.replace('_', ' ')} {rule[field]}" for field in ("partner_type", "tier", "touch_type") if rule[field]]
        parts.append(f"{' x '.join(scope) if scope else 'anything else'} {rule['rate'] * 100:g}%")
    return "; ".join(parts) if parts else "no commission"


def model_parameters(spec: dict, settings: dict) -> dict[str, float | None]:
    """The parameters a scenario's model uses: its own, else the settings' defaults (None where the model takes none)."""
    params = attribution.params_from_settings(
        settings, **{k: spec.get(k) for k in ("half_life_days", "lookback_days", "position_first", "position_last", "w_anchor")}
    )
    model = spec["model"]
    uses = {
        "lookback_days": model in attribution.TOUCH_MODELS,
        "half_life_days": model == "time_decay",
        "position_first": model == "position_based",
        "position_last": model == "position_based",
        "w_anchor": model == "w_shaped",
    }
    return {name: (float(params[name]) if used else None) for name, used in uses.items()}


SUMMARY_COLUMNS = [
    Column("scenario", "Scenario", "text"),
    Column("name", "Name", "text"),
    Column("model", "Model", "text"),
    Column("half_life_days", "Half-life (days)", "number"),
    Column("lookback_days", "Lookback (days)", "integer"),
    Column("position_first", "Position-based: first", "percent"),
    Column("position_last", "Position-based: last", "percent"),
    Column("w_anchor", "W-shaped: each anchor", "percent"),
    Column("booking_basis", "Booking basis", "text"),
    Column("plan", "Commission plan", "text"),
    Column("won_revenue", "Won revenue", "money"),
    Column("credited", "Credited", "money"),
    Column("not_credited", "Not credited (direct)", "money"),
    Column("liability", "Payout liability", "money"),
]
BASIS_WORDS = {"close_date": "revenue booked at the close date", "touch_date": "revenue booked at each touch's date"}


def summary(book: Scenarios) -> pl.DataFrame:
    rows = []
    for letter, spec in book.specs.items():
        plan = book.plans[letter]
        source = "what-if rates" if spec.get("rates") is not None else "the settings' plan"
        rows.append(
            {
                "scenario": letter,
                "name": book.label(letter),
                "model": spec["model"],
                **model_parameters(spec, book.settings),
                "booking_basis": BASIS_WORDS[spec["booking_basis"]],
                "plan": f"{source}: {plan_text(plan)}",
                **scenarios.reconcile(book.frames[letter], book.won_revenue),
            }
        )
    return pl.DataFrame(rows)


def letter_columns(frame: pl.DataFrame, book: Scenarios, prefixes: dict[str, str]) -> list[Column]:
    """'credit A' -> 'Credit, A: linear' (money), for each scenario's columns."""
    columns = []
    for name in frame.columns:
        for prefix, word in prefixes.items():
            letter = name.removeprefix(prefix)
            if name.startswith(prefix) and letter in book.specs:
                columns.append(Column(name, f"{word}, {letter}: {book.label(letter)}", "money"))
    return columns


def scenario_workbook(book: Scenarios) -> bytes:
    """The workbook: Summary, By partner, By partner type & tier, By fiscal quarter, Moves,
    Payout liability and Commission plans, each a table with its totals."""
    out = Book(book.currency)
    a, b = book.compared
    info = out.table(
        "Summary",
        summary(book),
        SUMMARY_COLUMNS,
        totals=[],
        note="Credited + not credited (direct) = won revenue of the "
        "won deals closed in the period; payout liability = credit x the scenario's commission rates.",
    )
    for row, (label, value, kind) in enumerate(
        [
            ("Period from", book.start_date, "date"),
            ("Period to", book.end_date, "date"),
            ("Partners", filters_text(book.filters), "text"),
            ("Currency", book.currency, "text"),
            ("Data as of", book.data_as_of, "date"),
            ("Made on", book.made_on, "date"),
            ("Moves compare", f"{a} ({book.label(a)}) to {b} ({book.label(b)})", "text"),
        ],
        start=len(book.specs) + 6,  # under the note
    ):
        info.write_string(row, 0, label, out.formats["label"])
        out.write(info, row, 1, value, kind)
    for by, title in BY.items():
        table = scenarios.side_by_side(book.frames, by)
        keys = [c for c in KEY_COLUMNS if c.name in scenarios.ROLLUPS[by]]
        out.table(title, table, keys + letter_columns(table, book, {"credit ": "Credit", "liability ": "Liability"}))
    out.table(
        "Moves between two scenarios",
        book.moves,
        MOVE_COLUMNS,
        totals=["credit"],
        note=f"Credit that {b} ({book.label(b)}) books to another partner or quarter than {a} ({book.label(a)}). "
        "An empty partner id is revenue no partner shown is credited with.",
    )
    liability = scenarios.liability_by_quarter(book.payouts, book.frames)
    payout_columns = [
        Column("fiscal_quarter", "Fiscal quarter", "text"),
        *[Column(status, f"Payouts {status.replace('_', ' ')}", "money") for status in STATUSES],
        *letter_columns(liability, book, {"owed: ": "Owed"}),
    ]
    out.table(
        "Payout liability",
        liability,
        payout_columns,
        note="Payouts by status per fiscal quarter of their period, beside what each scenario says is owed (credit x rate).",
    )
    plans = pl.concat(
        [
            plan.with_columns(scenario=pl.lit(letter)).select("scenario", pl.exclude("scenario"))
            for letter, plan in book.plans.items()
        ]
    )
    out.table(
        "Commission plans",
        plans,
        PLAN_COLUMNS,
        totals=[],
        note="Rules in match order: the most specific matching rule wins, then the earlier one; an empty field matches anything.",
    )
    return out.close()


MOVE_COLUMNS = [
    Column("from_partner_id", "From partner id", "text"),
    Column("from_partner_name", "From partner", "text"),
    Column("from_quarter", "From quarter", "text"),
    Column("to_partner_id", "To partner id", "text"),
    Column("to_partner_name", "To partner", "text"),
    Column("to_quarter", "To quarter", "text"),
    Column("credit", "Credit moved", "money"),
    Column("deals", "Deals", "integer"),
]
PLAN_COLUMNS = [
    Column("scenario", "Scenario", "text"),
    Column("partner_type", "Partner type", "text"),
    Column("tier", "Tier", "text"),
    Column("touch_type", "Touch type", "text"),
    Column("rate", "Rate", "percent"),
]


def filters_text(filters: dict[str, list[str] | None]) -> str:
    chosen = [f"{name.replace('_', ' ')} {', '.join(values)}" for name, values in filters.items() if values]
    return "; ".join(chosen) if chosen else "all"


# ---- the partner statement -----------------------------------------------------------------

DEAL_SHEET = [
    "opportunity_id",
    "account_name",
    "close_date",
    "fiscal_quarter",
    "revenue",
    "weight",
    "credit",
    "rate",
    "commission",
    "paid",
    "owed",
    "due_date",
    "status",
]
PAYOUT_SHEET = ["payout_id", "payout_type", "period", "opportunity_id", "status", "paid_at", "amount"]
DISAGREEMENT_SHEET = ["kind_label", "opportunity_id", "fiscal_quarter", "amount_at_stake", "detail"]


def statement_columns(names: list[str]) -> list[Column]:
    return [Column(name, *STATEMENT_COLUMNS[name]) for name in names]


def statement_workbook(statement: Statement) -> bytes:
    """A partner's statement: the summary, the deals with commission and what is owed, the
    period's payouts (each, and by status) and the open disagreements."""
    out = Book(statement.currency)
    totals, partner = statement.totals, statement.partner
    out.pairs(
        "Statement",
        [
            ("Partner", partner["partner_name"], "text"),
            ("Partner id", partner["partner_id"], "text"),
            ("Partner types", ", ".join(partner.get("partner_types") or []), "text"),
            ("Tier", partner.get("tier"), "text"),
            ("Partner manager", partner.get("partner_manager"), "text"),
            ("Period from", statement.start_date, "date"),
            ("Period to", statement.end_date, "date"),
            ("Plan", statement.describe_plan(), "text"),
            ("Payment terms (days after close)", statement.plan["payment_terms_days"], "integer"),
            ("Currency", statement.currency, "text"),
            ("Data as of", statement.data_as_of, "date"),
            ("Made on", statement.made_on, "date"),
            ("Deals credited", totals["deals"], "integer"),
            ("Revenue of those deals", totals["revenue"], "money"),
            ("Credit", totals["credit"], "money"),
            ("Commission", totals["commission"], "money"),
            ("Paid against these deals", totals["paid"], "money"),
            ("Owed", totals["owed"], "money"),
            ("Of which overdue", totals["overdue"], "money"),
            ("Next due date", totals["next_due"], "date"),
            *[(f"Payouts {s.replace('_', ' ')} in the period", totals[f"payouts_{s}"], "money") for s in STATUSES],
            ("Open disagreements", totals["disagreements"], "integer"),
            ("Amount at stake in them", totals["at_stake"], "money"),
        ],
    )
    out.table("Deals", statement.deals, statement_columns(DEAL_SHEET), totals=["revenue", "credit", "commission", "paid", "owed"])
    out.table("Payouts", statement.payouts, statement_columns(PAYOUT_SHEET))
    out.table(
        "Payouts by status",
        statement.by_status(),
        [Column("status", "Status", "text"), *statement_columns(["payouts", "amount"])],
        totals=["payouts", "amount"],
    )
    out.table("Disagreements", statement.disagreements, statement_columns(DISAGREEMENT_SHEET))
    return out.close()


# ---- command line: `python -m queries workbook | statement` --------------------------------


def add_commands(commands: Any) -> None:
    """The `workbook` and `statement` subcommands (docs/design.md, "Command line")."""
    from pathlib import Path

    book = commands.add_parser("workbook", help="the scenario workbook (Excel) of 2 to 4 attribution scenarios")
    book.add_argument("--db", type=Path, default=None, help="database file (default: $PULSE_DB or data/pulse.duckdb)")
    book.add_argument(
        "--scenarios",
        required=True,
        metavar="JSON",
        help='a JSON list of 2 to 4 scenarios, or a file holding one, e.g. \'[{"model": "linear"}, {"model": "markov"}]\' '
        "(keys: model, half_life_days, lookback_days, booking_basis, position_first, position_last, w_anchor, rates)",
    )
    book.add_argument(
        "--out", type=Path, required=True, help="the .xlsx file to write (a folder: named after the scenarios and the date)"
    )
    book.add_argument(
        "--from", dest="start_date", type=date.fromisoformat, help="first close date (default: the fiscal quarter of the data)"
    )
    book.add_argument("--to", dest="end_date", type=date.fromisoformat, help="last close date")
    book.add_argument(
        "--compare", nargs=2, metavar=("FROM", "TO"), default=["A", "B"], help="the two scenarios the Moves sheet compares"
    )
    book.set_defaults(handler=workbook_command)

    sheet = commands.add_parser("statement", help="one partner's statement for a period (Excel, and CSV per table)")
    sheet.add_argument("--db", type=Path, default=None, help="database file (default: $PULSE_DB or data/pulse.duckdb)")
    sheet.add_argument("--partner", required=True, metavar="ID", help="the partner's id")
    sheet.add_argument(
        "--from", dest="start_date", type=date.fromisoformat, help="first day (default: the fiscal quarter of the data)"
    )
    sheet.add_argument("--to", dest="end_date", type=date.fromisoformat, help="last day")
    sheet.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder to write the statement's files to")
    sheet.set_defaults(handler=statement_command)


def connected_run(db: Any) -> Run:
    import queries

    con = queries.connect(db)
    return lambda name, **params: queries.execute(con, name, **params)


def write_atomically(target: Any, data: bytes) -> None:
    """Written beside its name and renamed, so a reader never opens half a file."""
    import os

    partial = target.with_name(f".{target.name}.partial")
    partial.write_bytes(data)
    os.replace(partial, target)


def scenarios_from(text: str) -> list[dict]:
    from pathlib import Path

    candidate = Path(text)
    if not text.lstrip().startswith("[") and candidate.is_file():
        text = candidate.read_text(encoding="utf-8")
    specs = json.loads(text)
    if not isinstance(specs, list) or not all(isinstance(spec, dict) for spec in specs):
        raise ValueError("--scenarios: expected a JSON list of scenario objects")
    return specs


def workbook_command(args: Any) -> int:
    import sys

    import duckdb

    try:
        specs = scenarios_from(args.scenarios)
        book = gather(
            connected_run(args.db), specs, tuple(letter.upper() for letter in args.compare), args.start_date, args.end_date
        )
    except (ValueError, FileNotFoundError, duckdb.Error) as exc:
        print(f"workbook failed: {exc}", file=sys.stderr)
        return 1
    target = args.out / file_name(book) if args.out.is_dir() else args.out
    write_atomically(target, scenario_workbook(book))
    print(f"wrote {len(book.specs)} scenarios, {book.start_date} to {book.end_date}, to {target}", file=sys.stderr)
    return 0


def statement_command(args: Any) -> int:
    import sys

    import duckdb

    from queries.export import safe_csv
    from queries.partner.statement import gather as gather_statement

    try:
        statement = gather_statement(connected_run(args.db), args.partner, args.start_date, args.end_date)
    except (FileNotFoundError, duckdb.Error) as exc:
        print(f"statement failed: {exc}", file=sys.stderr)
        return 1
    if statement is None:
        print(f"statement failed: no partner with id {args.partner!r}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    stem = statement.file_stem()
    write_atomically(args.out / f"{stem}.xlsx", statement_workbook(statement))
    for part, frame in (("deals", statement.deals), ("payouts", statement.payouts), ("disagreements", statement.disagreements)):
        write_atomically(args.out / f"{stem}_{part}.csv", safe_csv(frame))
    totals = statement.totals
    print(
        f"wrote {stem}.xlsx and 3 CSV files to {args.out}: {totals['deals']} deals credited, "
        f"commission {totals['commission']:,.2f}, owed {totals['owed']:,.2f} {statement.currency}",
        file=sys.stderr,
    )
    return 0
