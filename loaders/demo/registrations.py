"""deal_registrations.csv: at most one natural registration per deal (by its sourcing partner,
else by a partner whose business registers deals), registrations of accounts with no
opportunity yet, registrations of deals the CRM creates only after the export day, and the
planted registration disagreements (two partners on one deal or account, the CRM naming another
partner, an approved registration on a direct deal). Also the CRM's source and sourced partner,
which follow from who registered."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from loaders.demo.behaviour import Rates, sample_partners
from loaders.demo.columns import ids, labels, optional, refs
from loaders.demo.days import DAY, END_DAY, timestamps, week_of
from loaders.demo.draws import choose, choose_by_class, group_starts, pick_rows, stream, without
from loaders.demo.opportunities import Deals
from loaders.demo.partners import Partners
from loaders.demo.program import PLANTED_ERROR_SHARES
from loaders.demo.touchpoints import Touches
from loaders.demo.truth import Planted
from loaders.demo.vocabulary import CLAIMED_ROLES, PARTNER_TYPES, REGISTRATION_STATUSES, SOURCES, TOUCH_TYPES, shares

SUBMITTED, APPROVED, EXPIRED = (REGISTRATION_STATUSES.index(s) for s in ("submitted", "approved", "expired"))
SOURCED, INFLUENCED = CLAIMED_ROLES.index("sourced"), CLAIMED_ROLES.index("influenced")
# P(a partner on a deal nobody sourced registers it | its primary type): resellers and
# distributors register most.
REGISTERS_BY_PRIMARY = shares(
    PARTNER_TYPES,
    {"referral": 0.2, "reseller": 0.35, "integration": 0.1, "services": 0.15, "affiliate": 0.15, "distributor": 0.35},
)
# Where an unsourced deal came from. One a partner registered never says "direct": that would be
# a channel conflict, which is planted on purpose only.
SOURCE_SHARES_DIRECT = shares(SOURCES, {"direct": 0.45, "marketing": 0.25, "inbound": 0.15, "outbound": 0.10, "event": 0.05})
SOURCE_SHARES_REGISTERED = shares(SOURCES, {"marketing": 0.40, "inbound": 0.30, "outbound": 0.20, "event": 0.10})
# How a natural registration was decided, by the role it claims (pending ones stay submitted).
DECIDED_BY_ROLE = {
    "sourced": {"approved": 0.82, "rejected": 0.08, "expired": 0.10},
    "influenced": {"approved": 0.60, "rejected": 0.25, "expired": 0.15},
}
DECIDED_BY_ROLE_TABLE = np.array([shares(REGISTRATION_STATUSES, DECIDED_BY_ROLE[r]) for r in CLAIMED_ROLES])
# Registrations of accounts with no opportunity yet are mostly turned down or left to expire;
# a planted second registrant is never approved.
ORPHANS_DECIDED = shares(REGISTRATION_STATUSES, {"approved": 0.20, "rejected": 0.45, "expired": 0.35})
CONFLICTS_DECIDED = shares(REGISTRATION_STATUSES, {"rejected": 0.6, "expired": 0.4})
# A registration is dated by the partner's first touch, up to 60 days before the deal is created
# (touchpoints.py), so the last weeks before the export day hold registrations of deals the CRM
# has not created yet. Nine weeks: longer than that lead, and whole weeks keep the weekdays.
AHEAD_DAYS = 63


@dataclass
class Registrations:
    partner: np.ndarray
    deal: np.ndarray  # -1: registered an account, no opportunity yet
    account: np.ndarray
    second: np.ndarray
    status: np.ndarray
    role: np.ndarray  # SOURCED or INFLUENCED (CLAIMED_ROLES)
    decided: np.ndarray  # seconds, -1 while pending


def _decide_registrations(rng: np.random.Generator, second: np.ndarray, status: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Decision times: days for approve/reject, 90 days to expire; undecided by DEMO_END = submitted."""
    n = len(second)
    delay = np.where(status == EXPIRED, 90 * DAY, rng.integers(8 * 60, 10 * 24 * 60, n) * 60)
    decided = second + delay
    pending = decided > END_DAY * DAY + 18 * 3600
    return np.where(pending, SUBMITTED, status), np.where(pending, -1, decided)


def _other_partner(
    rng: np.random.Generator,
    not_this: np.ndarray,
    day: np.ndarray,
    region: np.ndarray,
    rates: Rates,
    p: Partners,
) -> np.ndarray:
    """A partner active that day, other than not_this (-1 when none found in a few rounds)."""
    out = np.full(len(day), -1, dtype=np.int64)
    todo = np.arange(len(day))
    for _ in range(8):  # a few redraw rounds over the clashing rows, not a row loop
        drawn = sample_partners(rng, week_of(day[todo]), region[todo], rng.random(len(todo)) < 0.85, rates.deal, p.region)
        ok = (drawn >= 0) & (drawn != not_this[todo])
        out[todo[ok]] = drawn[ok]
        todo = todo[~ok]
        if not len(todo):
            break
    return out


def make_registrations(
    d: Deals, t: Touches, p: Partners, rates: Rates, acc_region: np.ndarray, planted: Planted, seed: int
) -> Registrations:
    rng = stream(seed, "registrations")
    # Natural registrations: at most one per deal, by its sourcing partner on a sourced deal,
    # else by the first partner whose kind of business registers deals.
    p_register = np.where(
        t.pair_lead,
        0.72,
        np.where(d.sourced[t.pair_deal], 0.0, np.array(REGISTERS_BY_PRIMARY)[p.primary[t.pair_partner]]),
    )
    # After its decline a partner registers only its register_factor share of what it still touches.
    first_day = t.second[t.pair_first] // DAY
    fading = p.declined(t.pair_partner, first_day)
    p_register = np.where(fading, p.register_factor[t.pair_partner] * p_register, p_register)
    passing = np.flatnonzero(rng.random(len(t.pair_deal)) < p_register)
    _, first = np.unique(t.pair_deal[passing], return_index=True)
    pair = passing[first]
    touch_second = t.second[t.pair_first[pair]]
    room = np.minimum(180, (touch_second % DAY - 7 * 3600) // 60)  # minutes, at most 3 h, from 07:00
    second = touch_second - (rng.random(len(pair)) * (room + 1)).astype(np.int64) * 60
    partner, deal = t.pair_partner[pair], t.pair_deal[pair]
    account = d.account[deal]
    # One registering partner per account: two partners on one account is a conflict, and
    # conflicts are planted on purpose only. Later partners on that account do not register.
    order = np.lexsort((second, account))
    idx = np.arange(len(order))
    first_row = np.maximum.accumulate(np.where(group_starts(account[order]), idx, 0))
    keep = np.sort(order[partner[order] == partner[order][first_row]])
    pair, second, partner, deal, account = pair[keep], second[keep], partner[keep], deal[keep], account[keep]
    role = np.where(t.pair_lead[pair], SOURCED, INFLUENCED)
    status = choose_by_class(rng, DECIDED_BY_ROLE_TABLE, role)
    status, decided = _decide_registrations(rng, second, status)
    n_natural = len(pair)

    # The registering partner's first touch is the registration; a sourcing partner who did
    # not register referred the deal.
    t.type[t.pair_first[pair]] = TOUCH_TYPES.index("deal_registration")
    unregistered_lead = without(np.flatnonzero(t.pair_lead), pair)
    t.type[t.pair_first[unregistered_lead]] = TOUCH_TYPES.index("referral")

    # CRM fields: sourced deals name their sourcing partner; a deal a partner registered is
    # never recorded as direct (that is the planted channel conflict).
    d.sourced_partner = np.full(d.n, -1, dtype=np.int64)
    lead_pairs = np.flatnonzero(t.pair_lead)
    d.sourced_partner[t.pair_deal[lead_pairs]] = t.pair_partner[lead_pairs]
    registered = np.zeros(d.n, dtype=bool)
    registered[deal] = True
    d.source = np.where(
        d.sourced,
        SOURCES.index("partner"),
        np.where(registered, choose(rng, SOURCE_SHARES_REGISTERED, d.n), choose(rng, SOURCE_SHARES_DIRECT, d.n)),
    )

    # Registrations of accounts with no opportunity yet, on accounts nobody else registered.
    free_accounts = without(np.arange(len(acc_region)), account)
    n_orphans = min(len(free_accounts), round(0.05 * n_natural))
    o_account = np.sort(rng.choice(free_accounts, size=n_orphans, replace=False))
    o_day = rng.integers(60, END_DAY + 1, n_orphans)
    o_partner = sample_partners(rng, week_of(o_day), acc_region[o_account], rng.random(n_orphans) < 0.85, rates.deal, p.region)
    ok = o_partner >= 0
    o_account, o_day, o_partner = o_account[ok], o_day[ok], o_partner[ok]
    o_second = o_day * DAY + 9 * 3600 + rng.integers(0, 9 * 60, len(o_day)) * 60
    o_role = np.where(rng.random(len(o_day)) < 0.8, SOURCED, INFLUENCED)
    o_status, o_decided = _decide_registrations(rng, o_second, choose(rng, ORPHANS_DECIDED, len(o_day)))

    # Planted: a second partner registers the same opportunity (or, for a quarter of them,
    # the same account without an opportunity) 1-20 days later; never approved itself. Only
    # on registrations approved or still pending: a rejected or expired one leaves the deal
    # open to others, which is no conflict.
    standing = np.flatnonzero(((status == APPROVED) | (status == SUBMITTED)) & (second // DAY < END_DAY))
    c_of = pick_rows(rng, standing, PLANTED_ERROR_SHARES["registration_conflict"], n_natural)
    c_day = np.minimum(second[c_of] // DAY + rng.integers(1, 21, len(c_of)), END_DAY)
    c_partner = _other_partner(rng, partner[c_of], c_day, d.region[deal[c_of]], rates, p)
    ok = c_partner >= 0
    c_of, c_day, c_partner = c_of[ok], c_day[ok], c_partner[ok]
    c_second = c_day * DAY + 9 * 3600 + rng.integers(0, 9 * 60, len(c_of)) * 60
    c_deal = np.where(rng.random(len(c_of)) < 0.25, -1, deal[c_of])
    c_role = np.where(rng.random(len(c_of)) < 0.7, SOURCED, INFLUENCED)
    c_status, c_decided = _decide_registrations(rng, c_second, choose(rng, CONFLICTS_DECIDED, len(c_of)))
    n_base = n_natural + len(o_day)
    c_index = n_base + np.arange(len(c_of))
    planted.add(
        "registration_conflict",
        len(c_of),
        deal=c_deal,
        partner=c_partner,
        registration=c_index,
        other_partner=partner[c_of],
        other_registration=c_of,
    )

    # Planted: the CRM names another partner than the approved sourced registration's.
    candidates = np.flatnonzero((role == SOURCED) & (status == APPROVED))
    x_of = pick_rows(rng, candidates, PLANTED_ERROR_SHARES["crm_vs_registration"], n_natural)
    x_of = without(x_of, c_of)
    start = np.searchsorted(t.pair_deal, deal[x_of], side="left")
    count = np.searchsorted(t.pair_deal, deal[x_of], side="right") - start
    co_partner = np.where(count >= 2, t.pair_partner[np.minimum(start + 1, len(t.pair_deal) - 1)], -1)
    co_partner = np.where(co_partner == partner[x_of], -1, co_partner)
    drawn = _other_partner(rng, partner[x_of], d.created[deal[x_of]], d.region[deal[x_of]], rates, p)
    crm_partner = np.where(co_partner >= 0, co_partner, drawn)
    x_of, crm_partner = x_of[crm_partner >= 0], crm_partner[crm_partner >= 0]
    d.sourced_partner[deal[x_of]] = crm_partner
    planted.add(
        "crm_vs_registration",
        len(x_of),
        deal=deal[x_of],
        partner=partner[x_of],
        registration=x_of,
        other_partner=crm_partner,
    )

    # Planted: an approved registration on a deal the CRM records as direct, unsourced.
    candidates = without(np.flatnonzero((role == INFLUENCED) & (status == APPROVED)), c_of)
    k_of = pick_rows(rng, candidates, PLANTED_ERROR_SHARES["channel_conflict"], n_natural)
    d.source[deal[k_of]] = SOURCES.index("direct")
    planted.add("channel_conflict", len(k_of), deal=deal[k_of], partner=partner[k_of], registration=k_of)

    # Appended last, from a stream of their own: the rows above and the planted indices stay as they were.
    ahead = _registered_ahead(
        stream(seed, "registrations ahead"), second, deal, partner, role, d, p, acc_region, np.concatenate([account, o_account])
    )
    return Registrations(
        partner=np.concatenate([partner, o_partner, c_partner, ahead.partner]),
        deal=np.concatenate([deal, np.full(len(o_day), -1), c_deal, ahead.deal]),
        account=np.concatenate([account, o_account, d.account[deal[c_of]], ahead.account]),
        second=np.concatenate([second, o_second, c_second, ahead.second]),
        status=np.concatenate([status, o_status, c_status, ahead.status]),
        role=np.concatenate([role, o_role, c_role, ahead.role]),
        decided=np.concatenate([decided, o_decided, c_decided, ahead.decided]),
    )


def _registered_ahead(
    rng: np.random.Generator,
    second: np.ndarray,
    deal: np.ndarray,
    partner: np.ndarray,
    role: np.ndarray,
    d: Deals,
    p: Partners,
    acc_region: np.ndarray,
    taken_accounts: np.ndarray,
) -> Registrations:
    """Registrations of deals the CRM creates after the export day: in the file already, with no
    opportunity yet. Without them registrations fade out over the export's last two months (the
    deals they precede are never drawn) and the table looks stale.

    The program keeps its pace: the natural registrations of deals created in the last AHEAD_DAYS,
    moved AHEAD_DAYS later, are the registrations of the deals created in the AHEAD_DAYS after the
    export day; those that land by the export day are kept. Each is by the same partner, if it
    still works then (a decline begun since files only its register_factor share), on a customer
    account of the deal's region that nobody registered (a second registrant is a planted conflict
    only)."""
    moved = second + AHEAD_DAYS * DAY
    day = moved // DAY
    # Only into the last AHEAD_DAYS, the days that lack them: a registration dated by one of the
    # rare touches planted far beyond the lookback is not repeated.
    rows = np.flatnonzero((d.created[deal] > END_DAY - AHEAD_DAYS) & (day > END_DAY - AHEAD_DAYS) & (day <= END_DAY))
    rows = rows[p.alive(partner[rows], day[rows])]
    newly_declined = p.declined(partner[rows], day[rows]) & ~p.declined(partner[rows], second[rows] // DAY)
    rows = rows[~newly_declined | (rng.random(len(rows)) < p.register_factor[partner[rows]])]
    # A free account of the deal's region each, drawn without replacement (fewer rows when a
    # region runs out of free accounts, at tiny scales).
    region = d.region[deal[rows]]
    free = rng.permutation(without(np.arange(len(acc_region)), taken_accounts))
    account = np.full(len(rows), -1, dtype=np.int64)
    for r in np.unique(region):
        mine, theirs = np.flatnonzero(region == r), free[acc_region[free] == r]
        k = min(len(mine), len(theirs))
        account[mine[:k]] = theirs[:k]
    rows, account = rows[account >= 0], account[account >= 0]
    status = choose_by_class(rng, DECIDED_BY_ROLE_TABLE, role[rows])
    status, decided = _decide_registrations(rng, moved[rows], status)
    return Registrations(
        partner=partner[rows],
        deal=np.full(len(rows), -1, dtype=np.int64),
        account=account,
        second=moved[rows],
        status=status,
        role=role[rows],
        decided=decided,
    )


def registrations_frame(
    reg: Registrations, partner_ids: pl.Series, deal_ids: pl.Series, account_names: pl.Series
) -> tuple[pl.DataFrame, pl.Series]:
    """The file, in time order, and each registration's id by its index in reg."""
    order = np.lexsort((reg.partner, reg.second))
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))  # internal index -> row in the file
    reg_id_of = ids("R", len(order), 6).gather(position)
    frame = pl.DataFrame(
        {
            "registration_id": reg_id_of.gather(order),
            "partner_id": partner_ids.gather(reg.partner[order]),
            "opportunity_id": refs(deal_ids, reg.deal[order]),
            "account_name": account_names.gather(reg.account[order]),
            "registered_at": timestamps(reg.second[order]),
            "status": labels(REGISTRATION_STATUSES, reg.status[order]),
            "claimed_role": labels(CLAIMED_ROLES, reg.role[order]),
            "decided_at": optional(timestamps(np.maximum(reg.decided[order], 0)), reg.decided[order] >= 0),
        }
    )
    return frame, reg_id_of
