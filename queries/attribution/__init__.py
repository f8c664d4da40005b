"""Attribution: the credit engine for the rule models, Markov and Shapley (`credit.py`, `markov.py`, `shapley.py`),
the touch paths it reads (`touch_paths.py`), scenario moves, and the commission and revenue tables the page shows.
`inputs/` holds the SQL the engine reads; `stored/` reads the paths and credit the build stored.
"""
