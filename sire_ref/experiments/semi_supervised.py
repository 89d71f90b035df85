r"""SIRE on unlabelled data (beyond the paper): does R_SIRE on sequences without labels help?

    python -m sire_ref.experiments.semi_supervised [--unlabelled 1000 10000 100000] [--lambdas ...]
        [--preset quick|paper] [--seeds N] [--jobs J] [--out DIR]

The paper notes (Section 6.5) that SIRE needs no labels but does not try it. Appendix C's setting:
the sum of 10 integers in 0..19 from 200 labelled sequences (integer_tasks.py setup). Compared,
each trained to a plateau over the same seeds:
  gru              the GRU on the labelled sequences alone (lambda = 0);
  sire-labelled    GRU + lambda R_SIRE (Eq. 4.4) on each labelled minibatch;
  sire-U           GRU + lambda R_SIRE on as many sequences drawn from U unlabelled ones
                   (TrainConfig.reg_on = "unlabelled"; their targets are never read), for each U.
lambda is chosen per method and seed on the 200 validation sequences (never on test). Prints
test accuracy and order sensitivity (sire_ref.training.diagnostics) per method, writes
<out>/semi_supervised.png and .json; runs are sweep records under <out>/runs/semi_supervised/.
"""
import sys

import numpy as np

from ..base.io import save_figure, write_json
from . import integer_tasks
from .integer_tasks import CONVERGED, RunSpec, SemiSpec, run_one
from .runner import cli
from .runner.report import training_summary

PRESETS = {
    # Appendix C's sizes, each run to a plateau (a long patience: 200 validation sequences are noisy);
    # quick: 105 runs, about 25 min with --jobs 2 on 2 cores. lambda's grid reaches 100 because the
    # best lambda sat at the top of narrower grids (README).
    "quick": dict(seeds=5, n_train=200, n_val=200, n_test=10_000, epochs=1000, batch_size=20, lr=1e-3,
                  lambdas=[0.01, 0.1, 1.0, 10.0, 100.0], unlabelled=[1000, 10_000, 100_000],
                  **dict(CONVERGED, plateau_patience=50)),
    "paper": dict(seeds=10, n_train=200, n_val=200, n_test=10_000, epochs=2000, batch_size=20, lr=1e-3,
                  lambdas=[0.001, 0.01, 0.1, 1.0, 10.0, 100.0], unlabelled=[1000, 10_000, 100_000],
                  **dict(CONVERGED, plateau_patience=100)),
}
LENGTH, MAX_VALUE = 10, 19


def _own_arguments(p, shown):
    p.add_argument("--unlabelled", type=cli.positive_int, nargs="+", default=None,
                   help=f"sizes U of the unlabelled pools ({shown('unlabelled')})")
    p.add_argument("--lambdas", type=cli.positive_float, nargs="+", default=None,
                   help=f"lambda grid of the SIRE methods ({shown('lambdas')})")
    integer_tasks.add_arguments(p, shown)


def method_of(spec):
    """The method label of a record's spec: gru, sire-labelled or sire-<U>."""
    if spec["method"] == "gru":
        return "gru"
    return f"sire-{spec['n_unlabelled']}" if "n_unlabelled" in spec else "sire-labelled"


def specs_for(args):
    base = dict(task="sum", length=LENGTH, n_train=args.n_train, n_val=args.n_val,
                n_test=args.n_test, max_value=MAX_VALUE, hidden=80, epochs=args.epochs,
                batch_size=args.batch_size, lr=args.lr, plateau_patience=args.plateau_patience,
                plateau_decays=args.plateau_decays, dtype=args.dtype, backend=args.backend,
                rho_hidden=args.rho_hidden, rescale=not args.no_rescale)
    specs = []
    for seed in range(args.seeds):
        own = dict(base, seed=seed, data_seed=1000 + seed)     # each seed its own data, as sire_vs_sub
        specs.append(RunSpec(method="gru", lam=0.0, **own))
        for lam in args.lambdas:
            specs.append(RunSpec(method="sire", lam=lam, **own))
            specs += [SemiSpec(method="sire", lam=lam, n_unlabelled=u, **own) for u in args.unlabelled]
    return specs


def chosen(results, methods, seeds):
    """{method: [the best-on-validation run of each seed over its lambdas]} (a tie: the smaller lambda)."""
    out = {}
    for m in methods:
        out[m] = []
        for seed in range(seeds):
            runs = [r for r in results.values() if method_of(r["spec"]) == m and r["spec"]["seed"] == seed]
            out[m].append(max(runs, key=lambda r: r["val"]))
    return out


def plot(best, unlabelled, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for m, color in (("gru", "C7"), ("sire-labelled", "C0")):
        accs = [r["test"] for r in best[m]]
        ax.axhspan(np.mean(accs) - np.std(accs), np.mean(accs) + np.std(accs), color=color, alpha=0.15)
        ax.axhline(np.mean(accs), color=color, label=f"{m} (mean +- std)")
    accs = np.array([[r["test"] for r in best[f"sire-{u}"]] for u in unlabelled])
    for u, row in zip(unlabelled, accs):
        ax.plot([u] * len(row), row, ".", color="C3", alpha=0.5)
    ax.errorbar(unlabelled, accs.mean(axis=1), yerr=accs.std(axis=1), fmt="-o", color="C3", capsize=4,
                label="R_SIRE on U unlabelled sequences")
    ax.set(xscale="log", xlabel="unlabelled sequences U", ylabel="test accuracy",
           title="sum, n = 10, 200 labelled sequences: lambda chosen on validation")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def main(argv=None):
    args = cli.parse_args("semi_supervised", __doc__, PRESETS, argv, _own_arguments)
    results = cli.sweep(args, run_one, specs_for(args), f"{args.out}/runs/semi_supervised",
                        integer_tasks.estimate)
    if results is None:
        return 0
    methods = ["gru", "sire-labelled"] + [f"sire-{u}" for u in args.unlabelled]
    best = chosen(results, methods, args.seeds)
    lines = [f"sum of {LENGTH} integers in 0..{MAX_VALUE}, {args.n_train} labelled sequences, {args.seeds} "
             f"seeds: mean (std) on the test set; lambda chosen per seed on validation",
             f"{'method':<16}{'test accuracy':>18}{'order sensitivity':>20}   chosen lambdas"]
    for m in methods:
        acc = [r["test"] for r in best[m]]
        order = [r["invariance"]["order_mean"] for r in best[m]]
        lams = ", ".join(f"{r['spec']['lam']:g}" for r in best[m])
        lines.append(f"{m:<16}{np.mean(acc):>11.3f} ({np.std(acc):.3f}){np.mean(order):>13.3f} "
                     f"({np.std(order):.3f})   {lams}")
    lines.append("test accuracy by lambda, mean over seeds (the chosen lambda is per seed, on validation):")
    lines.append(f"{'method':<16}" + "".join(f"{f'lambda={lam:g}':>14}" for lam in args.lambdas))
    for m in methods[1:]:
        cells = [np.mean([r["test"] for r in results.values() if method_of(r["spec"]) == m and r["spec"]["lam"] == lam])
                 for lam in args.lambdas]
        lines.append(f"{m:<16}" + "".join(f"{c:>14.3f}" for c in cells))
    text = "\n".join(lines) + "\n" + training_summary(
        {k: dict(r, spec=dict(r["spec"], method=method_of(r["spec"]))) for k, r in results.items()})
    print("\n" + text)
    plot(best, args.unlabelled, f"{args.out}/semi_supervised.png")
    write_json(f"{args.out}/semi_supervised.json", {
        "args": vars(args), "table": text,
        "test": {m: [r["test"] for r in best[m]] for m in methods},
        "order_mean": {m: [r["invariance"]["order_mean"] for r in best[m]] for m in methods},
        "chosen_lambda": {m: [r["spec"]["lam"] for r in best[m]] for m in methods}})
    print(f"wrote {args.out}/semi_supervised.png and {args.out}/semi_supervised.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
