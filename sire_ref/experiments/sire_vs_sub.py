r"""SIRE vs SUB (Appendix C, Figure 4): which regularizer trains faster and generalizes better.

    python -m sire_ref.experiments.sire_vs_sub [--preset quick|paper] [--seeds N] [--lambdas ...]
                                               [--jobs J] [--out DIR]

The sum task over integers 0..19, length 10, 200 training sequences, batch 20 (Appendix C); the
integer-task GRU with rho (integer_tasks.py) with lambda R_SIRE (Eq. 4.4) or lambda R_SUB (Eq. 4.1).
The paper tried lambda in {0.001, 0.01, 0.1}; its best values were the ends of that grid (SIRE
0.1, SUB 0.001), so we run the wide grid {0.001, ..., 100} and report both: for each seed and
regularizer, lambda is chosen on the 200-sequence holdout (never on test), over the wide grid and
over the paper's narrow one. Reported (each from the runs' records):
- test accuracy, mean (std) over seeds, per method and grid, with the paper's values;
- the paired per-seed difference SIRE - SUB with its 95% bootstrap interval;
- "SIRE converges faster": per seed, the epochs (and training seconds) until the training L1
  (measured on the minibatches while training, before each step) first falls below fixed
  thresholds, for the chosen lambdas, with the paired difference of epochs;
- the figure: test accuracy against lambda, one line per method (mean), seeds as points; and
  the training L1 of the chosen lambdas.
Writes <out>/sire_vs_sub.png and <out>/sire_vs_sub.json.
"""
import sys

import numpy as np

from ..base.io import save_figure, write_json
from . import integer_tasks
from .integer_tasks import CONVERGED, run_one, specs_for
from .runner import cli
from .runner.report import paired_difference, provenance, run_records, select, training_summary, verdict

WIDE = [0.001, 0.01, 0.1, 1.0, 10.0, 100.0]
NARROW = [0.001, 0.01, 0.1]                  # the paper's grid
PRESETS = {
    # Appendix C's size (200 training sequences) is small: both presets train every run to its plateau;
    # with 200 holdout sequences the plateau needs a long patience to see through the noise.
    "quick": dict(lengths=[10], seeds=10, n_train=200, n_val=200, n_test=10_000, epochs=1000,
                  batch_size=20, lr=1e-3, lambdas=WIDE, **dict(CONVERGED, plateau_patience=50)),
    "paper": dict(lengths=[10], seeds=10, n_train=200, n_val=200, n_test=10_000, epochs=2000,
                  batch_size=20, lr=1e-3, lambdas=WIDE, **dict(CONVERGED, plateau_patience=100)),
}
PAPER = {"sire": (0.792, 0.09), "sub": (0.759, 0.11)}
THRESHOLDS = (4.0, 2.0, 1.0)      # training L1 (targets: sums of 10 integers in 0..19, std about 18)
METHODS = ("sire", "sub")


def by_seed(results, method, lambdas):
    """{seed: {lam: result}} of one method's runs with lam in `lambdas`."""
    out = {}
    for r in results.values():
        spec = r["spec"]
        if spec["method"] == method and spec["lam"] in lambdas:
            out.setdefault(spec["seed"], {})[spec["lam"]] = r
    return out


def first_below(curve, threshold):
    """The first epoch (1-based) at which a training curve is below threshold, or None."""
    return next((i + 1 for i, v in enumerate(curve) if v < threshold), None)


def speed(run, threshold):
    """(epochs, training seconds) until the run's training L1 first fell below threshold, or None."""
    epoch = first_below(run["task_curve"], threshold)
    return None if epoch is None else (epoch, float(np.sum(run["epoch_seconds"][:epoch])))


def summarize(results, seeds, lambdas):
    """Everything the table and the record hold, computed from the runs' records."""
    grids = {"wide": list(lambdas), "narrow": [lam for lam in NARROW if lam in lambdas]}
    out = {"grids": grids, "methods": {}, "difference": {}, "convergence": {}}
    for grid, lams in grids.items():
        if not lams:
            continue
        picks = {}
        for method in METHODS:
            runs = by_seed(results, method, lams)
            missing = [s for s in range(seeds) if set(runs.get(s, {})) != set(lams)]
            if missing:
                raise ValueError(f"{method}: seeds {missing} lack runs for some lambda of {lams}")
            chosen = {s: select(runs[s].values(), key=("seed",))[(s,)]["spec"]["lam"] for s in range(seeds)}
            picks[method] = {s: runs[s][chosen[s]] for s in range(seeds)}
            tests = [picks[method][s]["test"] for s in range(seeds)]
            out["methods"].setdefault(method, {})[grid] = {
                "chosen_lambda": [chosen[s] for s in range(seeds)], "test": tests,
                "mean": float(np.mean(tests)), "std": float(np.std(tests))}
        diff = paired_difference([picks["sire"][s]["test"] for s in range(seeds)],
                                 [picks["sub"][s]["test"] for s in range(seeds)])
        out["difference"][grid] = dict(diff, verdict=verdict(diff, np.sign(PAPER["sire"][0] - PAPER["sub"][0])))
        if grid == "wide":
            out["convergence"] = {str(t): {m: [speed(picks[m][s], t) for s in range(seeds)] for m in METHODS}
                                  for t in THRESHOLDS}
            out["picked"] = {m: [picks[m][s]["spec"]["lam"] for s in range(seeds)] for m in METHODS}
    return out


def table(summary, seeds):
    lines = [f"SIRE vs SUB, sum of 10 integers in 0..19, 200 training sequences, {seeds} seeds; lambda chosen per "
             f"seed on the holdout. Test accuracy, mean (std) over seeds | paper (5 seeds, narrow grid)"]
    for grid, lams in summary["grids"].items():
        if grid not in summary["difference"]:
            continue
        lines.append(f"{grid} grid {lams}:")
        for m in METHODS:
            row = summary["methods"][m][grid]
            counts = {lam: row["chosen_lambda"].count(lam) for lam in lams if lam in row["chosen_lambda"]}
            lines.append(f"  {m.upper():<4} {row['mean']:.3f} ({row['std']:.3f}) | paper {PAPER[m][0]} "
                         f"({PAPER[m][1]}) | chosen lambda: " + ", ".join(f"{lam:g} x{c}" for lam, c in counts.items()))
        d = summary["difference"][grid]
        lines.append(f"  SIRE - SUB, paired per seed: {d['mean']:+.3f}, 95% bootstrap interval "
                     f"[{d['lo']:+.3f}, {d['hi']:+.3f}] (paper +0.033): {d['verdict']}")
    lines.append("'SIRE converges faster': epochs until the training L1 first falls below a threshold "
                 "(chosen lambdas; median over the seeds that reach it, reached/seeds):")
    for t, per in summary["convergence"].items():
        cells = []
        for m in METHODS:
            hit = [v for v in per[m] if v is not None]
            med = (f"median {np.median([e for e, _ in hit]):.0f} epochs, {np.median([s for _, s in hit]):.1f} s"
                   if hit else "never")
            cells.append(f"{m.upper()} {med} ({len(hit)}/{len(per[m])})")
        both = [(a[0], b[0]) for a, b in zip(per["sire"], per["sub"]) if a is not None and b is not None]
        if len(both) >= 2:
            d = paired_difference([a for a, _ in both], [b for _, b in both])
            cells.append(f"SIRE - SUB epochs {d['mean']:+.1f} [{d['lo']:+.1f}, {d['hi']:+.1f}]")
        lines.append(f"  L1 < {t}: " + "; ".join(cells))
    return "\n".join(lines)


def plot(results, summary, lambdas, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    for i, (m, color) in enumerate(zip(METHODS, ("C0", "C3"))):
        runs = by_seed(results, m, lambdas)
        acc = np.array([[runs[s][lam]["test"] for lam in lambdas] for s in sorted(runs)])
        xs = np.arange(len(lambdas)) + (i - 0.5) * 0.12
        for row in acc:
            a.plot(xs, row, ".", color=color, alpha=0.45, ms=5)
        a.plot(xs, acc.mean(axis=0), "-o", color=color, lw=2, label=f"{m.upper()} (mean of {len(acc)} seeds)")
        picked = [runs[s][summary["picked"][m][s]] for s in sorted(runs)]
        for k, r in enumerate(picked):
            b.plot(np.arange(1, len(r["task_curve"]) + 1), r["task_curve"], color=color, alpha=0.5, lw=1,
                   label=f"{m.upper()}, lambda chosen per seed" if k == 0 else None)
    a.set(xticks=range(len(lambdas)), xticklabels=[f"{lam:g}" for lam in lambdas], xlabel="lambda",
          ylabel="test accuracy", title="test accuracy by lambda (dots: seeds)")
    for m, (value, _) in PAPER.items():
        a.axhline(value, color="C0" if m == "sire" else "C3", ls=":", lw=1)
    a.legend(fontsize=8)
    a.grid(alpha=0.3)
    b.set(xlabel="epoch", ylabel="training L1 (minibatches)", yscale="log",
          title="training L1 of the chosen lambda, per seed")
    b.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def _own_arguments(p, shown):
    p.add_argument("--lambdas", type=cli.positive_float, nargs="+", default=None,
                   help=f"lambda grid of both regularizers ({shown('lambdas')}); the paper's narrow grid "
                        f"{NARROW} is reported too where it is a subset")
    integer_tasks.add_arguments(p, shown)


def main(argv=None):
    args = cli.parse_args("sire_vs_sub", __doc__, PRESETS, argv, _own_arguments)
    if args.seeds < 2:
        raise SystemExit("error: --seeds must be >= 2: the comparison is a paired per-seed difference")
    args.lambdas = sorted(set(args.lambdas))
    specs = specs_for(args, "sum", list(METHODS), max_value=19)
    results = cli.sweep(args, run_one, specs, f"{args.out}/runs/sire_vs_sub", integer_tasks.estimate)
    if results is None:
        return 0
    summary = summarize(results, args.seeds, args.lambdas)
    text = table(summary, args.seeds) + "\n" + training_summary(results)
    print("\n" + text)
    plot(results, summary, args.lambdas, f"{args.out}/sire_vs_sub.png")
    write_json(f"{args.out}/sire_vs_sub.json", {
        "args": vars(args), "summary": summary, "table": text, "provenance": provenance(),
        "runs": run_records(results)})      # per-epoch curves stay in the run records (kept out: size)
    print(f"wrote {args.out}/sire_vs_sub.png and {args.out}/sire_vs_sub.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
