"""Partner behaviour: the processes each partner's story is drawn from, and the weekly rates
they give. Partners grow (stars), keep a flat pace (some dip for a while, some act on a slow
regular rhythm), start slowly, decline from a day of their own by a depth of their own, stop
(go dormant, some later terminated), pause and come back (returns), or join with an onboarding
burst; tickets come from their own rate with spells of friction. Nothing here knows the app's
detectors or their thresholds: turning days and depths are drawn from wide ranges, so partners
fall on both sides of every rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from loaders.demo.days import END_DAY, N_WEEKS, WEEK_END, WEEK_MID, WEEK_START
from loaders.demo.draws import allocate, stream
from loaders.demo.vocabulary import PARTNER_STATUSES, REGIONS, TIERS, shares

if TYPE_CHECKING:
    from loaders.demo.partners import Partners

# Each partner's story: the process its behaviour is drawn from (truth/archetypes.csv).
# star: grows quarter by quarter; steady: flat (some dip for a while, some act on a slow regular
# rhythm); slow_starter: a tenth of its pace, then a ramp; declining: from a day of its own, its
# rate falls to a share of its own (5% to 90%: deep falls and mild ones), with fewer registrations,
# lost deals, more tickets and lapsing certifications in varying measure; stopped: works until a
# day of its own, then only logs in (or not); paused: stops for a while and comes back; new: joined
# in the last half year.
ARCHETYPES = ["star", "steady", "slow_starter", "declining", "stopped", "paused", "new"]
ARCHETYPE_SHARES = [0.08, 0.40, 0.10, 0.14, 0.13, 0.07, 0.08]
STAR, STEADY, SLOW, DECLINING, STOPPED, PAUSED, NEW = range(7)
INACTIVE, TERMINATED = PARTNER_STATUSES.index("inactive"), PARTNER_STATUSES.index("terminated")
# A partner's weight in being drawn onto a deal, by tier: higher tiers work on more deals.
DEALS_BY_TIER = shares(TIERS, {"registered": 0.6, "silver": 1.0, "gold": 1.5, "platinum": 2.2})


@dataclass
class Story:
    """The processes a partner's behaviour is drawn from (day indices), one entry per partner."""

    n: int
    archetype: np.ndarray
    rhythm_days: np.ndarray  # regular partners: days between their acts (0: acts at Poisson times)
    join: np.ndarray
    work_hi: np.ndarray  # last day with non-login activity possible (stopped partners: their stop)
    gap_lo: np.ndarray  # paused partners: no non-login activity in [gap_lo, gap_hi)
    gap_hi: np.ndarray
    login_hi: np.ndarray  # last day with logins possible
    terminated: np.ndarray  # day, -1 when not terminated
    status: np.ndarray
    decline_day: np.ndarray  # declining partners: from this day their rate is `kept` of itself (END_DAY + 1: never)
    kept: np.ndarray
    dip_lo: np.ndarray  # a dip for a while: the rate is dip_kept of itself in [dip_lo, dip_hi)
    dip_hi: np.ndarray
    dip_kept: np.ndarray
    win_factor: np.ndarray  # the win chance of deals a declining partner works on after its decline, as a share
    register_factor: np.ndarray  # and the share of its usual registrations it still files
    narrows: np.ndarray  # its work narrows to a few activity types after the decline
    ticket_rate: np.ndarray  # support tickets per week while working
    ticket_rise: np.ndarray  # declining: tickets multiply by this after the decline
    friction_lo: np.ndarray  # a spell of extra tickets (a rollout gone wrong, a billing dispute)
    friction_hi: np.ndarray
    friction_factor: np.ndarray
    lapse_after: np.ndarray  # chance a certification lapses at its anniversary after the decline (0.3 otherwise)

    def alive(self, partner: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Whether the partner can act (non-login) on that day."""
        return (
            (day >= self.join[partner])
            & (day <= self.work_hi[partner])
            & ~((day >= self.gap_lo[partner]) & (day < self.gap_hi[partner]))
        )

    def declined(self, partner: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Whether the partner's decline had begun by that day."""
        return day >= self.decline_day[partner]


def draw_stories(rng: np.random.Generator, n: int) -> Story:
    """Each partner's story: its archetype and the days it turns (the partners stream's first draws)."""
    archetype = rng.permutation(np.repeat(np.arange(len(ARCHETYPES)), allocate(n, ARCHETYPE_SHARES)))
    # 15% of steady partners (at least one) act on a slow, regular rhythm of their own instead.
    steady = rng.permutation(np.flatnonzero(archetype == STEADY))
    regular = np.zeros(n, dtype=bool)
    regular[steady[: max(1, round(0.15 * len(steady)))] if len(steady) else steady] = True
    rhythm_days = np.where(regular, rng.integers(25, 76, n), 0)

    # Each process's turning day, drawn from wide ranges: stops from 3 weeks to 16 months ago, pauses
    # of 6 weeks to 9 months ending up to 200 days ago, declines starting 2 weeks to 11 months ago.
    work_hi = np.full(n, END_DAY)
    gap_lo = np.full(n, END_DAY + 1)
    gap_hi = np.full(n, END_DAY + 1)
    decline_day = np.full(n, END_DAY + 1)
    stopped, paused, declining = archetype == STOPPED, archetype == PAUSED, archetype == DECLINING
    work_hi[stopped] = END_DAY - rng.integers(20, 481, stopped.sum())
    gap_hi[paused] = END_DAY - rng.integers(5, 201, paused.sum())
    gap_lo[paused] = gap_hi[paused] - rng.integers(40, 261, paused.sum())
    decline_day[declining] = END_DAY - rng.integers(15, 331, declining.sum())
    kept = np.where(declining, rng.uniform(0.05, 0.9, n), 1.0)

    # Joining: a launch cohort in the first weeks, then a steady inflow; each story has some
    # history before its turn (a stopped partner worked at least five months, and so on).
    latest_join = np.select(
        [stopped, paused, declining, archetype == SLOW],
        [work_hi - 150, gap_lo - 120, decline_day - 200, np.full(n, END_DAY - 420)],
        END_DAY - 200,
    )
    launch = rng.random(n) < 0.3
    join = np.where(launch, rng.integers(0, 45, n), (rng.random(n) * (latest_join + 1)).astype(np.int64))
    join = np.minimum(join, latest_join)
    is_new = archetype == NEW
    join[is_new] = END_DAY - rng.integers(14, 176, is_new.sum())

    # A fifth of the steady partners (not the regular ones) dip for a while: 3 weeks to 3 months
    # at 15-75% of their pace, any time after joining.
    dips = (archetype == STEADY) & ~regular & (rng.random(n) < 0.2)
    dip_lo = np.where(dips, join + (rng.random(n) * (END_DAY - join)).astype(np.int64), END_DAY + 1)
    dip_hi = np.where(dips, dip_lo + rng.integers(20, 91, n), END_DAY + 1)
    dip_kept = np.where(dips, rng.uniform(0.15, 0.75, n), 1.0)

    # What comes with a decline, in varying measure: fewer wins and registrations, narrower work,
    # more tickets (for most), certifications left to lapse.
    win_factor = np.where(declining, rng.uniform(0.3, 1.0, n), 1.0)
    register_factor = np.where(declining, rng.uniform(0.1, 1.0, n), 1.0)
    narrows = declining & (rng.random(n) < 0.5)
    ticket_rate = np.clip(rng.lognormal(np.log(0.12), 0.6, n), 0.01, 1.0)
    ticket_rise = np.where(declining & (rng.random(n) < 0.6), rng.uniform(1.5, 5.0, n), 1.0)
    friction = rng.random(n) < 0.12
    friction_lo = np.where(friction, join + (rng.random(n) * (END_DAY - join)).astype(np.int64), END_DAY + 1)
    friction_hi = np.where(friction, friction_lo + rng.integers(20, 71, n), END_DAY + 1)
    friction_factor = np.where(friction, rng.uniform(3.0, 8.0, n), 1.0)
    lapse_after = np.where(declining, rng.uniform(0.3, 1.0, n), 0.3)

    # Half the stopped partners still log in now and then; some were terminated, others
    # set inactive, a while after they stopped.
    login_hi = np.full(n, END_DAY)
    u = rng.random(n)
    stops_logging = stopped & (rng.random(n) < 0.5)
    login_hi[stops_logging] = work_hi[stops_logging]
    status = np.zeros(n, dtype=np.int64)
    is_terminated = stopped & (u < 0.35)
    status[stopped & (u >= 0.35) & (u < 0.75)] = INACTIVE
    status[is_terminated] = TERMINATED
    terminated = np.full(n, -1)
    terminated[is_terminated] = work_hi[is_terminated] + rng.integers(20, 81, is_terminated.sum())
    # Not yet terminated by the demo's last day: still on the books, set inactive.
    late = terminated > END_DAY
    status[late], terminated[late] = INACTIVE, -1
    is_terminated &= ~late
    login_hi[is_terminated] = np.minimum(login_hi[is_terminated], terminated[is_terminated])
    return Story(
        n=n,
        archetype=archetype,
        rhythm_days=rhythm_days,
        join=join,
        work_hi=work_hi,
        gap_lo=gap_lo,
        gap_hi=gap_hi,
        login_hi=login_hi,
        terminated=terminated,
        status=status,
        decline_day=decline_day,
        kept=kept,
        dip_lo=dip_lo,
        dip_hi=dip_hi,
        dip_kept=dip_kept,
        win_factor=win_factor,
        register_factor=register_factor,
        narrows=narrows,
        ticket_rate=ticket_rate,
        ticket_rise=ticket_rise,
        friction_lo=friction_lo,
        friction_hi=friction_hi,
        friction_factor=friction_factor,
        lapse_after=lapse_after,
    )


# --- Weekly rates ------------------------------------------------------------------------
@dataclass
class Rates:
    """Per week x partner: expected activities, and the weight of being picked for a deal."""

    work: np.ndarray  # (N_WEEKS, n) effort expected that week: activities other than logins and tickets
    login: np.ndarray  # (N_WEEKS, n) portal logins expected that week
    ticket: np.ndarray  # (N_WEEKS, n) support tickets expected that week
    deal: np.ndarray  # (N_WEEKS, n) relative chance of joining a deal created that week


def weekly_rates(p: Partners, target_events: float, seed: int) -> Rates:
    """Each partner's story as step functions of the week: effort, logins, tickets and deal weight."""
    rng = stream(seed, "rates")
    a = p.archetype[None, :]
    ws, we, wm = WEEK_START[:, None], WEEK_END[:, None], WEEK_MID[:, None]
    # A week counts only when the partner can act all of it, so any event drawn in it
    # respects the story's boundaries to the day.
    work_alive = (ws >= p.join) & (we <= p.work_hi) & ~((we >= p.gap_lo) & (ws < p.gap_hi))
    login_alive = (ws >= p.join) & (we <= p.login_hi)
    age = wm - p.join  # days since joining

    # Every shape is a step function of the week (quarters, months, turning days), so each
    # partner's expected effort is a handful of steps (truth/effort_rate.csv).
    shape = np.ones((N_WEEKS, p.n))
    shape = np.where(a == STAR, 0.8 + 0.4 * (wm // 91 * 91) / END_DAY, shape)  # stars grow quarter by quarter
    # Slow starters run at a tenth of their pace for four months, then ramp up month by month over six.
    shape = np.where(a == SLOW, np.clip(0.1 + 0.9 * (age // 30 * 30 - 120) / 180, 0.1, 1.0), shape)
    shape = np.where((a == NEW) & (age < 60), 1.5, shape)  # onboarding burst
    declined = wm >= p.decline_day
    shape = np.where(declined, shape * p.kept, shape)
    dipping = (wm >= p.dip_lo) & (wm < p.dip_hi)
    shape = np.where(dipping, shape * p.dip_kept, shape)

    # Effort per week at full pace: stars are big, the rest spread from small partners (a few
    # activities a month) to busy ones.
    base = np.where(
        p.archetype == STAR,
        rng.uniform(4.5, 6.5, p.n),
        np.clip(rng.lognormal(np.log(2.2), 0.5, p.n), 0.5, 7.0),
    )
    work = np.where(work_alive, shape * np.where(p.rhythm_days > 0, 0.0, base), 0.0)

    login_shape = np.where(declined, np.maximum(shape, 0.25), shape)
    login_shape = np.where((a == STOPPED) & (ws > p.work_hi), 0.15, login_shape)
    login_shape = np.where((we >= p.gap_lo) & (ws < p.gap_hi), 0.25, login_shape)
    login_base = np.where(p.rhythm_days > 0, 0.3, base) * rng.uniform(0.7, 1.3, p.n)
    login = np.where(login_alive, login_shape * login_base, 0.0)

    # Tickets from their own rate while the partner works, rising after a decline (for most
    # declining partners) and in a friction spell; not scaled with effort.
    friction = (wm >= p.friction_lo) & (wm < p.friction_hi)
    ticket = np.where(work_alive, p.ticket_rate * np.where(declined, p.ticket_rise, 1.0), 0.0)
    ticket = np.where(friction, ticket * p.friction_factor, ticket)

    # One scale factor for effort and logins hits the activity target without changing any
    # partner's shape (declines and dips are ratios).
    factor = max(target_events - ticket.sum(), 0.0) / (work.sum() + login.sum())
    deal_base = np.select([p.archetype == k for k in (STAR, STOPPED, NEW)], [3.5, 0.8, 0.7], 1.0)
    deal_base = np.where(p.rhythm_days > 0, 0.3, deal_base) * np.array(DEALS_BY_TIER)[p.tier]
    deal = np.where(work_alive, shape * deal_base, 0.0)
    return Rates(work=work * factor, login=login * factor, ticket=ticket, deal=deal)


def sample_partners(
    rng: np.random.Generator,
    week: np.ndarray,
    region: np.ndarray,
    same_region: np.ndarray,
    weight: np.ndarray,
    partner_region: np.ndarray,
) -> np.ndarray:
    """One partner per row, drawn with P proportional to weight[week] (-1 when none can act).

    Rows with same_region draw among the partners of their region (falling back to all
    partners when none there can act that week). Loops over (week, region) groups only.
    """
    out = np.full(len(week), -1, dtype=np.int64)
    group = week * 5 + np.where(same_region, region + 1, 0)
    order = np.argsort(group, kind="stable")
    keys, starts = np.unique(group[order], return_index=True)
    ends = np.append(starts[1:], len(order))[: len(starts)]  # no groups when no rows
    u = rng.random(len(week))
    everyone = np.arange(len(partner_region))
    by_region = [np.flatnonzero(partner_region == r) for r in range(len(REGIONS))]
    for key, start, end in zip(keys.tolist(), starts.tolist(), ends.tolist(), strict=True):
        w, r = divmod(key, 5)
        members = by_region[r - 1] if r else everyone
        weights = weight[w, members]
        if weights.sum() <= 0:
            members, weights = everyone, weight[w]
        total = weights.sum()
        if total <= 0:
            continue
        rows = order[start:end]
        cdf = np.cumsum(weights)
        pick = np.searchsorted(cdf, u[rows] * total, side="right")
        out[rows] = members[np.minimum(pick, len(members) - 1)]
    return out
