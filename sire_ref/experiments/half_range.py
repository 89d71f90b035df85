r"""The semi-permutation-invariant half-range task (Section 6.4, Table 2): lambda = 0 vs 0.01.

    python -m sire_ref.experiments.half_range [--preset quick|paper] [--lengths N ...] [--seeds N] [--jobs J] [--out DIR]

half-range(x_1..x_k) = max(x_1..x_{floor(k/2)}) - min(x_{floor(k/2)+1}..x_k) over integers 0..99:
not permutation invariant, but insensitive to many orders. A GRU (integer_tasks.py setup) is
trained with lambda = 0 and lambda = 0.01 (SIRE) at lengths 10, 15, 20; the table prints mean
(std) test accuracy over seeds in the paper's layout with the paper's numbers beside ours, and
writes <out>/half_range.json.
"""
import sys

import numpy as np

from ..base.io import write_json
from . import integer_tasks
from .integer_tasks import CONVERGED, run_one, specs_for
from .runner import cli
from .runner.report import order_sensitivity, provenance, run_records, training_summary

PAPER = {0.0: {10: "0.9346 (0.006)", 15: "0.9461 (0.001)", 20: "0.9678 (0.005)"},
         0.01: {10: "0.9584 (0.008)", 15: "0.9658 (0.008)", 20: "0.9780 (0.004)"}}
PRESETS = {
    # quick: length 10 (Table 2's first column) at the paper's data size, trained to a plateau.
    "quick": dict(lengths=[10], seeds=2, n_train=100_000, n_val=10_000, n_test=10_000, epochs=150,
                  batch_size=128, lr=1e-3, **CONVERGED),
    "paper": dict(lengths=[10, 15, 20], seeds=5, n_train=100_000, n_val=10_000, n_test=10_000,
                  epochs=300, batch_size=128, lr=1e-3, **CONVERGED),
}


def _arguments(p, shown):
    p.add_argument("--lengths", type=cli.positive_int, nargs="+", default=None,
                   help=f"sequence lengths n; Table 2 has 10, 15, 20 ({shown('lengths')})")
    integer_tasks.add_arguments(p, shown)


def main(argv=None):
    args = cli.parse_args("half_range", __doc__, PRESETS, argv, _arguments)
    args.lambdas = [0.01]
    specs = specs_for(args, "half_range", ["gru", "sire"])
    results = cli.sweep(args, run_one, specs, f"{args.out}/runs/half_range", integer_tasks.estimate)
    if results is None:
        return 0
    rows = {}
    for lam, method in ((0.0, "gru"), (0.01, "sire")):
        rows[lam] = {n: [r["test"] for r in results.values()
                         if r["spec"]["method"] == method and r["spec"]["length"] == n]
                     for n in args.lengths}
    lines = ["half-range test accuracy, mean (std) over seeds: ours | paper (Table 2)",
             f"{'':<14}" + "".join(f"{f'seq. len={n}':>34}" for n in args.lengths)]
    for lam, by_n in rows.items():
        cells = [f"{np.mean(v):.4f} ({np.std(v):.3f}) | {PAPER[lam].get(n, '-')}" for n, v in by_n.items()]
        lines.append(f"{f'lambda = {lam:g}':<14}" + "".join(f"{c:>34}" for c in cells))
    lines.append("order sensitivity on test, mean |y(x) - y(pi x)| (sire_ref.training.diagnostics):")
    for lam, method in ((0.0, "gru"), (0.01, "sire")):
        order = [order_sensitivity(r) for r in results.values() if r["spec"]["method"] == method]
        order = [v for v in order if v is not None]
        lines.append(f"  lambda = {lam:g}: " + (f"{np.mean(order):.3f} ({np.std(order):.3f})" if order else "-"))
    text = "\n".join(lines) + "\n" + training_summary(results)
    print("\n" + text)
    write_json(f"{args.out}/half_range.json", {"args": vars(args), "table": text, "provenance": provenance(),
                                               "runs": run_records(results),
                                               "ours": {str(k): v for k, v in rows.items()},
                                               "paper": {str(k): v for k, v in PAPER.items()}})
    print(f"wrote {args.out}/half_range.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
