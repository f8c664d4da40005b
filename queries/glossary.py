"""The glossary: every metric and model the app shows, defined once.

This module owns the words, and is the only place they live. Each entry's `definition` is
docs/design.md's sentence, word for word, where it gives one; `detail` says how this app
computes it where that adds something (thresholds, settings, edge cases). Every help tooltip
(the ⓘ beside a card, a column or a heading) is `tooltip(key)`: the definition and the detail
of one entry. The Glossary page (`pages/glossary.py`), `docs/metrics.md`, the KPI words of
`kpi_definitions.py` and the pages' tooltips all read from here; the numbers themselves are
computed under `queries/` (see `where_computed`).

Regenerate the docs with `python -m queries.glossary > docs/metrics.md` (a test checks the
committed file equals this output).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    key: str  # stable id, the name the code uses (a KPI, a flag column, a model, a disagreement kind)
    term: str  # what the app calls it
    area: str
    definition: str  # docs/design.md's words where it defines the term
    where_shown: str  # page (and part of it)
    detail: str = ""  # how this app computes it, where that adds to the definition
    where_computed: str = ""  # the query or module that computes it
    in_design: bool = True  # False: the app's own term, which docs/design.md does not define


AREAS = [
    "Program health",
    "Partner health score",
    "Attribution",
    "Disagreements",
    "Partner statement",
    "Engagement & burnout",
    "Pipeline forecast",
    "Pipeline changes",
    "Partner 360",
    "Outreach & digest",
    "Data",
]

_HEALTH = "Program health (KPI cards, trend and breakdown)"
_KPIS = "queries/program/kpis_by_period.sql"

GLOSSARY: list[Term] = [
    # Program health (docs/design.md, "Program health").
    Term(
        "period",
        "Period",
        "Program health",
        "the selected date range (default: current fiscal quarter), compared with the period before it. A period "
        "that is not over yet (as of inside it) is compared to date: with the same number of days at the start of "
        "the previous period (quarter-to-date vs previous quarter-to-date), and the page says which dates it "
        "compares. A change of zero is neutral.",
        "Sidebar (Period), every page that takes a date range; Program health (the dates compared, above the cards)",
        "A period not over yet counts up to the as-of date. The period before whole fiscal quarters (a quarter, a "
        "fiscal year) is as many quarters before it; before any other range, as many days. On Program health, "
        "'Compare a period not over yet with' can choose the whole previous period instead (health_compare="
        "full_period in the URL), and the trend draws each quarter's first days, as many as have passed of the "
        "quarter in progress, as a dotted line. A change that shows as zero is grey, without an arrow. Fiscal "
        "quarters follow the fiscal year start month of the settings.",
        "queries/program/kpis.py",
    ),
    Term(
        "partner_involved",
        "Partner-involved",
        "Program health",
        "a partner touchpoint on or before close, or a sourced_partner_id, or an approved deal registration.",
        _HEALTH,
        where_computed=_KPIS,
    ),
    Term(
        "active_partners",
        "Active partners",
        "Program health",
        "partners with at least one activity other than portal_login, or a touchpoint, in the last 90 days before "
        "period end, over partners not terminated",
        _HEALTH,
        "The card shows the count; 'Active share' is that count over partners not terminated at the period end.",
        _KPIS,
    ),
    Term(
        "activation_rate",
        "Activation",
        "Program health",
        "of partners who joined in the period's trailing 12 months, the share with a partner-involved won deal "
        "within 180 days of joining; plus median days to first won deal",
        _HEALTH,
        "Activation counts partners who joined in the 12 months up to the period end; 'Days to first win' is the "
        "median days from joining to the first partner-involved won deal, for those who have won one.",
        _KPIS,
    ),
    Term(
        "sourced_pipeline_revenue",
        "Partner-sourced pipeline / revenue",
        "Program health",
        "amount of opportunities created (pipeline) / won (revenue) in the period whose sourced partner is set "
        "(CRM field, or else an approved registration claimed as sourced)",
        _HEALTH,
        "Two cards: pipeline (opportunities created in the period) and revenue (won in the period).",
        _KPIS,
    ),
    Term(
        "influenced_revenue",
        "Partner-influenced revenue",
        "Program health",
        "won in the period, partner-involved, not sourced",
        _HEALTH,
        "Partner-involved: a partner touchpoint on or before close, or an approved deal registration.",
        _KPIS,
    ),
    Term(
        "partner_revenue_share",
        "Partner share of revenue",
        "Program health",
        "(sourced + influenced) / all won revenue",
        _HEALTH,
        where_computed=_KPIS,
    ),
    Term(
        "win_rate",
        "Win rate, partner vs direct",
        "Program health",
        "won / (won + lost), for opportunities closed in the period",
        _HEALTH,
        "The card shows partner-involved and direct deals below the overall rate.",
        _KPIS,
    ),
    Term(
        "deal_size_cycle",
        "Deal size, cycle length",
        "Program health",
        "mean amount, median days created -> close, of won deals, partner vs direct",
        _HEALTH,
        "Two cards, each over the deals won in the period: deal size (mean amount) and cycle length (median days "
        "from creation to close).",
        _KPIS,
    ),
    Term(
        "cost_of_channel",
        "Cost of channel",
        "Program health",
        "payouts (paid or accrued) for the period / partner-attributed revenue of the period (selected attribution model)",
        _HEALTH + "; model chosen above the cards",
        "Payouts accrued, approved or paid count; clawbacks are excluded.",
        _KPIS,
    ),
    Term(
        "partner_roi",
        "Partner ROI",
        "Program health",
        "partner-attributed revenue / payouts",
        _HEALTH,
        "Same revenue, payouts and model as Cost of channel; shown as a multiple (3.2x).",
        _KPIS,
    ),
    Term(
        "registration_health",
        "Registration health",
        "Program health",
        "approval rate, median days to decision, conflict rate (an opportunity or account registered by two or more partners)",
        _HEALTH,
        "Three cards, over the registrations submitted in the period: approval (the share approved, of those decided "
        "or expired), days to decision (median whole days from submission to decision) and conflicts (the share whose "
        "opportunity or account another partner also registered).",
        _KPIS,
    ),
    Term(
        "tier_mix",
        "Tier mix",
        "Program health",
        "partners per tier, and movements between tiers",
        _HEALTH + "; tier check below",
        "One card per tier: partners in it at the period end (joined by then and not terminated). Tiers as held "
        "today: the extracts keep no tier history. The tier check compares each partner's trailing 12 months with "
        "the tier rules (settings).",
        _KPIS + ", queries/health/tier_check.sql",
    ),
    Term(
        "amounts",
        "Amounts",
        "Program health",
        "Amounts are in the reporting currency, converted at the rate of the deal's close date (or the payout's "
        "period), not today's rate.",
        "Every page",
        "The source figure is kept as amount_original.",
        "loaders/build.py",
    ),
    Term(
        "tier_standing",
        "Tier standing",
        "Program health",
        "Each partner's trailing 12 months against the tier rules: 'higher' when they meet the rules of a tier above "
        "the one it holds, 'lower' when they miss the rules of the tier it holds, 'as held' otherwise.",
        "Program health (Tier check: qualify for a higher tier, only for a lower tier); Partner 360 (tier check)",
        "Rules from the settings (tier_rules): minimum won deals or sourced revenue, and certifications, over the "
        "last 12 months; the lowest tier needs nothing.",
        "queries/health/tier_check.sql",
        in_design=False,
    ),
    Term(
        "payout_difference",
        "Payout difference",
        "Program health",
        "(Commission rate of the held tier - rate of the qualified tier) x the partner's trailing-12-month credit "
        "under the commission plan's model: positive means the held tier pays more than the rules would.",
        "Program health (Tier check); Partner 360 (tier check)",
        "The card sums it over the partners shown.",
        "queries/health/tier_check.sql",
        in_design=False,
    ),
    # The partner health score (the app's own model; docs/design.md does not define it).
    Term(
        "health_score",
        "Partner health score",
        "Partner health score",
        "Weighted mean of five components, each 0-100 (revenue, pipeline, engagement, enablement, "
        "relationship); young partners lean on their segment's average.",
        "Program health (Partner health score); Engagement & burnout (Health score); Partner 360 (Health score)",
        "Weights from settings health_weights (revenue 35, engagement 20, enablement 15, pipeline 20, relationship "
        "10), re-rankable with the sliders on Engagement & burnout.",
        "queries/health/health_score.py",
        in_design=False,
    ),
    Term(
        "history_share",
        "Rests on own history",
        "Partner health score",
        "How much of a partner's health score rests on its own history: months / (months + 3), months of the last "
        "12 the partner was with us; the rest is the average of partners of its type and tier.",
        "Program health (Scores resting mostly on the segment: under 50%); Engagement & burnout; Partner 360",
        "A partner of one month rests 25% on its own history, of a year 80% (settings health_prior_months = 3).",
        "queries/health/health_score.py",
        in_design=False,
    ),
    Term(
        "revenue_component",
        "Revenue component",
        "Partner health score",
        "Percentile rank of partner-attributed revenue (the commission plan's model, linear by default) over the "
        "trailing 12 months.",
        "Engagement & burnout (Health score table); Partner 360 (components)",
        "Percentile rank = 100 x the share of partners on the books that day with a value at or below it (0 with "
        "none); the same rank for every component.",
        "queries/health/health_score.py",
        in_design=False,
    ),
    Term(
        "pipeline_component",
        "Pipeline component",
        "Partner health score",
        "Percentile rank of open partner pipeline on the day (deals sourced, touched or registered).",
        "Engagement & burnout (Health score table); Partner 360 (components)",
        where_computed="queries/health/health_score.py",
        in_design=False,
    ),
    Term(
        "engagement_component",
        "Engagement component",
        "Partner health score",
        "The engagement score: type-weighted activity with a 30-day half-life, ranked.",
        "Engagement & burnout (Health score table); Partner 360 (components)",
        where_computed="queries/health/health_score.py",
        in_design=False,
    ),
    Term(
        "enablement_component",
        "Enablement component",
        "Partner health score",
        "Mean of the percentile ranks of certifications held and current (earned minus expired) and trainings "
        "completed in the last 12 months.",
        "Engagement & burnout (Health score table); Partner 360 (components)",
        where_computed="queries/health/health_score.py",
        in_design=False,
    ),
    Term(
        "relationship_component",
        "Relationship component",
        "Partner health score",
        "Mean of the percentile rank of business reviews in the last 12 months and the registration approval rate "
        "(approved / decided), or the reviews' rank alone when none was decided.",
        "Engagement & burnout (Health score table); Partner 360 (components)",
        where_computed="queries/health/health_score.py",
        in_design=False,
    ),
    Term(
        "health_rank",
        "Rank",
        "Partner health score",
        "Position of the partner's health score among all partners on the books that day (1 = healthiest).",
        "Partner 360 (Health score)",
        where_computed="queries/health/health_score.py",
        in_design=False,
    ),
    Term(
        "p_won_next_quarter",
        "P(won deal next quarter)",
        "Partner health score",
        "Logistic regression on the partner's history (revenue, deals, pipeline, activity, enablement) estimating "
        "the chance of a partner-attributed won deal in the next quarter.",
        "Engagement & burnout (Health score table); Partner 360 (Health score)",
        "Fitted at build; shown only when it beats 'won a deal last quarter' on held-out quarters (see Win model AUC).",
        "queries/health/win_model.py",
        in_design=False,
    ),
    Term(
        "win_model_auc",
        "Win model AUC",
        "Partner health score",
        "Area under the ROC curve of P(won deal next quarter) on past quarters it was not trained on, against the "
        "baseline 'won a deal last quarter': 0.5 = chance, 1 = perfect.",
        "Program health (Partner health score: card, and the calibration table)",
        "Each past quarter is predicted by a model trained only on the quarters before it.",
        "queries/health/win_model.py",
        in_design=False,
    ),
    Term(
        "brier_score",
        "Brier score",
        "Partner health score",
        "Mean squared difference between the predicted probability and what happened (1 = won a deal, 0 = not): "
        "0 is perfect, lower is better.",
        "Program health (calibration table: model and baseline)",
        where_computed="queries/health/win_model.py",
        in_design=False,
    ),
    # Attribution (docs/design.md, "Attribution").
    Term(
        "attribution",
        "Attribution credit",
        "Attribution",
        "For a won opportunity with revenue R, take its partner touchpoints t1..tn whose date is on or before the "
        "close date and at most the lookback window (default 365 days) before it, ordered by occurred_at, then "
        "touchpoint_id, then partner_id. Day counts are whole days between dates (close_date - date of "
        "occurred_at). Each touchpoint gets a weight w_i with sum 1; a partner's credit is the sum of its "
        "touchpoints' w_i * R. A won deal with no touchpoint gives no partner credit (it counts as direct).",
        "Attribution scenarios (Credit cards and tables); Program health (cost of channel, ROI); Partner 360",
        "The Credit card sums it over the won deals closed in the period (booked at the close date, or at each "
        "touch's date with that booking basis). Credit is in whole cents, by largest remainder at the exported "
        "grain (deal x partner, or deal x partner x quarter when booked at touch dates): each row's exact share "
        "rounds down and the deal's leftover cents go one each to the rows with the largest remainders (ties: the "
        "first partner id, then quarter). So each row is its exact share rounded down or up, within half a cent "
        "whenever the deal's cents allow it (three equal shares of $100.00 cannot all be), and a deal's credit "
        "adds up to its revenue to the cent.",
        "queries/attribution/credit.py",
    ),
    Term(
        "crm_sourced",
        "crm_sourced",
        "Attribution",
        "all credit to sourced_partner_id",
        "Attribution scenarios (model)",
        where_computed="queries/attribution/inputs/attribution_sourced_weights.sql",
    ),
    Term(
        "registration",
        "registration",
        "Attribution",
        "all credit to the partner with the earliest approved registration",
        "Attribution scenarios (model)",
        where_computed="queries/attribution/inputs/attribution_sourced_weights.sql",
    ),
    Term(
        "first_touch",
        "first_touch",
        "Attribution",
        "w_1 = 1",
        "Attribution scenarios (model)",
        where_computed="queries/attribution/credit.py (rule_weights)",
    ),
    Term(
        "last_touch",
        "last_touch",
        "Attribution",
        "w_n = 1",
        "Attribution scenarios (model)",
        where_computed="queries/attribution/credit.py (rule_weights)",
    ),
    Term(
        "linear",
        "linear",
        "Attribution",
        "w_i = 1/n",
        "Attribution scenarios (model); the commission plan's default model",
        where_computed="queries/attribution/credit.py (rule_weights)",
    ),
    Term(
        "time_decay",
        "time_decay",
        "Attribution",
        "w_i proportional to 2^(-(close - t_i) / half_life), half_life default 30 days",
        "Attribution scenarios (model, half-life)",
        where_computed="queries/attribution/credit.py (rule_weights)",
    ),
    Term(
        "position_based",
        "position_based (U)",
        "Attribution",
        "n=1: 1; n=2: 0.5 each; n>2: 0.4 first, 0.4 last, 0.2 shared equally by the rest",
        "Attribution scenarios (model)",
        where_computed="queries/attribution/credit.py (rule_weights)",
    ),
    Term(
        "w_shaped",
        "w_shaped",
        "Attribution",
        "anchors first, key (first deal_registration touch, else the touch nearest created_at), last: 0.3 each and "
        "0.1 shared by the rest; anchors that coincide add their weights; with no other touches, the anchors' "
        "weights are scaled to sum 1",
        "Attribution scenarios (model)",
        where_computed="queries/attribution/credit.py (rule_weights)",
    ),
    Term(
        "touch_value",
        "touch_value",
        "Attribution",
        "w_i proportional to the configured value of touch_type (e.g. integration and implementation count more than referral)",
        "Attribution scenarios (model)",
        "Default values (settings attribution.touch_values): integration and implementation 3, co_selling and "
        "technical_validation 2, referral and deal_registration 1, marketing 0.5.",
        "queries/attribution/credit.py (rule_weights)",
    ),
    Term(
        "markov",
        "markov",
        "Attribution",
        "first-order Markov chain over partners with start, conversion and null states, built from the closed "
        "opportunities that have at least one partner touchpoint in the window (won ones end in conversion, lost "
        "ones in null); consecutive touches by the same partner are one visit. Removal effect RE_p = 1 - "
        "P(conversion with p's visits sent to null) / P(conversion), solved exactly (absorbing chain), not "
        "simulated. Each won deal's revenue is split over its own partners in proportion to their RE_p. The "
        "normalised removal effects agree with the ChannelAttribution package's on the same paths, within its "
        "simulation error",
        "Attribution scenarios (model)",
        "The exact solve works block by block over groups of partners that all reach one another; it needs memory "
        "and time for the largest such group as a dense matrix, so above 10,000 partners in one group (a program of "
        "tens of thousands of partners who share deals) the chain is built over partner groups instead: see "
        "markov (grouped).",
        where_computed="queries/attribution/markov.py",
    ),
    Term(
        "markov_grouped",
        "markov (grouped)",
        "Attribution",
        "The exact chain has one state per partner. When the largest group of partners that all reach one another is "
        "above the exact limit (10,000 partners), the chain is built over partner groups (partner type x tier x "
        "region) instead, and each group's credit is split over its partners by their linear credit.",
        "Attribution scenarios (model); Partner 360 (credit under each model); attribution_credit export (model column)",
        "A group is one partner type (a partner of several: all of them together), one tier and one region. The chain's "
        "states are the groups (consecutive touches by partners of one group are one visit), solved exactly like the "
        "partner chain; each won deal's groups share its revenue by their removal effects, and a group's share is split "
        "over the deal's touches by its partners, so over those partners in proportion to their linear credit on the "
        "deal. The limit is the setting attribution.markov_exact_max_partners. How far it is from the exact model, "
        "measured on the demo program at scale 10 (4,738 partners, 450 groups, 29,419 won deals), where both run: "
        "grouping moves 21.2% of the credited revenue between deal x partner rows (half the sum of absolute "
        "differences), 17.0% between partners' totals and 13.6% between groups' totals; a partner's total changes by "
        "46.4% at the median (90th percentile 346%), and 15% of partners are within 10% of their exact credit. Read "
        "it for partner types, tiers and regions, not for one partner (bench/RESULTS.md, bench.markov_grouped).",
        where_computed="queries/attribution/credit.py, queries/attribution/inputs/attribution_partner_groups.sql",
    ),
    Term(
        "shapley",
        "shapley",
        "Attribution",
        "players = partners; v(S) = conversion rate of closed opportunities whose partner set is exactly S; "
        "Shapley values over each won deal's partner set (exact up to 12 partners, sampled permutations above), "
        "normalised per deal",
        "Attribution scenarios (model)",
        where_computed="queries/attribution/shapley.py",
    ),
    Term(
        "scenario",
        "Scenario",
        "Attribution",
        "A scenario = model + its parameters + booking basis (revenue booked at close date, or at each touch date) "
        "+ commission plan.",
        "Attribution scenarios (two to four side by side, and the delta between two)",
        where_computed="queries/attribution/credit.py",
    ),
    Term(
        "payout_liability",
        "Payout liability",
        "Attribution",
        "Credit x the commission rate matching the partner's type, tier and the touch's type, from the commission "
        "plan (settings commission_plan, editable per scenario as a what-if).",
        "Attribution scenarios (Payout liability cards and tables)",
        "The CFO compares credit and liability per partner, per partner type and tier, per fiscal quarter, and the "
        "delta between scenarios.",
        "queries/attribution/credit.py",
        in_design=False,
    ),
    Term(
        "plan_credit",
        "Credit (plan model)",
        "Attribution",
        "A partner's attribution credit under the commission plan's model (linear by default): its share of the "
        "revenue of the won deals it touched.",
        "Program health (Tier check: Credit, 12 months); Engagement & burnout (Unpaid commission); Disagreements",
        "The plan's model is settings commission_plan.model.",
        "queries/attribution/credit.py",
        in_design=False,
    ),
    Term(
        "credit_moves",
        "Credit moves",
        "Attribution",
        "What one scenario books to another partner or quarter than the other, deal by deal: what each partner (or the "
        "revenue no partner is credited with) loses is matched to what the others gain, largest first.",
        "Attribution scenarios (Compare two: where the credit moves); the scenario workbook (Moves sheet)",
        "For each partner, the credit moving in minus the credit moving out is its change in credit, to the cent. With "
        "one loser or one gainer on a deal, the usual case, the match is the only one possible.",
        "queries/attribution/scenario_moves.py",
        in_design=False,
    ),
    # Disagreements (docs/design.md, "Disagreements").
    Term(
        "disagreement",
        "Disagreement",
        "Disagreements",
        "A disagreement is a fact that two sources of truth do not agree on, with its money at stake",
        "Disagreements (cards, ledger, evidence)",
        "Defaults: the plan's model is linear; payment terms 60 days after close; amount tolerance 1% (at least 1 "
        "unit of the reporting currency).",
        "queries/disagreements/attribution_disagreements.sql",
    ),
    Term(
        "crm_vs_registration",
        "CRM vs registration",
        "Disagreements",
        "the CRM sourced partner differs from the approved registration's partner;",
        "Disagreements (kind crm_vs_registration)",
        "Compared with the partner of the earliest approved registration. At stake: the deal amount (0 once lost).",
        "queries/disagreements/attribution_disagreements.sql",
    ),
    Term(
        "registration_conflict",
        "Registration conflict",
        "Disagreements",
        "two or more partners registered the same opportunity or account (conflict);",
        "Disagreements (kind registration_conflict); Program health (registration conflicts)",
        "A registration conflicts when another partner's registration still held the deal or account (not "
        "expired or rejected before). At stake: the deal amount (0 once lost).",
        "queries/disagreements/attribution_disagreements.sql",
    ),
    Term(
        "payout_without_credit",
        "Payout without credit",
        "Disagreements",
        "a payout with no attributed credit under the plan's model (possible overpayment);",
        "Disagreements (kind payout_without_credit)",
        "Commission payouts on a deal where the partner has no credit under the plan's model (linear by default). "
        "At stake: the payout.",
        "queries/disagreements/attribution_disagreements.sql",
    ),
    Term(
        "credit_without_payout",
        "Credit without payout",
        "Disagreements",
        "attributed credit with no payout after the plan's payment terms (possible leakage);",
        "Disagreements (kind credit_without_payout)",
        "No commission payout for the partner's credit under the plan's model once the payment terms (default 60 "
        "days after close) have passed. At stake: credit x commission rate.",
        "queries/disagreements/attribution_disagreements.sql",
    ),
    Term(
        "payout_amount_mismatch",
        "Payout amount mismatch",
        "Disagreements",
        "a payout whose amount differs from credit x plan rate beyond a tolerance;",
        "Disagreements (kind payout_amount_mismatch)",
        "Commission paid on a deal against the partner's credit x plan rate; tolerance by default 1%, at least 1 unit "
        "of the reporting currency. At stake: the difference.",
        "queries/disagreements/attribution_disagreements.sql",
    ),
    Term(
        "duplicate_payout",
        "Duplicate payout",
        "Disagreements",
        "the same payout twice (same partner, opportunity, type and amount);",
        "Disagreements (kind duplicate_payout)",
        "At stake: the repeat.",
        "queries/disagreements/attribution_disagreements.sql",
    ),
    Term(
        "channel_conflict",
        "Channel conflict",
        "Disagreements",
        "an approved registration on a deal that the CRM records as direct, with no sourced partner (channel conflict).",
        "Disagreements (kind channel_conflict)",
        "At stake: the deal amount x the registrant's commission rate.",
        "queries/disagreements/attribution_disagreements.sql",
    ),
    Term(
        "amount_at_stake",
        "At stake",
        "Disagreements",
        "The money a disagreement puts at risk: the deal amount, the payout, the unpaid commission or the difference, "
        "by kind (see each kind).",
        "Disagreements (cards, Total at stake, ledger)",
        "The total sums every disagreement shown; a deal can appear under more than one kind.",
        "queries/disagreements/attribution_disagreements.sql",
        in_design=False,
    ),
    Term(
        "source_agreement",
        "Agreement of the sources",
        "Disagreements",
        "Partner revenue (won deals naming a partner in the CRM, a registration or a touchpoint) by how far its "
        "sources agree: all three agree (the CRM sourced partner is the approved registration's partner, with a "
        "touchpoint), no contradiction (one or two sources name a partner and none contradicts another), or "
        "contradict (CRM and registration name different partners, or one has no touchpoint).",
        "Disagreements (Is the data getting more trustworthy?)",
        "Per fiscal quarter of the deals' close; a rising 'agree' share means more trustworthy data.",
        "queries/disagreements/attribution_trust_by_quarter.sql",
        in_design=False,
    ),
    # Partner statements (the app's own words; docs/design.md names what a statement holds, not these numbers).
    Term(
        "partner_statement",
        "Partner statement",
        "Partner statement",
        "For one partner and a period: the deals credited under the commission plan's model with their commission, the "
        "payouts by status, what is owed and when, and the open disagreements involving the partner.",
        "Partner statement (finance and admins); Partner 360 (link); python -m queries statement",
        "Credit and commission are the Attribution scenarios page's for the plan's scenario (the plan's model, booked "
        "at the close date, the settings' rates), so they add up to that page's to the cent.",
        "queries/partner/statement.py",
        in_design=False,
    ),
    Term(
        "credit_weight",
        "Weight",
        "Partner statement",
        "The partner's share of a deal under the plan's model: the sum of the weights of its touchpoints on the deal "
        "(1 when the model gives one partner the whole deal).",
        "Partner statement (Deals credited)",
        "Credit = weight x revenue, in whole cents.",
        "queries/partner/statement.py",
        in_design=False,
    ),
    Term(
        "commission",
        "Commission",
        "Partner statement",
        "Credit x the commission rate of the plan: the most specific rule matching the partner's type and tier and each "
        "touch's type, else the plan's default rate.",
        "Partner statement (cards, Deals credited)",
        "In whole cents; a deal's rate is its commission / its credit. A quarter's commission is the partner's payout "
        "liability on the Attribution scenarios page for the plan's scenario.",
        "queries/partner/statement.py",
        in_design=False,
    ),
    Term(
        "commission_paid",
        "Paid",
        "Partner statement",
        "Payouts with status paid, of the types that pay credit (commission and referral fee unless the settings say "
        "otherwise), for the deal, paid on or before the data's as-of date.",
        "Partner statement (cards, What is owed and when)",
        "Accrued and approved payouts are recorded but not paid yet: they show under Payouts by status, not here.",
        "queries/partner/partner_statement_deal_payments.sql",
        in_design=False,
    ),
    Term(
        "commission_owed",
        "Owed",
        "Partner statement",
        "Commission - paid, never below 0, due the plan's payment terms after the deal closed; overdue once that day is "
        "before the data's as-of date.",
        "Partner statement (cards, What is owed and when)",
        "Payment terms: settings commission_plan.payment_terms_days (default 60). A deal paid more than its commission "
        "owes nothing; the Disagreements page lists the overpayment. A deal whose payouts leave no more than the plan's "
        "amount tolerance (1%, at least 1) unpaid is paid within tolerance, not overdue.",
        "queries/partner/statement.py",
        in_design=False,
    ),
    # Engagement, burnout and dormancy (docs/design.md).
    Term(
        "partners_on_books",
        "Partners (on the books)",
        "Engagement & burnout",
        "Partners joined and not terminated by the as-of day, in the sidebar filters.",
        "Engagement & burnout (Partners card)",
        where_computed="queries/engagement/signals.py",
        in_design=False,
    ),
    Term(
        "engagement_score",
        "Engagement score",
        "Engagement & burnout",
        "Engagement score, per partner and month, 0-100: activities weighted by type and decayed with a 30-day "
        "half-life, ranked against all partners.",
        "Engagement & burnout (tables, heatmap); Partner 360",
        "Weights by activity type are in the settings (activity_weights); 100 = the most engaged that day, 0 = no "
        "weighted activity.",
        "queries/engagement/signals.py",
    ),
    Term(
        "is_dormant",
        "Dormant",
        "Engagement & burnout",
        "Dormant: no activity other than portal_login for the dormancy threshold (default 90 days).",
        "Engagement & burnout (Dormant tab)",
        "Counted from joining when a partner never acted; threshold in settings (dormancy_days).",
        "queries/engagement/signals.py",
    ),
    Term(
        "p_alive",
        "P(still engaged)",
        "Engagement & burnout",
        "P(still engaged), from a BG/NBD model fitted on the partners' activity histories, and the expected "
        "activities in the next 90 days.",
        "Engagement & burnout (Dormant tab, all partners)",
        "BG/NBD (Fader, Hardie & Lee 2005): the probability that the partner is still engaged, from how often and how "
        "recently it was active, fitted on all partners' histories.",
        "queries/engagement/bgnbd.py",
    ),
    Term(
        "expected_activities_90d",
        "Expected active days, next 90",
        "Engagement & burnout",
        "The expected activities in the next 90 days, from the same BG/NBD model as P(still engaged).",
        "Engagement & burnout (Dormant tab, all partners)",
        "Counted as active days, logins aside.",
        "queries/engagement/bgnbd.py",
        in_design=False,
    ),
    Term(
        "is_overdue",
        "Overdue",
        "Engagement & burnout",
        "Quiet for at least 30 days and more than twice the partner's own median gap between "
        "active days (needs 3 gaps of history).",
        "Engagement & burnout (Overdue tab)",
        "A weekly partner is overdue at 30 days, one with 60-day gaps only after 120 (settings overdue_*).",
        "queries/engagement/signals.py",
        in_design=False,
    ),
    Term(
        "burnout_risk",
        "Burnout risk",
        "Engagement & burnout",
        "Burnout risk: a partner whose own recent behaviour falls against its own baseline (last 90 days vs the "
        "180 before): activity rate, deal registrations and win rate falling, breadth of activity types "
        "shrinking, certifications lapsing, support tickets rising. Each flagged partner shows which signals fired "
        "and by how much; no opaque score alone. Flagged when the activity rate (portal_login aside, per 90 days) "
        "fell by at least half against the baseline and the fall is significant (one-sided exact test of the two "
        "Poisson counts, p < 0.01), or when three or more signals fired; the other signals then give the severity.",
        "Engagement & burnout (Burning out tab)",
        "The activity rate counts the partner's own effort: support tickets and certification expiries are signals "
        "of their own, not effort. The signals, each against the baseline's rate per 90 days: activity at most half "
        "(baseline of 6 or more); deal registrations at most half (4 or more); win rate at most half (6 closed "
        "before, 3 since); activity types down by a third (3 or more); fewer active certifications than 90 days "
        "ago; support tickets doubled (3 or more). The severity is the number of signals that fired. Dormant "
        "partners are listed as dormant instead. Settings: burnout.* (significance, min_signals, the drops and "
        "floors).",
        "queries/engagement/partner_flags.sql",
    ),
    Term(
        "activity_fall_p",
        "Activity fall p-value",
        "Engagement & burnout",
        "The chance of an activity fall at least this large if the partner's rate had not changed: with n the "
        "activities of the last 90 days and the 180 before, the probability that a binomial(n, 90 / 270) count is at "
        "most the recent one.",
        "Engagement & burnout (Burning out tab; partner_signals export)",
        "Computed for falls of at least half only; below 0.01 (settings burnout.significance) the fall alone flags "
        "burnout. A small partner's halving (4 -> 1 per 90 days: p = 0.14) could be chance; 16 -> 4 (p = 0.002) is not.",
        "queries/engagement/partner_flags.sql",
        in_design=False,
    ),
    Term(
        "returned",
        "Returned",
        "Engagement & burnout",
        "Returned: a gap of at least the dormancy threshold between two consecutive activities (portal_login "
        "aside), the later of them within the last 90 days (they often expect priority support).",
        "Engagement & burnout (Returned tab)",
        where_computed="queries/engagement/signals.py",
    ),
    Term(
        "at_risk",
        "At risk",
        "Engagement & burnout",
        "At risk: dormant or burning-out partners with open pipeline or unpaid credit.",
        "Engagement & burnout (At risk tab)",
        "The Why column says which: days quiet, open pipeline, unpaid commission (each under its own name here; the "
        "amount owed only for finance, executives and admins).",
        "queries/engagement/signals.py",
    ),
    Term(
        "open_pipeline",
        "Open pipeline",
        "Engagement & burnout",
        "Amount of the open deals the partner sourced, touched or registered (approved).",
        "Engagement & burnout (At risk and other tabs); Partner 360 (Open pipeline card)",
        "Partner 360 counts each deal's full amount, not split between its partners.",
        "queries/engagement/partner_flags.sql, queries/partner/partner_profile.sql",
        in_design=False,
    ),
    Term(
        "unpaid_credit",
        "Unpaid commission",
        "Engagement & burnout",
        "Commission on the partner's linear attribution credit (won deals) at the plan rate, minus what was paid on "
        "those deals by then.",
        "Engagement & burnout (At risk tab; finance, executives and admins only)",
        "The plan's credit payout types count as paid: commission, referral fee.",
        "queries/disagreements/unpaid_credit_by_partner.sql",
        in_design=False,
    ),
    Term(
        "as_of",
        "As of",
        "Engagement & burnout",
        "Everything is computed as of a date (`as_of`, default the latest date in the data): later events are "
        "ignored, so the page can be replayed for any past day.",
        "Engagement & burnout (Signals as of); sidebar (Data as of); Disagreements; Pipeline forecast",
        "The default is the data's as-of date (see Data as of): the day the export was taken, never a close date. "
        "It sets the current fiscal quarter of Program health and of the forecast.",
        "load_meta.data_as_of",
    ),
    # Pipeline forecast (docs/design.md).
    Term(
        "pipeline_segment",
        "Pipeline: sourced, influenced, direct",
        "Pipeline forecast",
        "Sourced: the CRM names a sourcing partner (or an approved registration claims it). Influenced: not sourced, "
        "but a partner touched it or holds an approved registration. Direct: neither.",
        "Pipeline forecast (Pipeline choice; the deals' Involvement column)",
        where_computed="queries/forecast/methods.py",
        in_design=False,
    ),
    Term(
        "crm_weighted",
        "CRM weighted",
        "Pipeline forecast",
        "CRM weighted: amount x stage probability (stage map);",
        "Pipeline forecast (cards, bars, backtest)",
        "For open partner deals whose close date is in the quarter, plus what already closed won in it. A stage the "
        "stage map gives no probability uses the deal's own probability from the CRM; a deal with neither counts "
        "at 0 and the page names it. Stale open deals are left out (see Stale open deal).",
        "queries/forecast/methods.py",
    ),
    Term(
        "stale_open_deal",
        "Stale open deal",
        "Pipeline forecast",
        "An open deal whose close date is before the as-of date: nobody expects it on that date any more.",
        "Pipeline forecast (the warning above the cards, the Stale tab, the backtest's stale columns)",
        "The forecast cannot say when such a deal will close, so every method leaves it out of every quarter "
        "(setting forecast_stale_deals = \"leave_out\", the default) and the page counts and lists them with their "
        "amount for cleanup in the CRM; \"current_quarter\" counts them in the current quarter instead. The backtest "
        "follows the same setting as of each quarter's first day, shows how much of the forecast and of the actual "
        "came from stale deals, and says so when they account for at least half of an error of 50% or more.",
        "queries/forecast/methods.py",
        in_design=False,
    ),
    Term(
        "probability_source",
        "Probability from",
        "Pipeline forecast",
        "Where a deal's CRM-weighted probability comes from: the stage map, the deal's own CRM probability (its "
        "stage has none in the stage map), or none (counted at 0).",
        "Pipeline forecast (open deals tables; the note on stages without a probability)",
        "The deal's own probability is the opportunities extract's `probability` column, a share from 0 to 1; "
        "other values are ignored.",
        "queries/forecast/pipeline_as_of.sql",
        in_design=False,
    ),
    Term(
        "sales_call",
        "Sales call",
        "Pipeline forecast",
        "Sales call: commit, and commit + best case, from forecast_category;",
        "Pipeline forecast (cards, bars, backtest)",
        "Deals in forecast category commit (the card) and commit + best case (below it) closing in the quarter, plus "
        "what already closed won in it.",
        "queries/forecast/methods.py",
    ),
    Term(
        "won_to_date",
        "Won so far",
        "Pipeline forecast",
        "Deals of the pipeline chosen already closed won in the current quarter; every method includes them.",
        "Pipeline forecast (cards)",
        where_computed="queries/forecast/methods.py",
        in_design=False,
    ),
    Term(
        "historical",
        "Historical",
        "Pipeline forecast",
        "Historical: win and slip rates learned from closed history by stage, age and partner type, with P10 / P50 "
        "/ P90 from simulating each open deal's outcome;",
        "Pipeline forecast (cards, bars with P10-P90 whiskers, backtest)",
        "Expected amount closed won, plus what already closed won in the quarter: each open deal's outcome simulated "
        "10,000 times; rates from the finest group (stage, age, involvement, partner type) with at least 30 closed "
        "examples, coarser groups otherwise. Each run takes one past quarter's shared shock (how much more or less "
        "the deals open on its eve won than the rates said), so P10-P90 carries good and bad quarters, not only "
        "deal-by-deal luck.",
        "queries/forecast/methods.py",
    ),
    Term(
        "backtest",
        "Backtest",
        "Pipeline forecast",
        "Backtest: each method rebuilt as of the start of past quarters (from opportunity_history) against what "
        "actually closed, with its error, so users see which method to trust.",
        "Pipeline forecast (Which method to trust)",
        "Without opportunity_history the backtest uses created and close dates only (first open stage assumed, "
        "sales call left out).",
        "queries/forecast/methods.py",
    ),
    Term(
        "abs_pct_error",
        "Error (absolute % error)",
        "Pipeline forecast",
        "|forecast - actual| / actual, for one method and past quarter.",
        "Pipeline forecast (Backtest, quarter by quarter)",
        where_computed="queries/forecast/methods.py",
        in_design=False,
    ),
    Term(
        "mape",
        "Mean error",
        "Pipeline forecast",
        "Mean of |forecast - actual| / actual.",
        "Pipeline forecast (Which method to trust)",
        where_computed="queries/forecast/methods.py",
        in_design=False,
    ),
    Term(
        "bias_pct",
        "Bias",
        "Pipeline forecast",
        "Mean signed error; positive = overstated.",
        "Pipeline forecast (Which method to trust)",
        where_computed="queries/forecast/methods.py",
        in_design=False,
    ),
    Term(
        "coverage_pct",
        "In P10-P90",
        "Pipeline forecast",
        "Quarters whose actual fell in the band.",
        "Pipeline forecast (Which method to trust)",
        where_computed="queries/forecast/methods.py",
        in_design=False,
    ),
    Term(
        "times_closest",
        "Times closest",
        "Pipeline forecast",
        "Quarters in which this method was the closest.",
        "Pipeline forecast (Which method to trust)",
        where_computed="queries/forecast/methods.py",
        in_design=False,
    ),
    # Pipeline changes (the app's own words for each bar of the waterfall).
    Term(
        "pipeline_change",
        "Pipeline change",
        "Pipeline changes",
        "opening (open at from_date, due in the quarter) + created + pulled_in - pushed_out +/- amount changes - won "
        "- lost = closing (open at to_date, due in the quarter), to the cent, per quarter and per involvement.",
        "Pipeline changes (the deals behind each bar)",
        "Each deal's state at the end of both days is rebuilt from opportunity_history (a deal without history rows "
        "from its created and close dates, at the first open stage); a change is signed and counts in the quarter it "
        "changes.",
        "queries/forecast/pipeline_changes.py",
    ),
    Term(
        "change_opening",
        "Opening pipeline",
        "Pipeline changes",
        "Open deals at the end of the first day, due to close in the quarter, at their amount then.",
        "Pipeline changes (waterfall and its table)",
        where_computed="queries/forecast/pipeline_changes.py",
        in_design=False,
    ),
    Term(
        "change_created",
        "Created",
        "Pipeline changes",
        "Deals created after the first day and open at the end of the second (or closed by then: created, "
        "then won or lost), in the quarter of their close date.",
        "Pipeline changes (waterfall and its table)",
        where_computed="queries/forecast/pipeline_changes.py",
        in_design=False,
    ),
    Term(
        "change_pulled_in",
        "Pulled in",
        "Pipeline changes",
        "Deals open at the end of the second day whose close date moved into the quarter (at their amount on "
        "the second day), and deals reopened after being closed.",
        "Pipeline changes (waterfall and its table)",
        where_computed="queries/forecast/pipeline_changes.py",
        in_design=False,
    ),
    Term(
        "change_pushed_out",
        "Pushed out",
        "Pipeline changes",
        "Deals open on both days whose close date moved out of the quarter, earlier or later, at their amount "
        "on the first day (negative).",
        "Pipeline changes (waterfall and its table)",
        where_computed="queries/forecast/pipeline_changes.py",
        in_design=False,
    ),
    Term(
        "change_amount_up",
        "Amount up",
        "Pipeline changes",
        "Deals open and due in the same quarter on both days whose amount went up: the difference.",
        "Pipeline changes (waterfall and its table)",
        where_computed="queries/forecast/pipeline_changes.py",
        in_design=False,
    ),
    Term(
        "change_amount_down",
        "Amount down",
        "Pipeline changes",
        "Deals open and due in the same quarter on both days whose amount went down: the difference "
        "(negative).",
        "Pipeline changes (waterfall and its table)",
        where_computed="queries/forecast/pipeline_changes.py",
        in_design=False,
    ),
    Term(
        "change_won",
        "Won",
        "Pipeline changes",
        "Deals closed won between the two days, at their amount on the first day (negative: they leave the "
        "open pipeline).",
        "Pipeline changes (waterfall and its table)",
        where_computed="queries/forecast/pipeline_changes.py",
        in_design=False,
    ),
    Term(
        "change_lost",
        "Lost",
        "Pipeline changes",
        "Deals closed lost between the two days, at their amount on the first day (negative).",
        "Pipeline changes (waterfall and its table)",
        where_computed="queries/forecast/pipeline_changes.py",
        in_design=False,
    ),
    Term(
        "change_closing",
        "Closing pipeline",
        "Pipeline changes",
        "Open deals at the end of the second day, due to close in the quarter, at their amount then.",
        "Pipeline changes (waterfall and its table)",
        where_computed="queries/forecast/pipeline_changes.py",
        in_design=False,
    ),
    # Partner 360 (the app's own words for one partner's cards).
    Term(
        "tier",
        "Tier",
        "Partner 360",
        "The tier the partner holds today, from the partners extract (the extracts keep no tier history).",
        "Partner 360 (Tier card); sidebar (Tier filter)",
        "Tier order from the settings (default registered < silver < gold < platinum); the tier check says whether "
        "the last 12 months qualify for it.",
        "queries/partner/partner_profile.sql",
        in_design=False,
    ),
    Term(
        "partner_won_deals",
        "Won deals (one partner)",
        "Partner 360",
        "Won deals this partner was involved in: a touchpoint, sourced by it, or an approved registration.",
        "Partner 360 (Won deals card, Deals table)",
        where_computed="queries/partner/partner_profile.sql",
        in_design=False,
    ),
    Term(
        "partner_won_revenue",
        "Won revenue (one partner)",
        "Partner 360",
        "Total amount of the won deals this partner was involved in, not split between partners.",
        "Partner 360 (Won revenue card)",
        "Its share under each attribution model is the Credit under each attribution model table.",
        "queries/partner/partner_profile.sql",
        in_design=False,
    ),
    Term(
        "partner_payouts",
        "Payouts (one partner)",
        "Partner 360",
        "All payouts to this partner, clawbacks excluded.",
        "Partner 360 (Payouts card and table; amounts for finance, executives and admins only: a partner lead sees "
        "each payout without its amount)",
        where_computed="queries/partner/partner_profile.sql",
        in_design=False,
    ),
    # Data (docs/design.md, "Loading rules").
    Term(
        "rows_quarantined",
        "Rows read, loaded, quarantined",
        "Data",
        "A row that breaks a rule (bad date, negative amount, unknown partner, duplicate key, stage not in the "
        "stage map, ...) is quarantined with its source file, line number and reason. `rows read = rows loaded + "
        "rows quarantined`, per table, always; the load report says so.",
        "Data (cards, load report, quarantined rows)",
        "Rows read: every data row of the loaded extract files; loaded: rows that passed every rule of the data "
        "contract; quarantined: the rest, listed with file, line and reason.",
        "queries/data/load_report.sql, queries/data/quarantine.sql",
    ),
    # Outreach & digest (the app's own words: DESIGN.md does not define them).
    Term(
        "outreach_log",
        "Outreach log",
        "Outreach & digest",
        "Contacts with a partner as recorded on Partner 360: the day, channel (email, call, meeting, event), outcome, "
        "next step and its due date, and a note, with who saved it and when.",
        "Partner 360 (Outreach log); Engagement & burnout (Download the outreach log)",
        "An edit saves a new version and keeps every earlier one (History). Kept in the notes database "
        "(notes.sqlite beside the analytics database, or $PULSE_NOTES_DB), which rebuilds never touch. A partner "
        "lead reads and writes their own partners' log only.",
        "notes.py",
        in_design=False,
    ),
    Term(
        "last_contact",
        "Last contact",
        "Outreach & digest",
        "The day of the latest contact with the partner in the outreach log.",
        "Engagement & burnout (At risk, Dormant and Burning out lists)",
        "Empty: no contact recorded.",
        "notes.py",
        in_design=False,
    ),
    Term(
        "next_step_due",
        "Next step due",
        "Outreach & digest",
        "The due date of the next step set at the partner's last contact: a later contact's plan replaces an "
        "earlier one's.",
        "Engagement & burnout (At risk, Dormant and Burning out lists); the weekly digest (Follow-ups due)",
        "The digest lists the partners whose next step is due within the settings' digest.follow_up_days "
        "(default 7) of the day it is made, overdue ones included.",
        "notes.py",
        in_design=False,
    ),
    Term(
        "digest",
        "Weekly digest",
        "Outreach & digest",
        "What changed for a partner lead's partners from the day their last digest covered to the data's as-of "
        "day: newly dormant, newly burning out, returned, newly at risk, the biggest health-score moves, and "
        "follow-ups due.",
        "Email or Slack-style webhook (`python -m queries digest`)",
        "Newly: flagged as of the data's day and not as of the start day (a partner who joined since counts as new); "
        "returned: back on a day after the start. Moves: the health score on both days, the settings' digest.movers "
        "biggest of at least digest.mover_min_points. The first digest starts digest.first_days (default 7) "
        "before the data's day; --since sets the start.",
        "queries/program/digest.py",
        in_design=False,
    ),
    Term(
        "quarantine_alarm",
        "Quarantine alarm",
        "Data",
        "When a table's quarantined share passes `quarantine_warn_share` (default 5%), the build warns, naming the "
        "top reasons with their counts and one example line; the load report's warnings say so, and every page that "
        "reads that table shows a banner.",
        "Data (load report: Alarm, Warnings); a banner above every page that reads the table",
        "The share is a table's quarantined rows over its rows read. Past `quarantine_fail_share` (default 50%) the "
        "build is refused and the database being served stays as it was; `build --strict` refuses on any quarantined row.",
        "loaders/build.py (sound_alarms), queries/data/quarantine_alarms.sql",
    ),
    Term(
        "encoding",
        "Encoding",
        "Data",
        "The text encoding an extract file was read in: UTF-8 (with or without BOM), UTF-16 with a byte order mark, "
        "else Windows-1252 (ISO-8859-1 where the two agree) for a file that is not UTF-8.",
        "Data (load report: Encoding)",
        "The settings' [encodings] name a file's encoding where detection guesses wrong. A file that mixes UTF-8 with "
        "another encoding, or holds binary data, is refused.",
        "loaders/read.py (decode)",
        in_design=False,
    ),
    Term(
        "data_as_of",
        "Data as of",
        "Data",
        "`as_of` defaults to the latest date in the data.",
        "Sidebar (Data as of, per table); Data (load report)",
        "The day the export was taken: the as_of setting (or `build --as-of`) when given, else the latest day on "
        "which something was created, changed or done (deals created, history rows, activities, touchpoints, "
        "registrations), never a close date: CRMs keep lost deals dated in the future, and "
        "open deals' close dates are expectations. Per table, the latest such day. A table is stale when the newest "
        "data's date is ahead of its own by more than its usual rhythm allows: the 95th percentile of its gaps "
        "between event days over its last 180 days, and at least the settings' stale_after_days (a monthly table's "
        "rhythm is at least a month); stale_after_days_by_table sets one table's allowance outright.",
        "loaders/build.py, queries/data/stale_tables.sql",
    ),
]


def by_key() -> dict[str, Term]:
    """Every term by its key: `glossary.by_key()["is_dormant"].definition`."""
    return {term.key: term for term in GLOSSARY}


def definition(key: str) -> str:
    """The definition of one term, as written (docs/design.md's words where it defines the term)."""
    return by_key()[key].definition


def tooltip(key: str) -> str:
    """The help tooltip of a number: its term's definition, as a sentence, then how the app computes it.

    Every `help=` that defines a metric reads this, so a card, a column and the Glossary page
    cannot say different things.
    """
    term = by_key()[key]
    text = term.definition.strip().rstrip(";,.")
    if re.fullmatch(r"[a-z][a-z-]*", text.split(" ", 1)[0]):  # a word, not a formula or a column name
        text = text[0].upper() + text[1:]
    return f"{text}. {term.detail}" if term.detail else f"{text}."


def tooltips() -> set[str]:
    """Every tooltip text, for tests that check each help shown comes from here."""
    return {tooltip(term.key) for term in GLOSSARY}


def markdown() -> str:
    """The glossary as Markdown, grouped by area: the text of docs/metrics.md."""
    lines = [
        "# Metrics and models",
        "",
        "Generated from `queries/glossary.py` by `python -m queries.glossary > docs/metrics.md`; do not edit by "
        "hand. Definitions are the words of the design, [design.md](design.md), where it defines the term; the app's "
        "Glossary page shows the same entries.",
        "",
    ]
    for area in AREAS:
        lines += [f"## {area}", "", "| term | definition | how it is computed | where shown |", "| --- | --- | --- | --- |"]
        for term in (t for t in GLOSSARY if t.area == area):
            source = f"(`{term.where_computed}`)" if term.where_computed else ""
            own = "" if term.in_design else "The app's own term: docs/design.md does not define it."
            computed = " ".join(part for part in (own, term.detail, source) if part)
            cells = [f"**{term.term}**", term.definition, computed, term.where_shown]
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(), end="")
