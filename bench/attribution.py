"""Attribution engine at scale: generated paths of won and lost deals, every model timed, beside
the ChannelAttribution package on the same paths (when it is installed).

`.venv/bin/python -m bench.attribution [--deals 1000000] [--partners 20,2000]`
For each partner count: generates deals (30% won, 1-8 touchpoints each, some beyond the
lookback) in an in-memory DuckDB with the tables the engine reads, then times
- the build step that stores every closed deal's touches in path order (integer codes), which
  every model run then reads with a plain scan, as in the app;
- all nine rule-based models together: weights per touch from the stored won paths (closed
  forms in numpy, the two sourced models in SQL), then as rows, then as credit per deal x
  partner in whole cents (what the build stores), each step from the stored paths;
- the `attribution_credit` export of each rule model, one export per model, what a user waits for
  (the slowest is the row; every model's time is in its note);
- Markov: stored paths + transition counts + exact absorbing-chain solve, then the per-touch
  split, then credit per deal x partner in whole cents;
- Shapley: stored paths + coalitions + per-deal values (exact up to 12 partners);
- ChannelAttribution's heuristic_models and markov_model on the same paths (aggregated);
with the peak resident memory during each step, and checks first/last/linear agree.
Writes its section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import queue
import re
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl
import psutil

import queries
from loaders.build import write_settings_tables
from queries.attribution import credit as attribution
from queries.attribution.markov import path_counts, present_partners, solve_removal_effects
from queries.attribution.touch_paths import store_paths, touch_paths
from settings import Settings

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SECTION = "attribution"


def generate(con: duckdb.DuckDBPyConnection, deals: int, partners: int) -> None:
    """Deals O0..O{n-1}: 30% won, close dates over 2026, 1-8 touches each by `partners` partners, 40%
    with a CRM sourced partner, 30% registered."""
    write_settings_tables(con, Settings())
    con.execute(
        "create table load_meta as select * from (values ('fiscal_year_start_month', '1'), "
        "('settings_json', $settings)) t(key, value)",
        {"settings": Settings().model_dump_json()},
    )
    con.execute(
        """
        create table opportunities as
        select
            'O' || i as opportunity_id,
            cast(1000 + hash(i, 'amount') % 99000 as decimal(18, 2)) as amount,
            hash(i, 'won') % 10 < 3 as is_won,
            true as is_closed,
            cast(date '2026-01-01' + cast(hash(i, 'close') % 330 as integer) as date) as close_date,
            cast(date '2026-01-01' + cast(hash(i, 'close') % 330 as integer) - 90 as date) as created_at,
            -- 40% of deals name the partner that sourced them in the CRM
            case when hash(i, 'sourced') % 10 < 4 then 'P' || (hash(i, 'sourced partner') % $partners) end
                as sourced_partner_id
        from range($deals) as t(i)
        """,
        {"deals": deals, "partners": partners},
    )
    con.execute(
        """
        create table touchpoints as
        with deals as (
            select i, 'O' || i as opportunity_id,
                cast(date '2026-01-01' + cast(hash(i, 'close') % 330 as integer) as date) as close_date,
                1 + hash(i, 'touches') % 8 as touches
            from range($deals) as t(i)
        )
        select
            opportunity_id,
            'P' || (hash(i, j, 'partner') % $partners) as partner_id,
            (['referral', 'deal_registration', 'co_selling', 'technical_validation', 'integration',
              'implementation', 'marketing'])[cast(1 + hash(i, j, 'type') % 7 as bigint)] as touch_type,
            cast(close_date as timestamp) - to_days(cast(hash(i, j, 'days') % 400 as integer))
                + to_hours(cast(hash(i, j, 'hour') % 24 as integer)) as occurred_at,
            opportunity_id || '-' || j as touchpoint_id
        from deals, range(cast(touches as bigint)) as r(j)
        """,
        {"deals": deals, "partners": partners},
    )
    # 30% of deals registered by one or two partners, 80% of registrations approved.
    con.execute(
        """
        create table deal_registrations as
        select
            'R' || i || '-' || j as registration_id,
            'P' || (hash(i, j, 'registered by') % $partners) as partner_id,
            cast(date '2026-01-01' + cast(hash(i, 'close') % 330 + j as integer) - 60 as timestamp) as registered_at,
            case when hash(i, j, 'approved') % 10 < 8 then 'approved' else 'rejected' end as status,
            'O' || i as opportunity_id
        from range($deals) as t(i), range(2) as r(j)
        where hash(i, 'registered') % 10 < 3 and (j = 0 or hash(i, 'second registration') % 2 = 0)
        """,
        {"deals": deals, "partners": partners},
    )


def measured(step: Callable[[], Any]) -> tuple[float, float, Any]:
    """Seconds and peak resident memory (MB, this process and its children, sampled every 2 ms) of one call.

    The children are listed every 100 ms only: listing them scans /proc (about 0.7 ms of Python
    holding the GIL), which every 2 ms took a third of a core from the step being timed."""
    process = psutil.Process(os.getpid())

    def resident(children: list[psutil.Process]) -> int:
        total = process.memory_info().rss
        for child in children:
            try:
                total += child.memory_info().rss
            except psutil.Error:  # it ended between the listing and the reading
                pass
        return total

    peak = [resident(process.children(recursive=True))]
    done = threading.Event()

    def sample() -> None:
        children: list[psutil.Process] = []
        samples = 0
        while not done.is_set():
            if samples % 50 == 0:
                children = process.children(recursive=True)
            peak[0] = max(peak[0], resident(children))
            samples += 1
            time.sleep(0.002)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    result = step()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    return seconds, max(peak[0], resident(process.children(recursive=True))) / 1e6, result


def package_markov(paths: Any, results: Any) -> None:
    """ChannelAttribution's markov_model on the aggregated paths, timed inside this process."""
    from ChannelAttribution import markov_model

    start = time.perf_counter()
    outcome = markov_model(paths, "path", "total_conversions", var_null="total_null", out_more=True, seed=1, verbose=False)
    results.put((time.perf_counter() - start, outcome["removal_effects"]))


def package_markov_in_child(paths: Any, timeout: float) -> tuple[float | None, Any]:
    """(seconds, removal effects) of `package_markov` run in a child process, or (None, None) when
    it had not finished after `timeout` seconds and was stopped: it simulates, and at thousands
    of partners it can run for a very long time."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    worker = context.Process(target=package_markov, args=(paths, results), daemon=True)
    worker.start()
    try:
        return results.get(timeout=timeout)
    except queue.Empty:
        return None, None
    finally:
        worker.kill()
        worker.join()


def params() -> dict[str, float | int]:
    return attribution.checked_params(attribution.MODELS, 30, 365, 0.4, 0.4, 0.3)


def rule_weights_arrays(con: duckdb.DuckDBPyConnection) -> tuple[dict, pl.DataFrame]:
    """All nine rule-based models: the stored won paths (a filtered scan), the seven touch rules'
    weights from closed forms (numpy), and the sourced ones (SQL)."""
    won = touch_paths(con, won_only=True)
    return attribution.rule_weights(won, attribution.RULE_MODELS, params()), queries.execute(con, "attribution_sourced_weights")


def rule_weights(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return attribution.touch_weights(con, attribution.RULE_MODELS)


def rule_credit(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every rule model's credit: the step the build runs to store them (`build_default_credit`)."""
    return attribution.rule_credit_at_close(con, params(), 1)


def markov_touch_credit(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return attribution.touch_weights(con, ["markov"])


def markov_credit(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    won, weights, _ = attribution.model_weights(con, ["markov"], params())
    return attribution.credit_at_close(won, weights, 1)


def exported_credit(con: duckdb.DuckDBPyConnection, model: str = "linear") -> pl.DataFrame:
    return queries.execute(con, "attribution_credit", model=model)


def each_rule_model_exported(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """Seconds of the `attribution_credit` export of each rule model, one export per model, as a
    user runs it (`python -m queries export attribution_credit --param model=...`, less the CSV)."""
    seconds = {}
    for model in attribution.RULE_MODELS:
        started = time.perf_counter()
        exported_credit(con, model)
        seconds[model] = time.perf_counter() - started
    return seconds


def markov_solve(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Transition counts from the stored paths + the exact absorbing-chain solve."""
    paths = touch_paths(con)
    present, compact = present_partners(paths.partner, len(paths.partner_ids))
    counts = path_counts(compact, paths.starts, paths.is_won, len(present))
    effects = solve_removal_effects(*counts)
    return pl.DataFrame(
        {"partner_id": paths.partner_ids.gather(pl.Series(present)), "removal_effect": effects, "share": effects / effects.sum()}
    )


def shapley_values(con: duckdb.DuckDBPyConnection) -> np.ndarray:
    return attribution.shapley_touch_weights(touch_paths(con), seed=0)


def aggregated_paths(con: duckdb.DuckDBPyConnection) -> Any:
    """The same eligible paths as ChannelAttribution's input: path; conversions; value; nulls."""
    return (
        con.sql(
            """
            with touches as (
                select t.opportunity_id, t.partner_id, t.occurred_at, t.touchpoint_id, o.is_won, o.amount
                from touchpoints t join opportunities o using (opportunity_id)
                where cast(t.occurred_at as date) <= o.close_date
                  and date_diff('day', cast(t.occurred_at as date), o.close_date) <= 365
            ),
            paths as (
                select opportunity_id, any_value(is_won) as is_won, any_value(amount) as amount,
                    string_agg(partner_id, ' > ' order by occurred_at, touchpoint_id, partner_id) as path
                from touches group by opportunity_id
            )
            select path, count(*) filter (where is_won) as total_conversions,
                cast(coalesce(sum(amount) filter (where is_won), 0) as double) as total_conversion_value,
                count(*) filter (where not is_won) as total_null
            from paths group by path
            """
        )
        .pl()
        .to_pandas()
    )


def heuristic_totals(weights: pl.DataFrame) -> pl.DataFrame:
    """Our first/last/linear per partner in conversions, to set beside heuristic_models."""
    return (
        weights.filter(pl.col("model").is_in(["first_touch", "last_touch", "linear"]))
        .group_by("model", "partner_id")
        .agg(pl.col("weight").sum())
    )


def run(deals: int, partners: int, reference: bool, markov_reference_timeout: float) -> list[dict[str, Any]]:
    con = duckdb.connect()
    seconds, _, _ = measured(lambda: generate(con, deals, partners))
    won = con.sql("select count(*) from opportunities where is_won").fetchall()[0][0]
    touches = con.sql("select count(*) from touchpoints").fetchall()[0][0]
    print(f"{deals:,} deals, {partners:,} partners: generated in {seconds:.1f} s ({won:,} won, {touches:,} touchpoints)")
    rows: list[dict[str, Any]] = []

    def record(name: str, step: Callable[[], Any], note: str = "") -> Any:
        seconds, peak, result = measured(step)
        print(f"  {name}: {seconds:.2f} s, peak RSS {peak:,.0f} MB {note}")
        rows.append({"deals": deals, "partners": partners, "step": name, "seconds": seconds, "peak_mb": peak, "note": note})
        return result

    record(
        "build step, once per load: store the paths (read touches as integer codes, order by integer sort, write)",
        lambda: store_paths(con),
    )
    record(
        "rule-based, all 9 models: weights (stored paths + closed forms in numpy + sourced SQL)", lambda: rule_weights_arrays(con)
    )
    weights = record("rule-based, all 9 models: weights per model x touch (long)", lambda: rule_weights(con))
    record(
        "rule-based, all 9 models: credit per deal x partner in whole cents (stored paths + weights + cents)",
        lambda: rule_credit(con),
    )
    each = record("attribution_credit export of each rule model, one after another", lambda: each_rule_model_exported(con))
    slowest = max(each, key=each.get)
    rows[-1].update(
        step="attribution_credit export, the slowest of the 9 rule models: credit per deal x partner in whole cents",
        seconds=each[slowest],
        note="one export per model: " + ", ".join(f"{model} {seconds:.2f} s" for model, seconds in each.items()),
    )
    print(f"    slowest: {slowest} {each[slowest]:.2f} s")
    record("markov: stored paths + transitions + exact solve", lambda: markov_solve(con))
    record("markov: weights per touch (long)", lambda: markov_touch_credit(con))
    record("markov: credit per deal x partner in whole cents (stored paths + exact solve + cents)", lambda: markov_credit(con))
    record("shapley: stored paths + coalitions + values", lambda: shapley_values(con))
    if reference:
        try:
            from ChannelAttribution import heuristic_models
        except ImportError:
            print("  ChannelAttribution is not installed: reference timings skipped")
            return rows
        paths = record("ChannelAttribution input: aggregated paths (SQL)", lambda: aggregated_paths(con))
        theirs = record(
            "ChannelAttribution heuristic_models",
            lambda: heuristic_models(paths, "path", "total_conversions", var_value="total_conversion_value"),
        )
        ours = heuristic_totals(weights)
        worst = 0.0
        for model, column in [
            ("first_touch", "first_touch_conversions"),
            ("last_touch", "last_touch_conversions"),
            ("linear", "linear_touch_conversions"),
        ]:
            joined = ours.filter(pl.col("model") == model).join(
                pl.from_pandas(theirs[["channel_name", column]]), left_on="partner_id", right_on="channel_name", how="full"
            )
            worst = max(worst, float((joined["weight"].fill_null(0) - joined[column].fill_null(0)).abs().max()))
        rows[-1]["note"] = f"max abs. difference from ours, first/last/linear conversions: {worst:.2e}"
        print(f"    {rows[-1]['note']}")
        # In a child process, so that a run that does not finish can be stopped; peak memory is then
        # this process's plus the child's (its own interpreter included).
        seconds, peak, (inside, effects) = measured(lambda: package_markov_in_child(paths, markov_reference_timeout))
        step = "ChannelAttribution markov_model"
        if inside is None:
            note = f"stopped after {seconds:,.0f} s without a result (it simulates; --markov-reference-timeout)"
            print(f"  {step}: {note}, peak RSS {peak:,.0f} MB")
            stopped = {"seconds": None, "stopped_after": seconds, "peak_mb": peak, "note": note}
            rows.append({"deals": deals, "partners": partners, "step": step, **stopped})
        else:
            mine = markov_solve(con)
            theirs_re = pl.from_pandas(effects).rename({"channel_name": "partner_id"})
            theirs_re = theirs_re.with_columns(theirs=pl.col("removal_effect") / pl.col("removal_effect").sum())
            joined = mine.join(theirs_re.select("partner_id", "theirs"), on="partner_id", how="full", coalesce=True)
            gap = float((joined["share"].fill_null(0) - joined["theirs"].fill_null(0)).abs().max())
            note = f"max abs. difference of normalised removal effects from our exact solve: {gap:.4f}"
            print(f"  {step}: {inside:.2f} s, peak RSS {peak:,.0f} MB\n    {note}")
            rows.append({"deals": deals, "partners": partners, "step": step, "seconds": inside, "peak_mb": peak, "note": note})
    con.close()
    return rows


# The targets at 1M deals, on the time to the credit a user exports (whole cents per deal x
# partner, from the stored paths), and the package's steps set beside them.
TARGETS = {
    "rule-based, all 9 models": (
        "rule-based, all 9 models: credit per deal x partner",
        0.6,
        "ChannelAttribution heuristic_models",
    ),
    "each rule model, one export": (
        "attribution_credit export, the slowest of the 9 rule models",
        0.6,
        "ChannelAttribution heuristic_models",
    ),
    "Markov": ("markov: credit per deal x partner", 1.5, "ChannelAttribution markov_model"),
}


def verdict(rows: list[dict[str, Any]]) -> list[str]:
    """Each target against this run: met or not, and the speed-up over the package on the same paths."""
    lines = [
        "Against the targets, on the time to the exported credit (credit per deal x partner in whole cents, from the "
        "stored paths: all rule-based models together, and each rule model's own export, under 0.6 s, Markov under "
        "1.5 s) and beside the package on the "
        "same paths (which gives totals per partner only, not credit per deal):",
        "",
        "| deals | partners | models | ours (s) | target (s) | met | package (s) | speed-up |",
        "| ---: | ---: | --- | ---: | ---: | --- | ---: | ---: |",
    ]
    for deals, partners in sorted({(r["deals"], r["partners"]) for r in rows}):
        run = {r["step"]: r["seconds"] for r in rows if (r["deals"], r["partners"]) == (deals, partners)}
        stopped_after = {r["step"]: r.get("stopped_after") for r in rows if (r["deals"], r["partners"]) == (deals, partners)}
        for models, (prefix, target, reference) in TARGETS.items():
            ours = next((seconds for step, seconds in run.items() if step.startswith(prefix) and seconds), None)
            if ours is None:
                continue
            theirs, stopped = run.get(reference), stopped_after.get(reference)
            if theirs:
                package = f"{theirs:.2f} | {theirs / ours:.1f}x |"
            elif stopped:
                package = f"over {stopped:,.0f} (stopped) | over {stopped / ours:,.0f}x |"
            else:
                package = "not run | - |"
            met = "yes" if ours < target else "no"
            lines.append(f"| {deals:,} | {partners:,} | {models} | {ours:.2f} | {target} | {met} | " + package)
    return lines


def write_results(rows: list[dict[str, Any]], command: str, load: tuple[float, float]) -> None:
    lines = [
        f"<!-- {SECTION} -->",
        "## Attribution engine",
        "",
        f"Generated deals (30% won, 1-8 touchpoints each, about 8% of touches beyond the 365-day lookback, 40% with "
        f"a CRM sourced partner, 30% registered by one or two partners), "
        f"in-memory DuckDB, {psutil.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
        f"DuckDB {duckdb.__version__}. Peak memory = the process's resident set (data included; for "
        f"markov_model, which runs in a child process so that it can be stopped, the two processes' together). "
        f"Measured {date.today():%Y-%m-%d}; the machine's load average was {load[0]:.1f} at the start and "
        f"{load[1]:.1f} at the end, on {psutil.cpu_count()} CPUs (a shared machine: other work slows every step). "
        f"Every step starts from the paths the build stores. Command: `{command}`.",
        "",
        "| deals | partners | step | seconds | peak RSS (MB) | note |",
        "| ---: | ---: | --- | ---: | ---: | --- |",
    ]
    lines += [
        f"| {r['deals']:,} | {r['partners']:,} | {r['step']} | "
        + (f"{r['seconds']:.2f}" if r["seconds"] is not None else f"over {r['stopped_after']:,.0f}")
        + f" | {r['peak_mb']:,.0f} | {r['note']} |"
        for r in rows
    ]
    lines += ["", *verdict(rows), f"<!-- /{SECTION} -->"]
    section = "\n".join(lines)
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"<!-- {SECTION} -->.*?<!-- /{SECTION} -->", re.DOTALL)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument("--partners", default="20,2000")
    parser.add_argument("--no-reference", action="store_true", help="skip the ChannelAttribution comparison")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md alone")
    parser.add_argument(
        "--markov-reference-timeout", type=float, default=600, help="stop ChannelAttribution's markov_model after this long (s)"
    )
    args = parser.parse_args()
    rows = []
    load_before = os.getloadavg()[0]
    for partners in [int(p) for p in args.partners.split(",")]:
        rows += run(args.deals, partners, not args.no_reference, args.markov_reference_timeout)
    if not args.no_write:
        command = f".venv/bin/python -m bench.attribution --deals {args.deals} --partners {args.partners}"
        if args.no_reference:
            command += " --no-reference"
        elif args.markov_reference_timeout != parser.get_default("markov_reference_timeout"):
            command += f" --markov-reference-timeout {args.markov_reference_timeout:g}"
        write_results(rows, command, (load_before, os.getloadavg()[0]))


if __name__ == "__main__":
    main()
