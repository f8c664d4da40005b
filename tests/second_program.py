"""A second labelled partner program, of another shape than the demo, for judging the engagement flags.

Written apart from `loaders/demo/` (it imports nothing from it, nor from `settings.py`), so the flags
are not judged only on the data they grew up with. 300 partners over two years, few activity types
(co-selling calls, content downloads, trainings; support tickets and logins beside them), and
behaviour drawn from processes of its own:

- work comes in bursts (a session of one to a handful of activities on one day, sometimes spilling
  into the next), at a rate that wanders from week to week (gamma, sd 0.5 of the mean): irregular
  rhythms;
- seasonal partners stop every year for an off-season of their own (6 weeks to 4.5 months);
- partners stop for good, pause and come back, decline (to 30% or less of their rate, as in the
  program issue 17 was tried on) or dip (to 70-95%: a slower spell), from a day of their own, or
  grow; the rest are steady. Turning days are drawn from wide ranges, so partners land on both
  sides of every rule.

`write_program(folder)` writes partners.csv and partner_activities.csv (loadable by `loaders build`)
and the truth: `truth/stories.csv` (each partner's story and turning days) and `truth/effort_rate.csv`
(expected effort per week as steps, the same format as the demo's; effort = calls, downloads and
trainings). `bench.signals_accuracy.truth_labels` turns the steps into dormant / returned / burnout.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

START = date(2024, 1, 1)
END = date(2025, 12, 31)  # the last day with events: judge the flags as of it
DAYS = (END - START).days + 1
STORIES = ["steady", "seasonal", "stopping", "pausing", "declining", "dipping", "growing"]
SHARES = [0.27, 0.2, 0.14, 0.1, 0.14, 0.1, 0.05]
EFFORT_TYPES = ["co_selling_call", "content_download", "training_completed"]


def _steps(story: str, join: int, rate: float, rng: np.random.Generator) -> tuple[list[tuple[int, int, float]], dict]:
    """A partner's expected effort per week as [from, to) day steps, and its turning days."""
    facts: dict = {}
    level = np.ones(DAYS)
    level[:join] = 0.0
    if story == "seasonal":
        length, start = int(rng.integers(45, 136)), int(rng.integers(0, 365))
        facts["off_season_days"] = length
        for year_start in range(start - 365, DAYS, 365):
            level[max(year_start, join) : max(min(year_start + length, DAYS), 0)] = 0.0
    elif story == "stopping":
        stop = DAYS - int(rng.integers(10, 421))
        level[stop:] = 0.0
        facts["stopped_on"] = stop
    elif story == "pausing":
        resume = DAYS - int(rng.integers(1, 201))
        pause = resume - int(rng.integers(30, 251))
        level[pause:resume] = 0.0
        facts["paused_from"], facts["resumed_on"] = pause, resume
    elif story in ("declining", "dipping"):
        onset = DAYS - int(rng.integers(10, 301))
        kept = float(rng.uniform(0.0, 0.3) if story == "declining" else rng.uniform(0.7, 0.95))
        level[onset:] *= kept
        facts["decline_from"], facts["kept_share"] = onset, round(kept, 3)
    elif story == "growing":
        lift = DAYS - int(rng.integers(30, 400))
        level[lift:] *= 1.6
    change = np.flatnonzero(np.diff(level, prepend=-1.0) != 0)
    ends = np.append(change[1:], DAYS)
    return [(int(a), int(b), rate * float(level[a])) for a, b in zip(change, ends, strict=True)], facts


def write_program(folder: Path, seed: int = 11, n: int = 300) -> Path:
    """Write the program's extracts and truth into `folder`; returns the folder."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "truth").mkdir(exist_ok=True)
    story = rng.choice(len(STORIES), size=n, p=SHARES)
    # Most joined at launch; the rest over the first year.
    join = np.where(rng.random(n) < 0.6, 0, rng.integers(0, 330, n))
    bursts_per_week = np.clip(rng.lognormal(np.log(2.5), 0.45, n), 0.8, 6.0)
    burst_extra = rng.uniform(0.3, 1.2, n)  # a burst is 1 + Poisson(this) activities
    mix = rng.dirichlet([1.0, 1.5, 0.6], n)  # each partner's own blend of the three kinds of work

    steps, facts = [], []
    daily = np.zeros((DAYS, n))  # expected bursts per day
    for i in range(n):
        effort = bursts_per_week[i] * (1 + burst_extra[i])
        partner_steps, partner_facts = _steps(STORIES[story[i]], int(join[i]), effort, rng)
        steps += [(i, a, b, r) for a, b, r in partner_steps]
        facts.append(partner_facts)
        for a, b, r in partner_steps:
            daily[a:b, i] = r / (1 + burst_extra[i]) / 7

    week = np.arange(DAYS) // 7
    wander = rng.gamma(4.0, 0.25, (week[-1] + 1, n))[week]
    bursts = rng.poisson(daily * wander)
    day, who = np.nonzero(bursts)
    day, who = np.repeat(day, bursts[day, who]), np.repeat(who, bursts[day, who])
    size = 1 + rng.poisson(burst_extra[who])
    row_day = np.repeat(day, size)
    row_who = np.repeat(who, size)
    # A third of the bursts spill some of their activities into the next day.
    spill = np.repeat(rng.random(len(day)) < 0.3, size) & (rng.random(len(row_day)) < 0.4)
    row_day = np.minimum(row_day + spill, DAYS - 1)
    cdf = np.cumsum(mix, axis=1)[row_who]
    kind = (rng.random(len(row_day))[:, None] > cdf).sum(axis=1)
    working = daily[row_day, row_who] > 0  # a spilled activity never lands in a stop
    row_day, row_who, kind = row_day[working], row_who[working], kind[working]

    # Support tickets at a rate of their own while working (more after a decline); logins at any time
    # after joining, for 60% of the partners, whether they work or not.
    tickets_rate = np.clip(rng.lognormal(np.log(0.08), 0.5, n), 0.01, 0.5)
    declined = np.zeros((DAYS, n), dtype=bool)
    for i, f in enumerate(facts):
        if "decline_from" in f:
            declined[f["decline_from"] :, i] = True
    rise = np.where(rng.random(n) < 0.5, rng.uniform(1.5, 4.0, n), 1.0)
    tickets = rng.poisson((daily > 0) * tickets_rate / 7 * np.where(declined, rise, 1.0))
    t_day, t_who = np.nonzero(tickets)
    logs_in = rng.random(n) < 0.6
    logins = rng.poisson((np.arange(DAYS)[:, None] >= join) * logs_in * 0.4 / 7, (DAYS, n))
    l_day, l_who = np.nonzero(logins)

    ids = [f"S{i + 1:04d}" for i in range(n)]
    activity_day = np.concatenate([row_day, t_day, l_day])
    activity_who = np.concatenate([row_who, t_who, l_who])
    activity_type = [*(EFFORT_TYPES[k] for k in kind), *(["support_ticket"] * len(t_day)), *(["portal_login"] * len(l_day))]
    minute = rng.integers(8 * 60, 19 * 60, len(activity_day))
    activities = (
        pl.DataFrame(
            {
                "partner_id": [ids[i] for i in activity_who],
                "activity_type": activity_type,
                "occurred_at": [
                    (START + timedelta(days=int(d))).isoformat() + f" {m // 60:02d}:{m % 60:02d}:00"
                    for d, m in zip(activity_day, minute, strict=True)
                ],
            }
        )
        .sort("occurred_at", "partner_id", maintain_order=True)
        .with_row_index("row")
        .select(
            activity_id=pl.format("SA{}", pl.col("row") + 1),
            partner_id="partner_id",
            activity_type="activity_type",
            occurred_at="occurred_at",
        )
    )
    activities.write_csv(folder / "partner_activities.csv")

    def day(value: int | None) -> date | None:
        return None if value is None else START + timedelta(days=value)

    pl.DataFrame(
        {
            "partner_id": ids,
            "partner_name": [f"Second Program Partner {i + 1}" for i in range(n)],
            "partner_types": rng.choice(["referral", "reseller", "services"], n).tolist(),
            "tier": rng.choice(["registered", "silver", "gold"], n, p=[0.5, 0.35, 0.15]).tolist(),
            "joined_at": [day(int(j)) for j in join],
            "region": rng.choice(["NA", "EMEA"], n).tolist(),
            "partner_manager": [f"Manager {i % 6 + 1}" for i in range(n)],
            "status": ["active"] * n,
        }
    ).write_csv(folder / "partners.csv")
    pl.DataFrame(
        {
            "partner_id": ids,
            "story": [STORIES[s] for s in story],
            "stopped_on": [day(f.get("stopped_on")) for f in facts],
            "paused_from": [day(f.get("paused_from")) for f in facts],
            "resumed_on": [day(f.get("resumed_on")) for f in facts],
            "decline_from": [day(f.get("decline_from")) for f in facts],
            "kept_share": [f.get("kept_share") for f in facts],
            "off_season_days": [f.get("off_season_days") for f in facts],
        },
        schema_overrides={"kept_share": pl.Float64, "off_season_days": pl.Int64},
    ).write_csv(folder / "truth" / "stories.csv")
    pl.DataFrame(
        {
            "partner_id": [ids[i] for i, *_ in steps],
            "from_date": [day(a) for _, a, _, _ in steps],
            "to_date": [day(b) for _, _, b, _ in steps],
            "effort_per_week": [round(r, 4) for *_, r in steps],
        }
    ).write_csv(folder / "truth" / "effort_rate.csv")
    return folder
