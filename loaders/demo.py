"""Demo partner program: a realistic, deterministic set of extracts.

Owns the generator behind ``python -m loaders demo DIR``: one CSV per table, in the
canonical columns of the data contract (docs/design.md, "Data contract"), plus
ground truth under ``DIR/truth/`` that tests compare the analytics against:
``truth/archetypes.csv`` (each partner's story and the days it turned: stopped, paused,
resumed, began to decline, and how much of its rate it kept), ``truth/effort_rate.csv``
(each partner's expected effort per week, as steps: what its activities were drawn from)
and ``truth/planted_errors.csv`` (every disagreement planted on purpose). The loader ignores
``truth/``; loading, validation and every metric belong to ``loaders`` and ``queries``.

The data is clean (no bad rows): what it plants are business processes (partners who grow,
stop, pause, decline by varying depths from varying days, dip for a while, keep a slow
rhythm; tickets and certifications from their own rates; seasonality, slips) and the seven
disagreement kinds, each at its own share. Partner behaviour is drawn from these processes
alone: nothing here knows the app's detectors or their thresholds (it imports nothing from
``settings.py``), so partners fall on both sides of every rule and the detectors are judged
against what was drawn, not against a copy of themselves.

Everything is vectorised over whole columns (numpy / polars; the only Python loops run
over weeks, classes or a handful of rounds, never over deals, touchpoints or activities),
so scale 100 (2M opportunities, 20M activities) stays feasible. Each generation step
draws from its own seeded stream: the same seed and scale give byte-identical files.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

# --- Calendar ---------------------------------------------------------------------------
DEMO_END = date(2026, 11, 20)
"""Last day of the demo program: no event happens after it (open deals' expected close
dates aside). Use it as ``as_of`` when checking the demo's signals."""
DEMO_START = date(2023, 11, 20)  # three years of history; a Monday
END_DAY = (DEMO_END - DEMO_START).days  # day index of DEMO_END; day 0 is DEMO_START

# --- The demo program's commission plan ----------------------------------------------------
# The program's contract with its partners: linear credit over the touches of the year before
# close, times the tier's rate, paid within 60 days. Its payouts are exactly what this plan
# owes, apart from the planted errors. The app's default settings describe the same plan
# (settings.CommissionPlan, Attribution.lookback_days), so a default build checks payouts
# against the contract they were paid under; a program with another plan says so in its settings.
TIER_RATES = {"registered": 0.05, "silver": 0.08, "gold": 0.10, "platinum": 0.12}
PLAN_MODEL = "linear"  # attribution model the plan pays on
LOOKBACK_DAYS = 365
PAYMENT_TERMS_DAYS = 60
CERTIFICATION_VALID_DAYS = 365  # a certification lapses a year after it was earned unless renewed

# --- Sizes at scale 1 --------------------------------------------------------------------
BASE_PARTNERS = 500
BASE_OPPORTUNITIES = 20_000
BASE_ACTIVITIES = 200_000
# Each error kind at its own share of the rows it can hit, as in a real ledger: copies are
# rarer than wrong amounts.
PLANTED_ERROR_SHARES = {
    "duplicate_payout": 0.008,
    "payout_without_credit": 0.015,
    "credit_without_payout": 0.03,
    "payout_amount_mismatch": 0.045,
    "registration_conflict": 0.02,
    "crm_vs_registration": 0.035,
    "channel_conflict": 0.012,
}

TABLES = (
    "partners",
    "partner_activities",
    "opportunities",
    "opportunity_history",
    "touchpoints",
    "deal_registrations",
    "payouts",
)
ERROR_KINDS = (
    "duplicate_payout",
    "payout_without_credit",
    "credit_without_payout",
    "payout_amount_mismatch",
    "registration_conflict",
    "crm_vs_registration",
    "channel_conflict",
)

# --- Vocabularies (index = code used in the arrays) --------------------------------------
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

PARTNER_TYPES = ["referral", "reseller", "integration", "services", "affiliate", "distributor"]
PRIMARY_TYPE_SHARES = [0.30, 0.22, 0.15, 0.15, 0.12, 0.06]
REFERRAL, RESELLER, INTEGRATION, SERVICES, AFFILIATE, DISTRIBUTOR = range(6)
TIERS = ["registered", "silver", "gold", "platinum"]
# P(tier | archetype): stars sit high in the tier ladder, newcomers at the bottom.
TIER_BY_ARCHETYPE = [
    [0.00, 0.20, 0.40, 0.40],
    [0.30, 0.35, 0.25, 0.10],
    [0.50, 0.30, 0.15, 0.05],
    [0.20, 0.30, 0.30, 0.20],
    [0.55, 0.30, 0.10, 0.05],
    [0.40, 0.35, 0.20, 0.05],
    [0.85, 0.15, 0.00, 0.00],
]
REGIONS = ["NA", "EMEA", "APAC", "LATAM"]
REGION_SHARES = [0.45, 0.30, 0.15, 0.10]
COUNTRIES = [  # (region code, country, share within region, legal forms)
    (0, "United States", 0.85, ["Inc.", "LLC", "Corp."]),
    (0, "Canada", 0.15, ["Inc.", "Ltd."]),
    (1, "United Kingdom", 0.30, ["Ltd"]),
    (1, "Germany", 0.22, ["GmbH", "AG"]),
    (1, "France", 0.15, ["SAS"]),
    (1, "Netherlands", 0.10, ["B.V."]),
    (1, "Sweden", 0.07, ["AB"]),
    (1, "Spain", 0.07, ["S.L."]),
    (1, "Ireland", 0.05, ["Ltd"]),
    (1, "Italy", 0.04, ["S.r.l."]),
    (2, "Australia", 0.35, ["Pty Ltd"]),
    (2, "Japan", 0.20, ["K.K."]),
    (2, "Singapore", 0.20, ["Pte. Ltd."]),
    (2, "India", 0.17, ["Pvt. Ltd."]),
    (2, "New Zealand", 0.08, ["Ltd"]),
    (3, "Brazil", 0.45, ["Ltda."]),
    (3, "Mexico", 0.30, ["S.A. de C.V."]),
    (3, "Argentina", 0.10, ["S.A."]),
    (3, "Chile", 0.08, ["SpA"]),
    (3, "Colombia", 0.07, ["S.A.S."]),
]
STATUSES = ["active", "inactive", "terminated"]

STAGES = [
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Id. Decision Makers",
    "Perception Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
]
WON_STAGE, LOST_STAGE = 8, 9
FORECAST_CATEGORIES = ["pipeline", "best_case", "commit", "closed", "omitted"]
FC_PIPELINE, FC_BEST_CASE, FC_COMMIT, FC_CLOSED, FC_OMITTED = range(5)
SEGMENTS = ["SMB", "Mid-Market", "Enterprise"]
SEGMENT_SHARES = [0.50, 0.33, 0.17]
SEGMENT_MEDIAN_AMOUNT = [12_000.0, 40_000.0, 110_000.0]  # USD
SEGMENT_WIN_RATE = [0.27, 0.24, 0.20]  # direct deals; partner involvement lifts it
SEGMENT_CYCLE_FACTOR = [0.7, 1.0, 1.4]
PRODUCTS = ["Core Platform", "Analytics Add-on", "Integration Hub", "Security Suite", "Enterprise Bundle"]
PRODUCT_SHARES = [0.40, 0.20, 0.15, 0.15, 0.10]
SOURCES = ["partner", "direct", "marketing", "inbound", "outbound", "event"]
SOURCE_SHARES_DIRECT = [0.0, 0.45, 0.25, 0.15, 0.10, 0.05]
# An unsourced deal that a partner registered never says "direct": that would be a
# channel conflict, which is planted on purpose only.
SOURCE_SHARES_REGISTERED = [0.0, 0.0, 0.40, 0.30, 0.20, 0.10]

TOUCH_TYPES = [
    "referral",
    "deal_registration",
    "co_selling",
    "technical_validation",
    "integration",
    "implementation",
    "marketing",
]
# P(touch type | partner's primary type); deal_registration is set where a registration is.
TOUCH_BY_PRIMARY = [
    [0.55, 0, 0.15, 0.00, 0.00, 0.00, 0.30],
    [0.15, 0, 0.50, 0.15, 0.00, 0.00, 0.20],
    [0.00, 0, 0.10, 0.35, 0.55, 0.00, 0.00],
    [0.00, 0, 0.25, 0.30, 0.00, 0.45, 0.00],
    [0.60, 0, 0.00, 0.00, 0.00, 0.00, 0.40],
    [0.20, 0, 0.50, 0.00, 0.00, 0.00, 0.30],
]
REGISTRATION_STATUSES = ["submitted", "approved", "rejected", "expired"]
PAYOUT_TYPES = ["commission", "referral_fee", "rebate", "mdf", "spiff", "bonus"]
PAYOUT_STATUSES = ["accrued", "approved", "paid", "clawed_back"]

ACTIVITY_TYPES = [
    "portal_login",
    "training_completed",
    "certification_earned",
    "certification_expired",
    "deal_registered",
    "co_marketing",
    "co_selling_call",
    "business_review",
    "support_ticket",
    "content_download",
    "integration_release",
]
(
    LOGIN,
    TRAINING,
    CERT_EARNED,
    CERT_EXPIRED,
    DEAL_REGISTERED,
    CO_MARKETING,
    CO_SELLING,
    BUSINESS_REVIEW,
    SUPPORT_TICKET,
    CONTENT,
    INTEGRATION_RELEASE,
) = range(11)
# Effort mixes (shares over ACTIVITY_TYPES). Deal registrations come from the registrations
# table, tickets from their own rate and expirations from earned certifications, so they are 0 here.
_MIX_NORMAL = [0, 0.15, 0.05, 0, 0, 0.08, 0.15, 0.05, 0, 0.52, 0]
_MIX_ONBOARDING = [0, 0.42, 0.16, 0, 0, 0, 0.05, 0.05, 0, 0.32, 0]
_MIX_NARROW = [0, 0, 0, 0, 0, 0, 0.2, 0, 0, 0.8, 0]  # a declining partner down to a couple of things
ACTIVITY_DETAILS = {
    TRAINING: "Partner Sales Fundamentals, Technical Onboarding, Solution Selling, Advanced Integration Workshop, "
    "Product Update Briefing, Pricing & Packaging",
    CERT_EARNED: "Certified Sales Professional, Certified Implementation Engineer, Certified Integration Developer",
    CO_MARKETING: "Joint webinar, Co-branded campaign, Trade show booth, Customer case study",
    CO_SELLING: "Account planning call, Joint customer call, Demo support, Pipeline review",
    BUSINESS_REVIEW: "Quarterly business review, Annual planning session",
    SUPPORT_TICKET: "Portal access issue, Commission question, Technical escalation, Lead routing question, "
    "Deal registration dispute",
    CONTENT: "Battlecard, Pricing sheet, Product deck, Case study, Solution brief, Demo script",
    INTEGRATION_RELEASE: "Connector release, Connector patch release, New integration listing",
}
ACTIVITY_DETAILS[CERT_EXPIRED] = ACTIVITY_DETAILS[CERT_EARNED]


# --- Name parts (compact word lists: "a, b, c" -> ["a", "b", "c"]) ---------------------
def _words(text: str) -> list[str]:
    return [w.strip() for w in text.split(",") if w.strip()]


NAME_STEMS = _words("""
    North, South, East, West, Blue, Bright, Iron, Silver, Cedar, Summit, Apex, Harbor, River, Stone, Oak,
    Pine, Maple, Granite, Crystal, Golden, Red, Green, Clear, Swift, True, Prime, Nova, Terra, Aero, Vista,
    Crest, Bay, Lake, Hill, Sky, Sun, Star, Wolf, Falcon, Eagle, Fox, Bear, Lion, Cobalt, Copper, Amber,
    Ember, Frost, Storm, Thunder, Quantum, Vector, Pixel, Cloud, Data, Logic, Signal, Echo, Pulse, Orbit""")
NAME_ENDINGS = _words("""
    field, line, point, bridge, stone, wave, gate, path, view, ridge, wood, brook, port, side, way, works,
    peak, light, stream, mark, forge, spring, haven, core, shift, scape, spire, vale, ford, grove, hub,
    link, wise, tek, ware, sys, net, labs, ion, ly""")
PARTNER_INDUSTRIES = _words("""
    Consulting, Solutions, Systems, Partners, Digital, Technologies, Group, Networks, IT Services,
    Cloud Services, Analytics, Integrations, Advisors, Software, Interactive, Tech, Computing, Informatics,
    Data Services, Security, Infotech, Consultancy, Cloud, Automation, DevOps, Managed Services,
    Business Solutions, IT Group, Digital Agency, Systems Integration""")
ACCOUNT_INDUSTRIES = _words("""
    Foods, Logistics, Manufacturing, Health, Bank, Insurance, Retail, Energy, Pharma, Media, Motors,
    Airlines, Hotels, Capital, Telecom, Utilities, Construction, Apparel, Biotech, Chemicals, Shipping,
    Farms, Mining, Realty, Steel, Textiles, Clinics, Publishing, Brewing, Furniture, Marine, Electronics,
    Plastics, Paper, Travel, Outfitters, Beverages, Aerospace, Medical, Financial""")
# Appended, one per round, once stem x ending x industry runs out (scale > ~20 for accounts).
ACCOUNT_QUALIFIERS = [""] + _words(
    "Holdings, International, Group, Worldwide, Global, Americas, Europe, Pacific, & Sons, Industries, Co."
)
FIRST_NAMES = _words("""
    James, Mary, John, Patricia, Robert, Jennifer, Michael, Linda, David, Elizabeth, William, Barbara,
    Richard, Susan, Joseph, Jessica, Thomas, Sarah, Charles, Karen, Daniel, Lisa, Matthew, Nancy, Anthony,
    Sandra, Mark, Ashley, Steven, Emily, Paul, Michelle, Andrew, Amanda, Joshua, Melissa, Kevin, Stephanie,
    Brian, Rebecca, George, Laura, Timothy, Helen, Jason, Anna, Ryan, Olivia, Jacob, Sophie, Lukas, Emma,
    Matteo, Chloe, Hugo, Ines, Lars, Freya, Pablo, Lucia, Kenji, Yuki, Arjun, Priya, Wei, Mei, Rahul, Aisha,
    Diego, Camila, Mateo, Valentina, Omar, Leila, Noah, Mia, Liam, Ava, Ethan, Isabella, Oliver, Charlotte,
    Lucas, Amelia, Henrik, Ingrid, Tomas, Elena, Marco, Giulia, Felix, Hannah, Sven, Nora, Rafael, Beatriz,
    Samuel, Grace, Adrian, Zoe""")
LAST_NAMES = _words("""
    Smith, Johnson, Williams, Brown, Jones, Garcia, Miller, Davis, Rodriguez, Martinez, Hernandez, Lopez,
    Gonzalez, Wilson, Anderson, Thomas, Taylor, Moore, Jackson, Martin, Lee, Perez, Thompson, White, Harris,
    Sanchez, Clark, Ramirez, Lewis, Robinson, Walker, Young, Allen, King, Wright, Scott, Torres, Nguyen,
    Hill, Flores, Green, Adams, Nelson, Baker, Hall, Rivera, Campbell, Mitchell, Carter, Roberts, Mueller,
    Schmidt, Schneider, Fischer, Weber, Dubois, Laurent, Moreau, Rossi, Russo, Bianchi, Jansen, de Vries,
    Andersson, Johansson, Nilsson, Fernandez, Ruiz, Tanaka, Suzuki, Sato, Kumar, Sharma, Patel, Singh,
    Chen, Wang, Li, Zhang, Kim, Park, O'Brien, Murphy, Kelly, Silva, Santos, Oliveira, Costa, Pereira,
    Novak, Kowalski, Nowak, Horvath, Larsen, Hansen, Berg, Dahl, Walsh, Byrne, Fraser""")

# --- Time grid ---------------------------------------------------------------------------
_EPOCH_DAY = np.datetime64(DEMO_START.isoformat(), "D")
_EPOCH_SECOND = np.datetime64(DEMO_START.isoformat(), "s")
DAY = 86_400  # seconds
N_WEEKS = math.ceil((END_DAY + 1) / 7)
# Activity rates live on a weekly grid whose last week ends on DEMO_END.
WEEK_START = END_DAY + 1 - 7 * (N_WEEKS - np.arange(N_WEEKS))
WEEK_END = WEEK_START + 6
WEEK_MID = WEEK_START + 3


def _week_of(day: np.ndarray) -> np.ndarray:
    return (day - WEEK_START[0]) // 7


def _rng(seed: int, step: str) -> np.random.Generator:
    """An independent stream per generation step, so changing one step leaves the others' draws alone."""
    return np.random.default_rng([seed, zlib.crc32(step.encode())])


def _allocate(n: int, shares: list[float]) -> np.ndarray:
    """Split n into whole counts by share (largest remainder), so small scales keep every class."""
    raw = np.asarray(shares, dtype=float) / sum(shares) * n
    counts = np.floor(raw).astype(np.int64)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return counts


def _choice(rng: np.random.Generator, shares: list[float], size: int) -> np.ndarray:
    p = np.asarray(shares, dtype=float)
    return rng.choice(len(p), size=size, p=p / p.sum())


def _choice_by_class(rng: np.random.Generator, table: np.ndarray, cls: np.ndarray) -> np.ndarray:
    """Draw one category per row from the row's class's distribution (table[class] = shares)."""
    cdf = np.cumsum(table / table.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(cls))
    out = np.empty(len(cls), dtype=np.int64)
    for c in np.flatnonzero(np.bincount(cls)):  # a loop over a few classes, not rows
        rows = cls == c
        out[rows] = np.minimum(np.searchsorted(cdf[c], u[rows], side="right"), table.shape[1] - 1)
    return out


# numpy's plain unique / isin / setdiff1d hash their input, which is very slow for millions of
# int64 keys (~30 s for 6M); sorting is ~50x faster, so set operations go through these.
def _sorted_unique(a: np.ndarray) -> np.ndarray:
    s = np.sort(a)
    return s[_group_starts(s)]


def _contains(sorted_keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """values in sorted_keys, elementwise."""
    at = np.minimum(np.searchsorted(sorted_keys, values), max(len(sorted_keys) - 1, 0))
    return (sorted_keys[at] == values) if len(sorted_keys) else np.zeros(len(values), dtype=bool)


def _without(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The values of a (sorted, unique) that are not in b."""
    return a[~_contains(np.sort(b), a)]


def _group_starts(sorted_keys: np.ndarray) -> np.ndarray:
    """Boolean mask: True at the first row of each run of equal keys."""
    first = np.ones(len(sorted_keys), dtype=bool)
    first[1:] = sorted_keys[1:] != sorted_keys[:-1]
    return first


def _rank_in_group(group: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within each run of equal values of a grouped (contiguous) array."""
    idx = np.arange(len(group))
    starts = np.maximum.accumulate(np.where(_group_starts(group), idx, 0))
    return idx - starts


def _pick_rows(rng: np.random.Generator, candidates: np.ndarray, share: float, base: int) -> np.ndarray:
    """About share x base rows from candidates (at least one when any), for a planted error."""
    n = min(len(candidates), max(1, round(share * base)))
    return np.sort(rng.choice(candidates, size=n, replace=False)) if n else candidates[:0]


def _month_start(day: np.ndarray) -> np.ndarray:
    month = (_EPOCH_DAY + day.astype("timedelta64[D]")).astype("datetime64[M]")
    return (month.astype("datetime64[D]") - _EPOCH_DAY).astype(np.int64)


def _quarter_start(day: np.ndarray) -> np.ndarray:
    month = (_EPOCH_DAY + day.astype("timedelta64[D]")).astype("datetime64[M]")
    first = month - (month.astype(np.int64) % 3)  # datetime64[M] counts months from 1970-01
    return (first.astype("datetime64[D]") - _EPOCH_DAY).astype(np.int64)


def _quarter_end(day: np.ndarray) -> np.ndarray:
    month = (_EPOCH_DAY + day.astype("timedelta64[D]")).astype("datetime64[M]")
    following = month - (month.astype(np.int64) % 3) + 3
    return (following.astype("datetime64[D]") - _EPOCH_DAY).astype(np.int64) - 1


def _dates(day: np.ndarray) -> np.ndarray:
    return _EPOCH_DAY + day.astype("timedelta64[D]")


def _timestamps(second: np.ndarray) -> np.ndarray:
    # polars takes datetime64 in ms, not s
    return (_EPOCH_SECOND + second.astype("timedelta64[s]")).astype("datetime64[ms]")


def _ids(prefix: str, n: int, width: int) -> pl.Series:
    """Zero-padded ids (P00001, ...), widened when n needs more digits."""
    width = max(width, len(str(n)))
    digits = pl.int_range(1, n + 1, dtype=pl.Int64).cast(pl.String).str.zfill(width)
    return pl.select(pl.concat_str(pl.lit(prefix), digits)).to_series()


def _labels(vocab: list[str], codes: np.ndarray) -> pl.Series:
    return pl.Series(vocab, dtype=pl.String).gather(codes)


def _unique_names(rng: np.random.Generator, n: int, parts: list[list[str]], qualifiers: list[str]) -> pl.Series:
    """n distinct names: a random pick of the product of parts (stem + ending + industry).

    When n exceeds that product, each further round adds the next qualifier, so names stay
    unique at any scale the qualifiers cover (and get a number beyond that).
    """
    sizes = [len(p) for p in parts]
    space = math.prod(sizes)
    codes = np.concatenate([rng.permutation(space) for _ in range(math.ceil(n / space))])[:n]
    rounds = np.arange(n) // space
    digits = []
    rest = codes
    for size in reversed(sizes):
        digits.append(rest % size)
        rest = rest // size
    digits.reverse()
    stem = _labels(parts[0], digits[0]) + _labels(parts[1], digits[1])
    extra = [f" {q.strip()}" if q else "" for q in qualifiers]
    extra += [f" {k}" for k in range(len(qualifiers), int(rounds.max(initial=0)) + 1)]
    names = pl.concat_str([stem, pl.lit(" "), _labels(parts[2], digits[2]), _labels(extra, rounds)])
    return pl.select(names).to_series()


def _human_names(rng: np.random.Generator, n: int) -> pl.Series:
    """n distinct person names; a middle initial separates them beyond 100 x 100."""
    space = len(FIRST_NAMES) * len(LAST_NAMES)
    initials = [""] + [f" {chr(c)}." for c in range(ord("A"), ord("Z") + 1)]
    codes = rng.choice(space * len(initials), size=n, replace=False) if n > space else rng.choice(space, size=n, replace=False)
    first, rest = codes % len(FIRST_NAMES), codes // len(FIRST_NAMES)
    last, initial = rest % len(LAST_NAMES), rest // len(LAST_NAMES)
    names = pl.concat_str([_labels(FIRST_NAMES, first), _labels(initials, initial), pl.lit(" "), _labels(LAST_NAMES, last)])
    return pl.select(names).to_series()


# --- Partners ----------------------------------------------------------------------------
@dataclass
class Partners:
    """Partner attributes and the processes each one's behaviour is drawn from (day indices)."""

    n: int
    archetype: np.ndarray
    rhythm_days: np.ndarray  # regular partners: days between their acts (0: acts at Poisson times)
    region: np.ndarray
    primary: np.ndarray
    tier: np.ndarray
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
    frame: pl.DataFrame  # partners.csv

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


def _make_partners(n: int, managers: pl.Series, seed: int) -> Partners:
    rng = _rng(seed, "partners")
    archetype = rng.permutation(np.repeat(np.arange(len(ARCHETYPES)), _allocate(n, ARCHETYPE_SHARES)))
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
    status[stopped & (u >= 0.35) & (u < 0.75)] = 1
    status[is_terminated] = 2
    terminated = np.full(n, -1)
    terminated[is_terminated] = work_hi[is_terminated] + rng.integers(20, 81, is_terminated.sum())
    # Not yet terminated by the demo's last day: still on the books, set inactive.
    late = terminated > END_DAY
    status[late], terminated[late] = 1, -1
    is_terminated &= ~late
    login_hi[is_terminated] = np.minimum(login_hi[is_terminated], terminated[is_terminated])

    region = _choice(rng, REGION_SHARES, n)
    country_table = np.array([[c[2] if c[0] == r else 0.0 for c in COUNTRIES] for r in range(4)])
    country = _choice_by_class(rng, country_table, region)
    legal = [c[3] for c in COUNTRIES]
    legal_offset = np.cumsum([0] + [len(x) for x in legal[:-1]])
    legal_code = legal_offset[country] + (rng.random(n) * np.array([len(x) for x in legal])[country]).astype(np.int64)

    tier = _choice_by_class(rng, np.array(TIER_BY_ARCHETYPE), archetype)
    primary = _choice(rng, PRIMARY_TYPE_SHARES, n)
    # About a quarter play more than one role: one or two extra types besides the primary.
    n_extra = np.where(rng.random(n) < 0.25, np.where(rng.random(n) < 0.8, 1, 2), 0)
    keys = rng.random((n, len(PARTNER_TYPES)))
    keys[np.arange(n), primary] = 2.0
    ranked = np.argsort(keys, axis=1)
    has_type = np.zeros((n, len(PARTNER_TYPES)), dtype=bool)
    for k in range(2):
        rows = n_extra > k
        has_type[rows, ranked[rows, k]] = True
    flags = pl.DataFrame({t: has_type[:, k] for k, t in enumerate(PARTNER_TYPES)})
    partner_types = flags.select(
        pl.concat_str(
            [pl.lit(_labels(PARTNER_TYPES, primary))] + [pl.when(pl.col(t)).then(pl.lit(t)) for t in PARTNER_TYPES],
            separator=";",
            ignore_nulls=True,
        )
    ).to_series()

    names = _unique_names(rng, n, [NAME_STEMS, NAME_ENDINGS, PARTNER_INDUSTRIES], [""])
    manager = rng.permutation(n) % len(managers)  # balanced books, ~40 partners each

    frame = pl.DataFrame(
        {
            "partner_id": _ids("P", n, 5),
            "partner_name": pl.select(
                pl.concat_str([names, pl.lit(" "), _labels([f for x in legal for f in x], legal_code)])
            ).to_series(),
            "partner_types": partner_types,
            "tier": _labels(TIERS, tier),
            "joined_at": _dates(join),
            "region": _labels(REGIONS, region),
            "country": _labels([c[1] for c in COUNTRIES], country),
            "partner_manager": managers.gather(manager),
            "status": _labels(STATUSES, status),
            "terminated_at": _dates(np.maximum(terminated, 0)),
        }
    ).with_columns(terminated_at=pl.when(pl.Series(terminated >= 0)).then(pl.col("terminated_at")))
    return Partners(
        n=n,
        archetype=archetype,
        rhythm_days=rhythm_days,
        region=region,
        primary=primary,
        tier=tier,
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
        frame=frame,
    )


# --- Weekly rates ------------------------------------------------------------------------
@dataclass
class Rates:
    """Per week x partner: expected activities, and the weight of being picked for a deal."""

    work: np.ndarray  # (N_WEEKS, n) effort expected that week: activities other than logins and tickets
    login: np.ndarray  # (N_WEEKS, n) portal logins expected that week
    ticket: np.ndarray  # (N_WEEKS, n) support tickets expected that week
    deal: np.ndarray  # (N_WEEKS, n) relative chance of joining a deal created that week


def _make_rates(p: Partners, target_events: float, seed: int) -> Rates:
    rng = _rng(seed, "rates")
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
    deal_base = np.where(p.rhythm_days > 0, 0.3, deal_base) * np.array([0.6, 1.0, 1.5, 2.2])[p.tier]
    deal = np.where(work_alive, shape * deal_base, 0.0)
    return Rates(work=work * factor, login=login * factor, ticket=ticket, deal=deal)


def _sample_partners(
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


# --- Accounts and opportunities ----------------------------------------------------------
@dataclass
class Deals:
    """Opportunities: base attributes first, outcome and CRM fields filled in later steps."""

    n: int
    created: np.ndarray
    close: np.ndarray
    closed: np.ndarray
    stale: np.ndarray  # open, but the expected close date has passed
    account: np.ndarray
    region: np.ndarray
    segment: np.ndarray
    amount: np.ndarray
    involved: np.ndarray  # drawn partner-involved (touches may still thin out)
    sourced: np.ndarray
    won: np.ndarray | None = None
    sourced_partner: np.ndarray | None = None
    source: np.ndarray | None = None


def _make_deals(n: int, acc_region: np.ndarray, acc_segment: np.ndarray, rates: Rates, seed: int) -> Deals:
    rng = _rng(seed, "deals")
    day = np.arange(END_DAY + 1)
    # The business grows ~70% over the three years; little is created at weekends.
    weight = (1 + 0.7 * day / END_DAY) * np.where(day % 7 < 5, 1.0, 0.15)
    created = np.sort(rng.choice(END_DAY + 1, size=n, p=weight / weight.sum()))
    account = rng.integers(0, len(acc_region), n)
    segment, region = acc_segment[account], acc_region[account]

    cycle = rng.lognormal(np.log(75), 0.5, n) * np.array(SEGMENT_CYCLE_FACTOR)[segment]
    close = created + np.clip(cycle, 30, 200).astype(np.int64)
    # Quarter-end seasonality: many deals are pulled into the last days of their quarter.
    snapped = _quarter_end(close) - rng.integers(0, 10, n)
    snap = (rng.random(n) < 0.45) & (snapped - created >= 30) & (snapped - created <= 200)
    close = np.where(snap, snapped, close)
    past = close <= END_DAY
    stale = past & (rng.random(n) < np.where(close > END_DAY - 150, 0.08, 0.015))

    # Partner involvement follows the program's capacity: few deals while few partners
    # have joined, ~45% overall.
    capacity = np.sqrt(rates.deal.sum(axis=1) / max(rates.deal.sum(axis=1).max(), 1e-9))
    capacity = capacity[_week_of(created)]
    p_involved = np.minimum(0.85, 0.45 / max(capacity.mean(), 1e-9) * capacity)
    involved = rng.random(n) < p_involved
    sourced = involved & (rng.random(n) < 0.42)

    amount = rng.lognormal(np.log(np.array(SEGMENT_MEDIAN_AMOUNT)[segment]), 0.55)
    amount = np.round(np.clip(amount * np.where(involved, 1.3, 1.0), 1_500, 2_500_000), 2)
    return Deals(
        n=n,
        created=created,
        close=close,
        closed=past & ~stale,
        stale=stale,
        account=account,
        region=region,
        segment=segment,
        amount=amount,
        involved=involved,
        sourced=sourced,
    )


# --- Touchpoints -------------------------------------------------------------------------
@dataclass
class Touches:
    deal: np.ndarray
    partner: np.ndarray
    second: np.ndarray  # occurred_at, seconds since DEMO_START
    type: np.ndarray
    pair: np.ndarray  # index into the (deal, partner) pairs below
    pair_deal: np.ndarray
    pair_partner: np.ndarray
    pair_lead: np.ndarray  # the sourcing partner's pair
    pair_first: np.ndarray  # index of the pair's earliest touch


def _make_touches(d: Deals, p: Partners, rates: Rates, seed: int) -> Touches:
    rng = _rng(seed, "touches")
    # 1-6 partners per involved deal, drawn among the partners active in the creation week
    # (mostly of the deal's region); the first drawn is the sourcing partner.
    k = np.where(d.involved, _choice(rng, [0.34, 0.28, 0.18, 0.11, 0.06, 0.03], d.n) + 1, 0)
    row_deal = np.repeat(np.arange(d.n), k)
    lead = (_rank_in_group(row_deal) == 0) & d.sourced[row_deal]
    partner = _sample_partners(
        rng,
        _week_of(d.created[row_deal]),
        d.region[row_deal],
        rng.random(len(row_deal)) < 0.85,
        rates.deal,
        p.region,
    )
    drawn = np.flatnonzero(partner >= 0)
    _, first = np.unique(row_deal[drawn] * p.n + partner[drawn], return_index=True)
    keep = np.sort(drawn[first])  # one pair per (deal, partner), the first draw kept
    pair_deal, pair_partner, pair_lead = row_deal[keep], partner[keep], lead[keep]
    d.sourced = np.zeros(d.n, dtype=bool)
    d.sourced[pair_deal[pair_lead]] = True

    n_touch = 1 + rng.poisson(np.where(p.archetype[pair_partner] == STAR, 2.4, 1.7))
    pair = np.repeat(np.arange(len(pair_deal)), n_touch)
    deal, who = pair_deal[pair], pair_partner[pair]
    n = len(pair)
    lo = np.maximum(d.created[deal] - 60, p.join[who])
    hi = np.where(d.closed[deal], d.close[deal], END_DAY)
    day = np.where(lo <= hi, lo + (rng.random(n) * (hi - lo + 1)).astype(np.int64), -1)
    # The sourcing partner's first touch comes first: up to a month before creation.
    forced = pair_lead[pair] & (_rank_in_group(pair) == 0)
    early = np.maximum(p.join[who], d.created[deal] - rng.integers(0, 31, n))
    early = np.where(p.alive(who, early), early, d.created[deal])
    day = np.where(forced, early, day)
    # A few touches after close, and a few more than the 365-day lookback before it:
    # attribution must ignore both.
    u = rng.random(n)
    after = ~forced & d.closed[deal] & (u < 0.02)
    day = np.where(after, d.close[deal] + rng.integers(1, 46, n), day)
    ancient = ~forced & (u >= 0.02) & (u < 0.03)
    day = np.where(ancient, d.close[deal] - rng.integers(LOOKBACK_DAYS + 6, 501, n), day)
    valid = (day >= 0) & (day <= END_DAY) & p.alive(who, day)
    # After its decline a partner keeps only its kept share of its touches.
    fading = p.declined(who, day) & ~forced
    valid &= ~(fading & (rng.random(n) >= p.kept[who]))
    second = day * DAY + 8 * 3600 + rng.integers(0, 120, n) * 300  # 08:00-17:55, 5-min steps
    touch_type = _choice_by_class(rng, np.array(TOUCH_BY_PRIMARY, dtype=float), p.primary[who])

    deal, who, second, touch_type, pair = deal[valid], who[valid], second[valid], touch_type[valid], pair[valid]
    # Re-index the pairs that kept at least one touch.
    kept_pairs, pair = np.unique(pair, return_inverse=True)
    order = np.lexsort((second, pair))
    pair_first = np.empty(len(kept_pairs), dtype=np.int64)
    pair_first[pair[order[_group_starts(pair[order])]]] = order[_group_starts(pair[order])]
    return Touches(
        deal=deal,
        partner=who,
        second=second,
        type=touch_type,
        pair=pair,
        pair_deal=pair_deal[kept_pairs],
        pair_partner=pair_partner[kept_pairs],
        pair_lead=pair_lead[kept_pairs],
        pair_first=pair_first,
    )


def _decide_outcomes(d: Deals, t: Touches, p: Partners, seed: int) -> None:
    """Won or lost: partner involvement and stars lift the win rate; a partner's decline drags the
    deals it works on that close after it began (by the partner's own win factor)."""
    rng = _rng(seed, "outcomes")
    touched = np.bincount(t.deal, minlength=d.n) > 0
    star = np.bincount(t.deal, weights=p.archetype[t.partner] == STAR, minlength=d.n) > 0
    drag = np.ones(d.n)
    after = p.declined(t.partner, d.close[t.deal])
    np.minimum.at(drag, t.deal[after], p.win_factor[t.partner[after]])
    p_win = np.array(SEGMENT_WIN_RATE)[d.segment] * np.where(touched | d.sourced, 1.45, 1.0) * np.where(star, 1.15, 1.0) * drag
    d.won = d.closed & (rng.random(d.n) < p_win)


# --- Opportunity history -----------------------------------------------------------------
def _forecast_category(stage: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Forecast category consistent with the stage; u is the deal's rep temperament."""
    return np.select(
        [
            stage == WON_STAGE,
            stage == LOST_STAGE,
            stage <= 1,
            stage <= 3,
            stage <= 5,
            stage == 6,
        ],
        [
            FC_CLOSED,
            FC_OMITTED,
            np.where(u > 0.9, FC_OMITTED, FC_PIPELINE),
            np.where(u > 0.75, FC_BEST_CASE, FC_PIPELINE),
            np.where(u < 0.55, FC_BEST_CASE, np.where(u > 0.9, FC_COMMIT, FC_PIPELINE)),
            np.where(u < 0.5, FC_COMMIT, FC_BEST_CASE),
        ],
        np.where(u < 0.75, FC_COMMIT, FC_BEST_CASE),  # Negotiation/Review
    )


@dataclass
class History:
    deal: np.ndarray
    stage: np.ndarray
    second: np.ndarray
    amount: np.ndarray
    close: np.ndarray
    forecast: np.ndarray
    last: np.ndarray  # index of each deal's last row (its current state)


def _make_history(d: Deals, seed: int) -> History:
    """One row per change: stage advances, one close-date slip, one amount change, the close."""
    rng = _rng(seed, "history")
    n = d.n
    open_now = ~d.closed
    progress = (END_DAY - d.created) / np.maximum(d.close - d.created, 1)
    stage_open = np.clip(np.floor(progress * 7.5 + rng.normal(0, 0.8, n)), 0, 7).astype(np.int64)
    stage_open = np.where(d.stale, rng.integers(3, 8, n), stage_open)  # stuck mid-to-late funnel
    # Highest open stage reached: won deals went through negotiation, lost ones fell anywhere.
    top = np.where(d.won, np.where(rng.random(n) < 0.7, 7, 6), rng.integers(0, 7, n))
    top = np.where(open_now, stage_open, top)
    first = np.minimum(np.where(rng.random(n) < 0.6, 0, 1), top)
    n_stages = np.clip(1 + rng.poisson(1.8, n), 1, np.minimum(4, top - first + 1))
    first = np.where(n_stages == 1, top, first)

    # Intermediate stages: a random sorted pick strictly between first and top.
    keys = rng.random((n, 8))
    stage_idx = np.arange(8)[None, :]
    keys[(stage_idx <= first[:, None]) | (stage_idx >= top[:, None])] = 2.0
    middle = np.sort(np.argsort(keys, axis=1)[:, :2], axis=1)
    middle[:, 0] = np.where(n_stages == 3, np.argsort(keys, axis=1)[:, 0], middle[:, 0])
    path = np.column_stack([first, top, top, top])
    path[:, 1] = np.where(n_stages >= 3, middle[:, 0], top)
    path[:, 2] = np.where(n_stages == 4, middle[:, 1], top)

    # ~25% of deals slip: the close date was first set in an earlier quarter.
    first_close = _quarter_start(d.close) - 1 - rng.integers(0, 16, n)
    slip = (rng.random(n) < 0.45) & (first_close >= d.created + 14)
    resized = rng.random(n) < 0.45
    first_amount = np.maximum(np.round(d.amount * rng.uniform(0.6, 1.4, n), -2), 500.0)
    resized &= first_amount != d.amount
    n_open = n_stages + slip + resized
    rows = n_open + d.closed
    deal = np.repeat(np.arange(n), rows)
    j = _rank_in_group(deal)
    total = len(deal)

    # Which open-row transitions advance the stage (n_stages - 1 of them) and which are the
    # slip / resize changes: a random order within each deal.
    transition = (j >= 1) & (j < n_open[deal])
    key = np.where(transition, rng.random(total), 2.0)
    order = np.lexsort((key, deal))
    rank = np.empty(total, dtype=np.int64)
    rank[order] = _rank_in_group(deal[order])
    advance = transition & (rank < n_stages[deal] - 1)
    extra = transition & ~advance
    starts = np.flatnonzero(j == 0)
    csum = np.cumsum(advance)
    step = csum - csum[starts][deal]
    stage = path[deal, np.minimum(step, 3)]
    is_close_row = j == n_open[deal]
    stage = np.where(is_close_row, np.where(d.won[deal], WON_STAGE, LOST_STAGE), stage)

    ecsum = np.cumsum(extra)
    extra_rank = ecsum - ecsum[starts][deal] - 1
    slip_first = rng.random(n) < 0.5
    slip_row = extra & slip[deal] & (~resized[deal] | (extra_rank == np.where(slip_first, 0, 1)[deal]))
    resize_row = extra & ~slip_row
    scsum, rcsum = np.cumsum(slip_row), np.cumsum(resize_row)
    slipped = (scsum - scsum[starts][deal]) > 0
    resized_yet = (rcsum - rcsum[starts][deal]) > 0
    close = np.where(slip[deal] & ~slipped, first_close[deal], d.close[deal])
    amount = np.where(resized[deal] & ~resized_yet, first_amount[deal], d.amount[deal])

    temper = rng.random(n)
    forecast = _forecast_category(stage, temper[deal])
    last = np.cumsum(rows) - 1
    # Some stale deals were parked by their rep: omitted from the forecast.
    parked = d.stale & (rng.random(n) < 0.25)
    forecast[last[parked]] = FC_OMITTED

    # Times: created in the morning, closed on the close date, changes in between; open
    # deals were last touched some time before DEMO_END. +j minutes keeps rows strictly
    # ordered, so "the state as of t" is never ambiguous.
    t0 = d.created * DAY + 8 * 3600 + rng.integers(0, 240, n) * 60
    t_last = np.where(
        d.closed,
        d.close * DAY + 15 * 3600 + rng.integers(0, 120, n) * 60,
        t0 + rng.random(n) * ((END_DAY * DAY + 18 * 3600) - t0),
    ).astype(np.int64)
    t_last = np.where(rows == 1, t0, t_last)
    raw = t0[deal] + (rng.random(total) * (t_last - t0)[deal]).astype(np.int64)
    raw = np.where(j == 0, t0[deal], np.where(j == rows[deal] - 1, t_last[deal], raw))
    second = raw[np.lexsort((raw, deal))] // 60 * 60 + j * 60  # sorted within each deal
    return History(deal=deal, stage=stage, second=second, amount=amount, close=close, forecast=forecast, last=last)


# --- Planted-error bookkeeping -----------------------------------------------------------
@dataclass
class Planted:
    """Rows of truth/planted_errors.csv, with internal indices mapped to ids at the end."""

    kind: list[np.ndarray]
    cols: dict[str, list[np.ndarray]]

    FIELDS = (
        "payout",
        "deal",
        "partner",
        "registration",
        "other_partner",
        "other_registration",
        "other_payout",
        "expected",
        "actual",
    )

    @classmethod
    def empty(cls) -> Planted:
        return cls(kind=[], cols={f: [] for f in cls.FIELDS})

    def add(self, kind: str, n: int, **values: np.ndarray) -> None:
        self.kind.append(np.full(n, ERROR_KINDS.index(kind)))
        for f in self.FIELDS:
            default = np.full(n, np.nan) if f in ("expected", "actual") else np.full(n, -1)
            self.cols[f].append(np.asarray(values.get(f, default)))

    def column(self, field: str) -> np.ndarray:
        return np.concatenate(self.cols[field]) if self.cols[field] else np.zeros(0)


# --- Deal registrations ------------------------------------------------------------------
@dataclass
class Registrations:
    partner: np.ndarray
    deal: np.ndarray  # -1: registered an account, no opportunity yet
    account: np.ndarray
    second: np.ndarray
    status: np.ndarray
    role: np.ndarray  # 0 sourced, 1 influenced
    decided: np.ndarray  # seconds, -1 while pending


def _decide_registrations(rng: np.random.Generator, second: np.ndarray, status: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Decision times: days for approve/reject, 90 days to expire; undecided by DEMO_END = submitted."""
    n = len(second)
    delay = np.where(status == 3, 90 * DAY, rng.integers(8 * 60, 10 * 24 * 60, n) * 60)
    decided = second + delay
    pending = decided > END_DAY * DAY + 18 * 3600
    return np.where(pending, 0, status), np.where(pending, -1, decided)


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
        drawn = _sample_partners(rng, _week_of(day[todo]), region[todo], rng.random(len(todo)) < 0.85, rates.deal, p.region)
        ok = (drawn >= 0) & (drawn != not_this[todo])
        out[todo[ok]] = drawn[ok]
        todo = todo[~ok]
        if not len(todo):
            break
    return out


def _make_registrations(
    d: Deals, t: Touches, p: Partners, rates: Rates, acc_region: np.ndarray, planted: Planted, seed: int
) -> Registrations:
    rng = _rng(seed, "registrations")
    # Natural registrations: at most one per deal, by its sourcing partner on a sourced deal,
    # else by the first partner whose kind of business registers deals.
    p_register = np.where(
        t.pair_lead,
        0.72,
        np.where(d.sourced[t.pair_deal], 0.0, np.array([0.2, 0.35, 0.1, 0.15, 0.15, 0.35])[p.primary[t.pair_partner]]),
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
    first_row = np.maximum.accumulate(np.where(_group_starts(account[order]), idx, 0))
    keep = np.sort(order[partner[order] == partner[order][first_row]])
    pair, second, partner, deal, account = pair[keep], second[keep], partner[keep], deal[keep], account[keep]
    role = np.where(t.pair_lead[pair], 0, 1)
    status = _choice_by_class(rng, np.array([[0, 0.82, 0.08, 0.10], [0, 0.60, 0.25, 0.15]]), role)
    status, decided = _decide_registrations(rng, second, status)
    n_natural = len(pair)

    # The registering partner's first touch is the registration; a sourcing partner who did
    # not register referred the deal.
    t.type[t.pair_first[pair]] = TOUCH_TYPES.index("deal_registration")
    unregistered_lead = _without(np.flatnonzero(t.pair_lead), pair)
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
        np.where(registered, _choice(rng, SOURCE_SHARES_REGISTERED, d.n), _choice(rng, SOURCE_SHARES_DIRECT, d.n)),
    )

    # Registrations of accounts with no opportunity yet, on accounts nobody else registered.
    free_accounts = _without(np.arange(len(acc_region)), account)
    n_orphans = min(len(free_accounts), round(0.05 * n_natural))
    o_account = np.sort(rng.choice(free_accounts, size=n_orphans, replace=False))
    o_day = rng.integers(60, END_DAY + 1, n_orphans)
    o_partner = _sample_partners(rng, _week_of(o_day), acc_region[o_account], rng.random(n_orphans) < 0.85, rates.deal, p.region)
    ok = o_partner >= 0
    o_account, o_day, o_partner = o_account[ok], o_day[ok], o_partner[ok]
    o_second = o_day * DAY + 9 * 3600 + rng.integers(0, 9 * 60, len(o_day)) * 60
    o_role = np.where(rng.random(len(o_day)) < 0.8, 0, 1)
    o_status, o_decided = _decide_registrations(rng, o_second, _choice(rng, [0, 0.20, 0.45, 0.35], len(o_day)))

    # Planted: a second partner registers the same opportunity (or, for a quarter of them,
    # the same account without an opportunity) 1-20 days later; never approved itself. Only
    # on registrations approved or still pending: a rejected or expired one leaves the deal
    # open to others, which is no conflict.
    standing = np.flatnonzero(((status == 1) | (status == 0)) & (second // DAY < END_DAY))
    c_of = _pick_rows(rng, standing, PLANTED_ERROR_SHARES["registration_conflict"], n_natural)
    c_day = np.minimum(second[c_of] // DAY + rng.integers(1, 21, len(c_of)), END_DAY)
    c_partner = _other_partner(rng, partner[c_of], c_day, d.region[deal[c_of]], rates, p)
    ok = c_partner >= 0
    c_of, c_day, c_partner = c_of[ok], c_day[ok], c_partner[ok]
    c_second = c_day * DAY + 9 * 3600 + rng.integers(0, 9 * 60, len(c_of)) * 60
    c_deal = np.where(rng.random(len(c_of)) < 0.25, -1, deal[c_of])
    c_role = np.where(rng.random(len(c_of)) < 0.7, 0, 1)
    c_status, c_decided = _decide_registrations(rng, c_second, _choice(rng, [0, 0, 0.6, 0.4], len(c_of)))
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
    candidates = np.flatnonzero((role == 0) & (status == 1))
    x_of = _pick_rows(rng, candidates, PLANTED_ERROR_SHARES["crm_vs_registration"], n_natural)
    x_of = _without(x_of, c_of)
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
    candidates = _without(np.flatnonzero((role == 1) & (status == 1)), c_of)
    k_of = _pick_rows(rng, candidates, PLANTED_ERROR_SHARES["channel_conflict"], n_natural)
    d.source[deal[k_of]] = SOURCES.index("direct")
    planted.add("channel_conflict", len(k_of), deal=deal[k_of], partner=partner[k_of], registration=k_of)

    return Registrations(
        partner=np.concatenate([partner, o_partner, c_partner]),
        deal=np.concatenate([deal, np.full(len(o_day), -1), c_deal]),
        account=np.concatenate([account, o_account, d.account[deal[c_of]]]),
        second=np.concatenate([second, o_second, c_second]),
        status=np.concatenate([status, o_status, c_status]),
        role=np.concatenate([role, o_role, c_role]),
        decided=np.concatenate([decided, o_decided, c_decided]),
    )


# --- Payouts -----------------------------------------------------------------------------
@dataclass
class Payouts:
    partner: np.ndarray
    deal: np.ndarray  # -1 for payouts not tied to a deal (mdf, spiff, bonus, rebate)
    amount: np.ndarray
    type: np.ndarray
    period: np.ndarray  # day of the month's first day
    status: np.ndarray
    paid: np.ndarray  # day, -1 when not paid


def _payout_status(rng: np.random.Generator, ref_day: np.ndarray, lag: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Paid (lag days after ref_day) once the payment terms have passed; else approved / accrued."""
    age = END_DAY - ref_day
    status = np.select([age >= PAYMENT_TERMS_DAYS, age >= 30], [2, 1], 0)
    paid = np.where(status == 2, ref_day + rng.integers(lag[0], lag[1] + 1, len(ref_day)), -1)
    return status, paid


def _make_payouts(d: Deals, t: Touches, p: Partners, rates: Rates, planted: Planted, seed: int) -> Payouts:
    rng = _rng(seed, "payouts")
    tier_rate = np.array([TIER_RATES[name] for name in TIERS])[p.tier]
    commission_type = np.where(p.primary == REFERRAL, PAYOUT_TYPES.index("referral_fee"), 0)

    # The plan: linear credit over the eligible touches of each won deal (on or before the
    # close date, at most LOOKBACK_DAYS before it), times the partner's tier rate.
    day = t.second // DAY
    eligible = d.won[t.deal] & (day <= d.close[t.deal]) & (d.close[t.deal] - day <= LOOKBACK_DAYS)
    n_eligible = np.bincount(t.deal[eligible], minlength=d.n)
    keys, count = np.unique(t.deal[eligible] * p.n + t.partner[eligible], return_counts=True)
    deal, partner = keys // p.n, keys % p.n
    credit = d.amount[deal] * count / n_eligible[deal]
    due = np.round(credit * tier_rate[partner], 2)
    n_due = len(deal)

    # Planted: credit left unpaid well past the payment terms.
    late = np.flatnonzero(d.close[deal] <= END_DAY - PAYMENT_TERMS_DAYS - 15)
    unpaid = _pick_rows(rng, late, PLANTED_ERROR_SHARES["credit_without_payout"], n_due)
    planted.add(
        "credit_without_payout",
        len(unpaid),
        deal=deal[unpaid],
        partner=partner[unpaid],
        expected=credit[unpaid],
        actual=due[unpaid],
    )
    paid_rows = _without(np.arange(n_due), unpaid)
    deal, partner, credit, due = deal[paid_rows], partner[paid_rows], credit[paid_rows], due[paid_rows]
    amount = due.copy()
    n_paid = len(deal)

    # Planted: amounts off by 5-30% (only where that is well above the 1-unit tolerance).
    wrong = _pick_rows(rng, np.flatnonzero(due >= 100), PLANTED_ERROR_SHARES["payout_amount_mismatch"], n_due)
    sign = np.where(rng.random(len(wrong)) < 0.5, -1.0, 1.0)
    amount[wrong] = np.round(due[wrong] * (1 + sign * rng.uniform(0.05, 0.30, len(wrong))), 2)
    planted.add(
        "payout_amount_mismatch",
        len(wrong),
        payout=wrong,
        deal=deal[wrong],
        partner=partner[wrong],
        expected=due[wrong],
        actual=amount[wrong],
    )

    # Planted: the same payout booked twice (copies come after all other payouts).
    twice = _pick_rows(rng, _without(np.arange(n_paid), wrong), PLANTED_ERROR_SHARES["duplicate_payout"], n_due)

    # Planted: a payout to a partner who never touched the deal.
    won = np.flatnonzero(d.won)
    n_uncredited = max(1, round(PLANTED_ERROR_SHARES["payout_without_credit"] * n_due))
    w_deal = np.sort(rng.choice(won, size=min(len(won), n_uncredited), replace=False))
    touch_keys = _sorted_unique(t.deal * p.n + t.partner)
    w_partner = np.full(len(w_deal), -1, dtype=np.int64)
    todo = np.arange(len(w_deal))
    for _ in range(8):  # redraw rounds over the clashing rows only
        drawn = _sample_partners(
            rng, _week_of(d.close[w_deal[todo]]), d.region[w_deal[todo]], np.ones(len(todo), bool), rates.deal, p.region
        )
        ok = (drawn >= 0) & ~_contains(touch_keys, w_deal[todo] * p.n + drawn)
        w_partner[todo[ok]] = drawn[ok]
        todo = todo[~ok]
    w_deal, w_partner = w_deal[w_partner >= 0], w_partner[w_partner >= 0]
    w_amount = np.round(d.amount[w_deal] * tier_rate[w_partner] * rng.uniform(0.2, 0.6, len(w_deal)), 2)
    planted.add(
        "duplicate_payout",
        len(twice),
        payout=n_paid + np.arange(len(twice)),
        deal=deal[twice],
        partner=partner[twice],
        other_payout=twice,
        actual=amount[twice],
    )
    planted.add(
        "payout_without_credit",
        len(w_deal),
        payout=n_paid + len(twice) + np.arange(len(w_deal)),
        deal=w_deal,
        partner=w_partner,
        actual=w_amount,
    )
    c_deal = np.concatenate([deal, deal[twice], w_deal])
    c_partner = np.concatenate([partner, partner[twice], w_partner])
    c_amount = np.concatenate([amount, amount[twice], w_amount])
    c_status, c_paid = _payout_status(rng, d.close[c_deal], (30, 60))

    # Payouts without an opportunity, on a partner x month grid while the partner is active.
    months = _sorted_unique(_month_start(np.arange(END_DAY + 1)))
    months = months[months >= 0]
    month_no = (_dates(months).astype("datetime64[M]").astype(np.int64) % 12) + 1
    mp, mm = np.meshgrid(np.arange(p.n), np.arange(len(months)), indexing="ij")
    mp, mm = mp.ravel(), mm.ravel()
    active = (p.join[mp] <= months[mm]) & (months[mm] <= p.work_hi[mp])
    quarter_first = month_no[mm] % 3 == 1  # Jan, Apr, Jul, Oct
    u = rng.random((4, len(mp)))
    rules = [  # (type, who and when, amount range in USD, rounding)
        ("mdf", active & quarter_first & (p.tier[mp] >= 2) & (u[0] < 0.35), (2_000, 25_000), -2),
        (
            "rebate",
            active & quarter_first & ((p.primary[mp] == RESELLER) | (p.primary[mp] == DISTRIBUTOR)) & (u[1] < 0.4),
            (500, 15_000),
            -1,
        ),
        ("spiff", active & (u[2] < 0.025), (250, 2_500), -1),
        (
            "bonus",
            active & (month_no[mm] == 1) & ((p.archetype[mp] == STAR) | (p.tier[mp] == 3)) & (u[3] < 0.6),
            (5_000, 40_000),
            -2,
        ),
    ]
    o_partner, o_period, o_type, o_amount = [], [], [], []
    for name, mask, (low, high), digits in rules:  # four payout types, not rows
        rows = np.flatnonzero(mask)
        o_partner.append(mp[rows])
        o_period.append(months[mm[rows]])
        o_type.append(np.full(len(rows), PAYOUT_TYPES.index(name)))
        o_amount.append(np.round(rng.uniform(low, high, len(rows)), digits))
    o_partner, o_period = np.concatenate(o_partner), np.concatenate(o_period)
    o_type, o_amount = np.concatenate(o_type), np.concatenate(o_amount)
    o_status, o_paid = _payout_status(rng, o_period, (20, 45))
    # A few paid rebates are clawed back (returned goods).
    clawed = (o_type == PAYOUT_TYPES.index("rebate")) & (o_status == 2) & (rng.random(len(o_type)) < 0.05)
    o_status = np.where(clawed, 3, o_status)

    return Payouts(
        partner=np.concatenate([c_partner, o_partner]),
        deal=np.concatenate([c_deal, np.full(len(o_partner), -1)]),
        amount=np.concatenate([c_amount, o_amount]),
        type=np.concatenate([commission_type[c_partner], o_type]),
        period=np.concatenate([_month_start(d.close[c_deal]), o_period]),
        status=np.concatenate([c_status, o_status]),
        paid=np.concatenate([c_paid, o_paid]),
    )


# --- Activities --------------------------------------------------------------------------
def _activity_mixes() -> np.ndarray:
    """Class table for effort activity types: class = 2 x phase + builds_integrations."""
    rows = []
    for phase, mix in enumerate([_MIX_NORMAL, _MIX_ONBOARDING, _MIX_NARROW]):
        for builds in (0, 1):
            shares = np.array(mix, dtype=float)
            if builds and phase != 2:  # integration partners ship connector releases
                shares[INTEGRATION_RELEASE] = 0.06 * shares.sum()
            rows.append(shares)
    return np.array(rows)


def _make_activities(p: Partners, rates: Rates, reg: Registrations, reg_ids: pl.Series, seed: int) -> pl.DataFrame:
    rng = _rng(seed, "activities")

    def expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        week, who = np.nonzero(counts)
        n = counts[week, who]
        return np.repeat(week, n), np.repeat(who, n)

    # Poisson streams on the weekly grid; an event lands on a random day of its week. Effort is
    # irregular: each week's rate is the expected one times a gamma draw (mean 1, sd 0.5).
    irregular = rng.gamma(4.0, 0.25, rates.work.shape)
    w_week, w_who = expand(rng.poisson(rates.work * irregular))
    l_week, l_who = expand(rng.poisson(rates.login))
    k_week, k_who = expand(rng.poisson(rates.ticket))
    w_day = WEEK_START[w_week] + rng.integers(0, 7, len(w_week))
    l_day = WEEK_START[l_week] + rng.integers(0, 7, len(l_week))
    k_day = WEEK_START[k_week] + rng.integers(0, 7, len(k_week))
    phase = np.select(
        [
            (p.archetype[w_who] == NEW) & (w_day - p.join[w_who] < 60),
            p.narrows[w_who] & p.declined(w_who, WEEK_MID[w_week]),
        ],
        [1, 2],
        0,
    )
    mixes = _activity_mixes()
    w_type = _choice_by_class(rng, mixes, 2 * phase + (p.primary[w_who] == INTEGRATION))

    # Rows outside the weekly streams: each newcomer's first training, early in its first whole week,
    # and the regular partners' beats, every rhythm_days (+/- a week) back from a last one inside their
    # last rhythm.
    new = np.flatnonzero(p.archetype == NEW)
    first_week = WEEK_START[np.minimum(np.searchsorted(WEEK_START, p.join[new]), N_WEEKS - 1)]
    regular = np.flatnonzero(p.rhythm_days > 0)
    step = p.rhythm_days[regular]
    last = END_DAY - (rng.random(len(regular)) * step).astype(np.int64)
    beats = np.maximum((last - p.join[regular]) // step + 1, 0)
    r_who = np.repeat(regular, beats)
    r_day = np.repeat(last, beats) - p.rhythm_days[r_who] * _rank_in_group(r_who) + rng.integers(-7, 8, len(r_who))
    r_ok = (r_day >= p.join[r_who]) & (r_day <= END_DAY)
    r_who, r_day = r_who[r_ok], r_day[r_ok]
    extra = [
        (new, np.minimum(first_week + rng.integers(0, 3, len(new)), END_DAY), np.full(len(new), TRAINING)),
        (r_who, r_day, _choice_by_class(rng, mixes, np.zeros(len(r_who), dtype=np.int64))),
        (k_who, k_day, np.full(len(k_who), SUPPORT_TICKET)),
    ]
    who = np.concatenate([w_who, *[x[0] for x in extra]])
    day = np.concatenate([w_day, *[x[1] for x in extra]])
    kind = np.concatenate([w_type, *[x[2] for x in extra]])
    detail_code = rng.integers(0, 1 << 30, len(who))
    # A certification lapses at its anniversary unless renewed: 30% of them, and up to all of a
    # declining partner's that come due after its decline. The lapse is recorded whether or not the
    # partner still works, as long as it is on the books (not terminated by then).
    due = day + CERTIFICATION_VALID_DAYS
    p_lapse = np.where(p.declined(who, due), p.lapse_after[who], 0.3)
    lapses = (kind == CERT_EARNED) & (rng.random(len(kind)) < p_lapse) & (due <= END_DAY)
    lapses &= (p.terminated[who] < 0) | (due <= p.terminated[who])
    who = np.concatenate([who, who[lapses]])
    kind = np.concatenate([kind, np.full(lapses.sum(), CERT_EXPIRED)])
    detail_code = np.concatenate([detail_code, detail_code[lapses]])
    day = np.concatenate([day, due[lapses]])
    second = day * DAY + 8 * 3600 + rng.integers(0, 11 * 60, len(day)) * 60  # 08:00-18:59

    who = np.concatenate([who, l_who])
    kind = np.concatenate([kind, np.full(len(l_who), LOGIN)])
    detail_code = np.concatenate([detail_code, np.zeros(len(l_who), dtype=np.int64)])
    second = np.concatenate([second, l_day * DAY + 6 * 3600 + rng.integers(0, 17 * 60, len(l_day)) * 60])

    # Details from a small vocabulary per type (index 0 = no detail).
    flat: list[str | None] = [None]
    offset, size = np.zeros(len(ACTIVITY_TYPES), np.int64), np.ones(len(ACTIVITY_TYPES), np.int64)
    for code in range(len(ACTIVITY_TYPES)):  # eleven types
        words = _words(ACTIVITY_DETAILS.get(code, ""))
        if words:
            offset[code], size[code] = len(flat), len(words)
            flat.extend(words)
    detail_index = np.where(offset[kind] > 0, offset[kind] + detail_code % size[kind], 0)
    u = rng.random(len(kind))
    quantity = np.where(
        (kind == CONTENT) & (u < 0.2), rng.integers(2, 6, len(kind)), np.where((kind == TRAINING) & (u < 0.05), 2, 1)
    )
    generated = pl.DataFrame(
        {
            "p": who,
            "t": kind,
            "s": second,
            "quantity": quantity,
            "detail": pl.Series(flat, dtype=pl.String).gather(detail_index),
        }
    )
    registered = pl.DataFrame(
        {
            "p": reg.partner,
            "t": np.full(len(reg.partner), DEAL_REGISTERED),
            "s": reg.second,
            "quantity": np.ones(len(reg.partner), dtype=np.int64),
            "detail": reg_ids,
        }
    )
    # Stable sort: rows tied on time, partner and type keep their (seeded) generation order.
    events = pl.concat([generated, registered]).sort(["s", "p", "t"], maintain_order=True)
    return pl.DataFrame(
        {
            "activity_id": _ids("A", events.height, 8),
            "partner_id": p.frame["partner_id"].gather(events["p"]),
            "activity_type": _labels(ACTIVITY_TYPES, events["t"].to_numpy()),
            "occurred_at": _timestamps(events["s"].to_numpy()),
            "quantity": events["quantity"],
            "detail": events["detail"],
        }
    )


# --- Frames and files --------------------------------------------------------------------
def _refs(ids: pl.Series, index: np.ndarray) -> pl.Series:
    """ids[index], null where index is -1."""
    picked = ids.gather(np.maximum(index, 0))
    return pl.DataFrame({"v": picked, "m": index >= 0}).select(pl.when("m").then("v")).to_series()


def _optional(values: np.ndarray, present: np.ndarray) -> pl.Series:
    return pl.DataFrame({"v": values, "m": present}).select(pl.when("m").then("v")).to_series()


def _money_text(col: str) -> pl.Expr:
    cents = (pl.col(col) * 100).round(0).cast(pl.Int64)
    return pl.concat_str((cents // 100).cast(pl.String), pl.lit("."), (cents % 100).cast(pl.String).str.zfill(2))


def write_demo(out_dir: Path, scale: float = 1.0, seed: int = 7) -> dict[str, int]:
    """Write a demo partner program's extracts, one CSV per table, into out_dir.

    About 500 partners, 20,000 opportunities, 60,000 touchpoints, 4,000 registrations and
    200,000 activities per unit of scale, over three years ending on DEMO_END. Ground truth
    for tests goes to ``out_dir/truth/`` (archetypes.csv, effort_rate.csv, planted_errors.csv).

    Returns rows written per table. The same seed and scale give byte-identical files.
    """
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    out_dir = Path(out_dir)
    (out_dir / "truth").mkdir(parents=True, exist_ok=True)
    n_partners = max(len(ARCHETYPES), round(BASE_PARTNERS * scale))
    n_deals = max(100, round(BASE_OPPORTUNITIES * scale))
    n_accounts = max(20, round(0.5 * n_deals))  # ~2 deals per customer account
    n_managers = max(1, round(n_partners / 40))
    n_reps = max(len(REGIONS), round(60 * scale))

    people = _human_names(_rng(seed, "people"), n_managers + n_reps)
    p = _make_partners(n_partners, people[:n_managers], seed)
    # ~3% of activities come from registrations and planted signals, outside the rates.
    rates = _make_rates(p, 0.97 * BASE_ACTIVITIES * scale, seed)
    rng = _rng(seed, "accounts")
    acc_region = _choice(rng, REGION_SHARES, n_accounts)
    acc_segment = _choice(rng, SEGMENT_SHARES, n_accounts)
    acc_names = _unique_names(rng, n_accounts, [NAME_STEMS, NAME_ENDINGS, ACCOUNT_INDUSTRIES], ACCOUNT_QUALIFIERS)
    acc_ids = _ids("ACC", n_accounts, 6)

    d = _make_deals(n_deals, acc_region, acc_segment, rates, seed)
    t = _make_touches(d, p, rates, seed)
    _decide_outcomes(d, t, p, seed)
    h = _make_history(d, seed)
    planted = Planted.empty()
    reg = _make_registrations(d, t, p, rates, acc_region, planted, seed)
    pay = _make_payouts(d, t, p, rates, planted, seed)

    partner_ids = p.frame["partner_id"]
    deal_ids = _ids("O", n_deals, 7)

    rng = _rng(seed, "crm")
    rep_count = _allocate(n_reps - len(REGIONS), REGION_SHARES) + 1  # every region has a rep
    rep_offset = np.cumsum(rep_count) - rep_count
    owner = rep_offset[d.region] + (rng.random(n_deals) * rep_count[d.region]).astype(np.int64)
    stage = h.stage[h.last]
    opportunities = pl.DataFrame(
        {
            "opportunity_id": deal_ids,
            "account_id": acc_ids.gather(d.account),
            "account_name": acc_names.gather(d.account),
            "amount": d.amount,
            "currency": pl.repeat("USD", n_deals, eager=True),
            "stage": _labels(STAGES, stage),
            "created_at": _dates(d.created),
            "close_date": _dates(d.close),
            "is_closed": stage >= WON_STAGE,
            "is_won": stage == WON_STAGE,
            "owner": people[n_managers:].gather(owner),
            "forecast_category": _labels(FORECAST_CATEGORIES, h.forecast[h.last]),
            "source": _labels(SOURCES, d.source),
            "sourced_partner_id": _refs(partner_ids, d.sourced_partner),
            "region": _labels(REGIONS, d.region),
            "segment": _labels(SEGMENTS, d.segment),
            "product": _labels(PRODUCTS, _choice(rng, PRODUCT_SHARES, n_deals)),
        }
    )
    history = pl.DataFrame(
        {
            "opportunity_id": deal_ids.gather(h.deal),
            "stage": _labels(STAGES, h.stage),
            "changed_at": _timestamps(h.second),
            "amount": h.amount,
            "close_date": _dates(h.close),
            "forecast_category": _labels(FORECAST_CATEGORIES, h.forecast),
        }
    )
    order = np.lexsort((t.partner, t.deal, t.second))
    touchpoints = pl.DataFrame(
        {
            "touchpoint_id": _ids("T", len(order), 8),
            "opportunity_id": deal_ids.gather(t.deal[order]),
            "partner_id": partner_ids.gather(t.partner[order]),
            "touch_type": _labels(TOUCH_TYPES, t.type[order]),
            "occurred_at": _timestamps(t.second[order]),
        }
    )

    order = np.lexsort((reg.partner, reg.second))
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))  # internal index -> row in the file
    reg_id_of = _ids("R", len(order), 6).gather(position)
    registrations = pl.DataFrame(
        {
            "registration_id": reg_id_of.gather(order),
            "partner_id": partner_ids.gather(reg.partner[order]),
            "opportunity_id": _refs(deal_ids, reg.deal[order]),
            "account_name": acc_names.gather(reg.account[order]),
            "registered_at": _timestamps(reg.second[order]),
            "status": _labels(REGISTRATION_STATUSES, reg.status[order]),
            "claimed_role": _labels(["sourced", "influenced"], reg.role[order]),
            "decided_at": _optional(_timestamps(np.maximum(reg.decided[order], 0)), reg.decided[order] >= 0),
        }
    )

    index = np.arange(len(pay.partner))
    order = np.lexsort((index, pay.deal, pay.type, pay.partner, pay.period))
    position = np.empty(len(order), dtype=np.int64)
    position[order] = index
    payout_id_of = _ids("PO", len(order), 7).gather(position)
    payouts = pl.DataFrame(
        {
            "payout_id": payout_id_of.gather(order),
            "partner_id": partner_ids.gather(pay.partner[order]),
            "opportunity_id": _refs(deal_ids, pay.deal[order]),
            "amount": pay.amount[order],
            "currency": pl.repeat("USD", len(order), eager=True),
            "payout_type": _labels(PAYOUT_TYPES, pay.type[order]),
            "period": _dates(pay.period[order]),
            "status": _labels(PAYOUT_STATUSES, pay.status[order]),
            "paid_at": _optional(_dates(np.maximum(pay.paid[order], 0)), pay.paid[order] >= 0),
        }
    )
    activities = _make_activities(p, rates, reg, reg_id_of, seed)

    frames = {
        "partners": p.frame,
        "partner_activities": activities,
        "opportunities": opportunities,
        "opportunity_history": history,
        "touchpoints": touchpoints,
        "deal_registrations": registrations,
        "payouts": payouts,
    }
    tables = {name: frames[name] for name in TABLES}
    for name, frame in tables.items():
        _write(frame, out_dir / f"{name}.csv")
    _write(_story_frame(p, partner_ids), out_dir / "truth" / "archetypes.csv")
    _effort_frame(p, rates, partner_ids).write_csv(out_dir / "truth" / "effort_rate.csv", float_precision=4)
    _write(_planted_frame(planted, payout_id_of, deal_ids, partner_ids, reg_id_of), out_dir / "truth" / "planted_errors.csv")
    return {name: frame.height for name, frame in tables.items()}


def _story_frame(p: Partners, partner_ids: pl.Series) -> pl.DataFrame:
    """truth/archetypes.csv: each partner's story and its turning days (empty where the story has none)."""

    def day_or_null(day: np.ndarray, present: np.ndarray) -> pl.Series:
        return _optional(_dates(np.clip(day, 0, END_DAY)), present)

    declining, dips = p.decline_day <= END_DAY, p.dip_lo <= END_DAY
    return pl.DataFrame(
        {
            "partner_id": partner_ids,
            "archetype": _labels(ARCHETYPES, p.archetype),
            "regular_rhythm": p.rhythm_days > 0,  # acts every rhythm_days (+/- a week), not at random times
            "rhythm_days": _optional(p.rhythm_days, p.rhythm_days > 0),
            "stopped_on": day_or_null(p.work_hi + 1, p.work_hi < END_DAY),  # first day without effort
            "paused_from": day_or_null(p.gap_lo, p.gap_lo <= END_DAY),
            "resumed_on": day_or_null(p.gap_hi, p.gap_lo <= END_DAY),
            "decline_from": day_or_null(p.decline_day, declining),
            "kept_share": _optional(np.round(p.kept, 3), declining),  # of its own effort rate, after the decline
            "dip_from": day_or_null(p.dip_lo, dips),
            "dip_to": day_or_null(p.dip_hi, dips),
            "dip_kept_share": _optional(np.round(p.dip_kept, 3), dips),
        }
    )


def _effort_frame(p: Partners, rates: Rates, partner_ids: pl.Series) -> pl.DataFrame:
    """truth/effort_rate.csv: each partner's expected effort per week as steps [from_date, to_date).

    Effort = the activities its weekly stream is drawn from (everything but logins, support tickets,
    certification lapses, deal registrations, which follow its deals, and a newcomer's first training);
    the stream draws each week around this rate (gamma, sd 0.5) and then Poisson. Regular partners act
    every rhythm_days: 7 / rhythm_days per week from joining. Steps where the rate is 0 are listed too.
    """
    work = rates.work
    change = np.ones(work.shape, dtype=bool)
    change[1:] = ~np.isclose(work[1:], work[:-1], rtol=1e-9, atol=0.0)
    who, week = np.nonzero(change.T)  # by partner, then week
    start = np.maximum(WEEK_START[week], 0)
    following = np.append(start[1:], END_DAY + 1)
    last_of_partner = np.append(who[1:] != who[:-1], True)
    end = np.where(last_of_partner, END_DAY + 1, following)
    rate = work[week, who]
    regular = p.rhythm_days[who] > 0
    who, start, end, rate = who[~regular], start[~regular], end[~regular], rate[~regular]
    steady = np.flatnonzero(p.rhythm_days > 0)
    before = steady[p.join[steady] > 0]
    who = np.concatenate([who, before, steady])
    start = np.concatenate([start, np.zeros(len(before), np.int64), p.join[steady]])
    end = np.concatenate([end, p.join[before], np.full(len(steady), END_DAY + 1)])
    rate = np.concatenate([rate, np.zeros(len(before)), 7.0 / np.maximum(p.rhythm_days[steady], 1)])
    order = np.lexsort((start, who))
    return pl.DataFrame(
        {
            "partner_id": partner_ids.gather(who[order]),
            "from_date": _dates(start[order]),
            "to_date": _dates(end[order]),
            "effort_per_week": np.round(rate[order], 4),
        }
    ).filter(pl.col("from_date") < pl.col("to_date"))


def _planted_frame(
    planted: Planted, payout_ids: pl.Series, deal_ids: pl.Series, partner_ids: pl.Series, reg_ids: pl.Series
) -> pl.DataFrame:
    col = planted.column
    kind = np.concatenate(planted.kind)
    frame = pl.DataFrame(
        {
            "kind": _labels(list(ERROR_KINDS), kind),
            "payout_id": _refs(payout_ids, col("payout")),
            "opportunity_id": _refs(deal_ids, col("deal")),
            "partner_id": _refs(partner_ids, col("partner")),
            "registration_id": _refs(reg_ids, col("registration")),
            "other_partner": _refs(partner_ids, col("other_partner")),
            "other_registration": _refs(reg_ids, col("other_registration")),
            "other_payout": _refs(payout_ids, col("other_payout")),
            "expected": col("expected"),
            "actual": col("actual"),
        }
    )
    k = pl.col("kind")
    detail = (
        pl.when(k == "duplicate_payout")
        .then(pl.concat_str(pl.lit("duplicate of "), pl.col("other_payout")))
        .when(k == "payout_without_credit")
        .then(pl.concat_str(pl.lit("paid "), _money_text("actual"), pl.lit(" with no touchpoint on the deal")))
        .when(k == "credit_without_payout")
        .then(pl.concat_str(pl.lit("credit "), _money_text("expected"), pl.lit(", commission due "), _money_text("actual")))
        .when(k == "payout_amount_mismatch")
        .then(pl.concat_str(pl.lit("expected "), _money_text("expected"), pl.lit(", paid "), _money_text("actual")))
        .when((k == "registration_conflict") & pl.col("opportunity_id").is_null())
        .then(pl.concat_str(pl.lit("same account as "), pl.col("other_registration"), pl.lit(" by "), pl.col("other_partner")))
        .when(k == "registration_conflict")
        .then(
            pl.concat_str(pl.lit("same opportunity as "), pl.col("other_registration"), pl.lit(" by "), pl.col("other_partner"))
        )
        .when(k == "crm_vs_registration")
        .then(pl.concat_str(pl.lit("CRM sourced partner is "), pl.col("other_partner")))
        .otherwise(pl.lit("approved registration on a direct deal with no sourced partner"))
    )
    return (
        frame.with_columns(detail=detail)
        .select("kind", "payout_id", "opportunity_id", "partner_id", "registration_id", "detail")
        .sort("kind", "opportunity_id", "partner_id", "payout_id", "registration_id", nulls_last=False)
    )


def _write(frame: pl.DataFrame, path: Path) -> None:
    frame.write_csv(path, datetime_format="%Y-%m-%d %H:%M:%S", float_precision=2)
