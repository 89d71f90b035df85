r"""Arithmetic tasks on integer sequences (Section 6.2, Figure 2): sum, range, variance.

    python -m sire_ref.experiments.arithmetic --task sum|range|variance [--lengths 5 10 ...]
        [--seeds N] [--preset quick|paper] [--jobs J] [--out DIR]

For every length n and seed: a GRU (lambda = 0), a SIRE-regularized GRU for each lambda of the
grid (the lambda is chosen per length and seed on a validation split), DeepSets and pi-SGD, all
on the same data (see integer_tasks.py for the setup). Prints mean (std) test accuracy (RMSE for
variance) by n, writes <out>/arithmetic_<task>.png and .json. Each run is its own result file
under <out>/runs/arithmetic_<task>/ (finished runs are skipped on rerun; --jobs spreads runs
over a local Dask cluster, --scheduler runs them on an existing one).
"""
import sys

from ..base.io import write_json
from . import integer_tasks
from .integer_tasks import CONVERGED, run_one, specs_for
from .runner import cli
from .runner.report import (method_table, order_sensitivity, order_table, plot_curves, provenance, run_records,
                            select, training_summary)

PRESETS = {
    # quick: n = 5 at the paper's data size, two seeds, trained to a plateau (about 17 minutes for sum
    # on 2 cores with --jobs 2, range and variance about 20). paper: the paper's lengths and seeds.
    "quick": dict(lengths=[5], seeds=2, n_train=100_000, n_val=10_000, n_test=10_000, epochs=200,
                  lambdas=[0.01, 0.1], batch_size=128, lr=1e-3, **CONVERGED),
    "paper": dict(lengths=[5, 10, 15, 20, 25, 30], seeds=None, n_train=100_000, n_val=10_000,
                  n_test=10_000, epochs=300, lambdas=[0.001, 0.01, 0.1, 1.0], batch_size=128, lr=1e-3,
                  **CONVERGED),
}
PAPER_SEEDS = {"sum": 20, "range": 3, "variance": 3}
METHODS = ["gru", "sire", "deepsets", "pisgd"]


def _own_arguments(p, shown):
    p.add_argument("--task", choices=("sum", "range", "variance"), default="sum", help="default sum")
    p.add_argument("--lengths", type=cli.positive_int, nargs="+", default=None, help=f"sequence lengths n ({shown('lengths')})")
    p.add_argument("--lambdas", type=cli.nonnegative_float, nargs="+", default=None,
                   help=f"SIRE lambda grid ({shown('lambdas')})")
    integer_tasks.add_arguments(p, shown)
    p.add_argument("--methods", nargs="+", choices=METHODS, default=None,
                   help="methods (default all; pi-SGD is skipped for variance, as in the paper)")


def main(argv=None):
    args = cli.parse_args("arithmetic", __doc__, PRESETS, argv, _own_arguments)
    if args.seeds is None:
        args.seeds = PAPER_SEEDS[args.task]
    methods = args.methods or [m for m in METHODS if not (m == "pisgd" and args.task == "variance")]
    name = f"arithmetic_{args.task}"
    results = cli.sweep(args, run_one, specs_for(args, args.task, methods), f"{args.out}/runs/{name}",
                        integer_tasks.estimate)
    if results is None:
        return 0
    best = select(results.values())
    metric = "RMSE" if args.task == "variance" else "accuracy"
    mse = (method_table(best, methods, args.lengths, "MSE", value=lambda r: r.get("test_mse"),
                        title="test MSE (the paper's metric for variance, Appendix B): mean (std) over seeds")
           + "\n" if args.task == "variance" else "")
    text = (mse + method_table(best, methods, args.lengths, metric) + "\n" + order_table(best, methods, args.lengths)
            + "\n" + training_summary(results))
    print("\n" + text)
    curves = {m: {seed: [best[(m, n, seed)]["test"] for n in args.lengths] for seed in range(args.seeds)}
              for m in methods}
    plot_curves(curves, args.lengths, f"{args.out}/{name}.png", xlabel="sequence length n",
                ylabel=f"test {metric}", title=f"{args.task}: test {metric} vs n ({args.preset} preset)",
                ylim=None)
    write_json(f"{args.out}/{name}.json", {
        "args": vars(args), "table": text, "curves": curves, "provenance": provenance(), "runs": run_records(results),
        "order_sensitivity": {m: {seed: [order_sensitivity(best[(m, n, seed)]) for n in args.lengths]
                                  for seed in range(args.seeds)} for m in methods},
        "chosen_lambda": {f"n{n}-seed{s}": best[("sire", n, s)]["spec"]["lam"]
                          for n in args.lengths for s in range(args.seeds) if ("sire", n, s) in best}})
    print(f"wrote {args.out}/{name}.png and {args.out}/{name}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
