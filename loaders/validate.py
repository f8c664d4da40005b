"""Whole-column validation: text frames in, typed rows and quarantined rows out.

This module owns the row rules of the data contract (types, required values, allowed
values, non-negative amounts, the stage map, duplicate keys, references between tables,
FX). Every rule is a Polars expression over whole columns that yields a reason or null;
a row with any reason goes to quarantine with all of its reasons, the others load.
Reading files is `read.py`'s job; writing the database is `build.py`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from loaders.read import LINE, READ_ERROR, RefusedFile
from loaders.schema import KEYS, NON_NEGATIVE, REFERENCES, TABLES, ColumnSpec, column_specs
from settings import Settings

REASON = "_reason"
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
    "decimal": pl.Decimal(18, 2),
    "float": pl.Float64,
    "bool": pl.Boolean,
    "list": pl.List(pl.String),
}


@dataclass
class Checked:
    """One table after validation: what loads, what is quarantined, and what to warn about."""

    table: str
    source_file: str
    rows: pl.DataFrame
    quarantined: pl.DataFrame
    warnings: list[str] = field(default_factory=list)


def parse_datetime(text: pl.Expr) -> pl.Expr:
    """ISO dates and timestamps, with `T`, fractions and a zone suffix (the zone is dropped)."""
    cleaned = text.str.replace("T", " ", literal=True).str.replace(r"(Z|[+-]\d{2}:?\d{2})$", "")
    return pl.coalesce(
        cleaned.str.strptime(pl.Datetime("us"), fmt, strict=False) for fmt in DATETIME_FORMATS
    )


def normalise_choice(text: pl.Expr) -> pl.Expr:
    """'Best Case' and 'best-case' both mean best_case."""
    return text.str.to_lowercase().str.replace_all(r"[\s\-]+", "_")


def typed_column(spec: ColumnSpec, text: pl.Expr) -> pl.Expr:
    if spec.kind == "str":
        return normalise_choice(text) if spec.allowed else text
    if spec.kind == "datetime":
        return parse_datetime(text)
    if spec.kind == "date":
        return parse_datetime(text).dt.date()
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
    "decimal": "a number",
    "float": "a number",
    "bool": "true or false",
}


def column_reasons(spec: ColumnSpec, text: pl.Expr, typed: pl.Expr) -> list[pl.Expr]:
    """Reasons (or null) for one column: required, parseable, allowed."""
    quoted = pl.lit("'") + text.str.slice(0, 60) + pl.lit("'")
    reasons = []
    if spec.required:
        missing = text.is_null() | (typed.list.len() == 0 if spec.kind == "list" else pl.lit(False))
        reasons.append(pl.when(missing).then(pl.lit(f"{spec.name} is required")))
    if spec.kind in KIND_WORDS:
        reasons.append(
            pl.when(text.is_not_null() & typed.is_null()).then(
                pl.lit(f"{spec.name}: ") + quoted + pl.lit(f" is not {KIND_WORDS[spec.kind]}")
            )
        )
    if spec.allowed:
        allowed_words = ", ".join(spec.allowed)
        if spec.kind == "list":
            bad = typed.list.eval(pl.element().is_in(list(spec.allowed)).not_()).list.any()
        else:
            bad = typed.is_not_null() & typed.is_in(list(spec.allowed)).not_()
        reasons.append(
            pl.when(text.is_not_null() & bad).then(
                pl.lit(f"{spec.name}: ") + quoted + pl.lit(f" is not one of {allowed_words}")
            )
        )
    return reasons


def check_table(table: str, source_file: str, frame: pl.DataFrame, settings: Settings) -> Checked:
    """Type every canonical column and quarantine the rows that break a rule of their own."""
    specs = column_specs(table)
    missing = [spec.name for spec in specs if spec.required and spec.name not in frame.columns]
    if missing:
        needed = ", ".join(spec.name for spec in specs if spec.required)
        raise RefusedFile(
            f"{source_file}: missing required column {', '.join(repr(m) for m in missing)} "
            f"(the {table} extract needs {needed}; found {', '.join(c for c in frame.columns if c != LINE)})"
        )
    for spec in specs:
        if spec.name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(spec.name))

    # A row the reader could read only in part is quarantined for that first.
    reasons: list[pl.Expr] = [pl.col(READ_ERROR)] if READ_ERROR in frame.columns else []
    typed_columns = []
    for spec in specs:
        text = pl.col(spec.name)
        typed = typed_column(spec, text)
        typed_columns.append(typed.cast(POLARS_TYPES[spec.kind]).alias(spec.name))
        reasons.extend(column_reasons(spec, text, typed))
    raw_columns = [pl.col(spec.name).alias(f"_raw_{spec.name}") for spec in specs]
    frame = frame.with_columns(*raw_columns, pl.concat_str(reasons, separator="; ", ignore_nulls=True).alias(REASON))
    frame = frame.with_columns(typed_columns)
    for spec in specs:
        if spec.kind in ("date", "datetime"):
            # 0001-01-01 or 9999-12-31 are placeholders, not dates: they would wreck "data as of".
            year = pl.col(spec.name).dt.year()
            frame = add_reason(
                frame,
                (year < MIN_YEAR) | (year > MAX_YEAR),
                pl.lit(f"{spec.name}: '") + pl.col(f"_raw_{spec.name}").str.slice(0, 60)
                + pl.lit(f"' is outside the years {MIN_YEAR} to {MAX_YEAR}"),
            )

    warnings: list[str] = []
    for column in NON_NEGATIVE.get(table, []):
        frame = add_reason(frame, pl.col(column) < 0, pl.lit(f"{column}: negative amount ") + pl.col(column).cast(pl.String))
    if table in ("opportunities", "opportunity_history"):
        frame, warnings = check_stages(table, frame, settings)
    if table in ("opportunities", "payouts"):
        frame = convert_currency(table, frame, settings)
    frame = check_duplicate_keys(table, frame)
    return split(table, source_file, frame, warnings)


def add_reason(frame: pl.DataFrame, broken: pl.Expr, reason: pl.Expr) -> pl.DataFrame:
    new = pl.when(broken).then(reason)
    return frame.with_columns(
        pl.when(pl.col(REASON) == "").then(new).otherwise(
            pl.concat_str([pl.col(REASON), new], separator="; ", ignore_nulls=True)
        ).fill_null("").alias(REASON)
    )


def check_stages(table: str, frame: pl.DataFrame, settings: Settings) -> tuple[pl.DataFrame, list[str]]:
    """Stages must be in the stage map, unless is_closed and is_won say what the deal is."""
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
    warnings: list[str] = []
    if table == "opportunities":
        decided = pl.col("is_closed").is_not_null() & pl.col("is_won").is_not_null()
        frame = add_reason(
            frame,
            unknown & decided.not_(),
            pl.lit("stage: '") + pl.col("stage") + pl.lit("' is not in the stage map (and is_closed/is_won are not given)"),
        )
        loaded_unknown = frame.filter(unknown & decided & (pl.col(REASON) == ""))["stage"].unique().sort()
        if loaded_unknown.len():
            warnings.append(
                f"stages not in the stage map, loaded using their is_closed/is_won: {', '.join(loaded_unknown.to_list())}"
            )
        closed = pl.col("stage").replace_strict({k: v.is_closed for k, v in settings.stage_map.items()}, default=None)
        won = pl.col("stage").replace_strict({k: v.is_won for k, v in settings.stage_map.items()}, default=None)
        frame = frame.with_columns(
            pl.coalesce(pl.col("is_closed"), closed).alias("is_closed"),
            pl.coalesce(pl.col("is_won"), won).alias("is_won"),
        )
    else:
        frame = add_reason(frame, unknown, pl.lit("stage: '") + pl.col("stage") + pl.lit("' is not in the stage map"))
    return frame, warnings


def convert_currency(
    table: str, frame: pl.DataFrame, settings: Settings, on: str | None = None, label: str | None = None
) -> pl.DataFrame:
    """`amount` becomes the reporting currency at the rate of the deal's close date (or the
    payout's period, or the date in column `on`); the source figure stays in `amount_original`."""
    on = on or ("close_date" if table == "opportunities" else "period")
    label = label or on
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
        pl.lit("currency: no FX rate for ") + pl.col("currency") + pl.lit(f" on the {label} in the settings"),
    )
    converted = (pl.col("amount").cast(pl.Float64) * rate).round(2)
    frame = add_reason(
        frame,
        converted.abs() >= MAX_AMOUNT,
        pl.lit("amount: ") + pl.col("amount").cast(pl.String) + pl.lit(f" is out of range in {reporting}"),
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
    frame = convert_currency("opportunity_history", frame, settings, on="_fx_date", label="close_date (the deal's currency)")
    bad = pl.col(REASON) != ""
    rejected = frame.filter(bad).with_columns(pl.col("amount_original").alias("amount"))
    history.rows = frame.filter(bad.not_()).drop(REASON, "currency", "_deal_close_date", "_fx_date")
    if rejected.height:
        rejected = rejected.drop("_deal_close_date", "_fx_date")
        history.quarantined = pl.concat(
            [history.quarantined, quarantine_rows("opportunity_history", history.source_file, rejected, [])]
        ).sort("line_number")


def check_duplicate_keys(table: str, frame: pl.DataFrame) -> pl.DataFrame:
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
        pl.lit(f"duplicate {key} '") + pl.col(key) + pl.lit("' (first on line ") + first_line.cast(pl.String) + pl.lit(")"),
    )


def split(table: str, source_file: str, frame: pl.DataFrame, warnings: list[str]) -> Checked:
    bad = pl.col(REASON) != ""
    raw_names = [c for c in frame.columns if c.startswith("_raw_")]
    quarantined = quarantine_rows(table, source_file, frame.filter(bad), raw_names)
    rows = frame.filter(bad.not_()).drop(REASON, *raw_names, READ_ERROR, strict=False)
    return Checked(table, source_file, rows, quarantined, warnings)


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


def check_references(checked: dict[str, Checked]) -> None:
    """Quarantine rows that name a partner or deal the loaded extracts do not have."""
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
        bad = bad.with_columns(
            (pl.lit(f"{column} '") + pl.col(column) + pl.lit(f"' is not in {target}")).alias(REASON)
        )
        current.rows = current.rows.filter(unknown.not_())
        current.quarantined = pl.concat(
            [current.quarantined, quarantine_rows(table, current.source_file, bad, [])]
        ).sort("line_number")
