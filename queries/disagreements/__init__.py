"""Where registrations, CRM and payouts disagree: the ledger with the money at stake (`ledger.py`,
`attribution_disagreements.sql`), its evidence and plan, the trust of won revenue by quarter, and unpaid credit.
`inputs/` classifies won deals by trust; `stored/` reads the ledger the build stored.
"""
