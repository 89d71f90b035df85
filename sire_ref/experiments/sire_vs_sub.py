r"""SIRE vs SUB (Appendix C, Figure 4): which regularizer trains faster and generalizes better.

    python -m sire_ref.experiments.sire_vs_sub [--preset quick|paper] [--seeds N] [--jobs J] [--out DIR]

The sum task over integers 0..19, length 10, 200 training sequences; a GRU (integer_tasks.py
setup) with R_SIRE (Eq. 4.4) or R_SUB (Eq. 4.1) for lambda in {0.001, 0.01, 0.1}, the lambda
chosen on a holdout set per regularizer, repeated over seeds. Writes <out>/sire_vs_sub.png
(training-loss curves of the chosen lambdas, mean over repeats, and the test accuracies) and
<out>/sire_vs_sub.json. The paper: SIRE 0.792 (0.09), SUB 0.759 (0.11) test accuracy.
"""
import sys

import numpy as np

from ..io import save_figure, write_json
from . import cli, integer_tasks
from .integer_tasks import CONVERGED, run_one, specs_for
from .report import order_sensitivity, training_summary

PRESETS = {
    # Appendix C's size (200 training sequences) is small: both presets train it to a plateau;
    # with 200 validation sequences the plateau needs a long patience to see through the noise.
    "quick": dict(lengths=[10], seeds=5, n_train=200, n_val=200, n_test=10_000, epochs=1000,
                  batch_size=20, lr=1e-3, lambdas=[0.001, 0.01, 0.1], **dict(CONVERGED, plateau_patience=50)),
    "paper": dict(lengths=[10], seeds=5, n_train=200, n_val=200, n_test=10_000, epochs=1000,
                  batch_size=20, lr=1e-3, lambdas=[0.001, 0.01, 0.1], **dict(CONVERGED, plateau_patience=100)),
}
PAPER = {"sire": "0.792 (0.09)", "sub": "0.759 (0.11)"}


def plot(curves, tests, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4), gridspec_kw={"width_ratios": [2, 1]})
    for (name, runs), color in zip(curves.items(), ("C0", "C3")):
        width = max(len(r) for r in runs)          # runs stop at their own plateau: pad with NaN
        values = np.array([list(r) + [np.nan] * (width - len(r)) for r in runs])
        epochs = np.arange(1, width + 1)
        a.plot(epochs, np.nanmean(values, axis=0), color=color, label=name.upper())
        a.fill_between(epochs, np.nanmin(values, axis=0), np.nanmax(values, axis=0), color=color, alpha=0.15)
    a.set(xlabel="epoch", ylabel="training objective (L1 + lambda R)", yscale="log",
          title="training loss, chosen lambda: mean and range over repeats (each to its plateau)")
    a.legend()
    names = list(tests)
    b.bar(names, [np.mean(tests[n]) for n in names], yerr=[np.std(tests[n]) for n in names],
          color=["C0", "C3"], capsize=6)
    b.set(ylabel="test accuracy", title="test accuracy", ylim=(0, 1))
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def main(argv=None):
    args = cli.parse_args("sire_vs_sub", __doc__, PRESETS, argv, integer_tasks.add_arguments)
    specs = specs_for(args, "sum", ["sire", "sub"], max_value=19)
    results = cli.sweep(args, run_one, specs, f"{args.out}/runs/sire_vs_sub", integer_tasks.estimate)
    if results is None:
        return 0
    chosen, curves, tests, lines = {}, {}, {}, []
    for method in ("sire", "sub"):
        # One lambda per regularizer: the best mean holdout accuracy over the repeats.
        by_lam = {lam: [r for r in results.values() if r["spec"]["method"] == method
                        and r["spec"]["lam"] == lam] for lam in args.lambdas}
        lam = max(by_lam, key=lambda k: np.mean([r["val"] for r in by_lam[k]]))
        chosen[method] = lam
        curves[method] = [r["curve"] for r in by_lam[lam]]
        tests[method] = [r["test"] for r in by_lam[lam]]
        order = [v for v in (order_sensitivity(r) for r in by_lam[lam]) if v is not None]
        lines.append(f"{method.upper():<5} lambda {lam:g} (holdout): test accuracy "
                     f"{np.mean(tests[method]):.3f} ({np.std(tests[method]):.3f}) over {len(tests[method])} "
                     f"repeats | paper {PAPER[method]} | order sensitivity "
                     + (f"{np.mean(order):.3f}" if order else "-"))
    text = "\n".join(lines) + "\n" + training_summary(results)
    print("\n" + text)
    plot(curves, tests, f"{args.out}/sire_vs_sub.png")
    write_json(f"{args.out}/sire_vs_sub.json", {"args": vars(args), "chosen_lambda": chosen,
                                                "test": tests, "curves": curves, "table": text})
    print(f"wrote {args.out}/sire_vs_sub.png and {args.out}/sire_vs_sub.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
