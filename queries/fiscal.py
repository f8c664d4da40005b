"""Fiscal quarters in Python, matching the SQL macros the build creates (`fiscal_quarter`...).

The fiscal year is named after the calendar year in which it ends (a year starting in
February 2026 is FY2027), so with a January start fiscal and calendar years coincide.
"""

from __future__ import annotations

from datetime import date, timedelta


def quarter_start(day: date, start_month: int = 1) -> date:
    months_into_year = (day.month - start_month) % 12
    month = day.month - months_into_year % 3
    year = day.year
    if month < 1:
        month += 12
        year -= 1
    return date(year, month, 1)


def add_quarters(start: date, quarters: int) -> date:
    month_index = start.year * 12 + (start.month - 1) + 3 * quarters
    return date(month_index // 12, month_index % 12 + 1, 1)


def quarter_end(day: date, start_month: int = 1) -> date:
    return add_quarters(quarter_start(day, start_month), 1) - timedelta(days=1)


def quarter_label(day: date, start_month: int = 1) -> str:
    fiscal_year = day.year + (1 if start_month > 1 and day.month >= start_month else 0)
    number = (day.month - start_month) % 12 // 3 + 1
    return f"FY{fiscal_year} Q{number}"


def year_start(day: date, start_month: int = 1) -> date:
    year = day.year if day.month >= start_month else day.year - 1
    return date(year, start_month, 1)
