"""`python -m sire_ref diagnose PATH`: how invariant are the trained models of finished runs?

PATH is one run's sweep record (<out>/runs/<experiment>/results/<name>.json), the results folder
of a sweep, or the sweep folder itself (<out>/runs/<experiment>). For each finished run, the run
is rebuilt from its record's spec (model, data, TrainConfig), its best parameters are read from
its checkpoint (<sweep>/checkpoints/<name>.ckpt.npz, or --checkpoint-dir), which must have been
written for exactly that run, and sire_ref.training.diagnostics measures on its test set, per test length
(or length bucket): the order sensitivity |y(x) - y(pi x)| over random orders pi (mean, 95th
percentile, max), the share of sequences whose predicted label some order changes, the SIRE
estimate (Eq. 4.4) on reachable states, and for lengths up to 12 the measured state gap beside
the bound from the swap gaps and the Lipschitz constant. Prints a table per run, writes
<out>/diagnose.json and <out>/diagnose.png (default <out>: <sweep>/diagnostics).

Runs of the parity, integer-sequence (arithmetic, half_range, sire_vs_sub, spectrum, semi_supervised)
and point-cloud experiments are supported (ModelNet runs read their data from $SIRE_REF_MODELNET, as
they trained); Locally Perturbed MNIST runs are refused with the reason.
"""
import argparse
import glob
import os
import sys

import numpy as np

from ..base.io import CorruptFileError, read_record, save_figure, write_json
from ..base.threads import blas_threads
from ..experiments import integer_tasks, parity, point_cloud
from ..training import checkpoint
from ..training.diagnostics import diagnose, model_subject
from ..training.loop import cast_data, config_record, run_identity

COLUMNS = ("n", "order_mean", "order_p95", "order_max", "changed", "sire", "gap_mean", "bound_mean")


def rebuild(spec):
    """(label, data, model, TrainConfig) of a record's spec, for the experiments diagnose knows."""
    if "task" in spec:
        run = integer_tasks.spec_from_dict(spec)
        unlabelled = f" on {run.n_unlabelled} unlabelled" if isinstance(run, integer_tasks.SemiSpec) else ""
        return (f"{run.task} n={run.length} {run.method} lambda={run.lam:g}{unlabelled} seed {run.seed}",
                *integer_tasks._setup(run))
    if {"model", "cell", "hidden"} <= set(spec):
        run = parity.ParitySpec(**spec)
        return (f"parity {run.cell if run.model == 'recurrent' else 'deepsets'} seed {run.seed}",
                *parity._setup(run))
    if {"points", "width"} <= set(spec):
        run = point_cloud.PointSpec(**spec)
        if run.data != "synthetic" and not os.environ.get(point_cloud.DATA_ENV):
            raise ValueError(f"this point-cloud run read {run.data} data: set {point_cloud.DATA_ENV} to the "
                             f"file or folder it was trained on")
        return (f"point clouds {run.data} {run.points} points {run.method} lambda={run.lam:g} seed {run.seed}",
                *point_cloud._setup(run))
    if "reading" in spec:
        raise ValueError("diagnose does not take Locally Perturbed MNIST runs: a random order of a digit's 784 "
                         "pixels is not an invariance of that task (its invariance is local), so the order "
                         "sensitivity would measure nothing the experiment is about")
    raise ValueError(f"diagnose supports the parity, integer-sequence and point-cloud experiments' runs; this "
                     f"record's spec ({', '.join(sorted(spec)[:6])}, ...) is from another experiment")


def records(path):
    """[(record path, checkpoint folder)] of PATH (a record, a results folder or a sweep folder)."""
    if os.path.isfile(path):
        files = [path]
    else:
        folder = os.path.join(path, "results") if os.path.isdir(os.path.join(path, "results")) else path
        files = sorted(glob.glob(os.path.join(folder, "*.json")))
        if not files:
            raise FileNotFoundError(f"PATH {path!r} holds no run records (expected <sweep>/results/*.json "
                                    f"or a record file)")
    return [(f, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(f))), "checkpoints"))
            for f in files]


def best_params(ckpt_dir, name, model, data, config):
    """The best parameters of run `name`, from a checkpoint that was written for exactly this run."""
    path = checkpoint.paths(ckpt_dir, name)[0]
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint {path} for run {name}: pass --checkpoint-dir where the "
                                f"sweep checkpointed")
    state = checkpoint.load(path, np)
    identity = run_identity(model, cast_data(data, config.dtype), config)
    differ = [what for what, same in (("model", state["identity"]["model"] == identity["model"]),
                                      ("data set", state["identity"]["data"] == identity["data"]),
                                      ("training configuration", state["config"] == config_record(config)))
              if not same]
    if differ or not state["done"]:
        why = (f"its {' and '.join(differ)} {'differ' if len(differ) > 1 else 'differs'}" if differ
               else "that run has not finished")
        raise CorruptFileError(path, f"it was not written by this finished run ({why}; a checkpoint of an earlier "
                                     f"sire_ref version has another configuration)",
                               "point --checkpoint-dir at this sweep's checkpoints, or rerun the sweep")
    return state["best_params"]


NOT_A_RECORD = ("diagnose reads the run records a sweep writes: give <out>/runs/<experiment>, its results/ "
                "folder, or one results/<name>.json")


def diagnose_run(record_path, ckpt_dir, rng, args):
    try:
        record = read_record(record_path)
    except CorruptFileError as err:          # not ours to move aside: it may be any file the user named
        raise ValueError(f"{record_path}: not a sire_ref run record ({err.problem}); {NOT_A_RECORD}") from None
    if "spec" not in record or "name" not in record:
        raise ValueError(f"{record_path}: a record without a run spec (a training result, as a sweep's "
                         f"checkpoints/ folder holds, not a sweep's run record); {NOT_A_RECORD}")
    label, data, model, config = rebuild(record["spec"])
    params = best_params(ckpt_dir, record["name"], model, data, config)
    report = diagnose(model_subject(model, params, config), data["test"], rng, args.orders,
                      args.sire_samples, args.bound_sequences)
    return {"label": label, "name": record["name"], "test": record.get("test"), "groups": report}


def table(run):
    fmt = lambda v: "-" if v is None else f"{v:.3g}"      # noqa: E731
    lines = [f"{run['label']}  ({run['name']})",
             f"  {'group':>6}" + "".join(f"{c:>12}" for c in COLUMNS) + f"{'bound holds':>13}"]
    for g, row in run["groups"].items():
        lines.append(f"  {g:>6}" + "".join(f"{fmt(row[c]):>12}" for c in COLUMNS)
                     + f"{fmt(row['bound_holds']) if row['bound_holds'] is None else str(row['bound_holds']):>13}")
    return "\n".join(lines)


def plot(runs, path):
    """Order sensitivity by group, one line per run; measured state gap against the bound."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    for i, run in enumerate(runs):
        color = f"C{i % 10}"                        # one colour per run, the same in both panels
        groups = list(run["groups"])
        a.plot(groups, [run["groups"][g]["order_mean"] for g in groups], "-o", ms=3, color=color, label=run["label"])
        pairs = [(r["gap_mean"], r["bound_mean"]) for r in run["groups"].values()
                 if r["gap_mean"] and r["bound_mean"]]
        if pairs:
            b.plot(*zip(*pairs), "o", ms=4, color=color, label=run["label"])
    a.set(xlabel="test group (length or length bucket)", ylabel="mean |y(x) - y(pi x)|",
          title="order sensitivity on test")
    a.legend(fontsize=6)
    values = [v for run in runs for r in run["groups"].values() for v in (r["gap_mean"], r["bound_mean"]) if v]
    if values:                                    # gaps and bounds span decades: log axes, the diagonal bound = gap
        lo, hi = min(values), max(values)
        b.plot([lo, hi], [lo, hi], "k--", lw=1, label="bound = gap")
        b.set(xscale="log", yscale="log")
    b.set(xlabel="measured state gap (mean)", ylabel="bound (mean)", title="gap vs bound (Lemma 6, quantitative)")
    b.legend(fontsize=6)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m sire_ref diagnose", description=__doc__.split("\n\n")[1])
    p.add_argument("path", metavar="PATH", help="a run record, a sweep's results folder, or a sweep folder")
    p.add_argument("--orders", type=int, default=10, help="random orders per test sequence (default 10)")
    p.add_argument("--sire-samples", type=int, default=1000, help="SIRE terms per group (default 1000)")
    p.add_argument("--bound-sequences", type=int, default=20, help="sequences per group for the bound (default 20)")
    p.add_argument("--checkpoint-dir", default=None, help="where the runs checkpointed (default <sweep>/checkpoints)")
    p.add_argument("--out", default=None, help="output folder (default <sweep>/diagnostics)")
    p.add_argument("--seed", type=int, default=0, help="seed of the orders and draws (default 0)")
    args = p.parse_args(argv)
    for name in ("orders", "sire_samples", "bound_sequences"):
        if getattr(args, name) < 1:
            p.error(f"argument --{name.replace('_', '-')}: must be an integer >= 1, got {getattr(args, name)}")
    try:
        found = records(args.path)
        runs = []
        with blas_threads(1):          # small products: spinning BLAS threads only slow them (train.py)
            for record_path, ckpt_dir in found:
                runs.append(diagnose_run(record_path, args.checkpoint_dir or ckpt_dir,
                                         np.random.default_rng(args.seed), args))
                print(table(runs[-1]) + "\n", flush=True)
    except (FileNotFoundError, ValueError) as err:        # CorruptFileError is a ValueError
        print(f"error: {err}", file=sys.stderr)
        return 2
    out = args.out or os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(found[0][0]))), "diagnostics")
    write_json(os.path.join(out, "diagnose.json"), {"args": vars(args), "runs": runs})
    plot(runs, os.path.join(out, "diagnose.png"))
    print(f"wrote {out}/diagnose.json and {out}/diagnose.png")
    return 0
