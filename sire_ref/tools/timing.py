"""Fair timing: functions take turns call by call (round-robin), medians, and the matmul peak.

Clocks: "wall" (time.perf_counter, the default) or "cpu" (time.process_time: the CPU time of this
process, every thread of it). On a machine whose cores are busy with other work, a call's wall time
also counts the time it waited for a core; its CPU time does not (cache and memory-bandwidth
contention still slow it), so "cpu" keeps one-thread measurements usable under load. It counts
every thread of the process, a BLAS pool's threads spinning while the caller waits included: pin
the pools first (base.threads.blas_threads, as the benchmarks do). GPU work runs asynchronously and
needs "wall".
"""
import time

import numpy as np

CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def median_ms(fns, min_rounds=5, max_rounds=50, budget_s=1.0, clock="wall"):
    """Median time in ms, on `clock` (CLOCKS), of each fn in the dict `fns`, after two warm-up calls each.

    The functions take turns, one call each per round, so that a machine whose speed
    drifts (a shared virtual machine) slows all of them alike and the ratios stay fair.
    Rounds continue until min_rounds are done and the budget is spent (or max_rounds).
    """
    if clock not in CLOCKS:
        raise ValueError(f"clock must be one of {sorted(CLOCKS)}, got {clock!r}")
    now = CLOCKS[clock]
    for fn in fns.values():
        fn()
        fn()
    times = {name: [] for name in fns}
    spent, rounds = 0.0, 0
    while rounds < min_rounds or (rounds < max_rounds and spent < budget_s):
        for name, fn in fns.items():
            start = now()
            fn()
            elapsed = now() - start
            times[name].append(elapsed)
            spent += elapsed
        rounds += 1
    return {name: 1e3 * float(np.median(t)) for name, t in times.items()}


def matmul_peak(dtype, n=512, clock="wall"):
    """Single-call GEMM throughput in GFLOP/s (median of a few), the yardstick for the kernels."""
    a, b = np.ones((n, n), dtype), np.ones((n, n), dtype)
    return 2 * n ** 3 / (median_ms({"gemm": lambda: a @ b}, 10, 40, 0.5, clock)["gemm"] * 1e6)
