"""One partner: Partner 360 (profile, deals, activity, payouts, credit by model, timeline), partner search, and
the partner statement (`statement.py` with its deal payments and payouts).
"""
