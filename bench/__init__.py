"""Benchmarks (性能基准). Each module exposes ``main()``, prints its figures and a ratio against a
baseline run in the same process. Run one with ``python -m bench NAME``; figures go to BENCHMARKS.md."""
