"""Benchmarks for Constancia (not tests): seed a register at scale, measure it, print a table.

Run with ``DATABASE_URL=postgres://.../constancia_bench make bench`` (see bench/README.md).
Speed and memory targets live here, never as timing asserts in the test suite.
"""
