"""Result tables, figures and validation-based selection shared by the experiments."""
import os
import platform
import subprocess

import numpy as np

from ...base.io import save_figure


def runs_matching(record, match):
    """The runs of a sweep's record whose spec has every key = value of `match` (a dict)."""
    return [r for r in record["runs"].values() if all(r["spec"].get(k) == v for k, v in match.items())]


def select(runs, key=("method", "length", "seed")):
    """The best run on VALIDATION per `key` (its spec's fields) among its lambdas: {key tuple: run}.

    runs: run records. Reads r["val"] only, never the test metric, so the test split cannot change
    a choice: higher is better, lower for the variance task's RMSE; a tie goes to the smaller
    lambda. The one selection of every experiment, the ledger and SIRE vs SUB."""
    best = {}
    for r in runs:
        k = tuple(r["spec"][f] for f in key)
        if k not in best or _rank(r) < _rank(best[k]):
            best[k] = r
    return best


def _rank(run):
    lower = run["spec"].get("task") == "variance"
    return (run["val"] if lower else -run["val"], run["spec"]["lam"])


RUN_FIELDS = ("spec", "val", "test", "train", "val_mse", "test_mse", "test_single_order", "best_epoch",
              "epochs_run", "stopped", "seconds", "epoch_seconds")    # epoch_seconds: every sitting (run_seconds)


def run_records(results, fields=RUN_FIELDS):
    """{name: {field: value}} of every run, for the experiment's committed JSON: each number a page
    or the ledger publishes can be traced to its run (absent fields are left out)."""
    return {name: {k: r[k] for k in fields if k in r} for name, r in results.items()}


def provenance():
    """Where a record was made: the git commit of this package (None outside a checkout), whether
    the working tree had uncommitted changes, the machine and its cores."""
    package = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))   # sire_ref/

    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=package, capture_output=True, text=True, timeout=10,
                                  check=True).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None
    commit = git("rev-parse", "HEAD")
    return {"commit": commit, "uncommitted_changes": bool(git("status", "--porcelain", "--", ".")) if commit else None,
            "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores",
            "python": platform.python_version()}


def paired_difference(a, b, n_boot=10_000, seed=0):
    """The per-seed paired difference d_i = a_i - b_i of two methods run on the same seeds:
    {"n", "mean", "lo", "hi", "per_seed"} with [lo, hi] the 95% percentile bootstrap interval of
    mean(d) (n_boot resamples of the seeds with replacement, a fixed seed, so reruns print the
    same interval)."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if d.ndim != 1 or len(d) < 2 or not np.isfinite(d).all():
        raise ValueError(f"a and b must be two equal-length lists of >= 2 finite per-seed values, got "
                         f"{len(a)} and {len(b)} values (differences {d.tolist()})")
    means = d[np.random.default_rng(seed).integers(len(d), size=(n_boot, len(d)))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return {"n": len(d), "mean": float(d.mean()), "lo": float(lo), "hi": float(hi), "per_seed": d.tolist()}


def verdict(diff, paper_sign):
    """The verdict of a paired difference against the sign the paper reports (+1 or -1):
    "reproduced" when the 95% interval lies on the paper's side of 0, "direction only" when the
    mean does but the interval holds 0, "not reproduced" when the mean is on the other side."""
    lo, hi, mean = (paper_sign * diff[k] for k in ("lo", "hi", "mean"))
    if min(lo, hi) > 0:
        return "reproduced"
    return "direction only" if mean > 0 else "not reproduced"


def order_sensitivity(r):
    """A run's mean |y(x) - y(pi x)| on test (sire_ref.training.diagnostics), None for a record made before
    runs measured it."""
    return r.get("invariance", {}).get("order_mean")


def method_table(best, methods, lengths, metric_name, value=lambda r: r["test"], title=None):
    """Text table: mean (std) over seeds of value(run) (default the test metric), rows = methods,
    columns = lengths; "-" where no run has the value."""
    lines = [title or f"test {metric_name}: mean (std) over seeds; lambda chosen on validation",
             f"{'method':<10}" + "".join(f"{f'n={n}':>16}" for n in lengths)]
    for m in methods:
        cells = []
        for n in lengths:
            vals = [value(r) for (mm, nn, _), r in best.items() if mm == m and nn == n]
            vals = [v for v in vals if v is not None]
            cells.append(f"{np.mean(vals):.3f} ({np.std(vals):.3f})" if vals else "-")
        lines.append(f"{m:<10}" + "".join(f"{c:>16}" for c in cells))
    return "\n".join(lines)


def order_table(best, methods, lengths):
    """method_table of the order sensitivity, with the check that DeepSets, invariant by
    construction, measures 0 up to the rounding of sums taken in another order."""
    text = method_table(best, methods, lengths, None, order_sensitivity,
                        "order sensitivity on test, mean |y(x) - y(pi x)| over 10 random orders pi "
                        "(sire_ref.training.diagnostics): mean (std) over seeds")
    deepsets = [r["invariance"]["order_max"] for (m, _, _), r in best.items() if m == "deepsets" and "invariance" in r]
    if deepsets:
        worst = max(deepsets)
        verdict = "check passed" if worst < 1e-3 else "CHECK FAILED: a DeepSets must not depend on the order"
        text += f"\nDeepSets, invariant by construction: largest |y(x) - y(pi x)| {worst:.2g} (rounding only): {verdict}"
    return text


def run_seconds(run):
    """A run's training time: the sum of its epochs' seconds where its record keeps them, which counts
    every sitting of a run resumed from checkpoints; else its wall seconds (`seconds`: the last sitting)."""
    return sum(run["epoch_seconds"]) if run.get("epoch_seconds") else run.get("seconds", 0.0)


def training_summary(results, key=("method", "lam")):
    """Text lines: per (method, lambda), the epochs each run trained, how many stopped on the
    plateau criterion (train.TrainConfig.plateau_patience), and the training time per run (run_seconds:
    every sitting of a resumed run)."""
    groups = {}
    for r in results.values():
        groups.setdefault(tuple(r["spec"][k] for k in key), []).append(r)
    lines = ["training: epochs per run, runs stopped at a plateau (else at the epoch limit), "
             "training time per run (every sitting)"]
    for k, rs in sorted(groups.items()):
        plateau = sum(r.get("stopped") == "plateau" for r in rs)
        lines.append(f"  {k[0]:<9} lambda {k[1]:<6g} epochs {', '.join(str(r.get('epochs_run')) for r in rs)}"
                     f" | plateau {plateau}/{len(rs)} | {np.mean([run_seconds(r) for r in rs]) / 60:.1f} min")
    return "\n".join(lines)


def bucket_table(curves, labels, title):
    """Text table: one row per (model, seed) and a mean row per model; columns = labels."""
    width = max(len(f"{name} seed {seed}") for name, runs in curves.items() for seed in runs) + 2
    lines = [title, " " * width + "".join(f"{g:>7}" for g in labels)]
    for name, runs in curves.items():
        for seed, accs in runs.items():
            lines.append(f"{f'{name} seed {seed}':<{width}}" + "".join(f"{a:>7.3f}" for a in accs))
        if len(runs) > 1:
            mean = np.mean(list(runs.values()), axis=0)
            lines.append(f"{f'{name} mean':<{width}}" + "".join(f"{a:>7.3f}" for a in mean))
    return "\n".join(lines)


def plot_curves(curves, xs, path, xlabel, ylabel, title, shade=None, styles=None, ylim=(0.4, 1.02)):
    """One line per model (mean over seeds, seeds thin and faint); optional shaded x-range.

    styles: {model name: matplotlib line kwargs} overriding the default solid line with markers.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    if shade is not None:
        ax.axvspan(*shade, color="0.9", label="training lengths")
    for (name, runs), color in zip(curves.items(), ("C0", "C3", "C2", "C1", "C4")):
        values = np.array(list(runs.values()))
        for v in values if len(values) > 1 else []:
            ax.plot(xs, v, color=color, alpha=0.25, lw=1)
        style = {"color": color, "lw": 2, "marker": "o", "ms": 4, **(styles or {}).get(name, {})}
        ax.plot(xs, values.mean(axis=0),
                label=f"{name}" + (f" (mean of {len(values)} seeds)" if len(values) > 1 else ""), **style)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title, ylim=ylim)
    ax.grid(alpha=0.3)
    ax.legend(loc="center right", fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)
    return path
