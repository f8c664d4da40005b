"""partners.csv: each partner's story (loaders.demo.behaviour), then who it is: region and country,
tier (by its story: stars sit high in the ladder, newcomers at the bottom), the types of business
it does, its name and its partner manager."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from loaders.demo.behaviour import ARCHETYPES, Story, draw_stories
from loaders.demo.columns import ids, labels
from loaders.demo.days import dates
from loaders.demo.draws import choose, choose_by_class, stream
from loaders.demo.names import NAME_ENDINGS, NAME_STEMS, PARTNER_INDUSTRIES, unique_names
from loaders.demo.vocabulary import PARTNER_STATUSES, PARTNER_TYPES, REGION_SHARES, REGIONS, TIERS, shares

PRIMARY_TYPE_SHARES = shares(
    PARTNER_TYPES,
    {"referral": 0.30, "reseller": 0.22, "integration": 0.15, "services": 0.15, "affiliate": 0.12, "distributor": 0.06},
)
# P(tier | archetype): stars sit high in the tier ladder, newcomers at the bottom.
TIER_BY_ARCHETYPE = {
    "star": {"registered": 0.00, "silver": 0.20, "gold": 0.40, "platinum": 0.40},
    "steady": {"registered": 0.30, "silver": 0.35, "gold": 0.25, "platinum": 0.10},
    "slow_starter": {"registered": 0.50, "silver": 0.30, "gold": 0.15, "platinum": 0.05},
    "declining": {"registered": 0.20, "silver": 0.30, "gold": 0.30, "platinum": 0.20},
    "stopped": {"registered": 0.55, "silver": 0.30, "gold": 0.10, "platinum": 0.05},
    "paused": {"registered": 0.40, "silver": 0.35, "gold": 0.20, "platinum": 0.05},
    "new": {"registered": 0.85, "silver": 0.15, "gold": 0.00, "platinum": 0.00},
}
COUNTRIES = [  # (region, country, share within region, legal forms)
    ("NA", "United States", 0.85, ["Inc.", "LLC", "Corp."]),
    ("NA", "Canada", 0.15, ["Inc.", "Ltd."]),
    ("EMEA", "United Kingdom", 0.30, ["Ltd"]),
    ("EMEA", "Germany", 0.22, ["GmbH", "AG"]),
    ("EMEA", "France", 0.15, ["SAS"]),
    ("EMEA", "Netherlands", 0.10, ["B.V."]),
    ("EMEA", "Sweden", 0.07, ["AB"]),
    ("EMEA", "Spain", 0.07, ["S.L."]),
    ("EMEA", "Ireland", 0.05, ["Ltd"]),
    ("EMEA", "Italy", 0.04, ["S.r.l."]),
    ("APAC", "Australia", 0.35, ["Pty Ltd"]),
    ("APAC", "Japan", 0.20, ["K.K."]),
    ("APAC", "Singapore", 0.20, ["Pte. Ltd."]),
    ("APAC", "India", 0.17, ["Pvt. Ltd."]),
    ("APAC", "New Zealand", 0.08, ["Ltd"]),
    ("LATAM", "Brazil", 0.45, ["Ltda."]),
    ("LATAM", "Mexico", 0.30, ["S.A. de C.V."]),
    ("LATAM", "Argentina", 0.10, ["S.A."]),
    ("LATAM", "Chile", 0.08, ["SpA"]),
    ("LATAM", "Colombia", 0.07, ["S.A.S."]),
]


@dataclass
class Partners(Story):
    """Each partner's story, and its attributes as codes (region, primary type, tier) and as partners.csv."""

    region: np.ndarray
    primary: np.ndarray
    tier: np.ndarray
    frame: pl.DataFrame  # partners.csv


def make_partners(n: int, managers: pl.Series, seed: int) -> Partners:
    rng = stream(seed, "partners")
    story = draw_stories(rng, n)
    archetype, join, status, terminated = story.archetype, story.join, story.status, story.terminated

    region = choose(rng, REGION_SHARES, n)
    country_table = np.array([[c[2] if c[0] == r else 0.0 for c in COUNTRIES] for r in REGIONS])
    country = choose_by_class(rng, country_table, region)
    legal = [c[3] for c in COUNTRIES]
    legal_offset = np.cumsum([0] + [len(x) for x in legal[:-1]])
    legal_code = legal_offset[country] + (rng.random(n) * np.array([len(x) for x in legal])[country]).astype(np.int64)

    tier = choose_by_class(rng, np.array([shares(TIERS, TIER_BY_ARCHETYPE[a]) for a in ARCHETYPES]), archetype)
    primary = choose(rng, PRIMARY_TYPE_SHARES, n)
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
            [pl.lit(labels(PARTNER_TYPES, primary))] + [pl.when(pl.col(t)).then(pl.lit(t)) for t in PARTNER_TYPES],
            separator=";",
            ignore_nulls=True,
        )
    ).to_series()

    names = unique_names(rng, n, [NAME_STEMS, NAME_ENDINGS, PARTNER_INDUSTRIES], [""])
    manager = rng.permutation(n) % len(managers)  # balanced books, ~40 partners each

    frame = pl.DataFrame(
        {
            "partner_id": ids("P", n, 5),
            "partner_name": pl.select(
                pl.concat_str([names, pl.lit(" "), labels([f for x in legal for f in x], legal_code)])
            ).to_series(),
            "partner_types": partner_types,
            "tier": labels(TIERS, tier),
            "joined_at": dates(join),
            "region": labels(REGIONS, region),
            "country": labels([c[1] for c in COUNTRIES], country),
            "partner_manager": managers.gather(manager),
            "status": labels(PARTNER_STATUSES, status),
            "terminated_at": dates(np.maximum(terminated, 0)),
        }
    ).with_columns(terminated_at=pl.when(pl.Series(terminated >= 0)).then(pl.col("terminated_at")))
    return Partners(**vars(story), region=region, primary=primary, tier=tier, frame=frame)
