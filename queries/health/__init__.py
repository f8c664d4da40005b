"""Partner health score: the score and its movers (`health_score.py`), the win model it rests on (`win_model.py`)
and the tier check. `inputs/` feeds the model; `stored/` reads the scores the build stored.
"""
