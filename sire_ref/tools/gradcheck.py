"""Gradient checking: central finite differences, and the command that checks us against PyTorch.

    python -m sire_ref.gradcheck --cell gru --oracle torch
    python -m sire_ref.gradcheck --cell rnn --oracle fd

The loss is L = sum(dstates * states) for a random upstream gradient dstates, so
dL/dtheta is exactly what `backward(params, cache, dstates)` returns. Errors are
`testing.relative_error` (norm-wise).
"""
import argparse
import sys

import numpy as np

from ..cells import CELLS, get_cell
from .testing import compare, numerical_gradient, random_problem


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


def torch_report(cell, params, x, lengths, dstates):
    """Compare forward states and backward() with PyTorch autograd on the same problem."""
    from ..interop.torch import oracle

    states, analytic = analytic_gradients(cell, params, x, lengths, dstates)
    t_states, t_grads, t_dx = oracle(params, x, lengths, dstates)
    return compare(dict(analytic, states=states), dict(t_grads, x=t_dx, states=t_states))


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m sire_ref.gradcheck",
        description="Check the hand-written backward pass of a cell on a random float64 problem "
                    "(nonzero biases and s0, random lengths including 1 and T, random upstream "
                    "gradient) against finite differences or PyTorch autograd. Prints the relative "
                    "error per parameter and exits 1 if any exceeds --tol.")
    parser.add_argument("--cell", choices=sorted(CELLS), default="gru", help="cell to check (default gru)")
    parser.add_argument("--oracle", choices=("torch", "fd"), default="torch",
                        help="torch: PyTorch autograd (needs torch); fd: central finite differences")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--batch", type=int, default=5, help="batch size B (default 5)")
    parser.add_argument("--seq-len", type=int, default=7, help="sequence length T (default 7)")
    parser.add_argument("--input-size", type=int, default=3, help="input size I (default 3)")
    parser.add_argument("--hidden-size", type=int, default=6, help="hidden size H (default 6)")
    parser.add_argument("--tol", type=float, default=None,
                        help="largest relative error allowed (default 1e-9 for torch, 1e-7 for fd)")
    args = parser.parse_args(argv)
    tol = args.tol if args.tol is not None else (1e-9 if args.oracle == "torch" else 1e-7)
    cell = get_cell(args.cell)
    problem = random_problem(cell, np.random.default_rng(args.seed), args.batch, args.seq_len,
                             args.input_size, args.hidden_size)
    try:
        report = torch_report(cell, *problem) if args.oracle == "torch" else \
            finite_difference_report(cell, *problem)
    except ImportError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{args.cell} vs {args.oracle}, float64, lengths {problem[2].tolist()}, tolerance {tol:g}")
    print(f"{'array':<12}{'max abs err':>14}{'rel err':>14}")
    for name, r in report.items():
        flag = "" if r["rel"] <= tol else "  FAIL"
        print(f"{name:<12}{r['max_abs']:>14.3e}{r['rel']:>14.3e}{flag}")
    worst = max(r["rel"] for r in report.values())
    print(f"max relative error {worst:.3e}: {'PASS' if worst <= tol else 'FAIL'}")
    return 0 if worst <= tol else 1


if __name__ == "__main__":
    sys.exit(main())
