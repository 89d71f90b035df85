"""Builders for tests/tools/test_bench.py's median_ms_apart tests: module-level, so that a spawned
process can import them."""
import os
import time

MARK = "SIRE_REF_APART_PROBE"


def marking_fns(label):
    """{label: a call that takes 10 ms in a process whose last builder was this one, 60 ms otherwise}:
    the builder marks its process, as a framework's allocator state marks the process it runs in."""
    os.environ[MARK] = label
    return {label: lambda: time.sleep(0.01 if os.environ[MARK] == label else 0.06)}


def failing_fns():
    raise ArithmeticError("planted failure in a builder")
