"""Fair timing: functions take turns call by call (round-robin), medians, and the matmul peak;
in one process (median_ms) or each group of functions in a process of its own (median_ms_apart).

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
    now = _clock(clock)

    def call(name):
        start = now()
        fns[name]()
        return now() - start
    return _rounds(list(fns), call, min_rounds, max_rounds, budget_s)


def median_ms_apart(groups, min_rounds=5, max_rounds=50, budget_s=1.0, clock="wall", threads=1):
    """median_ms with each group of functions built and called in a fresh process of its own.

    groups: {label: (builder, args)}, builder a module-level function; builder(*args) -> {name: fn}
    runs in a spawned process with its BLAS pools pinned to `threads` (base.threads), and that
    process times its own calls on `clock`. The turns are median_ms's, one call at a time across all
    processes (the others wait, blocked, not spinning). Why apart: two frameworks in one process act
    on each other's calls through the shared allocator. Measured (the integer GRU's step, PyTorch's
    step between ours): glibc then returns our step's ~4 MB of buffers to the OS at the end of every
    step and faults them in again at the next (about 1,000 page faults, +30% on our step), which a
    training run, a process of its own, never does. A child's error is raised here with its traceback.
    """
    import multiprocessing
    _clock(clock)
    ctx = multiprocessing.get_context("spawn")        # fresh interpreters: nothing inherited from this one
    owner, children = {}, []
    try:
        for label, (builder, args) in groups.items():
            here, there = ctx.Pipe()
            child = ctx.Process(target=_serve, args=(there, builder, args, clock, threads), daemon=True)
            child.start()
            there.close()
            children.append((child, here))
            for name in _reply(here, label):
                if name in owner:
                    raise ValueError(f"groups: the function name {name!r} is built by two groups")
                owner[name] = (here, label)

        def call(name):
            conn, label = owner[name]
            conn.send(name)
            return _reply(conn, label)
        return _rounds(list(owner), call, min_rounds, max_rounds, budget_s)
    finally:
        for child, conn in children:
            try:
                conn.send(None)
            except OSError:               # the child is gone already
                pass
            child.join(timeout=10)
            if child.is_alive():
                child.kill()


def _serve(conn, builder, args, clock, threads):
    """A median_ms_apart child: builds its functions, sends their names, then runs and times each
    name it receives until it receives None; an error is sent back as ("error", traceback)."""
    import traceback

    from ..base.threads import blas_threads
    try:
        with blas_threads(threads):
            fns = builder(*args)
            conn.send(list(fns))
            now = CLOCKS[clock]
            while (name := conn.recv()) is not None:
                start = now()
                fns[name]()
                conn.send(now() - start)
    except Exception:                     # noqa: BLE001 - whatever it is, the parent raises it
        conn.send(("error", traceback.format_exc()))


def _reply(conn, label):
    try:
        message = conn.recv()
    except EOFError:
        raise RuntimeError(f"the timing process of {label!r} died without a reply") from None
    if isinstance(message, tuple) and message[0] == "error":
        raise RuntimeError(f"the timing process of {label!r} failed:\n{message[1]}")
    return message


def _clock(clock):
    if clock not in CLOCKS:
        raise ValueError(f"clock must be one of {sorted(CLOCKS)}, got {clock!r}")
    return CLOCKS[clock]


def _rounds(names, call, min_rounds, max_rounds, budget_s):
    """Two warm-up calls of each name, then rounds of one call each (call(name) -> seconds) until
    min_rounds are done and budget_s is spent (or max_rounds): {name: median ms}."""
    for name in names:
        call(name)
        call(name)
    times = {name: [] for name in names}
    spent, rounds = 0.0, 0
    while rounds < min_rounds or (rounds < max_rounds and spent < budget_s):
        for name in names:
            elapsed = call(name)
            times[name].append(elapsed)
            spent += elapsed
        rounds += 1
    return {name: 1e3 * float(np.median(t)) for name, t in times.items()}


def matmul_peak(dtype, n=512, clock="wall"):
    """Single-call GEMM throughput in GFLOP/s (median of a few), the yardstick for the kernels."""
    a, b = np.ones((n, n), dtype), np.ones((n, n), dtype)
    return 2 * n ** 3 / (median_ms({"gemm": lambda: a @ b}, 10, 40, 0.5, clock)["gemm"] * 1e6)
