r"""What the integer-sequence experiments share (Sections 6.2, 6.4, Appendix C).

Setup from the public Janossy-pooling code the tasks come from: a frozen embedding of the
integers (U(-0.5, 0.5), 100 dimensions), a GRU with 80 hidden units and a linear head on the
last state, or DeepSets (phi = Linear(100, 30) + tanh per element, sum, rho = one hidden layer
of 100 tanh units), L1 loss, Adam. The prediction is offset + scale * head with offset, scale
the training targets' mean and standard deviation (fixed, not learned), so the loss stays in
the original units but the net works at unit scale (EXPERIMENT-NOTES.md).

Methods: "gru" (lambda = 0), "sire" (GRU + lambda R_SIRE), "sub" (GRU + lambda R_SUB),
"deepsets", "pisgd" (GRU trained on random orders, majority vote over 20 orders at test).
Accuracy: the rounded prediction equals the target; variance reports RMSE instead.
`run_one(spec, out_dir)` trains one spec (the sweep runner's unit of work); `select` picks,
per (length, seed), the lambda with the best VALIDATION metric, never the test metric;
`parse_args` and `specs_for` are the command line and the sweep's specs of all three scripts.
"""
import argparse
import os

import numpy as np

from ..data.arithmetic import make_data
from ..models import DeepSets, RecurrentSetModel
from ..pisgd import predict_vote
from ..train import TrainConfig, train


def build_model(method, max_value, y_train, hidden=80, embed=100, backend="numba"):
    enc = ("embedding", max_value + 1, embed, True)
    offset, scale = float(y_train.mean()), float(y_train.std() or 1.0)
    if method == "deepsets":
        return DeepSets(1, [embed, 30], (100,), 1, activation="tanh", encoder=enc, offset=offset,
                        scale=scale)
    return RecurrentSetModel(1, hidden, 1, cell="gru", encoder=enc, offset=offset, scale=scale,
                             backend=backend)


def run_one(spec, out_dir):
    """Train one spec; returns {"val", "test", "curve", "summary", ...} (metric per the task)."""
    data = make_data(spec["data_seed"], spec["task"], spec["length"], spec["n_train"], spec["n_val"],
                     spec["n_test"], spec["max_value"])
    method = spec["method"]
    model = build_model(method, spec["max_value"], data["train"].y, spec["hidden"])
    metric = "rmse" if spec["task"] == "variance" else "accuracy"
    reg = method if method in ("sire", "sub") and spec["lam"] > 0 else "none"
    config = TrainConfig(epochs=spec["epochs"], batch_size=spec["batch_size"], lr=spec["lr"], loss="l1",
                         metric=metric, reg=reg, lam=spec["lam"], reg_samples=spec["batch_size"],
                         estimator=spec.get("estimator", "subset"), seed=spec["seed"],
                         permute_inputs=method == "pisgd", eval_every=spec.get("eval_every", 1),
                         checkpoint_every=10, progress_seconds=1e9)
    result = train(model, data, config, os.path.join(out_dir, "checkpoints"), spec["name"],
                   log=lambda _: None)
    out = {"val": result["metrics"]["val"]["metric"], "test": result["metrics"]["test"]["metric"],
           "train": result["metrics"]["train"]["metric"], "best_epoch": result["best"]["epoch"],
           "curve": [h["train_loss"] for h in result["history"]]}
    if method == "pisgd" and metric == "accuracy":
        voted, single = predict_vote(model, result["params"], data["test"],
                                     np.random.default_rng([spec["seed"], 5]))
        out["test_single_order"] = out["test"]
        out["test"] = float((voted == data["test"].y).mean())
    out["summary"] = f"val {metric} {out['val']:.3f}, test {out['test']:.3f}"
    return out


def select(results, key=("method", "length", "seed")):
    """Best-on-validation run per (method, length, seed) among its lambdas: {key tuple: result}."""
    best = {}
    for r in results.values():
        k = tuple(r["spec"][f] for f in key)
        lower = r["spec"]["task"] == "variance"
        better = (lambda a, b: a < b) if lower else (lambda a, b: a > b)
        if k not in best or better(r["val"], best[k]["val"]):
            best[k] = r
    return best


def table(best, methods, lengths, metric_name):
    """Text table: mean (std) over seeds of the test metric, rows = methods, columns = lengths."""
    lines = [f"test {metric_name}: mean (std) over seeds; lambda chosen on validation",
             f"{'method':<10}" + "".join(f"{f'n={n}':>16}" for n in lengths)]
    for m in methods:
        cells = []
        for n in lengths:
            vals = [r["test"] for (mm, nn, _), r in best.items() if mm == m and nn == n]
            cells.append(f"{np.mean(vals):.3f} ({np.std(vals):.3f})" if vals else "-")
        lines.append(f"{m:<10}" + "".join(f"{c:>16}" for c in cells))
    return "\n".join(lines)


def specs_for(args, task, methods, max_value=99):
    specs = []
    for n in args.lengths:
        for seed in range(args.seeds):
            for method in methods:
                for lam in (args.lambdas if method in ("sire", "sub") else [0.0]):
                    specs.append({"name": f"{task}-n{n}-seed{seed}-{method}-lam{lam:g}", "task": task,
                                  "length": n, "seed": seed, "data_seed": 1000 + seed, "method": method,
                                  "lam": lam, "n_train": args.n_train, "n_val": args.n_val,
                                  "n_test": args.n_test, "max_value": max_value, "hidden": 80,
                                  "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr})
    return specs


def common_args(parser, presets):
    parser.add_argument("--preset", choices=sorted(presets), default="quick",
                        help="quick (default: minutes on 2 cores) or paper (the paper's sizes)")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per configuration (preset)")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs (preset)")
    parser.add_argument("--n-train", type=int, default=None, help="training sequences (preset)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--out", default="figures", help="output folder (default figures/)")


def parse_args(module, doc, presets, argv, add_arguments=None):
    """The shared command line: add_arguments(parser) adds an experiment's own options; values
    left unset come from the chosen preset; counts must be >= 1."""
    parser = argparse.ArgumentParser(prog=f"python -m sire_ref.experiments.{module}",
                                     description=doc.split("\n\n")[0])
    if add_arguments is not None:
        add_arguments(parser)
    common_args(parser, presets)
    args = parser.parse_args(argv)
    for key, value in presets[args.preset].items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    for key in ("seeds", "epochs", "n_train", "jobs"):
        if getattr(args, key) is not None and getattr(args, key) < 1:
            parser.error(f"--{key.replace('_', '-')} must be >= 1, got {getattr(args, key)}")
    return args
