"""Fair timing: functions take turns call by call (round-robin), medians, and the matmul peak."""
import time

import numpy as np


def median_ms(fns, min_rounds=5, max_rounds=50, budget_s=1.0):
    """Median wall time in ms of each fn in the dict `fns`, after two warm-up calls each.

    The functions take turns, one call each per round, so that a machine whose speed
    drifts (a shared virtual machine) slows all of them alike and the ratios stay fair.
    Rounds continue until min_rounds are done and the budget is spent (or max_rounds).
    """
    for fn in fns.values():
        fn()
        fn()
    times = {name: [] for name in fns}
    spent, rounds = 0.0, 0
    while rounds < min_rounds or (rounds < max_rounds and spent < budget_s):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            elapsed = time.perf_counter() - start
            times[name].append(elapsed)
            spent += elapsed
        rounds += 1
    return {name: 1e3 * float(np.median(t)) for name, t in times.items()}


def matmul_peak(dtype, n=512):
    """Single-call GEMM throughput in GFLOP/s (best of a few), the yardstick for the kernels."""
    a, b = np.ones((n, n), dtype), np.ones((n, n), dtype)
    return 2 * n ** 3 / (median_ms({"gemm": lambda: a @ b}, 10, 40, 0.5)["gemm"] * 1e6)
