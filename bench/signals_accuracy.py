"""How well the engagement flags find the archetypes the demo generator planted.

`python -m bench.signals_accuracy [--scale 1] [--seed 7]`: writes the demo program, builds it,
runs `partner_signals` as of the demo's last day and compares each flag with
`truth/archetypes.csv` (precision = flagged partners that truly are that archetype; recall =
partners of that archetype that were flagged). Partners terminated by then are not in
`partner_signals` (they are no longer managed), so they are left out of both sides.
Writes its section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import polars as pl

import queries
from loaders.build import build_database
from loaders.demo import DEMO_END, write_demo

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SECTION = "signals"

# flag -> (truth archetypes it should find, what the comparison means)
FLAGS: dict[str, tuple[list[str], str]] = {
    "is_dormant": (["dormant"], "dormant"),
    "burnout_risk": (["burning_out"], "burning_out"),
    "returned": (["returned"], "returned"),
    "is_overdue": (["dormant", "burning_out"], "dormant or burning_out (going quiet)"),
    "p_alive_below_half": (["dormant"], "dormant (BG/NBD p_alive < 0.5)"),
    "at_risk": (["dormant", "burning_out"], "dormant or burning_out (at risk also needs money at stake)"),
}


def accuracy(signals: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """Precision and recall of each flag against the planted archetypes."""
    frame = signals.with_columns(p_alive_below_half=pl.col("p_alive").fill_null(1.0) < 0.5).join(
        truth, on="partner_id", how="inner"
    )
    rows = []
    for flag, (archetypes, meaning) in FLAGS.items():
        planted = pl.col("archetype").is_in(archetypes)
        flagged = pl.col(flag)
        hits = frame.filter(planted & flagged).height
        n_flagged, n_planted = frame.filter(flagged).height, frame.filter(planted).height
        rows.append(
            {
                "flag": flag,
                "truth": meaning,
                "flagged": n_flagged,
                "planted": n_planted,
                "both": hits,
                "precision": hits / n_flagged if n_flagged else None,
                "recall": hits / n_planted if n_planted else None,
            }
        )
    return pl.DataFrame(rows)


def markdown(table: pl.DataFrame, scale: float, seed: int, partners: int, excluded: int, seconds: float) -> str:
    lines = [
        f"<!-- {SECTION} -->",
        "## Engagement signals vs planted archetypes",
        "",
        f"Demo program scale {scale:g}, seed {seed}, as of {DEMO_END}; {partners} partners scored "
        f"({excluded} terminated by then left out). `partner_signals` took {seconds:.2f} s. "
        "Command: `.venv/bin/python -m bench.signals_accuracy`.",
        "",
        "| flag | compared with | flagged | planted | both | precision | recall |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in table.iter_rows(named=True):
        precision = "n/a" if row["precision"] is None else f"{row['precision']:.2f}"
        recall = "n/a" if row["recall"] is None else f"{row['recall']:.2f}"
        lines.append(
            f"| {row['flag']} | {row['truth']} | {row['flagged']} | {row['planted']} | {row['both']} | {precision} | {recall} |"
        )
    lines.append(f"<!-- /{SECTION} -->")
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        extracts, db = Path(folder) / "extracts", Path(folder) / "demo.duckdb"
        write_demo(extracts, scale=args.scale, seed=args.seed)
        build_database(extracts, db)
        truth = pl.read_csv(extracts / "truth" / "archetypes.csv")
        con = queries.connect(db)
        started = time.perf_counter()
        signals = queries.execute(con, "partner_signals", as_of=DEMO_END)
        seconds = time.perf_counter() - started
        con.close()
    table = accuracy(signals, truth)
    excluded = truth.height - signals.height
    with pl.Config(tbl_rows=20, tbl_cols=10, tbl_width_chars=160, fmt_str_lengths=60):
        print(table)
    write_section(markdown(table, args.scale, args.seed, signals.height, excluded, seconds))


if __name__ == "__main__":
    main()
