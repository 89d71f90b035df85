"""`python -m sire_ref gpucheck`: on a machine with CuPy and a GPU, check the CuPy path against NumPy.

For both cells, in float64 and float32: states, every gradient, dx and one SIRE value with
its gradients, computed by the same reference code on NumPy and on CuPy arrays; prints the
relative errors and the median time of a training step (forward + backward) on each, and
exits 1 if a float64 error exceeds 1e-10 (float32: 1e-4). Exits 2 with the reason when
CuPy or a CUDA device is missing.
"""
import argparse
import sys

import numpy as np

from ..base import backend
from ..core.cells import get_cell
from ..core.regularizers import sire
from ..core.samples import sample_sire
from .bench import problem
from .testing import relative_error
from .timing import median_ms

TOL = {"float64": 1e-10, "float32": 1e-4}


def compare(cell_name, I, H, B, T, dtype):
    cp = backend.get_module("cupy")
    cell = get_cell(cell_name)
    params, x, dstates = problem(cell, I, H, B, T, dtype)
    lengths = np.random.default_rng(2).integers(1, T + 1, size=B)
    draw = sample_sire(np.random.default_rng(3), lengths, B)
    host, dev = (params, x, dstates), (backend.to_module(params, cp), cp.asarray(x), cp.asarray(dstates))
    results = []
    for p, xx, d in (host, dev):
        states, cache = cell.forward(p, xx, lengths)
        grads, dx = cell.backward(p, cache, d)
        value, r_grads, _ = sire(cell, p, xx, draw, lengths)
        results.append({"states": states, "dx": dx, "sire": value, **grads,
                        **{f"sire.{k}": v for k, v in r_grads.items()}})
    errors = {k: relative_error(backend.to_numpy(results[1][k]), backend.to_numpy(results[0][k]))
              for k in results[0]}

    def step(p, xx, d):
        return lambda: cell.backward(p, cell.forward(p, xx, lengths)[1], d)

    times = median_ms({"numpy": step(*host),
                       "cupy": lambda: (step(*dev)(), cp.cuda.Device().synchronize())})
    return errors, times


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m sire_ref gpucheck", description=__doc__.split("\n\n")[0])
    p.add_argument("--config", default="3,256,64,100", metavar="I,H,B,T", help="problem size")
    args = p.parse_args(argv)
    if not backend.cupy_available():
        print("CuPy or a CUDA device is missing: nothing to check (pip install -e '.[gpu]' on a GPU "
              "machine)", file=sys.stderr)
        return 2
    I, H, B, T = (int(v) for v in args.config.split(","))
    worst_ok = True
    for cell_name in ("rnn", "gru"):
        for dtype in ("float64", "float32"):
            errors, times = compare(cell_name, I, H, B, T, np.dtype(dtype).type)
            worst = max(errors.values())
            ok = worst <= TOL[dtype]
            worst_ok &= ok
            print(f"{cell_name} {dtype} ({I},{H},{B},{T}): max rel err {worst:.2e} "
                  f"({max(errors, key=errors.get)}) {'PASS' if ok else 'FAIL'} | step numpy "
                  f"{times['numpy']:.2f} ms, cupy {times['cupy']:.2f} ms, "
                  f"x{times['numpy'] / times['cupy']:.1f}")
    return 0 if worst_ok else 1


if __name__ == "__main__":
    sys.exit(main())
