"""The attribution engine: hand-computed cases for every model, invariants as properties, and
agreement with the ChannelAttribution package on its own reference paths."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import queries
from loaders.build import build_database, write_settings_tables
from queries.attribution import credit as attribution
from queries.attribution.markov import removal_effects, transitions_from_paths
from queries.attribution.shapley import MAX_EXACT, shapley_weights
from settings import Settings
from tests.conftest import SHARED_DATA, write_extracts
from tests.oracles import oracle

# Every won deal closes on 2026-03-31 and is worth 1000, so a weight w is w x 1000 of credit.
HAND = {
    "partners.csv": """
        partner_id,partner_name,partner_types,tier,joined_at
        P1,One,referral,gold,2024-01-01
        P2,Two,integration,silver,2024-01-01
        P3,Three,services,registered,2024-01-01
    """,
    "opportunities.csv": """
        opportunity_id,amount,stage,created_at,close_date,sourced_partner_id
        O1,1000,Closed Won,2026-01-01,2026-03-31,
        O2,1000,Closed Won,2026-01-01,2026-03-31,
        O3,1000,Closed Won,2026-01-01,2026-03-31,
        O4,1000,Closed Won,2026-01-01,2026-03-31,
        O5,1000,Closed Won,2026-03-01,2026-03-31,
        O6,1000,Closed Won,2026-01-01,2026-03-31,
        O7,1000,Closed Won,2026-01-01,2026-03-31,P2
        O8,1000,Closed Lost,2026-01-01,2026-03-31,
    """,
    "touchpoints.csv": """
        touchpoint_id,opportunity_id,partner_id,touch_type,occurred_at
        T11,O1,P1,referral,2026-03-01 09:00:00
        T21,O2,P1,referral,2026-03-01 09:00:00
        T22,O2,P2,integration,2026-03-31 09:00:00
        TB,O3,P1,co_selling,2026-03-10 10:00:00
        TA,O3,P2,co_selling,2026-03-10 10:00:00
        T41,O4,P1,referral,2026-02-01 09:00:00
        T42,O4,P2,deal_registration,2026-02-15 09:00:00
        T43,O4,P3,co_selling,2026-03-01 09:00:00
        T44,O4,P1,marketing,2026-03-20 09:00:00
        T51,O5,P1,referral,2026-03-02 09:00:00
        T52,O5,P2,co_selling,2026-03-10 09:00:00
        T53,O5,P3,co_selling,2026-03-20 09:00:00
        T61,O6,P1,referral,2026-04-02 09:00:00
        T62,O6,P2,referral,2025-03-30 09:00:00
        T63,O6,P3,referral,2025-03-31 09:00:00
        T81,O8,P1,referral,2026-03-01 09:00:00
    """,
    "deal_registrations.csv": """
        registration_id,partner_id,registered_at,status,opportunity_id,claimed_role
        R1,P3,2026-02-10 10:00:00,approved,O4,sourced
        R2,P2,2026-02-01 10:00:00,approved,O4,sourced
        R3,P1,2026-01-05 10:00:00,rejected,O1,sourced
    """,
}


@pytest.fixture(scope="module")
def hand_con(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("hand")
    build_database(write_extracts(folder / "extracts", HAND), folder / "hand.duckdb")
    con = duckdb.connect(str(folder / "hand.duckdb"), read_only=True)
    yield con
    con.close()


def credit_of(con, model: str, **params) -> dict[tuple[str, str], float]:
    frame = queries.execute(con, "attribution_credit", model=model, **params)
    return {(r["opportunity_id"], r["partner_id"]): float(r["credit"]) for r in frame.iter_rows(named=True)}


def deal(credit: dict[tuple[str, str], float], opportunity_id: str) -> dict[str, float]:
    return {p: round(c, 2) for (o, p), c in credit.items() if o == opportunity_id}


def test_a_single_touch_gets_the_whole_deal_under_every_touch_model(hand_con):
    for model in attribution.TOUCH_MODELS:
        assert deal(credit_of(hand_con, model), "O1") == {"P1": 1000.0}, model


def test_two_touches_split_as_each_model_says(hand_con):
    # T21 (P1, referral) 30 days before close, T22 (P2, integration) on the close date.
    expected = {
        "first_touch": {"P1": 1000.0},
        "last_touch": {"P2": 1000.0},
        "linear": {"P1": 500.0, "P2": 500.0},
        "time_decay": {"P1": 333.33, "P2": 666.67},  # 2^-1 : 2^0
        "position_based": {"P1": 500.0, "P2": 500.0},
        # key = the touch nearest creation = the first touch: first 0.3 + 0.3, last 0.3, scaled to 1.
        "w_shaped": {"P1": 666.67, "P2": 333.33},
        "touch_value": {"P1": 250.0, "P2": 750.0},  # referral 1 : integration 3
    }
    for model, split in expected.items():
        assert deal(credit_of(hand_con, model), "O2") == split, model


def test_touches_at_the_same_moment_are_ordered_by_touchpoint_id(hand_con):
    # TA (P2) sorts before TB (P1) although TB is listed first.
    assert deal(credit_of(hand_con, "first_touch"), "O3") == {"P2": 1000.0}
    assert deal(credit_of(hand_con, "last_touch"), "O3") == {"P1": 1000.0}


def test_w_shaped_anchors_first_registration_and_last_touch(hand_con):
    # Anchors T41 (P1), T42 (deal_registration, P2), T44 (P1) 0.3 each; T43 (P3) the other 0.1.
    assert deal(credit_of(hand_con, "w_shaped"), "O4") == {"P1": 600.0, "P2": 300.0, "P3": 100.0}
    assert deal(credit_of(hand_con, "position_based"), "O4") == {"P1": 800.0, "P2": 100.0, "P3": 100.0}
    assert deal(credit_of(hand_con, "linear"), "O4") == {"P1": 500.0, "P2": 250.0, "P3": 250.0}


def test_w_shaped_anchors_that_coincide_add_their_weights(hand_con):
    # No registration touch: the key is T51, nearest the creation date, which is also first.
    assert deal(credit_of(hand_con, "w_shaped"), "O5") == {"P1": 600.0, "P2": 100.0, "P3": 300.0}


def test_touches_after_close_or_beyond_the_lookback_are_ignored(hand_con):
    # T61 is after close, T62 is 366 days before it, T63 exactly 365 days before it.
    for model in attribution.TOUCH_MODELS:
        assert deal(credit_of(hand_con, model), "O6") == {"P3": 1000.0}, model
    assert deal(credit_of(hand_con, "linear", lookback_days=364), "O6") == {}


def test_time_decay_half_life_is_a_parameter(hand_con):
    # Half-life 60 days: 2^-0.5 : 1 for touches 30 and 0 days before close.
    weight = 2**-0.5 / (1 + 2**-0.5)
    assert deal(credit_of(hand_con, "time_decay", half_life_days=60), "O2") == {
        "P1": round(1000 * weight, 2),
        "P2": round(1000 * (1 - weight), 2),
    }


def test_crm_sourced_and_registration_need_no_touchpoints(hand_con):
    assert credit_of(hand_con, "crm_sourced") == {("O7", "P2"): 1000.0}
    # Of two approved registrations on O4 the earlier (R2, P2) wins; the rejected R3 counts for nothing.
    assert credit_of(hand_con, "registration") == {("O4", "P2"): 1000.0}


def test_the_sourced_models_credit_at_close_is_the_general_credit_of_their_weights(demo_db_path):
    # The export and the build take a short cut for crm_sourced and registration (one partner takes the
    # whole deal); it must give the rows and cents of splitting their weights like any other model.
    con = duckdb.connect(str(demo_db_path), read_only=True)
    models = ["crm_sourced", "registration"]
    fast = attribution.sourced_credit_at_close(con, models, attribution.start_month(con))
    general = attribution.credit_from_touches(attribution.touch_weights(con, models), "close_date", attribution.start_month(con))
    con.close()
    assert fast.height > 100 and set(fast["model"]) == set(models)
    assert fast.equals(general)


def test_a_won_deal_without_touchpoints_gives_no_partner_credit(hand_con):
    for model in attribution.TOUCH_MODELS:
        assert deal(credit_of(hand_con, model), "O7") == {}, model


def test_booking_at_touch_dates_moves_credit_to_the_quarter_of_each_touch(hand_con):
    frame = queries.execute(hand_con, "attribution_credit", model="linear", booking_basis="touch_date")
    o6 = frame.filter(pl.col("opportunity_id") == "O6")
    assert o6.select("partner_id", "fiscal_quarter").rows() == [("P3", "FY2025 Q1")]
    closing = queries.execute(hand_con, "attribution_credit", model="linear")
    assert closing.filter(pl.col("opportunity_id") == "O6")["fiscal_quarter"].to_list() == ["FY2026 Q1"]
    assert frame["credit"].sum() == closing["credit"].sum()


def test_the_build_stores_every_model_with_default_parameters(hand_con):
    stored = hand_con.sql("select model, sum(credit) from attribution_credit_default group by model").fetchall()
    totals = {model: float(total) for model, total in stored}
    # Won deals with an eligible touch: O1-O6, 6000.
    for model in attribution.TOUCH_MODELS:
        assert totals[model] == 6000.0, model
    assert totals["crm_sourced"] == 1000.0
    assert totals["registration"] == 1000.0


def test_partner_credit_by_model_lists_every_model(hand_con):
    frame = queries.execute(hand_con, "partner_credit_by_model", partner_id="P3")
    assert frame["model"].to_list() == attribution.MODELS
    linear = frame.filter(pl.col("model") == "linear").row(0, named=True)
    # O4 250 + O5 333.33 (O5's leftover cent goes to P1, the first of the equal shares) + O6 1000.
    assert (float(linear["credit"]), linear["deals"]) == (1583.33, 3)
    assert frame.filter(pl.col("model") == "crm_sourced")["deals"].to_list() == [0]


def test_markov_removal_effects_match_the_hand_solved_chain():
    # Journeys: A -> conversion, A -> B -> conversion, B -> null.
    transitions = transitions_from_paths([["A"], ["A", "B"], ["B"]], [1, 1, 0], [0, 0, 1])
    effects = dict(removal_effects(transitions).select("partner_id", "removal_effect").iter_rows())
    # P(conv) = 2/3; without A: 1/6 (RE 0.75); without B: 1/3 (RE 0.5).
    assert effects == pytest.approx({"A": 0.75, "B": 0.5})


def test_markov_transitions_count_paths_from_start_to_the_end(hand_con):
    frame = oracle(hand_con, "attribution_markov_transitions")
    rows = {(r["from_partner"], r["to_partner"]): (r["transitions"], r["conversions"]) for r in frame.iter_rows(named=True)}
    assert rows[(None, "P1")] == (5, 4)  # O1, O2, O4, O5 (won) and O8 (lost) start with P1
    assert rows[("P1", None)] == (4, 3)  # O1, O3, O4 (won) and O8 (lost) end with P1


def test_markov_transitions_treat_consecutive_touches_by_one_partner_as_one_visit():
    opp, tp = frames_from(
        [(True, 100, [(1, 9, "referral", 0), (1, 8, "referral", 0), (2, 5, "referral", 0), (1, 1, "referral", 0)])]
    )
    con = engine_con(opp, tp)
    frame = oracle(con, "attribution_markov_transitions").sort("transitions")
    rows = set(frame.select("from_partner", "to_partner", "transitions").iter_rows())
    assert rows == {(None, "P1", 1), ("P1", "P2", 1), ("P2", "P1", 1), ("P1", None, 1)}
    con.close()


def test_markov_splits_a_deal_by_its_partners_removal_effects(hand_con):
    effects = dict(
        removal_effects(oracle(hand_con, "attribution_markov_transitions"))
        .select("partner_id", "removal_effect")
        .iter_rows()
    )
    o2 = deal(credit_of(hand_con, "markov"), "O2")
    total = effects["P1"] + effects["P2"]
    # Each within a cent of its exact share (rounding), and the deal adds up to the cent.
    assert o2["P1"] == pytest.approx(1000 * effects["P1"] / total, abs=0.01)
    assert o2["P2"] == pytest.approx(1000 * effects["P2"] / total, abs=0.01)
    assert round(o2["P1"] + o2["P2"], 2) == 1000.0


def test_shapley_matches_the_hand_computed_game():
    sets = pl.DataFrame(
        {
            "opportunity_id": ["a1", "a2", "b1", "ab", "ab"],
            "partner_id": ["A", "A", "B", "A", "B"],
            "is_won": [True, False, True, True, True],
        }
    )
    # v(A) = 1/2, v(B) = 1, v(AB) = 1: phi_A = (1/2 + 0) / 2 = 1/4, phi_B = (1 + 1/2) / 2 = 3/4.
    weights = shapley_weights(sets).filter(pl.col("opportunity_id") == "ab").sort("partner_id")
    assert weights["weight"].to_list() == pytest.approx([0.25, 0.75])


def test_shapley_samples_permutations_above_twelve_partners_with_a_fixed_seed():
    players = [f"P{i:02d}" for i in range(MAX_EXACT + 1)]
    sets = pl.DataFrame({"opportunity_id": "big", "partner_id": players, "is_won": True})
    first = shapley_weights(sets, seed=3).sort("partner_id")
    again = shapley_weights(sets, seed=3).sort("partner_id")
    assert first.equals(again)
    assert first["weight"].sum() == pytest.approx(1.0)
    # Only the full set was seen, so every ordering credits the last player: symmetric in expectation.
    assert first["weight"].to_numpy() == pytest.approx(np.full(len(players), 1 / len(players)), abs=0.03)


# ---- invariants -------------------------------------------------------------------------

CLOSE = date(2026, 6, 30)
TYPES = ["referral", "deal_registration", "co_selling", "integration", "marketing"]


def engine_con(opportunities: pl.DataFrame, touchpoints: pl.DataFrame) -> duckdb.DuckDBPyConnection:
    """An in-memory database with just the tables the engine reads."""
    con = duckdb.connect()
    write_settings_tables(con, Settings())
    registrations = pl.DataFrame(
        schema={
            "registration_id": pl.String,
            "partner_id": pl.String,
            "registered_at": pl.Datetime,
            "status": pl.String,
            "opportunity_id": pl.String,
        }
    )
    meta = pl.DataFrame({"key": ["settings_json", "fiscal_year_start_month"], "value": [Settings().model_dump_json(), "1"]})
    for name, frame in [
        ("opportunities", opportunities),
        ("touchpoints", touchpoints),
        ("deal_registrations", registrations),
        ("load_meta", meta),
    ]:
        con.register("incoming", frame)
        con.execute(f"create table {name} as select * from incoming")
        con.unregister("incoming")
    return con


touch = st.tuples(st.integers(0, 4), st.integers(-30, 420), st.sampled_from(TYPES), st.integers(0, 23))
deals = st.lists(st.tuples(st.booleans(), st.integers(1, 10_000), st.lists(touch, max_size=7)), min_size=1, max_size=8)


def frames_from(generated) -> tuple[pl.DataFrame, pl.DataFrame]:
    opportunities, touchpoints = [], []
    for i, (won, amount, touches) in enumerate(generated):
        opportunities.append((f"O{i}", float(amount), won, True, CLOSE - timedelta(days=90), CLOSE, None))
        for j, (partner, days_before, kind, hour) in enumerate(touches):
            at = datetime.combine(CLOSE - timedelta(days=days_before), datetime.min.time()) + timedelta(hours=hour)
            touchpoints.append((f"O{i}", f"P{partner}", kind, at, f"T{i}-{j}"))
    opp = pl.DataFrame(
        opportunities,
        orient="row",
        schema={
            "opportunity_id": pl.String,
            "amount": pl.Decimal(18, 2),
            "is_won": pl.Boolean,
            "is_closed": pl.Boolean,
            "created_at": pl.Date,
            "close_date": pl.Date,
            "sourced_partner_id": pl.String,
        },
    )
    tp = pl.DataFrame(
        touchpoints,
        orient="row",
        schema={
            "opportunity_id": pl.String,
            "partner_id": pl.String,
            "touch_type": pl.String,
            "occurred_at": pl.Datetime,
            "touchpoint_id": pl.String,
        },
    )
    return opp, tp


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deals)
def test_every_touch_model_splits_each_eligible_won_deal_exactly_once(generated):
    opp, tp = frames_from(generated)
    con = engine_con(opp, tp)
    eligible = tp.join(opp, on="opportunity_id").filter(
        pl.col("is_won"),
        pl.col("occurred_at").dt.date() <= pl.col("close_date"),
        (pl.col("close_date") - pl.col("occurred_at").dt.date()).dt.total_days() <= 365,
    )
    eligible_pairs = set(eligible.select("opportunity_id", "partner_id").iter_rows())
    revenue = float(opp.filter(pl.col("opportunity_id").is_in(eligible["opportunity_id"].implode()))["amount"].sum())
    touches = attribution.touch_weights(con, attribution.TOUCH_MODELS)
    credit = attribution.credit_from_touches(touches, "close_date", 1)
    for model in attribution.TOUCH_MODELS:
        rows = credit.filter(pl.col("model") == model)
        sums = rows.group_by("opportunity_id").agg(pl.col("weight").sum())
        assert sums["weight"].to_list() == pytest.approx([1.0] * sums.height), model
        assert set(sums["opportunity_id"]) == set(eligible["opportunity_id"]), model
        assert float(rows["credit"].sum()) == pytest.approx(revenue, abs=0.01 * max(rows.height, 1)), model
        # Only partners with an eligible touch on the deal are credited, never with negative weight.
        assert set(rows.select("opportunity_id", "partner_id").iter_rows()) <= eligible_pairs, model
        assert (rows["weight"] >= 0).all(), model
    con.close()


# ---- reference agreement with the ChannelAttribution package -------------------------------

PATHS = SHARED_DATA / "channelattribution-paths" / "Data.csv"
needs_paths = pytest.mark.skipif(not PATHS.exists(), reason=f"{PATHS} is not there (the shared data folder)")


def reference_paths() -> pl.DataFrame:
    return pl.read_csv(PATHS, separator=";").with_row_index("path_id")


def paths_con(paths: pl.DataFrame, with_lost: bool) -> duckdb.DuckDBPyConnection:
    """One won opportunity per path (worth its conversions), or one per journey with lost ones."""
    if with_lost:
        journeys = (
            paths.select(
                "path_id",
                "path",
                pl.concat_list(pl.lit(True).repeat_by("total_conversions"), pl.lit(False).repeat_by("total_null")).alias("won"),
            )
            .explode("won")
            .with_row_index("journey")
        )
        opp = journeys.select(
            pl.format("J{}", "journey").alias("opportunity_id"),
            pl.lit(1.0).alias("amount"),
            pl.col("won").alias("is_won"),
            "path",
        )
    else:
        opp = paths.filter(pl.col("total_conversions") > 0).select(
            pl.format("J{}", "path_id").alias("opportunity_id"),
            pl.col("total_conversions").cast(pl.Float64).alias("amount"),
            pl.lit(True).alias("is_won"),
            "path",
        )
    base = datetime(2026, 6, 1)
    opportunities = opp.select(
        "opportunity_id",
        pl.col("amount").cast(pl.Decimal(18, 2)),
        "is_won",
        pl.lit(True).alias("is_closed"),
        pl.lit(base.date()).alias("created_at"),
        pl.lit(date(2026, 6, 30)).alias("close_date"),
        pl.lit(None, pl.String).alias("sourced_partner_id"),
    )
    touchpoints = (
        opp.select("opportunity_id", pl.col("path").str.split(" > ").alias("partner_id"))
        .with_columns(step=pl.int_ranges(pl.col("partner_id").list.len()))
        .explode("partner_id", "step")
        .select(
            "opportunity_id",
            "partner_id",
            pl.lit("referral").alias("touch_type"),
            (pl.lit(base) + pl.duration(minutes=pl.col("step"))).alias("occurred_at"),
            pl.format("{}-{}", "opportunity_id", pl.col("step").cast(pl.String).str.zfill(3)).alias("touchpoint_id"),
        )
    )
    return engine_con(opportunities, touchpoints)


@needs_paths
def test_reference_paths_have_the_documented_totals():
    paths = reference_paths()
    assert (paths["total_conversions"].sum(), paths["total_null"].sum()) == (19_785, 68_602)
    assert paths["total_conversion_value"].sum() == pytest.approx(74_802.97, abs=0.01)


@needs_paths
def test_first_last_and_linear_equal_channelattribution_heuristics():
    ca = pytest.importorskip("ChannelAttribution", reason="channelattribution (requirements-dev.txt) is not installed")
    paths = reference_paths()
    reference = pl.from_pandas(
        ca.heuristic_models(paths.to_pandas(), "path", "total_conversions", var_value="total_conversion_value")
    )
    con = paths_con(paths, with_lost=False)
    touches = attribution.touch_weights(con, ["first_touch", "last_touch", "linear"])
    values = paths.select(pl.format("J{}", "path_id").alias("opportunity_id"), "total_conversions", "total_conversion_value")
    mine = (
        touches.join(values, on="opportunity_id")
        .group_by("model", "partner_id")
        .agg(
            (pl.col("weight") * pl.col("total_conversions")).sum().alias("conversions"),
            (pl.col("weight") * pl.col("total_conversion_value")).sum().alias("value"),
        )
    )
    for model, prefix in [("first_touch", "first_touch"), ("last_touch", "last_touch"), ("linear", "linear_touch")]:
        ours = mine.filter(pl.col("model") == model).join(reference, left_on="partner_id", right_on="channel_name", how="full")
        assert ours["conversions"].fill_null(0).to_numpy() == pytest.approx(
            ours[f"{prefix}_conversions"].fill_null(0).to_numpy(), abs=1e-6
        )
        assert ours["value"].fill_null(0).to_numpy() == pytest.approx(ours[f"{prefix}_value"].fill_null(0).to_numpy(), abs=1e-6)
    con.close()


@needs_paths
def test_markov_removal_effects_agree_with_channelattribution():
    ca = pytest.importorskip("ChannelAttribution", reason="channelattribution (requirements-dev.txt) is not installed")
    paths = reference_paths()
    con = paths_con(paths, with_lost=True)
    exact = removal_effects(oracle(con, "attribution_markov_transitions"))
    con.close()
    # The SQL transition counts equal the ones counted from the aggregated paths.
    from_paths = removal_effects(
        transitions_from_paths([p.split(" > ") for p in paths["path"]], paths["total_conversions"], paths["total_null"])
    )
    assert exact.sort("partner_id")["removal_effect"].to_numpy() == pytest.approx(
        from_paths.sort("partner_id")["removal_effect"].to_numpy(), abs=1e-9
    )
    result = ca.markov_model(paths.to_pandas(), "path", "total_conversions", var_null="total_null", out_more=True, seed=1)
    reference = pl.from_pandas(result["removal_effects"]).rename({"channel_name": "partner_id", "removal_effect": "theirs"})
    both = exact.join(reference, on="partner_id").with_columns(theirs_share=pl.col("theirs") / pl.col("theirs").sum())
    assert both.height == 12
    assert both["share"].to_numpy() == pytest.approx(both["theirs_share"].to_numpy(), abs=0.01)


# ---- the fast engine (integer-coded paths) gives the same numbers as the readable definitions ----


def test_markov_counts_from_ordered_paths_equal_the_sql_transitions(hand_con):
    from queries.attribution.markov import path_counts
    from queries.attribution.touch_paths import touch_paths

    paths = touch_paths(hand_con)
    k = len(paths.partner_ids)
    counts, to_conversion, to_null = path_counts(paths.partner, paths.starts, paths.is_won, k)
    names = paths.partner_ids.to_list() + [None]
    mine = {(names[i], names[j]): counts[i, j] for i, j in zip(*np.nonzero(counts), strict=True)}
    mine.update({(names[i], None): to_conversion[i] + to_null[i] for i in np.flatnonzero(to_conversion + to_null)})
    sql = oracle(hand_con, "attribution_markov_transitions")
    assert mine == {(r["from_partner"], r["to_partner"]): r["transitions"] for r in sql.iter_rows(named=True)}
    assert {names[i]: to_conversion[i] for i in np.flatnonzero(to_conversion)} == {
        r["from_partner"]: r["conversions"]
        for r in sql.filter(pl.col("to_partner").is_null(), pl.col("conversions") > 0).iter_rows(named=True)
    }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deals)
def test_the_build_credit_equals_credit_from_the_touch_weights_of_every_model(generated):
    opp, tp = frames_from(generated)
    con = engine_con(opp, tp)
    params = attribution.checked_params(attribution.MODELS, 30, 365, 0.4, 0.4, 0.3)
    won, weights, _ = attribution.model_weights(con, attribution.TOUCH_MODELS, params)
    fast = attribution.credit_at_close(won, weights, 1)
    general = attribution.credit_from_touches(attribution.touch_weights(con, attribution.TOUCH_MODELS), "close_date", 1)
    key = ["model", "opportunity_id", "partner_id"]
    joined = fast.join(general, on=key, how="full", coalesce=True, suffix="_general")
    assert joined.height == fast.height == general.height
    assert (joined["credit"] == joined["credit_general"]).all()
    assert joined["weight"].to_numpy() == pytest.approx(joined["weight_general"].to_numpy(), abs=1e-12)
    assert fast.select(key).equals(fast.select(key).sort(key))
    con.close()


def assert_same_paths(got, expected) -> None:
    """Two TouchPaths hold the same deals, touches, order and dictionaries."""
    for field in ("is_won", "starts", "deal", "partner", "type_code", "days_before_close", "days_from_created", "type_values"):
        assert np.array_equal(getattr(got, field), getattr(expected, field)), field
    for field in ("opportunity_id", "amount", "close_date", "touch_date", "partner_ids", "touch_types"):
        assert getattr(got, field).to_list() == getattr(expected, field).to_list(), field


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deals, st.integers(0, 400), st.booleans())
def test_the_paths_the_build_stores_read_back_as_the_paths_ordered_from_the_extracts(generated, lookback, won_only):
    # Ties (one deal, one moment) are frequent here: 8 touches over whole hours of a few days.
    from queries.attribution.touch_paths import ordered_touch_paths, store_paths, touch_paths

    con = engine_con(*frames_from(generated))
    expected = ordered_touch_paths(con, lookback)
    expected = expected.won() if won_only else expected
    store_paths(con)
    assert_same_paths(touch_paths(con, lookback, won_only), expected)
    con.close()


def test_a_built_database_reads_its_stored_paths_and_they_are_the_ordered_ones(hand_con):
    from queries.attribution import touch_paths as paths_module
    assert queries.has_tables(hand_con, paths_module.PATHS_TABLE, paths_module.PATH_DEALS_TABLE, paths_module.PATH_CODES_TABLE)
    for lookback in (365, 20):
        assert_same_paths(paths_module.touch_paths(hand_con, lookback), paths_module.ordered_touch_paths(hand_con, lookback))


@needs_paths
def test_markov_removal_effects_from_ordered_paths_equal_the_sql_ones_on_the_reference_paths():
    from queries.attribution.markov import path_counts, solve_removal_effects
    from queries.attribution.touch_paths import touch_paths

    paths = reference_paths()
    con = paths_con(paths, with_lost=True)
    from_sql = removal_effects(oracle(con, "attribution_markov_transitions")).sort("partner_id")
    ordered = touch_paths(con)
    con.close()
    present = np.unique(ordered.partner)
    effects = solve_removal_effects(
        *path_counts(np.searchsorted(present, ordered.partner), ordered.starts, ordered.is_won, len(present))
    )
    assert ordered.partner_ids.gather(pl.Series(present)).to_list() == from_sql["partner_id"].to_list()
    assert effects == pytest.approx(from_sql["removal_effect"].to_numpy(), abs=1e-12)


def test_the_engine_gives_the_weights_of_the_readable_sql_definition(hand_con):
    rules = [m for m in attribution.RULE_MODELS if m in attribution.TOUCH_MODELS]
    wide = oracle(hand_con, "attribution_touch_weights")
    sql = wide.unpivot(on=rules, index=["opportunity_id", "partner_id", "touch_date"], variable_name="model", value_name="weight")
    engine = attribution.touch_weights(hand_con, rules).select("model", "opportunity_id", "partner_id", "touch_date", "weight")
    key = ["model", "opportunity_id", "partner_id", "touch_date"]
    joined = sql.filter(pl.col("weight") > 0).join(engine, on=key, how="full", coalesce=True, suffix="_engine")
    assert joined["weight"].null_count() == 0 and joined["weight_engine"].null_count() == 0
    assert joined["weight"].to_numpy() == pytest.approx(joined["weight_engine"].to_numpy(), abs=1e-12)


def test_every_rule_model_s_credit_at_once_is_each_model_s_own_export(demo_db_path):
    # What the build stores for the nine rule models, in one call, must be row for row what a user exports per model.
    con = duckdb.connect(str(demo_db_path), read_only=True)
    params = attribution.checked_params(attribution.RULE_MODELS, **attribution.model_params(con))
    every = attribution.rule_credit_at_close(con, params, attribution.start_month(con))
    assert every.columns == attribution.CREDIT_COLUMNS
    for model in attribution.RULE_MODELS:
        exported = attribution.attribution_credit(con, model)
        assert exported.height > 50, model
        assert every.filter(pl.col("model") == model).equals(exported), model
    assert every["model"].unique(maintain_order=True).to_list() == ["crm_sourced", "registration"] + sorted(
        m for m in attribution.RULE_MODELS if m in attribution.TOUCH_MODELS
    )
    con.close()
