"""The program settings: one TOML file, validated by pydantic, every key defaulted.

This module owns the settings model and reading it. The build copies the settings it used
into the database (tables `stage_map`, `commission_rates`, ... and the JSON in `load_meta`),
so the app and the queries always read the settings the served data was built with.
"""

from __future__ import annotations

import codecs
import tomllib
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Stage(Strict):
    order: int
    # None: the stage has no probability of its own; the CRM-weighted forecast uses each deal's
    # own `probability` (when its extract gives one) and names the deals that have none.
    probability: float | None = Field(None, ge=0, le=1)
    is_closed: bool = False
    is_won: bool = False


def salesforce_stages() -> dict[str, Stage]:
    """Salesforce's standard opportunity stages, the default stage map."""
    open_stages = [
        ("Prospecting", 0.10),
        ("Qualification", 0.10),
        ("Needs Analysis", 0.20),
        ("Value Proposition", 0.50),
        ("Id. Decision Makers", 0.60),
        ("Perception Analysis", 0.70),
        ("Proposal/Price Quote", 0.75),
        ("Negotiation/Review", 0.90),
    ]
    stages = {name: Stage(order=i + 1, probability=p) for i, (name, p) in enumerate(open_stages)}
    stages["Closed Won"] = Stage(order=9, probability=1.0, is_closed=True, is_won=True)
    stages["Closed Lost"] = Stage(order=10, probability=0.0, is_closed=True, is_won=False)
    return stages


class FxRate(Strict):
    """Units of the reporting currency per unit of `currency`, from `valid_from` on."""

    currency: str
    rate: float = Field(gt=0)
    valid_from: date = date(1900, 1, 1)


class CommissionRule(Strict):
    """A commission rate; unset fields match anything. The most specific matching rule wins."""

    rate: float = Field(ge=0, le=1)
    partner_type: str | None = None
    tier: str | None = None
    touch_type: str | None = None


def default_commission_rules() -> list[CommissionRule]:
    return [
        CommissionRule(tier="registered", rate=0.05),
        CommissionRule(tier="silver", rate=0.08),
        CommissionRule(tier="gold", rate=0.10),
        CommissionRule(tier="platinum", rate=0.12),
    ]


class CommissionPlan(Strict):
    model: str = "linear"
    default_rate: float = Field(0.10, ge=0, le=1)
    rules: list[CommissionRule] = Field(default_factory=default_commission_rules)
    payment_terms_days: int = Field(60, ge=0)
    amount_tolerance_pct: float = Field(1.0, ge=0)
    # The tolerance is at least this many units of the reporting currency.
    amount_tolerance_min: float = Field(1.0, ge=0)
    # Payout types that pay attributed credit (checked against credit x rate); mdf, rebates,
    # bonuses and the like are not tied to a deal's credit.
    credit_payout_types: list[str] = Field(default_factory=lambda: ["commission", "referral_fee"])


class Attribution(Strict):
    default_model: str = "linear"
    half_life_days: float = Field(30, gt=0)
    lookback_days: int = Field(365, ge=0)
    position_first: float = 0.4
    position_last: float = 0.4
    w_shaped_anchor: float = 0.3
    # Markov is solved exactly while the largest group of partners that all reach one another has
    # at most this many partners (memory 8 bytes x n^2); above it the chain is built over partner
    # groups (type x tier x region): "markov (grouped)".
    markov_exact_max_partners: int = Field(10_000, ge=1)
    touch_values: dict[str, float] = Field(
        default_factory=lambda: {
            "referral": 1.0,
            "deal_registration": 1.0,
            "marketing": 0.5,
            "co_selling": 2.0,
            "technical_validation": 2.0,
            "integration": 3.0,
            "implementation": 3.0,
        }
    )


class Burnout(Strict):
    """A signal fires when the recent window is worse than the baseline by this fraction."""

    recent_days: int = 90
    baseline_days: int = 180
    activity_drop: float = 0.5
    registration_drop: float = 0.5
    win_rate_drop: float = 0.5
    breadth_drop: float = 0.34
    support_ticket_rise: float = 1.0
    # Flagged on a fall of the activity rate by at least activity_drop that a one-sided exact test of the
    # two Poisson counts finds significant (p below this), or on min_signals signals (DESIGN.md).
    significance: float = Field(0.01, gt=0, lt=1)
    min_signals: int = 3
    # Floors below which a signal cannot fire (a small baseline is noise, not a trend).
    min_baseline_activities: int = 6
    min_baseline_registrations: int = 4
    min_baseline_closed: int = 6
    min_recent_closed: int = 3
    min_baseline_breadth: float = 3
    min_support_tickets: int = 3


class TierRule(Strict):
    """What a tier requires over the trailing 12 months (any of deals or revenue, and certs)."""

    tier: str
    min_won_deals: int | None = None
    min_sourced_revenue: float | None = None
    min_certifications: int = 0


def default_tier_rules() -> list[TierRule]:
    return [
        TierRule(tier="silver", min_won_deals=2, min_sourced_revenue=100_000, min_certifications=1),
        TierRule(tier="gold", min_won_deals=6, min_sourced_revenue=500_000, min_certifications=2),
        TierRule(tier="platinum", min_won_deals=15, min_sourced_revenue=1_500_000, min_certifications=4),
    ]


class Role(Strict):
    """A user's role; a partner lead sees only partners whose partner_manager is listed."""

    role: str
    partner_managers: list[str] = Field(default_factory=list)
    # A partner lead's weekly digest goes to their email (the key of their entry), or, when this
    # names an environment variable, to the Slack-style webhook URL it holds (a webhook URL is a
    # secret: the settings travel with the database, so it never sits in them).
    digest_webhook_env: str | None = None

    @field_validator("role")
    @classmethod
    def known_role(cls, value: str) -> str:
        allowed = {"executive", "partner_lead", "finance", "admin"}
        if value not in allowed:
            raise ValueError(f"role must be one of {sorted(allowed)}, got {value!r}")
        return value


class Digest(Strict):
    """The partner leads' weekly digest (`python -m queries digest`): where its links point and how it is sent.
    The SMTP user and password come from the environment (PULSE_SMTP_USER, PULSE_SMTP_PASSWORD), never from here."""

    # Where the app is served: each partner in a digest links to its Partner 360 page there.
    base_url: str = "http://localhost:8501"
    # The first digest of a person (no earlier one recorded) covers this many days before the data's as-of day.
    first_days: int = Field(7, ge=1)
    # Health-score movers: the biggest this many moves, of at least this many points (smaller weekly moves are noise).
    movers: int = Field(5, ge=0)
    mover_min_points: float = Field(5.0, ge=0)
    # Follow-ups due: next steps due within this many days of the day the digest is made (and any overdue).
    follow_up_days: int = Field(7, ge=0)
    smtp_host: str = ""  # empty: no email (a digest can still go to a webhook, or be written with --out)
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_starttls: bool = True  # refuse to send (and to log in) unless the server takes STARTTLS
    from_address: str = "partner-pulse@localhost"


class SalesforceExport(Strict):
    """How the `salesforce` preset tells partner accounts from the rest of a Data Export's Account.csv.

    An account is a partner when it has IsPartner, a role on an opportunity (OpportunityPartner.csv,
    or Partner.csv), a partner role towards another account (Partner.csv), is a deal's
    PartnerAccountId or `partner_field`, or its Type is one of `partner_account_types`."""

    # A custom lookup on Opportunity naming the deal's partner account (e.g. "Partner__c"): the deal's
    # sourced partner where PartnerAccountId is empty. Empty: none.
    partner_field: str = ""
    # Account Type values that mark a partner (Salesforce's standard picklist has these three).
    partner_account_types: list[str] = Field(
        default_factory=lambda: ["Channel Partner / Reseller", "Installation Partner", "Technology Partner"]
    )


class Settings(Strict):
    reporting_currency: str = "USD"
    # The data's "today": the day the export was taken. None = the latest day on which something
    # was created, changed or done in the data (deals created, history rows, activities,
    # touchpoints, registrations), never a close date. `build --as-of` sets it for one build.
    as_of: date | None = None
    # Open deals whose close date is before as_of ("stale"): "leave_out" keeps them out of CRM
    # weighted and the sales call, and their backtest (they are listed for cleanup);
    # "current_quarter" counts them in the current quarter, as if they will still close in it.
    # The historical method counts them either way, at what stale deals like them won before.
    forecast_stale_deals: Literal["leave_out", "current_quarter"] = "leave_out"
    fx_rates: list[FxRate] = Field(default_factory=list)
    fiscal_year_start_month: int = Field(1, ge=1, le=12)
    stage_map: dict[str, Stage] = Field(default_factory=salesforce_stages)
    tier_order: list[str] = Field(default_factory=lambda: ["registered", "silver", "gold", "platinum"])
    tier_rules: list[TierRule] = Field(default_factory=default_tier_rules)
    dormancy_days: int = Field(90, ge=1)
    # Engagement score decay, and "overdue": quiet for more than overdue_factor x the partner's
    # own median gap between active days (needs overdue_min_gaps gaps of history) and at least overdue_min_days.
    engagement_half_life_days: float = Field(30, gt=0)
    overdue_factor: float = Field(2.0, gt=1)
    overdue_min_gaps: int = Field(3, ge=1)
    overdue_min_days: int = Field(30, ge=0)
    # A table is stale when the newest data is ahead of it by more than its own rhythm (the 95th percentile of
    # its gaps between event days over 180 days) and at least stale_after_days; or, for a table named here,
    # by more than the days given (the rhythm and the floor then do not apply).
    stale_after_days: int = Field(2, ge=0)
    stale_after_days_by_table: dict[str, int] = Field(default_factory=dict)
    activity_weights: dict[str, float] = Field(
        default_factory=lambda: {
            "portal_login": 0.1,
            "content_download": 0.5,
            "training_completed": 2.0,
            "certification_earned": 3.0,
            "certification_expired": 0.0,
            "deal_registered": 3.0,
            "co_marketing": 2.0,
            "co_selling_call": 2.0,
            "business_review": 2.0,
            "support_ticket": 0.5,
            "integration_release": 3.0,
        }
    )
    burnout: Burnout = Field(default_factory=Burnout)
    attribution: Attribution = Field(default_factory=Attribution)
    commission_plan: CommissionPlan = Field(default_factory=CommissionPlan)
    health_weights: dict[str, float] = Field(
        default_factory=lambda: {
            "revenue": 35,
            "engagement": 20,
            "enablement": 15,
            "pipeline": 20,
            "relationship": 10,
        }
    )
    # Health score: months of history worth as much as the segment prior (shrinkage n / (n + k)).
    health_prior_months: float = Field(3.0, ge=0)
    # Vendor column map for extracts no preset covers: {table: {their column: canonical column}}.
    column_map: dict[str, dict[str, str]] = Field(default_factory=dict)
    # Which file holds which table, when the file is not named after it: {table: file name}.
    file_map: dict[str, str] = Field(default_factory=dict)
    # Constant values for canonical columns a source lacks: {table: {column: value}}.
    constants: dict[str, dict[str, str]] = Field(default_factory=dict)
    # Value maps per column: {table: {column: {their value: canonical value}}}.
    value_map: dict[str, dict[str, dict[str, str]]] = Field(default_factory=dict)
    roles: dict[str, Role] = Field(default_factory=dict)
    # Text encoding per extract file, where detection guesses wrong: {file name: encoding}, e.g.
    # {"Account.csv" = "cp1252"}. Otherwise UTF-8 (BOM or not), UTF-16 with a BOM, else Windows-1252.
    encodings: dict[str, str] = Field(default_factory=dict)
    # Quarantine alarms, per table: past the warn share of its rows quarantined the build warns
    # (and pages reading the table show a banner); past the fail share it is refused.
    quarantine_warn_share: float = Field(0.05, ge=0, le=1)
    quarantine_fail_share: float = Field(0.5, ge=0, le=1)
    salesforce: SalesforceExport = Field(default_factory=SalesforceExport)
    digest: Digest = Field(default_factory=Digest)

    @field_validator("encodings")
    @classmethod
    def known_encodings(cls, value: dict[str, str]) -> dict[str, str]:
        for name, encoding in value.items():
            try:
                codecs.lookup(encoding)
            except LookupError:
                raise ValueError(f"encodings: {encoding!r} (for {name}) is not an encoding Python knows") from None
        return value

    def encoding_for(self, file_name: str) -> str | None:
        """The encoding the settings name for a file (matched ignoring case), or None to detect it."""
        return next((enc for name, enc in self.encodings.items() if name.lower() == file_name.lower()), None)

    @field_validator("stale_after_days_by_table")
    @classmethod
    def known_event_tables(cls, value: dict[str, int]) -> dict[str, int]:
        tables = {"partner_activities", "opportunities", "opportunity_history", "touchpoints", "deal_registrations", "payouts"}
        unknown = sorted(set(value) - tables)
        if unknown:
            raise ValueError(f"stale_after_days_by_table: {unknown} are not event tables (one of {sorted(tables)})")
        negative = sorted(table for table, days in value.items() if days < 0)
        if negative:
            raise ValueError(f"stale_after_days_by_table: days must be 0 or more ({negative})")
        return value


def load_settings(path: Path | str | None) -> Settings:
    """Read the settings TOML; no path means every default."""
    if path is None:
        return Settings()
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"{path}: settings file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML ({exc})") from None
    try:
        return Settings.model_validate(raw)
    except ValueError as exc:
        raise SettingsError(f"{path}: {exc}") from None


class SettingsError(ValueError):
    pass
