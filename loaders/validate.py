"""Whole-column validation: text frames in, typed rows and quarantined rows out.

This module owns the row rules of the data contract (types, required values, allowed
values, non-negative amounts, the stage map, duplicate keys, references between tables,
FX) and the words of every reason. Every rule is a Polars expression over whole columns
that yields a reason or null; a row with any reason goes to quarantine with all of its
reasons, the others load. A value that fails to parse is described by its shape ("'2025-12'
looks like a month (YYYY-MM), not a date"). Reasons name columns as the source file does
(a preset's "Create Date", not "created_at"). Reading files is `read.py`'s job; writing the
database is `build.py`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from loaders.read import LINE, READ_ERROR, RefusedFile
from loaders.schema import KEYS, NON_NEGATIVE, REFERENCES, TABLES, ColumnSpec, column_specs
from settings import Settings

REASON = "_reason"
# Set on a history row whose stage the stage map lacks: it loads when its deal loaded (the
# deal's is_closed / is_won say what it is), else it is quarantined for the stage.
UNKNOWN_STAGE = "_unknown_stage"
TRUE_WORDS = ["true", "t", "1", "yes", "y"]
FALSE_WORDS = ["false", "f", "0", "no", "n"]
# The largest amount a row may carry, in any currency (decimal(18,2) holds < 1e16; FX may scale it).
MAX_AMOUNT = 1e14
MIN_YEAR, MAX_YEAR = 1900, 2099
DATETIME_FORMATS = ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"]
POLARS_TYPES = {
    "str": pl.String,
    "date": pl.Date,
    "datetime": pl.Datetime("us"),
    "month": pl.Date,
    "decimal": pl.Decimal(18, 2),
    "float": pl.Float64,
    "share": pl.Float64,
    "bool": pl.Boolean,
    "list": pl.List(pl.String),
}
MONTHS = "january february march april may june july august september october november december".split()
# English month names and their usual abbreviations ("Dec", "Sept") -> month number, as text.
MONTH_NUMBERS = {name: str(i + 1) for i, full in enumerate(MONTHS) for name in (full, full[:3])} | {"sept": "9"}
# Excel counts days from 1899-12-30; serial 73050 is 2099-12-31, the last year a date may have.
EXCEL_EPOCH = datetime(1899, 12, 30)
EXCEL_SERIAL = r"^\d{1,5}(\.\d+)?$"
MAX_EXCEL_SERIAL = 73050


@dataclass
class Checked:
    """One table after validation: what loads, what is quarantined, and what to warn about."""

    table: str
    source_file: str
    rows: pl.DataFrame
    quarantined: pl.DataFrame
    warnings: list[str] = field(default_factory=list)
    # canonical column -> the name the source file gives it (only where the two differ)
    labels: dict[str, str] = field(default_factory=dict)
    encoding: str | None = None
    # Settings to paste (TOML) that would settle what the warnings report, e.g. unknown stages.
    snippet: str | None = None

    def label(self, column: str) -> str:
        return self.labels.get(column, column)


def parse_datetime(text: pl.Expr) -> pl.Expr:
    """ISO dates and timestamps, with `T`, fractions and a zone suffix (the zone is dropped)."""
    cleaned = text.str.replace("T", " ", literal=True).str.replace(r"(Z|[+-]\d{2}:?\d{2})$", "")
    return pl.coalesce(
        cleaned.str.strptime(pl.Datetime("us"), fmt, strict=False) for fmt in DATETIME_FORMATS
    )


def normalise_choice(text: pl.Expr) -> pl.Expr:
    """'Best Case' and 'best-case' both mean best_case."""
    return text.str.to_lowercase().str.replace_all(r"[\s\-]+", "_")


def excel_serial(text: pl.Expr) -> pl.Expr:
    """An Excel date serial number (days since 1899-12-30, the fraction a time of day) as a timestamp."""
    number = pl.when(text.str.contains(EXCEL_SERIAL)).then(text.cast(pl.Float64, strict=False))
    in_range = (number >= 1) & (number < MAX_EXCEL_SERIAL + 1)
    micros = (number * 86_400_000_000).round().cast(pl.Int64, strict=False)
    return pl.when(in_range).then(pl.lit(EXCEL_EPOCH, dtype=pl.Datetime("us")) + pl.duration(microseconds=micros))


def year_month(year: pl.Expr, month: pl.Expr) -> pl.Expr:
    return pl.concat_str([year, month, pl.lit("1")], separator="-").str.to_date("%Y-%m-%d", strict=False)


def parse_month(text: pl.Expr, excel: bool = False) -> pl.Expr:
    """A month as its first day, from `2025-12`, `2025/12`, `12/2025`, `Dec 2025`, `December 2025`,
    any date or timestamp in that month, or (from .xlsx) an Excel date serial."""
    cleaned = text.str.strip_chars()
    iso = cleaned.str.extract_groups(r"^(\d{4})[-/](\d{1,2})$")
    month_first = cleaned.str.extract_groups(r"^(\d{1,2})/(\d{4})$")
    named = cleaned.str.extract_groups(r"^([A-Za-z]{3,9})\.?[\s\-]+(\d{4})$")
    named_month = named.struct.field("1").str.to_lowercase().replace_strict(MONTH_NUMBERS, default=None, return_dtype=pl.String)
    candidates = [
        year_month(iso.struct.field("1"), iso.struct.field("2")),
        year_month(month_first.struct.field("2"), month_first.struct.field("1")),
        year_month(named.struct.field("2"), named_month),
        parse_datetime(cleaned).dt.date(),
    ]
    if excel:
        candidates.append(excel_serial(cleaned).dt.date())
    return pl.coalesce(candidates).dt.month_start()


def parse_share(text: pl.Expr) -> pl.Expr:
    """A share 0..1 from `0.75` or `75%`; a column whose plain values go above 1 is in percent."""
    cleaned = text.str.strip_chars()
    percent_sign = cleaned.str.ends_with("%")
    number = cleaned.str.strip_suffix("%").str.strip_chars().cast(pl.Float64, strict=False)
    in_percent = number.filter(percent_sign.not_()).max() > 1
    share = pl.when(percent_sign | in_percent).then(number / 100).otherwise(number)
    # Six decimals: 70 / 100 is 0.7, not 0.7000000000000001.
    return pl.when(share.is_between(0, 1)).then(share.round(6))


def typed_column(spec: ColumnSpec, text: pl.Expr, excel: bool = False) -> pl.Expr:
    """The column's values in its type; null where a value cannot be read. `excel`: the source is
    .xlsx, where a number in a date column is an Excel date serial."""
    if spec.kind == "str":
        return normalise_choice(text) if spec.allowed else text
    if spec.kind == "datetime":
        return pl.coalesce(parse_datetime(text), excel_serial(text)) if excel else parse_datetime(text)
    if spec.kind == "date":
        return (pl.coalesce(parse_datetime(text), excel_serial(text)) if excel else parse_datetime(text)).dt.date()
    if spec.kind == "month":
        return parse_month(text, excel)
    if spec.kind == "share":
        return parse_share(text)
    if spec.kind == "decimal":
        # Commas only as thousands separators ("1,234.50"); "1234,50" (a decimal comma) is not
        # a number here rather than silently 100 times too large.
        thousands = text.str.contains(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
        plain = pl.when(thousands).then(text.str.replace_all(",", "", literal=True)).otherwise(text)
        number = plain.cast(pl.Float64, strict=False)
        # Beyond MAX_AMOUNT (and inf, NaN) is not an amount: decimal(18,2) would overflow.
        return pl.when(number.abs() < MAX_AMOUNT).then(number.round(2)).cast(pl.Decimal(18, 2), strict=False)
    if spec.kind == "float":
        return text.cast(pl.Float64, strict=False)
    if spec.kind == "bool":
        lowered = text.str.to_lowercase()
        return (
            pl.when(lowered.is_in(TRUE_WORDS))
            .then(True)
            .when(lowered.is_in(FALSE_WORDS))
            .then(False)
            .otherwise(None)
        )
    if spec.kind == "list":
        return text.str.split(";").list.eval(normalise_choice(pl.element().str.strip_chars())).list.eval(
            pl.element().filter(pl.element() != "")
        )
    raise ValueError(f"unknown column kind {spec.kind}")


KIND_WORDS = {
    "date": "a date (YYYY-MM-DD)",
    "datetime": "a date or timestamp (YYYY-MM-DD[ HH:MM:SS])",
    "month": "a month (YYYY-MM, a date, or Dec 2025)",
    "decimal": "a number",
    "float": "a number",
    "share": "a share from 0 to 1 or a percentage",
    "bool": "true or false",
}


def date_shape(text: pl.Expr, kind: str) -> pl.Expr:
    """What a value that failed to read as a date looks like, in words (null: no shape we know).

    A slashed date whose day and month cannot be told apart takes the order the rest of its
    column shows (a `31/12/2025` elsewhere makes `03/04/2025` day-first too)."""
    cleaned = text.str.strip_chars()
    slashed = cleaned.str.extract_groups(r"^(\d{1,2})([/.\-])(\d{1,2})[/.\-](\d{4})(?:[ T].*)?$")
    first = slashed.struct.field("1").cast(pl.Int32, strict=False)
    second = slashed.struct.field("3").cast(pl.Int32, strict=False)
    sep = slashed.struct.field("2")
    is_slashed = first.is_not_null() & second.is_not_null()
    day_first_column = (is_slashed & (first > 12)).any()
    us_column = (is_slashed & (second > 12)).any()
    day_first = pl.concat_str([pl.lit("a day-first date (DD"), sep, pl.lit("MM"), sep, pl.lit("YYYY)")])
    us = pl.concat_str([pl.lit("a US date (MM"), sep, pl.lit("DD"), sep, pl.lit("YYYY)")])
    serial = pl.when(cleaned.str.contains(EXCEL_SERIAL)).then(cleaned.cast(pl.Float64, strict=False))
    serial_day = (pl.lit(EXCEL_EPOCH, dtype=pl.Datetime("us")) + pl.duration(days=serial.floor().cast(pl.Int64, strict=False)))
    written_name = cleaned.str.extract(r"^([A-Za-z]{3,9})\.?[\s\-]+\d{4}$")
    month_name = written_name.str.to_lowercase()
    shape = pl.when(pl.lit(False)).then(pl.lit(None, dtype=pl.String))
    if kind == "month":
        shape = shape.when(month_name.is_not_null() & month_name.is_in(list(MONTH_NUMBERS)).not_()).then(
            pl.lit("a month and year with a month name in another language than English ('") + written_name + pl.lit("')")
        )
    else:
        shape = (
            shape.when(cleaned.str.contains(r"^\d{4}[-/.]\d{1,2}$")).then(pl.lit("a month (YYYY-MM)"))
            .when(cleaned.str.contains(r"^\d{1,2}/\d{4}$")).then(pl.lit("a month (MM/YYYY)"))
            .when(month_name.is_not_null()).then(pl.lit("a month and year"))
        )
    return (
        shape.when(is_slashed & (first > 12)).then(day_first)
        .when(is_slashed & (second > 12)).then(us)
        .when(is_slashed & day_first_column & us_column.not_()).then(day_first)
        .when(is_slashed & us_column & day_first_column.not_()).then(us)
        .when(is_slashed).then(pl.lit("a DD/MM/YYYY or MM/DD/YYYY date (the day and month cannot be told apart)"))
        .when(cleaned.str.contains(r"^\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2}$")).then(pl.lit("a date with a two-digit year"))
        .when(cleaned.str.contains(r"^(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$"))
        .then(pl.lit("a date without separators (YYYYMMDD)"))
        .when((serial >= 10_000) & (serial <= MAX_EXCEL_SERIAL)).then(
            pl.lit("an Excel date serial number (") + cleaned + pl.lit(" is ") + serial_day.dt.strftime("%Y-%m-%d") + pl.lit(")")
        )
        .when(cleaned.str.contains(r"^1\d{9}(\.\d+)?$")).then(pl.lit("a Unix timestamp in seconds"))
        .when(cleaned.str.contains(r"^1\d{12}$")).then(pl.lit("a Unix timestamp in milliseconds"))
        .when(cleaned.str.contains(r"(?i)^\d{1,2}[\s\-][a-z]{3,9}\.?[\s\-,]+\d{4}$|^[a-z]{3,9}\.? \d{1,2},? \d{4}$"))
        .then(pl.lit("a date written with a month name"))
    )


def number_shape(text: pl.Expr, percent: bool = True) -> pl.Expr:
    """What a value that failed to read as a number looks like, in words (null: no shape we know)."""
    cleaned = text.str.strip_chars()
    decimal_comma = r"^[+-]?(\d{1,3}([.\s\u00a0']\d{3})+|\d+),\d+$"
    as_point = cleaned.str.replace_all(r"[.\s\u00a0']", "").str.replace(",", ".", literal=True)
    return (
        pl.when(cleaned.str.contains(decimal_comma)).then(pl.lit("a number with a decimal comma (") + as_point + pl.lit(")"))
        .when(cleaned.str.contains(r"^[+-]?\d{1,3}([\s\u00a0']\d{3})+(\.\d+)?$"))
        .then(pl.lit("a number with spaces or apostrophes between the thousands"))
        .when(cleaned.str.contains(r"^[+-]?\s*[$€£¥₹]|[$€£¥₹]\s*$|^[A-Z]{3}\s?[+-]?\d|\d\s?[A-Z]{3}$"))
        .then(pl.lit("an amount with a currency sign or code"))
        .when(pl.lit(percent) & cleaned.str.contains(r"^[+-]?\d+([.,]\d+)?\s*%$")).then(pl.lit("a percentage"))
        .when(cleaned.str.contains(r"^\(\s*[\d.,]+\s*\)$")).then(pl.lit("an accounting negative (in parentheses)"))
        .when(cleaned.str.contains(r"(?i)^[+-]?\d+([.,]\d+)?\s*[km]$")).then(pl.lit("an abbreviated amount (k, M)"))
    )


SHAPED_KINDS = ("date", "datetime", "month", "decimal", "float", "share")


def value_shape(kind: str, text: pl.Expr) -> pl.Expr | None:
    """The shape of values that fail to read as `kind` (see date_shape, number_shape), or None."""
    if kind in ("date", "datetime", "month"):
        return date_shape(text, kind)
    if kind in ("decimal", "float", "share"):
        return number_shape(text, percent=kind != "share")  # a share may be a percentage
    return None


def column_reasons(
    spec: ColumnSpec, text: pl.Expr, typed: pl.Expr, label: str | None = None, shapes: bool = True
) -> list[pl.Expr]:
    """Reasons (or null) for one column: required, parseable (with the failed value's shape if
    `shapes`), allowed. `label`: the column's name in the source."""
    label = label or spec.name
    quoted = pl.lit("'") + text.str.slice(0, 60) + pl.lit("'")
    reasons = []
    if spec.required:
        missing = text.is_null() | (typed.list.len() == 0 if spec.kind == "list" else pl.lit(False))
        reasons.append(pl.when(missing).then(pl.lit(f"{label} is required")))
    if spec.kind in KIND_WORDS:
        failed = text.is_not_null() & typed.is_null()
        plain = pl.lit(f"{label}: ") + quoted + pl.lit(f" is not {KIND_WORDS[spec.kind]}")
        shape = value_shape(spec.kind, text) if shapes else None
        if shape is not None:
            plain = pl.when(shape.is_not_null()).then(
                pl.lit(f"{label}: ") + quoted + pl.lit(" looks like ") + shape + pl.lit(f", not {KIND_WORDS[spec.kind]}")
            ).otherwise(plain)
        reasons.append(pl.when(failed).then(plain))
    if spec.allowed:
        allowed_words = ", ".join(spec.allowed)
        if spec.kind == "list":
            bad = typed.list.eval(pl.element().is_in(list(spec.allowed)).not_()).list.any()
        else:
            bad = typed.is_not_null() & typed.is_in(list(spec.allowed)).not_()
        reasons.append(
            pl.when(text.is_not_null() & bad).then(pl.lit(f"{label}: ") + quoted + pl.lit(f" is not one of {allowed_words}"))
        )
    return reasons


def check_table(
    table: str, source_file: str, frame: pl.DataFrame, settings: Settings, labels: dict[str, str] | None = None
) -> Checked:
    """Type every canonical column and quarantine the rows that break a rule of their own.

    `labels` names canonical columns as the source does (a preset's "Create Date" for
    created_at; a missing one as every name the preset would read it from), for messages."""
    labels = labels or {}
    specs = column_specs(table)
    missing = [spec.name for spec in specs if spec.required and spec.name not in frame.columns]
    if missing:
        needed = ", ".join(labels.get(spec.name, spec.name) for spec in specs if spec.required)
        found = [labels.get(c, c) for c in frame.columns if c != LINE]
        listed = ", ".join(found[:30]) + (f", ... and {len(found) - 30} more" if len(found) > 30 else "")
        raise RefusedFile(
            f"{source_file}: missing required column {', '.join(repr(labels.get(m, m)) for m in missing)} "
            f"(the {table} extract needs {needed}; found {listed or 'no columns'})"
        )
    for spec in specs:
        if spec.name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(spec.name))
    checked = Checked(table, source_file, frame.clear(), frame.clear(), labels={k: v for k, v in labels.items() if k != v})
    label = checked.label
    excel = source_file.lower().endswith(".xlsx")

    # Each column parsed once, beside its text; the text stays for the quarantine and the reasons.
    frame = frame.with_columns(
        *[pl.col(spec.name).alias(f"_raw_{spec.name}") for spec in specs],
        *[
            typed_column(spec, pl.col(spec.name), excel).cast(POLARS_TYPES[spec.kind]).alias(f"_typed_{spec.name}")
            for spec in specs
        ],
    )

    def reasons(shapes: bool) -> pl.Expr:
        # A row the reader could read only in part is quarantined for that first.
        found: list[pl.Expr] = [pl.col(READ_ERROR)] if READ_ERROR in frame.columns else []
        for spec in specs:
            text, typed = pl.col(f"_raw_{spec.name}"), pl.col(f"_typed_{spec.name}")
            found.extend(column_reasons(spec, text, typed, label(spec.name), shapes))
        return pl.concat_str(found, separator="; ", ignore_nulls=True).alias(REASON)

    frame = frame.with_columns(reasons(shapes=False))
    # Describing a failed value's shape takes a dozen patterns: only on the rows where a value failed.
    shaped = [spec for spec in specs if spec.kind in SHAPED_KINDS]
    failed = pl.any_horizontal(pl.col(f"_raw_{s.name}").is_not_null() & pl.col(f"_typed_{s.name}").is_null() for s in shaped)
    if shaped and frame.select(failed.any()).item():
        frame = frame.with_row_index("_order")
        described = frame.filter(failed).select("_order", reasons(shapes=True).alias("_described"))
        frame = (
            frame.join(described, on="_order", how="left", maintain_order="left")
            .with_columns(pl.coalesce("_described", REASON).alias(REASON))
            .drop("_order", "_described")
        )
    frame = frame.with_columns(pl.col(f"_typed_{spec.name}").alias(spec.name) for spec in specs).drop(
        f"_typed_{spec.name}" for spec in specs
    )
    for spec in specs:
        if spec.kind in ("date", "datetime", "month"):
            # 0001-01-01 or 9999-12-31 are placeholders, not dates: they would wreck "data as of".
            year = pl.col(spec.name).dt.year()
            frame = add_reason(
                frame,
                (year < MIN_YEAR) | (year > MAX_YEAR),
                pl.lit(f"{label(spec.name)}: '") + pl.col(f"_raw_{spec.name}").str.slice(0, 60)
                + pl.lit(f"' is outside the years {MIN_YEAR} to {MAX_YEAR}"),
            )

    for column in NON_NEGATIVE.get(table, []):
        frame = add_reason(
            frame, pl.col(column) < 0, pl.lit(f"{label(column)}: negative amount ") + pl.col(column).cast(pl.String)
        )
    if table in ("opportunities", "opportunity_history"):
        frame = check_stages(checked, frame, settings)
    if table in ("opportunities", "payouts"):
        frame = convert_currency(table, frame, settings, labels=checked.labels)
    if table == "opportunities":
        checked.warnings.extend(implausible_rates(frame, settings))
    frame = check_duplicate_keys(table, frame, label)
    return split(checked, frame)


def add_reason(frame: pl.DataFrame, broken: pl.Expr, reason: pl.Expr) -> pl.DataFrame:
    new = pl.when(broken).then(reason)
    return frame.with_columns(
        pl.when(pl.col(REASON) == "").then(new).otherwise(
            pl.concat_str([pl.col(REASON), new], separator="; ", ignore_nulls=True)
        ).fill_null("").alias(REASON)
    )


def check_stages(checked: Checked, frame: pl.DataFrame, settings: Settings) -> pl.DataFrame:
    """Stages must be in the stage map, unless is_closed and is_won say what the deal is.

    A history row's unknown stage is only marked here (UNKNOWN_STAGE): whether it loads
    depends on its deal, which `settle_history_stages` knows once references are checked."""
    known = list(settings.stage_map)
    # "closed won" in one export and "Closed Won" in the settings are the same stage: match
    # regardless of case and store the settings' spelling (an exact match wins if two differ only by case).
    spelling: dict[str, str] = {}
    for stage in known:
        spelling.setdefault(stage.lower(), stage)
    as_in_settings = pl.col("stage").str.to_lowercase().replace_strict(spelling, default=None, return_dtype=pl.String)
    exact = pl.col("stage").is_in(known)
    frame = frame.with_columns(
        pl.when(exact).then(pl.col("stage")).otherwise(pl.coalesce(as_in_settings, pl.col("stage"))).alias("stage")
    )
    unknown = pl.col("stage").is_not_null() & pl.col("stage").is_in(known).not_()
    if checked.table != "opportunities":
        return frame.with_columns(unknown.alias(UNKNOWN_STAGE))
    stage = checked.label("stage")
    decided = pl.col("is_closed").is_not_null() & pl.col("is_won").is_not_null()
    frame = add_reason(
        frame,
        unknown & decided.not_(),
        pl.lit(f"{stage}: '") + pl.col("stage")
        + pl.lit(f"' is not in the stage map (and {checked.label('is_closed')}/{checked.label('is_won')} are not given)"),
    )
    loaded_unknown = frame.filter(unknown & decided & (pl.col(REASON) == ""))
    if loaded_unknown.height:
        stages = loaded_unknown["stage"].unique().sort().to_list()
        checked.warnings.append(
            f"stages not in the stage map, loaded using their {checked.label('is_closed')}/{checked.label('is_won')}: "
            f"{', '.join(stages)} (the settings snippet gives them an order and a probability)"
        )
        checked.snippet = stage_map_snippet(loaded_unknown, settings)
    closed = pl.col("stage").replace_strict({k: v.is_closed for k, v in settings.stage_map.items()}, default=None)
    won = pl.col("stage").replace_strict({k: v.is_won for k, v in settings.stage_map.items()}, default=None)
    return frame.with_columns(
        pl.coalesce(pl.col("is_closed"), closed).alias("is_closed"),
        pl.coalesce(pl.col("is_won"), won).alias("is_won"),
    )


def stage_map_snippet(deals: pl.DataFrame, settings: Settings, after: int | None = None) -> str:
    """TOML to paste into the settings: one `[stage_map."X"]` per stage in `deals`, with what the
    deals say about it (is_closed / is_won as most of them have it; the probability of a won
    stage 1, of a lost one 0, of an open one the median of the deals' own probabilities)."""
    has = set(deals.columns)
    summary = (
        deals.group_by("stage")
        .agg(
            (pl.col("is_closed").mode().first() if "is_closed" in has else pl.lit(None, pl.Boolean)).alias("is_closed"),
            (pl.col("is_won").mode().first() if "is_won" in has else pl.lit(None, pl.Boolean)).alias("is_won"),
            (pl.col("probability").median() if "probability" in has else pl.lit(None, pl.Float64)).alias("probability"),
        )
        .with_columns(
            pl.when(pl.col("is_won")).then(1.0).when(pl.col("is_closed")).then(0.0).otherwise(pl.col("probability"))
            .alias("probability")
        )
        # Open stages by probability, then won, then lost: roughly the order a deal moves in.
        .sort(pl.col("is_closed").fill_null(False), pl.col("is_won").fill_null(False).not_(), "probability", "stage")
    )
    order = after if after is not None else max((s.order for s in settings.stage_map.values()), default=0)
    blocks = []
    for row in summary.iter_rows(named=True):
        order += 1
        escaped = row["stage"].replace("\\", "\\\\").replace('"', '\\"')
        probability = row["probability"]
        lines = [f'[stage_map."{escaped}"]', f"order = {order}"]
        if probability is None:
            lines.append("probability = 0.0  # no deal says: set the chance a deal in this stage closes won")
        else:
            lines.append(f"probability = {round(probability, 2)}")
        lines += [f"is_closed = {str(bool(row['is_closed'])).lower()}", f"is_won = {str(bool(row['is_won'])).lower()}"]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def settle_history_stages(checked: dict[str, Checked], settings: Settings) -> None:
    """History rows with a stage the stage map lacks load when their deal loaded (its is_closed /
    is_won say what it is), with a warning and the stages in the settings snippet; with no
    opportunities extract to say, they are quarantined for the stage."""
    history = checked.get("opportunity_history")
    if history is None or UNKNOWN_STAGE not in history.rows.columns:
        return
    unknown = pl.col(UNKNOWN_STAGE)
    frame = history.rows
    if "opportunities" not in checked:
        bad = frame.filter(unknown).with_columns(
            (pl.lit(f"{history.label('stage')}: '") + pl.col("stage") + pl.lit("' is not in the stage map")).alias(REASON)
        )
        history.rows = frame.filter(unknown.not_()).drop(UNKNOWN_STAGE)
        if bad.height:
            add_quarantined(history, bad.drop(UNKNOWN_STAGE))
        return
    stages = frame.filter(unknown)["stage"].unique().sort().to_list()
    history.rows = frame.drop(UNKNOWN_STAGE)
    if not stages:
        return
    history.warnings.append(
        f"stages not in the stage map, loaded because their deals loaded: {', '.join(stages)}"
    )
    deals = checked["opportunities"]
    in_deals = set(deals.rows["stage"].unique().to_list())
    only_here = [stage for stage in stages if stage not in in_deals]
    if only_here:
        # A stage seen only in history is one a deal passed through: open, whatever the deal became.
        rows = frame.filter(unknown & pl.col("stage").is_in(only_here)).with_columns(
            pl.lit(False).alias("is_closed"), pl.lit(False).alias("is_won")
        )
        after = max((s.order for s in settings.stage_map.values()), default=0) + (deals.snippet or "").count("[stage_map.")
        history.snippet = stage_map_snippet(rows, settings, after=after)


def implausible_rates(frame: pl.DataFrame, settings: Settings, factor: float = 100.0, least: int = 3) -> list[str]:
    """Warnings for currencies whose converted deals are implausible against the others: a
    median `factor` times the other currencies' median (or a `factor`th of it) usually means
    the rate was entered the wrong way round (units of that currency per reporting unit)."""
    reporting = settings.reporting_currency
    loaded = frame.filter((pl.col(REASON) == "") & (pl.col("amount_original") > 0))
    if loaded.is_empty() or loaded["currency"].n_unique() < 2:
        return []
    warnings = []
    for currency in loaded["currency"].unique().sort().to_list():
        mine = loaded.filter(pl.col("currency") == currency)
        others = loaded.filter(pl.col("currency") != currency)
        if currency == reporting or mine.height < least or others.height < least:
            continue
        median = float(mine["amount"].cast(pl.Float64).median())
        other_median = float(others["amount"].cast(pl.Float64).median())
        if other_median <= 0 or factor > median / other_median > 1 / factor:
            continue
        rate = float((mine["amount"].cast(pl.Float64) / mine["amount_original"].cast(pl.Float64)).median())
        ratio = median / other_median
        times = f"{ratio:,.0f} times" if ratio >= 1 else f"1/{1 / ratio:,.0f} of"
        warnings.append(
            f"{currency} deals look converted with an inverted rate: their median is {median:,.2f} {reporting}, "
            f"{times} the other deals' median ({other_median:,.2f} {reporting}). The rate used is {rate:.6g} "
            f"{reporting} per {currency}; fx_rates are units of {reporting} per one {currency} (Salesforce writes "
            f"units of {currency} per one {reporting}): check it, it may have to be {1 / rate:.6g}"
        )
    return warnings


def convert_currency(
    table: str,
    frame: pl.DataFrame,
    settings: Settings,
    on: str | None = None,
    label: str | None = None,
    labels: dict[str, str] | None = None,
) -> pl.DataFrame:
    """`amount` becomes the reporting currency at the rate of the deal's close date (or the
    payout's period, or the date in column `on`); the source figure stays in `amount_original`."""
    labels = labels or {}
    on = on or ("close_date" if table == "opportunities" else "period")
    label = label or labels.get(on, on)
    reporting = settings.reporting_currency
    frame = frame.with_columns(
        pl.col("amount").alias("amount_original"),
        pl.col("currency").str.to_uppercase().fill_null(reporting).alias("currency"),
    )
    rates = pl.DataFrame(
        {
            "currency": [r.currency.upper() for r in settings.fx_rates] + [reporting],
            "_valid_from": [r.valid_from for r in settings.fx_rates] + [None],
            "_rate": [r.rate for r in settings.fx_rates] + [1.0],
        },
        schema={"currency": pl.String, "_valid_from": pl.Date, "_rate": pl.Float64},
    )
    frame = frame.with_row_index("_order")
    foreign = frame.filter(pl.col("currency") != reporting)
    if foreign.height:
        matched = (
            foreign.select("_order", "currency", pl.col(on).alias("_on"))
            .filter(pl.col("_on").is_not_null())
            .sort("_on")
            .join_asof(
                rates.filter(pl.col("_valid_from").is_not_null()).sort("_valid_from"),
                left_on="_on",
                right_on="_valid_from",
                by="currency",
                strategy="backward",
                check_sortedness=False,
            )
            .select("_order", "_rate")
        )
        frame = frame.join(matched, on="_order", how="left")
    else:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Float64).alias("_rate"))
    rate = pl.when(pl.col("currency") == reporting).then(1.0).otherwise(pl.col("_rate"))
    frame = add_reason(
        frame,
        rate.is_null() & pl.col(on).is_not_null() & pl.col("amount").is_not_null(),
        pl.lit(f"{labels.get('currency', 'currency')}: no FX rate for ") + pl.col("currency")
        + pl.lit(f" on the {label} in the settings"),
    )
    converted = (pl.col("amount").cast(pl.Float64) * rate).round(2)
    frame = add_reason(
        frame,
        converted.abs() >= MAX_AMOUNT,
        pl.lit(f"{labels.get('amount', 'amount')}: ") + pl.col("amount").cast(pl.String)
        + pl.lit(f" is out of range in {reporting}"),
    )
    amount = pl.when(converted.abs() < MAX_AMOUNT).then(converted).cast(pl.Decimal(18, 2), strict=False)
    return frame.with_columns(amount.alias("amount")).sort("_order").drop("_order", "_rate")


def convert_history_currency(checked: dict[str, Checked], settings: Settings) -> None:
    """History amounts are in their deal's currency (the history extract has no currency of its
    own): convert them like the deal's, at the rate of the row's close date (else the deal's)."""
    history, deals = checked.get("opportunity_history"), checked.get("opportunities")
    if history is None:
        return
    if deals is None or history.rows.height == 0:
        history.rows = history.rows.with_columns(pl.col("amount").alias("amount_original"))
        return
    currencies = deals.rows.select("opportunity_id", "currency", pl.col("close_date").alias("_deal_close_date"))
    frame = history.rows.join(currencies, on="opportunity_id", how="left", maintain_order="left").with_columns(
        pl.coalesce("close_date", "_deal_close_date").alias("_fx_date"), pl.lit("").alias(REASON)
    )
    frame = convert_currency(
        "opportunity_history",
        frame,
        settings,
        on="_fx_date",
        label=f"{history.label('close_date')} (the deal's currency)",
        labels={"amount": history.label("amount"), "currency": deals.label("currency")},
    )
    bad = pl.col(REASON) != ""
    rejected = frame.filter(bad).with_columns(pl.col("amount_original").alias("amount"))
    history.rows = frame.filter(bad.not_()).drop(REASON, "currency", "_deal_close_date", "_fx_date")
    if rejected.height:
        add_quarantined(history, rejected.drop("_deal_close_date", "_fx_date"))


def add_quarantined(checked: Checked, bad: pl.DataFrame) -> None:
    """Rows (typed, with REASON) that a cross-table rule rejects, added to the table's quarantine."""
    checked.quarantined = pl.concat(
        [checked.quarantined, quarantine_rows(checked.table, checked.source_file, bad, [])]
    ).sort("line_number")


def check_duplicate_keys(table: str, frame: pl.DataFrame, label: Callable[[str], str] = str) -> pl.DataFrame:
    """The first good row with a key loads; other rows with the same key are quarantined.

    A first row that is itself quarantined (a bad date, say) does not push out a later good
    one: the key is loaded once, from the earliest row that can be loaded.
    """
    key = KEYS.get(table)
    if key is None or frame[key].null_count() == frame.height:
        return frame
    first_line = pl.when(pl.col(REASON) == "").then(pl.col(LINE)).min().over(key)
    duplicate = pl.col(key).is_not_null() & first_line.is_not_null() & (pl.col(LINE) != first_line)
    return add_reason(
        frame,
        duplicate,
        pl.lit(f"duplicate {label(key)} '") + pl.col(key)
        + pl.lit("' (first on line ") + first_line.cast(pl.String) + pl.lit(")"),
    )


def split(checked: Checked, frame: pl.DataFrame) -> Checked:
    bad = pl.col(REASON) != ""
    raw_names = [c for c in frame.columns if c.startswith("_raw_")]
    checked.quarantined = quarantine_rows(checked.table, checked.source_file, frame.filter(bad), raw_names)
    checked.rows = frame.filter(bad.not_()).drop(REASON, *raw_names, READ_ERROR, strict=False)
    return checked


def quarantine_rows(table: str, source_file: str, bad: pl.DataFrame, raw_names: list[str]) -> pl.DataFrame:
    """The quarantine keeps the row as it was read (JSON of the source values), so nothing is lost."""
    extra = [c for c in bad.columns if not c.startswith("_") and f"_raw_{c}" not in raw_names and c not in ("amount_original",)]
    raw = bad.select(
        *[pl.col(name).alias(name.removeprefix("_raw_")) for name in raw_names],
        *[as_text(bad, name) for name in extra if name not in {n.removeprefix("_raw_") for n in raw_names}],
    )
    if raw.width:
        row_json = raw.select(pl.struct(pl.all()).struct.json_encode().alias("row"))["row"]
    else:
        row_json = pl.Series("row", [], pl.String)
    return pl.DataFrame(
        {
            "table_name": [table] * bad.height,
            "source_file": [source_file] * bad.height,
            "line_number": bad[LINE],
            "reason": bad[REASON],
            "row": row_json,
        },
        schema=QUARANTINE_SCHEMA,
    )


def as_text(frame: pl.DataFrame, name: str) -> pl.Expr:
    if isinstance(frame.schema[name], pl.List):
        return pl.col(name).list.join(";")
    return pl.col(name).cast(pl.String)


QUARANTINE_SCHEMA = {
    "table_name": pl.String,
    "source_file": pl.String,
    "line_number": pl.Int64,
    "reason": pl.String,
    "row": pl.String,
}


# What a row of each referenced table is, in a reason ("deal 'O1' quarantined ...").
NOUNS = {"partners": "partner", "opportunities": "deal"}


def check_references(checked: dict[str, Checked]) -> None:
    """Quarantine rows that name a partner or deal the loaded extracts do not have.

    A row naming one that was itself quarantined says so, with that row's file, line and reason
    ("deal 'O1' quarantined (opportunities.csv line 5): currency: no FX rate for MXN ...")."""
    # In load order (partners, opportunities, ...): an opportunity quarantined for an unknown
    # sourced partner must be gone before the touchpoints and history that name it are checked.
    order = list(TABLES)
    for (table, column), (target, key) in sorted(REFERENCES.items(), key=lambda item: order.index(item[0][0])):
        if table not in checked or target not in checked:
            continue
        current = checked[table]
        known = checked[target].rows[key]
        unknown = pl.col(column).is_not_null() & pl.col(column).is_in(known.implode()).not_()
        bad = current.rows.filter(unknown)
        if bad.height == 0:
            continue
        # The first quarantined row of each key the target rejected, and why.
        rejected = (
            checked[target].quarantined.select(
                pl.col("row").str.json_path_match(f"$.{key}").alias(column),
                pl.concat_str(
                    [
                        pl.lit(f"{NOUNS.get(target, target)} '"), pl.col("row").str.json_path_match(f"$.{key}"),
                        pl.lit("' quarantined ("), pl.col("source_file"), pl.lit(" line "), pl.col("line_number").cast(pl.String),
                        pl.lit("): "), pl.col("reason").str.slice(0, 200),
                    ]
                ).alias("_target_reason"),
            )
            .filter(pl.col(column).is_not_null())
            .unique(column, keep="first", maintain_order=True)
        )
        not_in = pl.lit(f"{current.label(column)} '") + pl.col(column) + pl.lit(f"' is not in {target}")
        bad = (
            bad.join(rejected, on=column, how="left", maintain_order="left")
            .with_columns(pl.coalesce("_target_reason", not_in).alias(REASON))
            .drop("_target_reason")
        )
        current.rows = current.rows.filter(unknown.not_())
        add_quarantined(current, bad)
