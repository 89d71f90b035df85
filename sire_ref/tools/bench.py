"""`python -m sire_ref bench`: time one training step of the tanh RNN and the GRU on every backend.

A step is forward over the whole sequence plus backward to every parameter gradient and
dx, for L = sum(dstates * states). All backends run in ONE process with the same thread
count (BLAS pools limited with threadpoolctl, torch.set_num_threads), after warm-up, and
each time is the median of repeats. Backends: "numpy" (the reference cells), "numba"
(sire_ref.kernels), "cupy" (the reference on a GPU, when present) and "torch" (nn.RNN /
nn.GRU on the CPU, when installed). GFLOP/s counts the matrix products only:
3 * 2 * B * T * G * H * (H + I) per step (G = 1 for the RNN, 3 for the GRU). The
machine's single-thread matmul peak is measured first and printed. One SIRE evaluation
(value and gradients, B samples, "subset" estimator) is timed as a share of the step.
"""
import argparse
import itertools
import os
import sys
import time

import numpy as np

from .timing import matmul_peak, median_ms

CONFIGS = [(1, 20, 128, 10), (1, 20, 128, 100), (16, 128, 64, 30), (3, 256, 64, 100),
           (3, 256, 64, 1000), (1, 128, 64, 784)]
QUICK = [(1, 20, 128, 10), (16, 128, 64, 30), (3, 256, 64, 100)]


def step_flops(cell, I, H, B, T):
    return 3 * 2 * B * T * (3 if cell == "gru" else 1) * H * (H + I)


def problem(cell_mod, I, H, B, T, dtype, seed=0):
    rng = np.random.default_rng(seed)
    params = cell_mod.init_params(I, H, rng, dtype)
    params["s0"] = rng.uniform(-0.5, 0.5, H).astype(dtype)
    x = rng.normal(size=(B, T, I)).astype(dtype)
    return params, x, rng.normal(size=(B, T, H)).astype(dtype)


def ours(cell_mod, params, x, dstates, backend):
    def step():
        states, cache = cell_mod.forward(params, x, backend=backend)
        cell_mod.backward(params, cache, dstates)
    return step


def torch_step(cell, params, x, dstates):
    import torch

    from .interop.torch import params_to_torch
    module = params_to_torch(params)
    xt = torch.tensor(x, requires_grad=True)
    h0 = torch.tensor(params["s0"], requires_grad=True)
    dt = torch.tensor(dstates)

    def step():
        module.zero_grad(set_to_none=True)
        xt.grad = h0.grad = None
        out, _ = module(xt, h0.expand(1, x.shape[0], -1).contiguous())
        out.backward(dt)
    return step


def available_backends():
    from ..base import backend
    names = ["numpy", "numba"]
    if backend.cupy_available():
        names.append("cupy")
    try:
        import torch  # noqa: F401
        names.append("torch")
    except ImportError:
        pass
    return names


def timed_functions(cell, params, x, dstates, backends):
    """{name: fn} timing one training step per backend, plus one SIRE evaluation on numpy and numba."""
    from ..base.backend import get_module, to_module
    from ..core.cells import get_cell
    from ..core.regularizers import sire
    from ..core.samples import sample_sire

    cell_mod = get_cell(cell)
    fns = {}
    for name in backends:
        if name == "torch":
            fns[name] = torch_step(cell, params, x, dstates)
        elif name == "cupy":
            cp = get_module("cupy")
            step = ours(cell_mod, to_module(params, cp), cp.asarray(x), cp.asarray(dstates), "cupy")
            fns[name] = lambda step=step, cp=cp: (step(), cp.cuda.Device().synchronize())
        else:
            fns[name] = ours(cell_mod, params, x, dstates, name)
    B, T = x.shape[:2]
    draw = sample_sire(np.random.default_rng(1), np.full(B, T), B)
    for be in ("numpy", "numba"):
        fns[f"sire-{be}"] = lambda be=be: sire(cell_mod, params, x, draw, draw["lengths"], backend=be)
    return fns


def measure(cell, I, H, B, T, dtype, backends, peak, clock="wall"):
    """One result row: ms, GFLOP/s and share of the matmul peak per backend, and the SIRE share."""
    from ..core.cells import get_cell

    params, x, dstates = problem(get_cell(cell), I, H, B, T, dtype)
    times = median_ms(timed_functions(cell, params, x, dstates, backends), clock=clock)
    sire_ms = {be: times.pop(f"sire-{be}") for be in ("numpy", "numba")}
    flops = step_flops(cell, I, H, B, T)
    gflops = {k: flops / (v * 1e6) for k, v in times.items()}
    return {"cell": cell, "I": I, "H": H, "B": B, "T": T, "dtype": np.dtype(dtype).name, "ms": times,
            "gflops": gflops, "peak_fraction": {k: g / peak for k, g in gflops.items()},
            "sire_ms": sire_ms, "sire_share": {k: sire_ms[k] / times[k] for k in sire_ms}}


def run(configs, dtypes, threads, log=print, clock="wall"):
    from ..base.threads import blas_threads

    backends = available_backends()
    if "torch" in backends:
        import torch
        torch.set_num_threads(threads)
    rows = []
    with blas_threads(threads):
        peak = {np.dtype(d).name: matmul_peak(d, clock=clock) for d in dtypes}
        log("single-thread matmul peak: " + ", ".join(f"{k} {v:.1f} GFLOP/s" for k, v in peak.items())
            + f" ({clock} clock)")
        for cell, (I, H, B, T), dtype in itertools.product(("rnn", "gru"), configs, dtypes):
            rows.append(measure(cell, I, H, B, T, dtype, backends, peak[np.dtype(dtype).name], clock))
            log(format_row(rows[-1]))
    return {"threads": threads, "clock": clock, "peak_gflops": peak, "backends": backends, "rows": rows}


def format_row(row):
    ms = row["ms"]
    parts = [f"{row['cell']:<4}({row['I']},{row['H']},{row['B']},{row['T']}) {row['dtype']:<8}"]
    for name, v in ms.items():
        parts.append(f"{name} {v:8.3f} ms {row['gflops'][name]:6.1f} GF/s")
    if "torch" in ms:
        parts.append("numba/torch x%.2f" % (ms["torch"] / ms["numba"]))
    parts.append("numba/numpy x%.2f" % (ms["numpy"] / ms["numba"]))
    parts.append("numba %.0f%% of peak" % (100 * row["peak_fraction"]["numba"]))
    parts.append("SIRE %.0f%% of a step (numba)" % (100 * row["sire_share"]["numba"]))
    return " | ".join(parts)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m sire_ref bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--experiments", action="store_true",
                   help="time a full training step of every experiment's own model against the same "
                        "model in PyTorch (needs torch; float32 unless --dtypes says otherwise)")
    p.add_argument("--quick", action="store_true", help="fewer configurations, a run of about a minute")
    p.add_argument("--threads", type=int, default=1, help="threads for BLAS and torch (default 1)")
    p.add_argument("--dtypes", nargs="+", default=None, choices=["float32", "float64"],
                   help="default float32 float64 (kernel table) or float32 (--experiments)")
    p.add_argument("--configs", nargs="+", default=None, metavar="I,H,B,T",
                   help="configurations to time instead of the preset list")
    p.add_argument("--only", nargs="+", default=None, metavar="WORD",
                   help="--experiments: only the rows whose name contains one of these words (e.g. mnist points)")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="time each call by the wall clock (default) or by this process's CPU time, which "
                        "waiting for a busy core does not inflate: for a machine running other work")
    p.add_argument("--together", action="store_true",
                   help="--experiments: time both frameworks in this one process (sire_ref as a gradient oracle "
                        "inside a PyTorch program) instead of each in a process of its own, as a training run "
                        "is; each one's allocations then act on the other's calls")
    p.add_argument("--out", default="bench.json", help="where to write the JSON results (default bench.json)")
    args = p.parse_args(argv)
    if args.threads < 1:
        p.error(f"--threads must be >= 1, got {args.threads}")
    if args.only is not None and not args.experiments:
        p.error("--only picks rows of --experiments; add --experiments (the kernel table has no named rows: "
                "use --configs)")
    if args.together and not args.experiments:
        p.error("--together times both frameworks of --experiments in one process; add --experiments")
    try:
        configs = ([tuple(int(v) for v in c.split(",")) for c in args.configs] if args.configs
                   else QUICK if args.quick else CONFIGS)
    except ValueError:
        p.error(f"--configs entries must look like I,H,B,T (four ints), got {args.configs}")
    if any(len(c) != 4 or min(c) < 1 for c in configs):
        p.error(f"--configs entries must be four positive ints I,H,B,T, got {args.configs}")
    start = time.perf_counter()
    if args.experiments:
        try:
            import torch  # noqa: F401  (the PyTorch side of every row)
        except ImportError:
            from .interop.torch import INSTALL
            print(f"error: --experiments compares against PyTorch, which is not installed: {INSTALL}",
                  file=sys.stderr)
            return 2
        from .bench_experiments import experiment_configs, run as run_experiments
        names = [c[0] for c in experiment_configs(args.quick)]
        if args.only is not None and not any(w in n for n in names for w in args.only):
            p.error(f"--only {' '.join(args.only)} matches no row; the rows are: {'; '.join(names)}")
        result = {"experiments": [run_experiments(args.threads, args.quick, d, only=args.only, clock=args.clock,
                                                  together=args.together)
                                  for d in (args.dtypes or ["float32"])]}
    else:
        result = run(configs, [np.dtype(d).type for d in (args.dtypes or ["float32", "float64"])],
                     args.threads, clock=args.clock)
    result["seconds"] = time.perf_counter() - start
    from ..base.io import write_json
    write_json(args.out, result)
    print(f"wrote {os.path.abspath(args.out)} ({result['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
