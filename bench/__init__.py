"""Benchmarks that print their figures (not timed tests): `python -m bench [name ...]`."""
