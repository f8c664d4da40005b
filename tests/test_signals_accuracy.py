"""The engagement flags against a program we did not make for them (tests/second_program.py), and the truth
labels they are judged by (bench.signals_accuracy.truth_labels) on hand-built rates."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from bench.signals_accuracy import evaluate, truth_labels
from tests.second_program import END, write_program

AS_OF = date(2026, 6, 30)  # windows: dormancy and recent (2026-04-01, 2026-06-30], baseline (2025-10-03, 2026-04-01]


def steps(*rows: tuple[str, str, str, float]) -> pl.DataFrame:
    return pl.DataFrame(
        [(p, date.fromisoformat(a), date.fromisoformat(b), r) for p, a, b, r in rows],
        schema={"partner_id": pl.String, "from_date": pl.Date, "to_date": pl.Date, "effort_per_week": pl.Float64},
        orient="row",
    )


def labels(frame: pl.DataFrame) -> dict[str, tuple]:
    return {row[0]: row[1:] for row in truth_labels(frame, AS_OF).select("partner_id", "dormant", "returned", "burnout").rows()}


def test_truth_labels_apply_the_definitions_to_the_drawn_rates():
    got = labels(
        steps(
            # STOP95 stopped working 95 days before as of; STOP60 60 days before (5.3 activities expected in the window).
            ("STOP95", "2025-01-01", "2026-03-28", 3.5),
            ("STOP95", "2026-03-28", "2026-07-01", 0.0),
            ("STOP60", "2025-01-01", "2026-05-02", 1.2),
            ("STOP60", "2026-05-02", "2026-07-01", 0.0),
            # BACK paused 100 days and came back 30 days ago; SHORT paused 80 days.
            ("BACK", "2025-01-01", "2026-01-22", 2.0),
            ("BACK", "2026-01-22", "2026-05-02", 0.0),
            ("BACK", "2026-05-02", "2026-07-01", 2.0),
            ("SHORT", "2025-01-01", "2026-02-11", 2.0),
            ("SHORT", "2026-02-11", "2026-05-02", 0.0),
            ("SHORT", "2026-05-02", "2026-07-01", 2.0),
            # FELL kept 30% of its rate through the recent window; MILD kept 70%; EDGE kept 55% (on the line).
            ("FELL", "2025-01-01", "2026-04-01", 3.0),
            ("FELL", "2026-04-01", "2026-07-01", 0.9),
            ("MILD", "2025-01-01", "2026-04-01", 3.0),
            ("MILD", "2026-04-01", "2026-07-01", 2.1),
            ("EDGE", "2025-01-01", "2026-04-01", 3.0),
            ("EDGE", "2026-04-01", "2026-07-01", 1.65),
        )
    )
    # (dormant, returned, burnout); None = on the line.
    assert got["STOP95"] == (True, False, False)
    assert got["STOP60"] == (False, False, True)  # 30 of the last 90 days at work: 33% of its rate
    assert got["BACK"] == (False, True, False)  # 60 of the last 90 days at work, 111 of the 180 before
    assert got["SHORT"] == (False, False, False)
    assert got["FELL"] == (False, False, True)
    assert got["MILD"] == (False, False, False)
    assert got["EDGE"] == (False, False, None)


def test_a_partner_that_stopped_just_short_of_the_line_or_barely_works_is_on_the_line():
    got = labels(
        steps(
            # Stopped 86 days ago at 2 activities a week: its last one may well be 90 days old.
            ("NEAR", "2025-01-01", "2026-04-05", 2.0),
            ("NEAR", "2026-04-05", "2026-07-01", 0.0),
            # Stopped 86 days ago at 7 a week (one a day): at most a day or two short, not on the line.
            ("BUSY", "2025-01-01", "2026-04-05", 7.0),
            ("BUSY", "2026-04-05", "2026-07-01", 0.0),
            # Works on at 0.05 a week: under one activity expected in 90 days.
            ("TRICKLE", "2025-01-01", "2026-07-01", 0.05),
        )
    )
    assert got["NEAR"] == (None, False, None)
    assert got["BUSY"] == (False, False, True)
    assert got["TRICKLE"] == (None, False, None)


@pytest.fixture(scope="module")
def second_program(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    folder = tmp_path_factory.mktemp("second")
    table, scored, left_out, _ = evaluate(write_program(folder / "extracts"), folder / "second.duckdb", END)
    assert (scored, left_out) == (300, 0)
    return table


@pytest.mark.parametrize("flag", ["is_dormant", "returned", "burnout_risk"])
def test_dormant_returned_and_burnout_find_the_second_programs_truth_with_precision_and_recall_of_0_9(
    second_program: pl.DataFrame, flag: str
):
    row = second_program.filter(pl.col("flag") == flag).row(0, named=True)
    assert row["truly"] >= 15, row  # enough partners of each kind for the figures to mean something
    assert row["on_the_line"] <= 30, row
    assert row["precision"] >= 0.9 and row["recall"] >= 0.9, row


def test_the_second_program_is_its_own_shape(tmp_path: Path):
    folder = write_program(tmp_path / "p")
    activities = pl.read_csv(folder / "partner_activities.csv", try_parse_dates=True)
    effort = activities.filter(~pl.col("activity_type").is_in(["portal_login", "support_ticket"]))
    assert effort["activity_type"].n_unique() == 3  # few kinds of work
    # Bursts: on a partner's working days, often more than one activity.
    per_day = effort.group_by("partner_id", pl.col("occurred_at").dt.date()).len()
    assert per_day["len"].mean() > 1.3
    stories = pl.read_csv(folder / "truth" / "stories.csv")
    assert set(stories["story"]) == {"steady", "seasonal", "stopping", "pausing", "declining", "dipping", "growing"}
    assert (folder / "truth" / "effort_rate.csv").read_bytes() == (
        write_program(tmp_path / "q") / "truth" / "effort_rate.csv"
    ).read_bytes()
