"""Load tests and benchmarks: ``make bench`` (full), ``make bench-smoke`` / the smoke test (short)."""
