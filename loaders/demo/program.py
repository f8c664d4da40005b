"""The demo program's own terms: the commission plan it pays its partners under, its size at
scale 1, and the share of rows each planted disagreement hits. Nothing here comes from
``settings.py``: the demo is a program of its own, which the app's defaults happen to describe."""

from __future__ import annotations

# --- The demo program's plan ---------------------------------------------------------------
# The program's contract with its partners: linear credit over the touches of the year before
# close, times the tier's rate, paid within 60 days. Its payouts are exactly what this plan
# owes, apart from the planted errors. The app's default settings describe the same plan
# (settings.CommissionPlan, Attribution.lookback_days), so a default build checks payouts
# against the contract they were paid under; tests/test_demo.py holds the two together. A
# program with another plan says so in its settings.
TIER_RATES = {"registered": 0.05, "silver": 0.08, "gold": 0.10, "platinum": 0.12}  # the tier ladder, lowest first
PLAN_MODEL = "linear"  # attribution model the plan pays on
LOOKBACK_DAYS = 365
PAYMENT_TERMS_DAYS = 60
CERTIFICATION_VALID_DAYS = 365  # a certification lapses a year after it was earned unless renewed

# --- Sizes at scale 1 --------------------------------------------------------------------
BASE_PARTNERS = 500
BASE_OPPORTUNITIES = 20_000
BASE_ACTIVITIES = 200_000

# --- Planted disagreements -----------------------------------------------------------------
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
ERROR_KINDS = tuple(PLANTED_ERROR_SHARES)  # the kinds truth/planted_errors.csv names
