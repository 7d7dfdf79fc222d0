"""Benchmarks (not part of the test suite): `make bench` runs the scripts that declare ``BENCH = True``."""
