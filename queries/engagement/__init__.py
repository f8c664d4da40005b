"""Engagement and burnout: the dormant / burnout / returned signals (`signals.py`), engagement by month, the
cohort curves, the partner flags and the BG/NBD activity model (`bgnbd.py`). `inputs/` feeds the signals;
`stored/` reads the signals the build stored.
"""
