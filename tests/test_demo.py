"""The demo program generator: determinism, the data contract, and its truth: partners drawn from
processes of their own (not from the detectors), on both sides of every line, and planted errors."""

from __future__ import annotations

import ast
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from bench.signals_accuracy import truth_labels
from loaders.demo import DEMO_END, ERROR_KINDS, LOOKBACK_DAYS, PAYMENT_TERMS_DAYS, PLAN_MODEL, TIER_RATES, write_demo
from loaders.demo.vocabulary import ACTIVITY_TYPES, LOST_STAGE, STAGES, WON_STAGE
from loaders.schema import column_specs
from settings import Settings
from tests.conftest import PROJECT

SCALE = 0.05
COLUMNS = {
    "partners": [
        "partner_id",
        "partner_name",
        "partner_types",
        "tier",
        "joined_at",
        "region",
        "country",
        "partner_manager",
        "status",
        "terminated_at",
    ],
    "partner_activities": ["activity_id", "partner_id", "activity_type", "occurred_at", "quantity", "detail"],
    "opportunities": [
        "opportunity_id",
        "account_id",
        "account_name",
        "amount",
        "currency",
        "stage",
        "created_at",
        "close_date",
        "is_closed",
        "is_won",
        "owner",
        "forecast_category",
        "source",
        "sourced_partner_id",
        "region",
        "segment",
        "product",
    ],
    "opportunity_history": ["opportunity_id", "stage", "changed_at", "amount", "close_date", "forecast_category"],
    "touchpoints": ["touchpoint_id", "opportunity_id", "partner_id", "touch_type", "occurred_at"],
    "deal_registrations": [
        "registration_id",
        "partner_id",
        "opportunity_id",
        "account_name",
        "registered_at",
        "status",
        "claimed_role",
        "decided_at",
    ],
    "payouts": ["payout_id", "partner_id", "opportunity_id", "amount", "currency", "payout_type", "period", "status", "paid_at"],
}
END = datetime.combine(DEMO_END, datetime.min.time()) + timedelta(days=1)  # exclusive
RECENT = END - timedelta(days=90)


# Columns that may be all empty in a tiny demo, so inference cannot see their type.
NULLABLE = {
    "terminated_at": pl.Date,
    "decided_at": pl.Datetime("us"),
    "paid_at": pl.Date,
    "sourced_partner_id": pl.String,
    "opportunity_id": pl.String,
    "detail": pl.String,
}


def _read(directory: Path, name: str) -> pl.DataFrame:
    overrides = {c: t for c, t in NULLABLE.items() if c in COLUMNS[name]}
    return pl.read_csv(directory / f"{name}.csv", try_parse_dates=True, infer_schema_length=None, schema_overrides=overrides)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pl.DataFrame]:
    out = tmp_path_factory.mktemp("demo")
    counts = write_demo(out, scale=SCALE, seed=7)
    tables = {name: _read(out, name) for name in COLUMNS}
    assert counts == {name: frame.height for name, frame in tables.items()}
    tables.update(_truth(out))
    return tables


def _truth(out: Path) -> dict[str, pl.DataFrame]:
    return {
        "archetypes": pl.read_csv(out / "truth" / "archetypes.csv", try_parse_dates=True, infer_schema_length=None),
        "effort": pl.read_csv(out / "truth" / "effort_rate.csv", try_parse_dates=True),
        "planted": pl.read_csv(out / "truth" / "planted_errors.csv", infer_schema_length=None),
    }


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pl.DataFrame]:
    """The demo at scale 1 (500 partners): enough partners of each story to see its processes."""
    out = tmp_path_factory.mktemp("demo1")
    write_demo(out, scale=1, seed=7)
    names = ("partners", "partner_activities", "opportunities", "touchpoints", "deal_registrations")
    tables = {name: _read(out, name) for name in names}
    return {**tables, **_truth(out)}


def _partners_of(demo: dict[str, pl.DataFrame], archetype: str) -> list[str]:
    return demo["archetypes"].filter(pl.col("archetype") == archetype)["partner_id"].to_list()


def _planted(demo: dict[str, pl.DataFrame], kind: str, *cols: str) -> set[tuple]:
    return set(demo["planted"].filter(pl.col("kind") == kind).select(cols).iter_rows())


# --- Determinism and size ----------------------------------------------------------------
def test_same_seed_and_scale_give_byte_identical_files(tmp_path: Path) -> None:
    write_demo(tmp_path / "a", scale=SCALE, seed=3)
    write_demo(tmp_path / "b", scale=SCALE, seed=3)
    write_demo(tmp_path / "c", scale=SCALE, seed=4)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.csv"))
    assert len(files) == len(COLUMNS) + 3  # and truth/archetypes.csv, effort_rate.csv, planted_errors.csv
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    assert (tmp_path / "a" / "opportunities.csv").read_bytes() != (tmp_path / "c" / "opportunities.csv").read_bytes()


def test_row_counts_scale_about_linearly(tmp_path: Path) -> None:
    small = write_demo(tmp_path / "small", scale=SCALE)
    double = write_demo(tmp_path / "double", scale=2 * SCALE)
    assert small["partners"] == 25 and small["opportunities"] == 1_000
    for table, n in small.items():
        assert 1.6 < double[table] / n < 2.4, table
    assert 8_000 < small["partner_activities"] < 12_000
    assert 2_000 < small["touchpoints"] < 3_600
    assert 150 < small["deal_registrations"] < 260


# --- The data contract -------------------------------------------------------------------
def test_every_table_has_exactly_the_contract_columns(demo: dict[str, pl.DataFrame]) -> None:
    for table, columns in COLUMNS.items():
        assert demo[table].columns == columns, table


def test_every_value_the_demo_writes_is_one_the_contract_allows(demo: dict[str, pl.DataFrame]) -> None:
    """Each column whose values loaders/schema.py restricts (partner types and statuses, forecast categories,
    touch types, registration statuses and roles, payout types and statuses) holds only those values."""
    checked = []
    for table in COLUMNS:
        for spec in column_specs(table):
            if spec.allowed is None:
                continue
            values = demo[table][spec.name].drop_nulls()
            if spec.kind == "list":
                values = values.str.split(";").explode()
            assert not values.is_empty(), (table, spec.name)
            assert set(values) <= set(spec.allowed), (table, spec.name, set(values) - set(spec.allowed))
            checked.append((table, spec.name))
    assert ("touchpoints", "touch_type") in checked and ("payouts", "status") in checked


def test_values_the_program_chooses_are_ones_the_app_knows(demo: dict[str, pl.DataFrame]) -> None:
    p, o, a = demo["partners"], demo["opportunities"], demo["partner_activities"]
    s = Settings()
    assert set(p["tier"]) <= set(TIER_RATES) <= set(s.tier_order)
    assert set(o["stage"]) <= set(s.stage_map) and set(demo["opportunity_history"]["stage"]) <= set(s.stage_map)
    assert set(a["activity_type"]) <= set(s.activity_weights)
    assert set(o["currency"]) == {"USD"} and set(demo["payouts"]["currency"]) == {"USD"}
    assert (o["amount"] > 0).all() and (demo["payouts"]["amount"] > 0).all()
    assert p["partner_name"].is_unique().all()
    for table, key in [
        ("partners", "partner_id"),
        ("partner_activities", "activity_id"),
        ("opportunities", "opportunity_id"),
        ("touchpoints", "touchpoint_id"),
        ("deal_registrations", "registration_id"),
        ("payouts", "payout_id"),
    ]:
        assert demo[table][key].is_unique().all(), table
        assert demo[table][key].null_count() == 0, table


def test_the_app_defaults_describe_the_demo_program() -> None:
    """The demo owns its program (it imports nothing from settings.py), and the app's defaults describe that
    same program: a default build reads its stages in order, its tier ladder and activity types, and checks
    its payouts against the plan they were paid under (else every payout would be a disagreement)."""
    s = Settings()
    assert STAGES == sorted(s.stage_map, key=lambda stage: s.stage_map[stage].order)
    assert s.stage_map[STAGES[WON_STAGE]].is_won and not s.stage_map[STAGES[LOST_STAGE]].is_won
    assert s.stage_map[STAGES[LOST_STAGE]].is_closed
    assert list(TIER_RATES) == s.tier_order
    assert set(ACTIVITY_TYPES) == set(s.activity_weights)
    plan = s.commission_plan
    assert plan.model == PLAN_MODEL and s.attribution.lookback_days == LOOKBACK_DAYS
    assert plan.payment_terms_days == PAYMENT_TERMS_DAYS
    assert {rule.tier: rule.rate for rule in plan.rules} == TIER_RATES
    assert all(rule.partner_type is None and rule.touch_type is None for rule in plan.rules)
    assert set(plan.credit_payout_types) == {"commission", "referral_fee"}


FORBIDDEN_TO_THE_DEMO = ("settings", "queries")  # the app's settings and detectors: the demo must not know them


def forbidden_imports(source: str) -> list[str]:
    """Modules a demo module imports that it must not: settings, the analytics, or any of loaders but the
    data contract (loaders.schema, whose allowed values it writes) and the demo package itself."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names if node.module == "loaders"]
        else:
            continue
        for module in modules:
            top = module.split(".")[0]
            own = module == "loaders.schema" or module == "loaders.demo" or module.startswith("loaders.demo.")
            if top in FORBIDDEN_TO_THE_DEMO or (top == "loaders" and module != "loaders" and not own):
                found.append(module)
    return found


def test_the_demo_package_imports_nothing_from_settings_nor_the_analytics() -> None:
    """Issue 17: the generator is judged against, not built from, the detectors and their settings."""
    files = sorted((PROJECT / "loaders" / "demo").glob("*.py"))
    assert len(files) >= 10
    for path in files:
        assert forbidden_imports(path.read_text(encoding="utf-8")) == [], path.name


def test_the_import_check_finds_each_kind_of_forbidden_import() -> None:
    source = (
        "import settings\nfrom settings import Settings\nimport queries.engagement\nfrom loaders import build\n"
        "from loaders.validate import x\nfrom loaders.schema import column_specs\nfrom loaders.demo.days import DAY\n"
        "import numpy as np\n"
    )
    assert forbidden_imports(source) == ["settings", "settings", "queries.engagement", "loaders.build", "loaders.validate"]


def test_foreign_keys_hold(demo: dict[str, pl.DataFrame]) -> None:
    partners = set(demo["partners"]["partner_id"])
    deals = set(demo["opportunities"]["opportunity_id"])
    for table in ("partner_activities", "touchpoints", "deal_registrations", "payouts"):
        assert set(demo[table]["partner_id"]) <= partners, table
    assert set(demo["opportunities"]["sourced_partner_id"].drop_nulls()) <= partners
    for table in ("opportunity_history", "touchpoints"):
        assert set(demo[table]["opportunity_id"]) <= deals, table
    for table in ("deal_registrations", "payouts"):
        assert set(demo[table]["opportunity_id"].drop_nulls()) <= deals, table
    assert set(demo["archetypes"]["partner_id"]) == partners


def test_last_history_row_is_the_opportunity_now(demo: dict[str, pl.DataFrame]) -> None:
    h = demo["opportunity_history"]
    cols = ["opportunity_id", "stage", "amount", "close_date", "forecast_category"]
    last = h.sort("opportunity_id", "changed_at").group_by("opportunity_id").last().select(cols)
    now = demo["opportunities"].select(cols)
    assert last.sort("opportunity_id").equals(now.sort("opportunity_id"))
    per_deal = h.group_by("opportunity_id").agg(
        pl.len().alias("rows"),
        pl.col("changed_at").diff().min().alias("min_step"),
        pl.col("changed_at").min().dt.date().alias("first"),
        (pl.col("close_date").dt.quarter() + 4 * pl.col("close_date").dt.year()).n_unique().alias("quarters"),
    )
    assert per_deal.height == demo["opportunities"].height
    assert 3.0 <= per_deal["rows"].mean() <= 5.0
    assert (per_deal["min_step"].drop_nulls() > timedelta(0)).all()  # strictly ordered
    created = demo["opportunities"].select("opportunity_id", "created_at")
    assert per_deal.join(created, on="opportunity_id").filter(pl.col("first") != pl.col("created_at")).is_empty()
    assert 0.18 < (per_deal["quarters"] > 1).mean() < 0.32  # ~25% slipped to a later quarter


def test_nothing_happens_after_demo_end(demo: dict[str, pl.DataFrame]) -> None:
    for table, col in [
        ("partner_activities", "occurred_at"),
        ("touchpoints", "occurred_at"),
        ("deal_registrations", "registered_at"),
        ("deal_registrations", "decided_at"),
        ("opportunity_history", "changed_at"),
    ]:
        assert demo[table][col].max() < END, (table, col)
    o = demo["opportunities"]
    assert o.filter(pl.col("is_closed"))["close_date"].max() <= DEMO_END
    assert o["created_at"].max() <= DEMO_END
    assert demo["payouts"]["paid_at"].max() <= DEMO_END
    assert o.filter(~pl.col("is_closed"))["close_date"].max() <= date(2027, 9, 30)  # 3 quarters ahead
    assert o.filter(~pl.col("is_closed") & (pl.col("close_date") < DEMO_END)).height > 0  # some stale


def test_deals_look_like_a_b2b_pipeline(demo: dict[str, pl.DataFrame]) -> None:
    o = demo["opportunities"]
    touched = demo["touchpoints"].select("opportunity_id").unique().with_columns(partner=pl.lit(True))
    o = o.join(touched, on="opportunity_id", how="left").with_columns(
        partner=pl.col("partner").fill_null(False) | pl.col("sourced_partner_id").is_not_null()
    )
    closed = o.filter(pl.col("is_closed"))
    assert 0.25 <= closed["is_won"].mean() <= 0.35
    assert 0.38 <= o["partner"].mean() <= 0.52
    by = closed.group_by("partner").agg(pl.col("is_won").mean(), pl.col("amount").filter("is_won").mean())
    rate, size = dict(by.select("partner", "is_won").iter_rows()), dict(by.select("partner", "amount").iter_rows())
    assert rate[True] > rate[False] and size[True] > size[False]
    won = o.filter(pl.col("is_won"))
    cycle = (won["close_date"] - won["created_at"]).dt.total_days()
    assert cycle.min() >= 30 and cycle.max() <= 200
    # Quarter-end seasonality: far more than the ~15% of days that are a quarter's last 14.
    quarter_end = closed["close_date"].dt.offset_by("1q").dt.truncate("1q").dt.offset_by("-1d")
    assert ((quarter_end - closed["close_date"]).dt.total_days() < 14).mean() > 0.35
    partners_per_deal = demo["touchpoints"].group_by("opportunity_id").agg(pl.col("partner_id").n_unique())
    assert partners_per_deal["partner_id"].max() <= 6 and partners_per_deal["partner_id"].max() >= 4


def test_registrations_keep_their_pace_to_the_export_day(program: dict[str, pl.DataFrame]) -> None:
    """A nightly export holds registrations up to its last day, those of deals the CRM has not
    created yet among them: per day, the last three and the last nine weeks register at the pace of
    the half year before them (they used to fade to a seventh of it, and the Data page called the
    table stale)."""
    registered = program["deal_registrations"]["registered_at"].dt.date()

    def per_day(first: date, last: date) -> float:
        return registered.is_between(first, last).sum() / ((last - first).days + 1)

    half_year = per_day(DEMO_END - timedelta(days=63 + 182 - 1), DEMO_END - timedelta(days=63))
    for days in (21, 63):
        assert 0.8 < per_day(DEMO_END - timedelta(days=days - 1), DEMO_END) / half_year < 1.2, days


# --- Archetypes --------------------------------------------------------------------------
def _work(demo: dict[str, pl.DataFrame]) -> pl.DataFrame:
    return demo["partner_activities"].filter(pl.col("activity_type") != "portal_login")


def test_nobody_works_while_its_drawn_effort_rate_is_zero(demo: dict[str, pl.DataFrame]) -> None:
    # Effort and tickets only where truth/effort_rate.csv has a positive rate (lapses are recorded whenever
    # they fall due; registrations follow the partner's deals).
    acts = (
        demo["partner_activities"]
        .filter(~pl.col("activity_type").is_in(["portal_login", "certification_expired", "deal_registered"]))
        .select("activity_id", "partner_id", day=pl.col("occurred_at").dt.date())
    )
    steps = acts.join(demo["effort"], on="partner_id").filter(
        (pl.col("from_date") <= pl.col("day")) & (pl.col("day") < pl.col("to_date"))
    )
    assert steps.height == acts.height  # each activity in exactly one step
    assert steps.filter(pl.col("effort_per_week") <= 0).is_empty()


def test_the_activities_follow_the_drawn_effort(program: dict[str, pl.DataFrame]) -> None:
    effort = program["partner_activities"].filter(
        ~pl.col("activity_type").is_in(["portal_login", "support_ticket", "certification_expired", "deal_registered"])
    )
    expected = (
        program["effort"]
        .select(((pl.col("to_date") - pl.col("from_date")).dt.total_days() * pl.col("effort_per_week") / 7).sum())
        .item()
    )
    assert 0.95 < effort.height / expected < 1.05


def test_partners_sit_on_both_sides_of_every_line(program: dict[str, pl.DataFrame]) -> None:
    """The turning days and depths are drawn from wide ranges: judged by the product's definitions at
    the default settings, some partners are each thing, some just miss it, and some are on the line."""
    s, end = Settings(), DEMO_END
    stories = program["archetypes"]
    days_before = (pl.lit(end) - pl.col("stopped_on")).dt.total_days()
    stopped = stories.filter(pl.col("stopped_on").is_not_null()).select(days_before.alias("d"))["d"]
    assert stopped.min() < s.dormancy_days < stopped.max()
    paused = stories.filter(pl.col("paused_from").is_not_null()).select(
        length=(pl.col("resumed_on") - pl.col("paused_from")).dt.total_days(),
        since=(pl.lit(end) - pl.col("resumed_on")).dt.total_days(),
    )
    assert paused["length"].min() < s.dormancy_days < paused["length"].max()
    assert paused["since"].min() < s.burnout.recent_days < paused["since"].max()
    declining = stories.filter(pl.col("decline_from").is_not_null())
    assert declining["kept_share"].min() < 1 - s.burnout.activity_drop < declining["kept_share"].max()
    onset = declining.select((pl.lit(end) - pl.col("decline_from")).dt.total_days().alias("d"))["d"]
    assert onset.min() < s.burnout.recent_days < onset.max()
    labels = truth_labels(program["effort"], end)
    for label in ("dormant", "returned", "burnout"):
        counts = labels[label].value_counts()
        assert counts.height == (3 if label != "returned" else 2), (label, counts)  # true, false (and on the line)


def test_a_decline_shows_in_each_behaviour_in_its_own_measure(program: dict[str, pl.DataFrame]) -> None:
    """Declining partners, taken together: less effort, fewer registrations, more tickets and lower win rates
    after the day their decline began than before; each partner by its own kept share and factors."""
    turned = (
        program["archetypes"]
        .filter(pl.col("decline_from") < DEMO_END - timedelta(days=60))
        .select("partner_id", "decline_from", "kept_share")
    )
    assert turned["kept_share"].min() < 0.2 and turned["kept_share"].max() > 0.7
    acts = (
        program["partner_activities"]
        .join(turned, on="partner_id")
        .join(program["partners"].select("partner_id", "joined_at"), on="partner_id")
    )

    def per_day(kinds: list[str], *, exclude: bool = False) -> tuple[float, float]:
        chosen = ~pl.col("activity_type").is_in(kinds) if exclude else pl.col("activity_type").is_in(kinds)
        rows = acts.filter(chosen).with_columns(after=pl.col("occurred_at").dt.date() >= pl.col("decline_from"))
        days_after = turned.select((pl.lit(DEMO_END) - pl.col("decline_from")).dt.total_days().sum()).item()
        days_before = (
            turned.join(program["partners"], on="partner_id")
            .select((pl.col("decline_from") - pl.col("joined_at")).dt.total_days().sum())
            .item()
        )
        return rows.filter(~pl.col("after")).height / days_before, rows.filter("after").height / days_after

    before, after = per_day(["portal_login", "support_ticket", "certification_expired", "deal_registered"], exclude=True)
    assert after < 0.7 * before
    before, after = per_day(["deal_registered"])
    assert after < 0.8 * before
    before, after = per_day(["support_ticket"])
    assert after > 1.3 * before

    theirs = (
        program["touchpoints"].join(turned, on="partner_id").select("opportunity_id", "decline_from").unique("opportunity_id")
    )
    closed = program["opportunities"].filter(pl.col("is_closed")).join(theirs, on="opportunity_id")
    after = closed.filter(pl.col("close_date") >= pl.col("decline_from"))["is_won"].mean()
    before = closed.filter(pl.col("close_date") < pl.col("decline_from"))["is_won"].mean()
    assert after < before


def test_other_archetypes_show_their_shape(demo: dict[str, pl.DataFrame]) -> None:
    p = demo["partners"].join(demo["archetypes"], on="partner_id")
    new = p.filter(pl.col("archetype") == "new")
    assert (new["joined_at"] >= DEMO_END - timedelta(days=183)).all()
    assert (p.filter(pl.col("archetype") != "new")["joined_at"] < DEMO_END - timedelta(days=183)).all()

    # Stars: more activity and more deals per day of tenure than steady partners.
    tenure = p.select("partner_id", "archetype", days=(pl.lit(DEMO_END) - pl.col("joined_at")).dt.total_days())
    acts = _work(demo).group_by("partner_id").len("acts")
    deals = demo["touchpoints"].group_by("partner_id").agg(deals=pl.col("opportunity_id").n_unique())
    per_day = (
        tenure.join(acts, on="partner_id", how="left")
        .join(deals, on="partner_id", how="left")
        .fill_null(0)
        .group_by("archetype")
        .agg((pl.col("acts") / pl.col("days")).mean(), (pl.col("deals") / pl.col("days")).mean())
    )
    rate = {row["archetype"]: row for row in per_day.iter_rows(named=True)}
    assert rate["star"]["acts"] > 2 * rate["steady"]["acts"]
    assert rate["star"]["deals"] > 1.2 * rate["steady"]["deals"]  # ~6x at scale 1; 25 partners are noisy

    # Slow starters: their first four months run far below their last six.
    slow = _work(demo).join(p.filter(pl.col("archetype") == "slow_starter"), on="partner_id")
    age = (slow["occurred_at"].dt.date() - slow["joined_at"]).dt.total_days()
    assert (age < 120).sum() / 120 < 0.3 * (slow["occurred_at"] >= END - timedelta(days=180)).sum() / 180

    # Regular partners act every rhythm_days of their own, give or take a week, never much later.
    rhythm = demo["archetypes"].filter(pl.col("regular_rhythm")).select("partner_id", "rhythm_days")
    assert rhythm.height > 0
    gaps = (
        _work(demo)
        .join(rhythm, on="partner_id")
        .sort("partner_id", "occurred_at")
        .with_columns(gap=pl.col("occurred_at").diff().over("partner_id").dt.total_days())
        .drop_nulls("gap")
    )
    assert gaps.height > 0 and (gaps["gap"] <= gaps["rhythm_days"] + 14).all()


def test_nobody_acts_before_joining_or_after_termination(demo: dict[str, pl.DataFrame]) -> None:
    p = demo["partners"].select("partner_id", "joined_at", "terminated_at")
    for table, col in [
        ("partner_activities", "occurred_at"),
        ("touchpoints", "occurred_at"),
        ("deal_registrations", "registered_at"),
    ]:
        rows = demo[table].join(p, on="partner_id").with_columns(day=pl.col(col).dt.date())
        assert rows.filter(pl.col("day") < pl.col("joined_at")).is_empty(), table
        assert rows.filter(pl.col("day") > pl.col("terminated_at")).is_empty(), table


# --- Planted disagreements ---------------------------------------------------------------
def _linear_credit(demo: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """The demo program's plan, restated: linear credit over eligible touches x tier rate."""
    o = demo["opportunities"].filter(pl.col("is_won")).select("opportunity_id", "amount", "close_date")
    touches = (
        demo["touchpoints"]
        .join(o, on="opportunity_id")
        .filter(
            (pl.col("occurred_at").dt.date() <= pl.col("close_date"))
            & ((pl.col("close_date") - pl.col("occurred_at").dt.date()).dt.total_days() <= LOOKBACK_DAYS)
        )
    )
    rate = pl.col("tier").replace_strict(TIER_RATES, return_dtype=pl.Float64)
    return (
        touches.with_columns(n=pl.len().over("opportunity_id"))
        .group_by("opportunity_id", "partner_id")
        .agg(pl.col("amount").first(), pl.col("close_date").first(), (pl.len() / pl.col("n").first()).alias("share"))
        .join(demo["partners"].select("partner_id", "tier"), on="partner_id")
        .with_columns(due=(pl.col("amount") * pl.col("share") * rate).round(2))
    )


def test_planted_errors_cover_every_kind(demo: dict[str, pl.DataFrame]) -> None:
    counts = dict(demo["planted"].group_by("kind").len().iter_rows())
    assert set(counts) == set(ERROR_KINDS)
    assert all(n >= 1 for n in counts.values())
    assert demo["planted"]["detail"].null_count() == 0


def test_each_error_kind_is_planted_at_its_own_share(program: dict[str, pl.DataFrame]) -> None:
    counts = dict(program["planted"].group_by("kind").len().iter_rows())
    assert len(set(counts.values())) == len(ERROR_KINDS), counts  # no two kinds with the same count
    assert counts["duplicate_payout"] < counts["payout_without_credit"] < counts["payout_amount_mismatch"]


def test_payouts_follow_the_plan_except_where_errors_were_planted(demo: dict[str, pl.DataFrame]) -> None:
    credit = _linear_credit(demo)
    paid = demo["payouts"].filter(pl.col("opportunity_id").is_not_null())
    key = ["opportunity_id", "partner_id"]

    duplicates = paid.filter(pl.len().over("partner_id", "opportunity_id", "payout_type", "amount") > 1)
    assert set(duplicates.select(key).unique().iter_rows()) == _planted(demo, "duplicate_payout", *key)
    assert set(duplicates.sort("payout_id").group_by(key).last()["payout_id"]) == {
        r[0] for r in _planted(demo, "duplicate_payout", "payout_id")
    }
    uncredited = paid.join(credit, on=key, how="anti")
    assert set(uncredited.select(*key, "payout_id").iter_rows()) == _planted(demo, "payout_without_credit", *key, "payout_id")
    due_date = DEMO_END - timedelta(days=PAYMENT_TERMS_DAYS)
    unpaid = credit.filter(pl.col("close_date") < due_date).join(paid, on=key, how="anti")
    assert set(unpaid.select(key).iter_rows()) == _planted(demo, "credit_without_payout", *key)
    off = paid.join(credit, on=key).filter(
        (pl.col("amount") - pl.col("due")).abs() > pl.max_horizontal(0.01 * pl.col("due"), pl.lit(1.0))
    )
    assert set(off.select(*key, "payout_id").iter_rows()) == _planted(demo, "payout_amount_mismatch", *key, "payout_id")
    referral = demo["partners"].filter(pl.col("partner_types").str.starts_with("referral"))["partner_id"]
    types = paid.with_columns(referral=pl.col("partner_id").is_in(referral.implode()))
    assert (types.filter("referral")["payout_type"] == "referral_fee").all()
    assert (types.filter(~pl.col("referral"))["payout_type"] == "commission").all()


def test_registration_disagreements_are_exactly_the_planted_ones(demo: dict[str, pl.DataFrame]) -> None:
    r, o = demo["deal_registrations"], demo["opportunities"]
    # Conflicts: an opportunity or an account registered by two or more partners; the later
    # registrant is the planted one.
    later = pl.col("registered_at").rank("ordinal") > 1
    by_account = r.sort("registered_at").filter(pl.col("partner_id").n_unique().over("account_name") > 1)
    second = by_account.filter(pl.col("partner_id") != pl.col("partner_id").first().over("account_name"))
    assert set(second["registration_id"]) == {x[0] for x in _planted(demo, "registration_conflict", "registration_id")}
    same_deal = r.filter(pl.col("opportunity_id").is_not_null()).filter(
        (pl.col("partner_id").n_unique().over("opportunity_id") > 1) & later.over("opportunity_id")
    )
    planted_deals = {x[0] for x in _planted(demo, "registration_conflict", "opportunity_id") if x[0] is not None}
    assert set(same_deal["opportunity_id"]) == planted_deals
    # Each planted conflict is against a registration that still stood (approved or pending).
    first = (
        demo["planted"]
        .filter(pl.col("kind") == "registration_conflict")
        .select(registration_id=pl.col("detail").str.extract(r"\b(R\d+)\b"))
    )
    assert set(first.join(r, on="registration_id")["status"]) <= {"approved", "submitted"}

    approved = r.filter(pl.col("status") == "approved").join(o, on="opportunity_id", suffix="_crm")
    crm = approved.filter((pl.col("claimed_role") == "sourced") & pl.col("partner_id").ne_missing(pl.col("sourced_partner_id")))
    assert set(crm.select("opportunity_id", "partner_id", "registration_id").iter_rows()) == _planted(
        demo, "crm_vs_registration", "opportunity_id", "partner_id", "registration_id"
    )
    direct = approved.filter(pl.col("sourced_partner_id").is_null() & (pl.col("source") == "direct"))
    assert set(direct.select("opportunity_id", "partner_id", "registration_id").iter_rows()) == _planted(
        demo, "channel_conflict", "opportunity_id", "partner_id", "registration_id"
    )
