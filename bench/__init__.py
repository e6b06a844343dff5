"""Benchmarks: the HTTP API against the same SQL issued directly, on a seeded PostGIS city.

`python -m bench.run --issues N` (or `make bench BENCH_ISSUES=N`); bench/README.md explains it.
"""
