r"""The variance-invariance spectrum, measured (beyond the paper): accuracy and order sensitivity by lambda.

    python -m sire_ref.experiments.spectrum --task sum|half_range [--lambdas 0 0.01 0.1 1 10]
        [--preset quick|paper] [--seeds N] [--jobs J] [--out DIR]

The paper says lambda moves a GRU between fitting the order and ignoring it, but measures only
accuracy. For each lambda of a log grid (0 = the plain GRU) and seed, a GRU + lambda R_SIRE
(Eq. 4.4; the integer_tasks.py setup) is trained to a plateau and, on the test set, scored and
measured with sire_ref.training.diagnostics: the mean order sensitivity |y(x) - y(pi x)| over random
orders pi, the share of test sequences whose rounded prediction some order changes, and the
SIRE estimate. sum is permutation invariant (large lambda should cost nothing); half-range is
not (large lambda should cost accuracy). Prints the table, writes <out>/spectrum_<task>.png and
.json; each run is a sweep record under <out>/runs/spectrum_<task>/.
"""
import sys

import numpy as np

from ..base.io import save_figure, write_json
from ..data.arithmetic import TARGETS, make_split
from ..training.diagnostics import Subject, order_sensitivity
from . import integer_tasks
from .integer_tasks import CONVERGED, run_one, specs_for
from .runner import cli
from .runner.report import training_summary

LENGTH = {"sum": 10, "half_range": 10}
PRESETS = {
    # quick: a fifth of the paper's training data, trained to a plateau (measured with --jobs 2 on
    # 2 cores: sum 16 min, half-range 32 min). paper: the paper's data size and 5 seeds.
    "quick": dict(seeds=2, n_train=20_000, n_val=2_000, n_test=10_000, epochs=150, batch_size=128, lr=1e-3,
                  lambdas=[0.0, 0.01, 0.1, 1.0, 10.0], **CONVERGED),
    "paper": dict(seeds=5, n_train=100_000, n_val=10_000, n_test=10_000, epochs=300, batch_size=128,
                  lr=1e-3, lambdas=[0.0, 0.001, 0.01, 0.1, 1.0, 10.0], **CONVERGED),
}
COLUMNS = (("test", "test accuracy"), ("order_mean", "mean |y(x) - y(pi x)|"),
           ("changed", "share changed by an order"), ("sire", "R_SIRE estimate"))


def _own_arguments(p, shown):
    p.add_argument("--task", choices=tuple(LENGTH), default="sum", help="default sum")
    p.add_argument("--lambdas", type=cli.nonnegative_float, nargs="+", default=None,
                   help=f"the lambda grid; 0 trains the plain GRU ({shown('lambdas')})")
    integer_tasks.add_arguments(p, shown)


def by_lambda(results, lambdas):
    """{lambda: {column: [value per seed]}} of the columns in COLUMNS."""
    table = {}
    for lam in lambdas:
        runs = sorted((r for r in results.values() if r["spec"]["lam"] == lam), key=lambda r: r["spec"]["seed"])
        table[lam] = {key: [r["test"] if key == "test" else r["invariance"][key] for r in runs]
                      for key, _ in COLUMNS}
    return table


def target_sensitivity(task, length, n=10_000, n_orders=10, seed=0):
    """(mean |h(x) - h(pi x)|, share of sequences whose h some order changes) of the task's own
    target h on n random test-like sequences: where a model that learned h exactly would sit."""
    rng = np.random.default_rng([seed, 13])
    split = make_split(rng, task, n, length)
    target = Subject(output=lambda x, lengths: TARGETS[task](x).astype(np.float64)[:, None],
                     decide=lambda out: out[:, 0])
    gaps, changed = order_sensitivity(target, split.x, split.lengths, rng, n_orders)
    return float(gaps.mean()), float(changed.mean())


def plot(table, task, path, target):
    """Three panels over lambda (symmetric-log axis, so lambda = 0 has its place): test accuracy,
    order sensitivity (mean gap, share of changed predictions, and the target's own), and the SIRE
    estimate; seeds as dots, means as lines."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    lams = sorted(table)
    smallest = min((lam for lam in lams if lam > 0), default=1.0)
    fig, (acc, order, reg) = plt.subplots(1, 3, figsize=(14, 4))
    share = order.twinx()                              # a share in 0..1 beside a gap in output units
    panels = ((acc, "test", "C0"), (order, "order_mean", "C0"), (share, "changed", "C3"), (reg, "sire", "C0"))
    for ax, key, color in panels:
        label = dict(COLUMNS)[key]
        for lam in lams:
            ax.plot([lam] * len(table[lam][key]), table[lam][key], ".", color=color, alpha=0.5)
        ax.plot(lams, [np.mean(table[lam][key]) for lam in lams], "-o", color=color, label=label)
        if key in target:
            ax.plot(lams, [target[key]] * len(lams), ":", color=color, lw=1.2, label=f"{label}: the target itself")
        ax.set_xscale("symlog", linthresh=smallest)
        ax.legend(fontsize=7, loc="upper left" if ax is not share else "lower left")
    for ax in (acc, order, reg):
        ax.set_xlabel("lambda (0 = plain GRU)")
        ax.grid(alpha=0.3)
    acc.set(ylabel="test accuracy", title=f"{task}: accuracy")
    order.set(ylabel="mean |y(x) - y(pi x)|", title=f"{task}: order sensitivity on test")
    share.set(ylabel="share changed by an order", ylim=(-0.05, 1.05))
    reg.set(ylabel="R_SIRE (Eq. 4.4) on test", title=f"{task}: SIRE estimate", yscale="log")
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def main(argv=None):
    args = cli.parse_args("spectrum", __doc__, PRESETS, argv, _own_arguments)
    args.lengths = [LENGTH[args.task]]
    grid = sorted(set(args.lambdas))
    args.lambdas = [lam for lam in grid if lam > 0]
    methods = (["gru"] if 0.0 in grid else []) + (["sire"] if args.lambdas else [])
    name = f"spectrum_{args.task}"
    results = cli.sweep(args, run_one, specs_for(args, args.task, methods), f"{args.out}/runs/{name}",
                        integer_tasks.estimate)
    if results is None:
        return 0
    table = by_lambda(results, grid)
    lines = [f"{args.task}, n = {args.lengths[0]}: mean (std) over {args.seeds} seeds, on the test set",
             f"{'lambda':<8}" + "".join(f"{title:>28}" for _, title in COLUMNS)]
    for lam, cols in table.items():
        lines.append(f"{lam:<8g}" + "".join(f"{f'{np.mean(cols[k]):.4g} ({np.std(cols[k]):.2g})':>28}" for k, _ in COLUMNS))
    target = dict(zip(("order_mean", "changed"), target_sensitivity(args.task, args.lengths[0])))
    lines.append(f"{'target':<8}{'-':>28}{target['order_mean']:>28.4g}{target['changed']:>28.4g}{'-':>28}"
                 f"   (the task's own h)")
    text = "\n".join(lines) + "\n" + training_summary(results)
    print("\n" + text)
    plot(table, args.task, f"{args.out}/{name}.png", target)
    write_json(f"{args.out}/{name}.json", {"args": vars(args), "table": text, "target": target,
                                           "by_lambda": {str(k): v for k, v in table.items()}})
    print(f"wrote {args.out}/{name}.png and {args.out}/{name}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
