"""Benchmarks at scale (`make bench`); figures go to bench/RESULTS.md. Not part of `make test`."""
