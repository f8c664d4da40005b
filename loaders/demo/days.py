"""The demo program's calendar: its three years as day indices (day 0 is DEMO_START), the weekly
grid the activity rates live on, and turning day indices into dates and timestamps."""

from __future__ import annotations

import math
from datetime import date

import numpy as np

DEMO_END = date(2026, 11, 20)
"""Last day of the demo program: no event happens after it (open deals' expected close
dates aside). Use it as ``as_of`` when checking the demo's signals."""
DEMO_START = date(2023, 11, 20)  # three years of history; a Monday
END_DAY = (DEMO_END - DEMO_START).days  # day index of DEMO_END; day 0 is DEMO_START

_EPOCH_DAY = np.datetime64(DEMO_START.isoformat(), "D")
_EPOCH_SECOND = np.datetime64(DEMO_START.isoformat(), "s")
DAY = 86_400  # seconds
N_WEEKS = math.ceil((END_DAY + 1) / 7)
# Activity rates live on a weekly grid whose last week ends on DEMO_END.
WEEK_START = END_DAY + 1 - 7 * (N_WEEKS - np.arange(N_WEEKS))
WEEK_END = WEEK_START + 6
WEEK_MID = WEEK_START + 3


def week_of(day: np.ndarray) -> np.ndarray:
    return (day - WEEK_START[0]) // 7


def month_start(day: np.ndarray) -> np.ndarray:
    month = (_EPOCH_DAY + day.astype("timedelta64[D]")).astype("datetime64[M]")
    return (month.astype("datetime64[D]") - _EPOCH_DAY).astype(np.int64)


def quarter_start(day: np.ndarray) -> np.ndarray:
    month = (_EPOCH_DAY + day.astype("timedelta64[D]")).astype("datetime64[M]")
    first = month - (month.astype(np.int64) % 3)  # datetime64[M] counts months from 1970-01
    return (first.astype("datetime64[D]") - _EPOCH_DAY).astype(np.int64)


def quarter_end(day: np.ndarray) -> np.ndarray:
    month = (_EPOCH_DAY + day.astype("timedelta64[D]")).astype("datetime64[M]")
    following = month - (month.astype(np.int64) % 3) + 3
    return (following.astype("datetime64[D]") - _EPOCH_DAY).astype(np.int64) - 1


def dates(day: np.ndarray) -> np.ndarray:
    return _EPOCH_DAY + day.astype("timedelta64[D]")


def timestamps(second: np.ndarray) -> np.ndarray:
    # polars takes datetime64 in ms, not s
    return (_EPOCH_SECOND + second.astype("timedelta64[s]")).astype("datetime64[ms]")
