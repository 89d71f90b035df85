"""Gradient checking: our cells and regularizers against finite differences or another framework.

    python -m sire_ref gradcheck --oracle fd|torch|jax|keras --cell rnn|gru [--regularizer none|sire|sub]

On a random float64 problem (nonzero biases and s0, lengths including 1 and T), compares our
forward values and hand-written gradients with:
    fd     central finite differences (float64)
    torch  PyTorch autograd (interop.torch; nn.RNN / nn.GRU, or their cells for a regularizer)
    jax    jax.grad through flax.linen's cells (interop.jax)
    keras  jax.grad through Keras 3's SimpleRNN / GRU on the JAX backend (interop.keras)
--regularizer none checks the states and L = sum(dstates * states) for a random dstates;
sire / sub check R_SIRE (Eq. 4.4) / R_SUB (Eq. 4.1) on one explicit draw (sire_ref.core.samples) and
their gradients. One line per array (value = its largest |entry| in ours, max abs and relative
error, `testing.relative_error`); exit status 1 above --tol, 2 when the oracle is not installed.
A check that compares nothing FAILS: a NaN or inf anywhere, or a regularizer whose value and
gradients are all zero (e.g. --seq-len 1, where no pair of positions exists).
"""
import argparse
import importlib
import sys

import numpy as np

from ..core.cells import CELLS, get_cell
from ..core.regularizers import sire, sub
from ..core.samples import ESTIMATORS, sample_sire, sample_sub
from .testing import compare, numerical_gradient, random_problem

ORACLES = ("fd", "torch", "jax", "keras")
DEFAULT_TOL = {"fd": 1e-7, "torch": 1e-9, "jax": 1e-9, "keras": 1e-9}


def analytic_gradients(cell, params, x, lengths, dstates):
    """Our (states, {param grads..., "x": dx}) for L = sum(dstates * states)."""
    states, cache = cell.forward(params, x, lengths)
    grads, dx = cell.backward(params, cache, dstates)
    return states, dict(grads, x=dx)


def finite_difference_report(cell, params, x, lengths, dstates, eps=1e-6):
    """Compare backward() with central differences of L = sum(dstates * states), float64."""
    def loss(arrays):
        states, _ = cell.forward({k: arrays[k] for k in params}, arrays["x"], lengths)
        return float((states * dstates).sum())

    _, analytic = analytic_gradients(cell, params, x, lengths, dstates)
    numeric = numerical_gradient(loss, dict(params, x=x), eps=eps)
    return compare(analytic, numeric)


def oracle_report(framework, cell, params, x, lengths, dstates):
    """Compare forward states and backward() with a framework's autodiff on the same problem."""
    oracle = importlib.import_module(f"sire_ref.tools.interop.{framework}").oracle
    states, analytic = analytic_gradients(cell, params, x, lengths, dstates)
    o_states, o_grads, o_dx = oracle(params, x, lengths, dstates)
    return compare(dict(analytic, states=states), dict(o_grads, x=o_dx, states=o_states))


def regularizer_report(framework, kind, cell, params, x, lengths, draw):
    """Compare R's value, gradients and dR/dx with finite differences or a framework's oracle."""
    fn = sire if kind == "sire" else sub
    out = fn(cell, params, x, draw, lengths, with_dx=True)
    ours = dict(out.grads, x=out.dx, value=np.asarray(float(out.value)))
    if framework == "fd":
        def value(arrays):
            return float(fn(cell, {k: arrays[k] for k in params}, arrays["x"], draw, lengths).value)
        other = numerical_gradient(value, dict(params, x=x))
        other["value"] = np.asarray(float(out.value))          # fd has no value of its own
    else:
        oracle = importlib.import_module(f"sire_ref.tools.interop.{framework}").regularizer_oracle
        v, grads, dx = oracle(kind, params, x, draw, lengths)
        other = dict(grads, x=dx, value=np.asarray(v))
    return compare(ours, other)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sire_ref gradcheck", description=__doc__.split("\n\n")[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cell", choices=sorted(CELLS), default="gru", help="cell to check (default gru)")
    parser.add_argument("--oracle", choices=ORACLES, default="torch",
                        help="fd: finite differences; torch, jax, keras: that framework's autodiff (default torch)")
    parser.add_argument("--regularizer", choices=("none", "sire", "sub"), default="none",
                        help="none: the cell's states and gradients; sire / sub: R_SIRE / R_SUB on a draw")
    parser.add_argument("--estimator", choices=ESTIMATORS, default="subset",
                        help="SIRE draw: subset (the paper's text) or prefix (the authors' code)")
    parser.add_argument("--samples", type=int, default=8, help="terms of the regularizer's draw (default 8)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--batch", type=int, default=5, help="batch size B (default 5)")
    parser.add_argument("--seq-len", type=int, default=7, help="sequence length T (default 7)")
    parser.add_argument("--input-size", type=int, default=3, help="input size I (default 3)")
    parser.add_argument("--hidden-size", type=int, default=6, help="hidden size H (default 6)")
    parser.add_argument("--tol", type=float, default=None,
                        help="largest relative error allowed (default 1e-7 for fd, 1e-9 for the frameworks)")
    args = parser.parse_args(argv)
    for name in ("samples", "batch", "seq_len", "input_size", "hidden_size"):
        if getattr(args, name) < 1:
            parser.error(f"argument --{name.replace('_', '-')}: must be an integer >= 1, got {getattr(args, name)}")
    if args.regularizer != "none" and args.seq_len < 2:
        parser.error(f"argument --seq-len: R_{args.regularizer.upper()} compares two orders of at least two "
                     f"positions, so it needs --seq-len >= 2, got {args.seq_len}")
    if args.tol is not None and not (np.isfinite(args.tol) and args.tol > 0):
        parser.error(f"argument --tol: must be a finite number > 0, got {args.tol}")
    tol = args.tol if args.tol is not None else DEFAULT_TOL[args.oracle]
    cell = get_cell(args.cell)
    rng = np.random.default_rng(args.seed)
    params, x, lengths, dstates = random_problem(cell, rng, args.batch, args.seq_len, args.input_size,
                                                 args.hidden_size)
    try:
        if args.regularizer == "none":
            what = "states and L = sum(dstates * states)"
            report = (finite_difference_report(cell, params, x, lengths, dstates) if args.oracle == "fd"
                            else oracle_report(args.oracle, cell, params, x, lengths, dstates))
        else:
            draw = (sample_sire(rng, lengths, args.samples, args.estimator) if args.regularizer == "sire"
                    else sample_sub(rng, lengths, args.samples))
            what = f"R_{args.regularizer.upper()} on a draw of {args.samples}" + \
                   (f" ({args.estimator})" if args.regularizer == "sire" else "")
            report = regularizer_report(args.oracle, args.regularizer, cell, params, x, lengths, draw)
    except ImportError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{args.cell}: {what} vs {args.oracle}, float64, lengths {lengths.tolist()}, tolerance {tol:g}")
    print(f"{'array':<12}{'value':>14}{'max abs err':>14}{'rel err':>14}")
    for name, r in report.items():
        flag = "" if r["rel"] <= tol else "  FAIL"
        print(f"{name:<12}{r['value']:>14.4e}{r['max_abs']:>14.3e}{r['rel']:>14.3e}{flag}")
    worst = max(r["rel"] for r in report.values())        # inf where anything is NaN or inf
    if all(r["value"] == 0 for r in report.values()):
        print("FAIL: every array is exactly zero, so nothing was compared (a longer --seq-len or more "
              "--samples gives the regularizer terms)")
        return 1
    print(f"max relative error {worst:.3e}: {'PASS' if worst <= tol else 'FAIL'}")
    return 0 if worst <= tol else 1


if __name__ == "__main__":
    sys.exit(main())
