"""Program health: the KPIs by period with their comparisons and breakdowns (`kpis.py`, `kpis_by_period.sql`),
their definitions (`kpi_definitions.py`) and the weekly digest (`digest.py`). `stored/` reads the KPIs the build stored.
"""
