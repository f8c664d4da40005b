"""The data itself: the load report, quarantined rows and their alarms, stale tables, the program's
meta (as of, currency, fiscal year) and the filter options.
"""
