"""Pipeline forecast: the forecast methods and backtest (`methods.py`), the pipeline as of any day
(`pipeline_as_of.sql`), the changes between two dates (`pipeline_changes.py`) and the forecast's history
(`forecast_history.py`). `stored/` reads what the build stored for the default views.
"""
