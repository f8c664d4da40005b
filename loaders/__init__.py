"""Extracts in, one validated DuckDB file out: reading, mapping, validating, building.

`build_database` is the entry point; `python -m loaders` is its command line.
"""

from loaders.build import BuildRefused, build_database

__all__ = ["BuildRefused", "build_database"]
