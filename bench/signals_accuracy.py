"""How well the engagement flags find what two generated programs truly did.

`python -m bench.signals_accuracy [--scale 1] [--seed 7]`: writes the demo program
(`loaders/demo/`) and the second program (`tests/second_program.py`: another generator, another
shape: few activity types, bursts, irregular weeks, seasonal partners), builds each, runs
`partner_signals` as of each program's last day and compares each flag with the truth the generator
wrote (`truth/effort_rate.csv`: each partner's expected effort per week, as steps). `truth_labels`
applies the product's definitions (DESIGN.md, at the default settings' windows) to those expected
rates, so the truth does not depend on the events the flags see: precision = flagged partners that
truly are so; recall = partners that truly are so and were flagged. Partners terminated by then are
not in `partner_signals` (they are no longer managed), so they are left out of both sides. Both
programs are generated data. Writes its section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import polars as pl

import queries
from loaders.build import build_database
from loaders.demo import DEMO_END, write_demo
from settings import Settings

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
LINE_ACTIVITIES = 1.0  # fewer expected activities in the dormancy window: "did nothing" is likelier than 1 in 3
LINE_GAPS = 2.0  # work that stopped within this many of the partner's usual gaps short of the dormancy line
LINE_SHARE = 0.1  # a kept share within this of the burnout line (1 - activity_drop) is on the line
SECTION = "signals"

# flag -> (truth label(s) it should find, what the comparison means)
FLAGS: dict[str, tuple[list[str], str]] = {
    "is_dormant": (["dormant"], "dormant"),
    "returned": (["returned"], "returned"),
    "burnout_risk": (["burnout"], "burnout (expected effort of the last 90 days at most half the 180 before)"),
    "is_overdue": (["dormant", "burnout"], "dormant or burnout (going quiet)"),
    "p_alive_below_half": (["dormant"], "dormant (BG/NBD p_alive < 0.5)"),
    "at_risk": (["dormant", "burnout"], "dormant or burnout (at risk also needs money at stake)"),
}


def truth_labels(effort: pl.DataFrame, as_of: date, settings: Settings | None = None) -> pl.DataFrame:
    """What each partner truly was on `as_of`, from the expected effort it was drawn from (truth/effort_rate.csv:
    partner_id, from_date, to_date exclusive, effort_per_week), by the product's definitions (DESIGN.md) at
    the settings' windows, applied to the drawn rates instead of the events:

    - dormant: no expected effort in the last dormancy_days;
    - returned: a spell of no expected effort of at least dormancy_days, after some effort, that ended
      within the last recent_days (effort since);
    - burnout: not dormant, and the expected effort per day of the last recent_days is at most
      (1 - activity_drop) of the baseline_days before (with some effort then).
    The flags see only the events drawn from these rates, so a partner right at a line is a coin toss for any
    detector: its label is null ("on the line") and it counts on neither side. On the line: dormant when fewer
    than LINE_ACTIVITIES activities were expected in the window but some were (it may well have done nothing),
    or when its work stopped less than LINE_GAPS of its usual gaps between activities short of the line (its
    last activity may well have come that much before); burnout when the expected rate kept is within
    LINE_SHARE of the rule's, or dormant is on the line.
    """
    s = settings or Settings()
    days, recent, baseline = s.dormancy_days, s.burnout.recent_days, s.burnout.baseline_days
    end = as_of + timedelta(days=1)  # windows (as_of - n, as_of] are [end - n, end)

    def expected(start: date, stop: date) -> pl.Expr:
        first = pl.max_horizontal(pl.col("from_date"), pl.lit(start))
        last = pl.min_horizontal(pl.col("to_date"), pl.lit(stop))
        overlap = (last - first).dt.total_days().clip(lower_bound=0)
        return (pl.col("effort_per_week") / 7 * overlap).sum()

    steps = effort.filter(pl.col("from_date") < end).sort("partner_id", "from_date")
    windows = steps.group_by("partner_id").agg(
        expected(end - timedelta(days=days), end).alias("dormancy_window"),
        expected(end - timedelta(days=recent), end).alias("recent_effort"),
        expected(end - timedelta(days=recent + baseline), end - timedelta(days=recent)).alias("baseline_effort"),
    )
    # Spells without expected effort after the first effort: runs of zero steps, merged.
    working = pl.col("effort_per_week") > 0
    spells = (
        steps.with_columns(
            working=working,
            started=working.cum_max().over("partner_id"),
            spell=(working != working.shift().over("partner_id")).fill_null(True).cum_sum(),
        )
        .filter(~pl.col("working") & pl.col("started"))
        .group_by("partner_id", "spell")
        .agg(pl.col("from_date").min(), pl.col("to_date").max())
    )
    # The spell running on as_of, and the partner's usual gap (days per activity) in the step before it.
    before = steps.filter(pl.col("effort_per_week") > 0).select(
        "partner_id", from_date="to_date", usual_gap=7 / pl.col("effort_per_week")
    )
    stopping = (
        spells.filter(pl.col("to_date") >= pl.lit(end))
        .join(before, on=["partner_id", "from_date"], how="left")
        .select(
            "partner_id",
            near_line=(pl.lit(end) - pl.col("from_date")).dt.total_days()
            >= days - LINE_GAPS * pl.col("usual_gap").fill_null(0.0),
        )
    )
    came_back = (
        spells.filter(
            ((pl.col("to_date") - pl.col("from_date")).dt.total_days() >= days)
            & (pl.col("to_date") > pl.lit(end - timedelta(days=recent)))
            & (pl.col("to_date") < pl.lit(end))
        )
        .select("partner_id", returned=pl.lit(True))
        .unique()
    )
    line = 1 - s.burnout.activity_drop
    kept = (pl.col("recent_effort") / recent) / (pl.col("baseline_effort") / baseline)
    dormant = (
        pl.when(pl.col("dormancy_window") <= 1e-9)
        .then(True)
        .when((pl.col("dormancy_window") < LINE_ACTIVITIES) | pl.col("near_line").fill_null(False))
        .then(None)
        .otherwise(False)
    )
    burnout = (
        pl.when(pl.col("dormant").is_null() | ((kept - line).abs() < LINE_SHARE))
        .then(None)
        .otherwise(~pl.col("dormant") & (pl.col("baseline_effort") > 1e-9) & (kept <= line))
    )
    return (
        windows.join(came_back, on="partner_id", how="left")
        .join(stopping, on="partner_id", how="left")
        .with_columns(dormant=dormant, returned=pl.col("returned").fill_null(False))
        .with_columns(burnout=burnout)
        .select(
            "partner_id",
            "dormant",
            "returned",
            "burnout",
            expected_recent_per_90=pl.col("recent_effort") / recent * 90,
            expected_baseline_per_90=pl.col("baseline_effort") / baseline * 90,
        )
        .sort("partner_id")
    )


def accuracy(signals: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """Precision and recall of each flag against the truth labels (`truth_labels`)."""
    frame = signals.with_columns(p_alive_below_half=pl.col("p_alive").fill_null(1.0) < 0.5).join(
        truth, on="partner_id", how="inner"
    )
    rows = []
    for flag, (labels, meaning) in FLAGS.items():
        # True if any label is, null (on the line) if none is and one is on the line.
        truly = pl.any_horizontal(pl.col(label) for label in labels)
        judged = frame.filter(truly.is_not_null())
        flagged = pl.col(flag)
        hits = judged.filter(truly & flagged).height
        n_flagged, n_true = judged.filter(flagged).height, judged.filter(truly).height
        rows.append(
            {
                "flag": flag,
                "truth": meaning,
                "on_the_line": frame.height - judged.height,
                "flagged": n_flagged,
                "truly": n_true,
                "both": hits,
                "precision": hits / n_flagged if n_flagged else None,
                "recall": hits / n_true if n_true else None,
            }
        )
    return pl.DataFrame(rows)


def evaluate(extracts: Path, db: Path, as_of: date) -> tuple[pl.DataFrame, int, int, float]:
    """Build `extracts` into `db` and compare its flags as of `as_of` with its truth: (table, scored, left out, seconds)."""
    build_database(extracts, db)
    truth = truth_labels(pl.read_csv(extracts / "truth" / "effort_rate.csv", try_parse_dates=True), as_of)
    con = queries.connect(db)
    try:
        started = time.perf_counter()
        signals = queries.execute(con, "partner_signals", as_of=as_of)
        seconds = time.perf_counter() - started
    finally:
        con.close()
    return accuracy(signals, truth), signals.height, truth.height - signals.height, seconds


def markdown_table(table: pl.DataFrame) -> list[str]:
    lines = [
        "| flag | compared with | on the line | flagged | truly | both | precision | recall |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in table.iter_rows(named=True):
        precision = "n/a" if row["precision"] is None else f"{row['precision']:.2f}"
        recall = "n/a" if row["recall"] is None else f"{row['recall']:.2f}"
        lines.append(
            f"| {row['flag']} | {row['truth']} | {row['on_the_line']} | {row['flagged']} | {row['truly']} | {row['both']} "
            f"| {precision} | {recall} |"
        )
    return lines


def markdown(demo: tuple, second: tuple, scale: float, seed: int, second_end: date) -> str:
    lines = [
        f"<!-- {SECTION} -->",
        "## Engagement signals against generated truth",
        "",
        "Both programs are generated data, each by its own generator; the truth is each partner's expected "
        "effort as drawn (`truth/effort_rate.csv`), labelled by the product's definitions at the default "
        "settings (`bench.signals_accuracy.truth_labels`), not the events the flags see. Command: "
        f"`.venv/bin/python -m bench.signals_accuracy --scale {scale:g} --seed {seed}`.",
        "",
        f"Demo program (`loaders/demo/`), scale {scale:g}, seed {seed}, as of {DEMO_END}: {demo[1]} partners "
        f"scored ({demo[2]} terminated by then left out); `partner_signals` took {demo[3]:.2f} s (as of the data's "
        "last day it reads the rows the build stored).",
        "",
        *markdown_table(demo[0]),
        "",
        f"Second program (`tests/second_program.py`: bursts, irregular weeks, seasonal partners, three kinds of "
        f"work), as of {second_end}: {second[1]} partners scored.",
        "",
        *markdown_table(second[0]),
        f"<!-- /{SECTION} -->",
    ]
    return "\n".join(lines)


def write_section(text: str) -> None:
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    start, end = f"<!-- {SECTION} -->", f"<!-- /{SECTION} -->"
    if start in old and end in old:
        new = old[: old.index(start)] + text + old[old.index(end) + len(end) :]
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    RESULTS.write_text(new, encoding="utf-8")


def main() -> None:
    from tests.second_program import END as SECOND_END
    from tests.second_program import write_program

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_demo(root / "demo", scale=args.scale, seed=args.seed)
        demo = evaluate(root / "demo", root / "demo.duckdb", DEMO_END)
        second = evaluate(write_program(root / "second"), root / "second.duckdb", SECOND_END)
    with pl.Config(tbl_rows=20, tbl_cols=10, tbl_width_chars=160, fmt_str_lengths=60):
        print("demo program\n", demo[0], "\nsecond program\n", second[0])
    write_section(markdown(demo, second, args.scale, args.seed, SECOND_END))


if __name__ == "__main__":
    main()
