r"""Point-cloud classification (Section 6.3, Table 1): DeepSets vs a GRU with R_SIRE.

    python -m sire_ref.experiments.point_cloud [--data synthetic | modelnet-h5 PATH | modelnet-txt DIR]
                                               [--points 100 1000 5000] [--preset quick|paper] [--jobs J]

Data (all standardized per cloud; training batches rotated about z and scaled per axis at 5000
points only, as the authors' code `do_augmentation=(num_pts == 5000)`):
  synthetic     the offline benchmark of sire_ref.data.shapes: 6 classes of parametric surfaces
                with random pose, scale and noise (no download; the default)
  modelnet-h5   the DeepSets file ModelNet40_cloud.h5 (needs h5py: pip install -e ".[h5]")
  modelnet-txt  a modelnet40_normal_resampled folder (PointNet++ layout)
Methods (Appendix B: "for DeepSets and our method we use the same architectures used in the
DeepSets experiments"; the authors' code, edocoh87/set_transformer `main_pointcloud.py`):
  deepsets  phi = 3 permutation-equivariant layers x -> tanh(Gamma(x - max over the set)), max
            pooling, rho = dropout 0.5, Linear, tanh, dropout 0.5, Linear; Adam lr 1e-3, weight
            decay 1e-7, eps 1e-3, batch 64, gradient clipping 5
  sire      the same phi (nn.encoders.Equivariant: each point's input to the GRU sees the whole
            set), a one-layer GRU of the same width on phi's outputs, rho = dropout 0.5, Linear,
            tanh, dropout 0.5, Linear on its last state; Adam lr 1e-3, batch 200, clipping 5,
            lambda R_SIRE (Eq. 4.4) with the "prefix" estimator of the authors' code; the kept
            points in a fresh random order for every training step (--no-reshuffle: fixed);
            truncated BPTT with a window of 1000 at more than 1000 points
The README's point-cloud page has the table paper / authors' code / ours / why.
Both select on a validation split of held-out training shapes (ModelNet has none) and train to a
plateau. Writes <out>/point_cloud_<data>.json and .png; the table sits beside the paper's.
"""
import dataclasses
import os
import sys

import numpy as np

from ..base.io import files_digest, save_figure, write_json
from ..data import modelnet, shapes
from ..models.pointsets import EquivariantDeepSets
from ..models.recurrent import Head, RecurrentSetModel
from ..nn.encoders import Equivariant
from ..training.loop import RunOptions, TrainConfig, train
from .runner import cli
from .runner.report import provenance, run_records, training_summary
from .runner.spec import RunSettings

DATA_ENV = "SIRE_REF_MODELNET"       # the runs (in this process or on Dask workers) read the path here
PAPER = {"deepsets": {100: 0.825, 1000: 0.872, 5000: 0.90}, "sire": {100: 0.835, 1000: 0.878, 5000: 0.899}}
PRESETS = {
    # quick: the synthetic benchmark at small width, about 20 minutes on 2 cores (--jobs 2). Enough
    # shapes that an epoch is 12 SIRE steps of 200: with 3 (600 shapes) the plateau criterion stopped
    # the GRU after about 150 steps, far from trained.
    "quick": dict(seeds=3, points=[100, 1000], width=32, n_train=2400, n_val=240, n_test=600, epochs=60,
                  lambdas=[0.1], backend="auto"),
    # paper: Appendix B's widths (512 at 5000 points), 1000 epochs as the DeepSets code.
    "paper": dict(seeds=3, points=[100, 1000, 5000], width=256, n_train=9843, n_val=800, n_test=2468,
                  epochs=1000, lambdas=[0.1], backend="auto"),
}
WIDE_AT = 5000           # Appendix B: width 512 at 5000 points
AUGMENT_AT = 5000        # the authors' code augments at 5000 points only
TBPTT_WINDOW = 1000      # Appendix B: truncated BPTT with a window of 1000 at 5000 points


@dataclasses.dataclass(frozen=True)
class PointSpec(RunSettings):
    """One run: data ("synthetic" | "modelnet-h5" | "modelnet-txt"), points per cloud, method
    ("deepsets" | "sire"), lam, seed (model), data_seed (point subset, splits, synthetic shapes),
    width (256 in the paper; doubled at 5000 points), n_train / n_test (synthetic only; ModelNet
    has its own), n_val (held-out training shapes), epochs (upper bound; a plateau ends runs
    earlier), dtype, backend, reshuffle (sire: a fresh random order of the points at every
    training step, as the authors' code), data_digest (ModelNet: a digest of the content of every
    file the loader reads, split lists included; "" for the synthetic data, which the seeds
    define). The data path is not part of a run's definition, its content is."""
    data: str
    points: int
    method: str
    lam: float
    width: int
    n_train: int
    n_val: int
    n_test: int
    plateau_patience: int = 10
    plateau_decays: int = 2
    reshuffle: bool = True
    data_digest: str = ""

    @property
    def name(self):
        return (f"{self.data}-p{self.points}-{self.method}-lam{self.lam:g}-seed{self.seed}-"
                f"{self.fingerprint}")


def load(spec):
    """The spec's clouds: {"train", "val", "test": Split} and the class names."""
    if spec.data == "synthetic":
        raw = shapes.make_shapes(spec.data_seed, spec.n_train + spec.n_val, spec.n_test, spec.points)
    elif spec.data == "modelnet-h5":
        raw = modelnet.load_h5(os.environ[DATA_ENV], spec.points, spec.data_seed)
    else:
        raw = modelnet.load_txt(os.environ[DATA_ENV], spec.points, spec.data_seed)
    return modelnet.to_splits(raw, spec.n_val, spec.data_seed), raw["classes"]


def build(spec, n_classes):
    """(model, TrainConfig) of a spec (module docstring)."""
    width = spec.width * (2 if spec.points >= WIDE_AT else 1)
    shared = dict(epochs=spec.epochs, lr=1e-3, clip=5.0, loss="ce", seed=spec.seed, dtype=spec.dtype,
                  augment=modelnet.augment if spec.points >= AUGMENT_AT else None,
                  plateau_patience=spec.plateau_patience, plateau_decays=spec.plateau_decays)
    if spec.method == "deepsets":
        return (EquivariantDeepSets(3, width, 3, n_classes, dropout_rate=0.5, backend=spec.backend),
                TrainConfig(batch_size=64, weight_decay=1e-7, eps=1e-3, **shared))
    model = RecurrentSetModel(3, width, n_classes, cell="gru", encoder=Equivariant([3, width, width, width], "tanh"),
                              head=Head((width,), "tanh", input_dropout=0.5, dropout=0.5), backend=spec.backend,
                              tbptt=TBPTT_WINDOW if spec.points > TBPTT_WINDOW else None)
    return model, TrainConfig(batch_size=200, reg="sire" if spec.lam > 0 else "none", lam=spec.lam,
                              reg_samples=200, estimator="prefix", permute_inputs=spec.reshuffle, **shared)


def _setup(spec):
    data, classes = load(spec)
    model, config = build(spec, len(classes))
    return data, model, config


def run_one(spec, checkpoint_dir):
    """Train one spec (the sweep runner's unit of work)."""
    data, model, config = _setup(spec)
    result = train(model, data, config, checkpoint_dir, spec.name, RunOptions(checkpoint_every=5, progress_seconds=60),
                   log=lambda t: print(t, flush=True))
    m = result["metrics"]
    out = {"val": m["val"]["metric"], "test": m["test"]["metric"], "train": m["train"]["metric"],
           "epochs_run": result["epochs_run"], "stopped": result["stopped"], "best_epoch": result["best"]["epoch"],
           "val_curve": [h.get("val_metric") for h in result["history"]]}
    out["summary"] = (f"val {out['val']:.3f}, test {out['test']:.3f}, {out['epochs_run']} epochs "
                      f"(stopped: {out['stopped']})")
    return out


def estimate(specs):
    return cli.price(specs, lambda s: (s.points, s.method), _setup,
                     lambda s: f"{s.method} at {s.points} points, {s.epochs} epochs")


def specs_for(args):
    return [PointSpec(data=args.data[0], points=p, method=method, lam=lam,
                      seed=seed, data_seed=args.data_seed, width=args.width, n_train=args.n_train, n_val=args.n_val,
                      n_test=args.n_test, epochs=args.epochs, plateau_patience=args.plateau_patience,
                      backend=args.backend, reshuffle=not args.no_reshuffle,
                      data_digest=args.data_digest)
            for p in sorted(args.points, reverse=True) for seed in range(args.seeds)
            for method in args.methods for lam in (args.lambdas if method == "sire" else [0.0])]   # long runs first


def arms(results):
    """The (method, lambda) pairs the runs hold, DeepSets first: one row / bar each."""
    return sorted({(r["spec"]["method"], r["spec"]["lam"]) for r in results.values()},
                  key=lambda a: (a[0] != "deepsets", a[1]))


def _label(arm):
    return arm[0] if arm[0] == "deepsets" else f"sire lam {arm[1]:g}"


def _accs(results, arm, p):
    return [r["test"] for r in results.values()
            if (r["spec"]["method"], r["spec"]["lam"]) == arm and r["spec"]["points"] == p]


def table(results, points, data):
    lines = [f"point clouds ({data}), test accuracy: mean (std) over seeds | paper (ModelNet40, Table 1)",
             f"{'method':<14}" + "".join(f"{f'{p} points':>28}" for p in points)]
    for arm in arms(results):
        cells = []
        for p in points:
            accs = _accs(results, arm, p)
            cells.append((f"{np.mean(accs):.3f} ({np.std(accs):.3f})" if accs else "-")
                         + f" | {PAPER[arm[0]].get(p, '-')}")
        lines.append(f"{_label(arm):<14}" + "".join(f"{c:>28}" for c in cells))
    return "\n".join(lines)


def plot(results, points, path, data):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    groups = arms(results)
    bar = 0.8 / len(groups)
    for i, arm in enumerate(groups):
        accs = [_accs(results, arm, p) for p in points]
        x = np.arange(len(points)) + (i - (len(groups) - 1) / 2) * bar
        ax.bar(x, [np.mean(a) if a else 0 for a in accs], bar, yerr=[np.std(a) if a else 0 for a in accs],
               color=f"C{i}", label=_label(arm))
        for xi, a in zip(x, accs):
            ax.plot([xi] * len(a), a, "k.", ms=4)
    ax.set(xticks=range(len(points)), xticklabels=[f"{p} points" for p in points], ylabel="test accuracy",
           ylim=(0, 1.02), title=f"Point clouds ({data}): DeepSets vs SIRE-GRU (dots: seeds)")
    ax.legend()
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)
    return path


def _own_arguments(p, shown):
    p.add_argument("--data", nargs="+", default=["synthetic"], metavar="KIND [PATH]",
                   help="synthetic (default) | modelnet-h5 PATH | modelnet-txt DIR")
    p.add_argument("--points", nargs="+", type=int, choices=(100, 1000, 5000), default=None,
                   help=f"points per cloud ({shown('points')})")
    p.add_argument("--width", type=cli.width, default=None,
                   help=f"phi / GRU / rho width, doubled at 5000 points ({shown('width')})")
    p.add_argument("--lambdas", type=cli.nonnegative_float, nargs="+", default=None,
                   help=f"R_SIRE lambdas of the sire runs, one run each; 0 = the same GRU without R_SIRE "
                        f"({shown('lambdas')})")
    p.add_argument("--methods", nargs="+", choices=("sire", "deepsets"), default=["sire", "deepsets"],
                   help="models to run (default both)")
    p.add_argument("--no-reshuffle", action="store_true",
                   help="train the GRU on one fixed order of each cloud's points (default: a fresh random "
                        "order every step, as the authors' code)")
    p.add_argument("--epochs", type=cli.positive_int, default=None,
                   help=f"most epochs; runs end earlier at a plateau ({shown('epochs')})")
    p.add_argument("--plateau-patience", type=cli.positive_int, default=10,
                   help="epochs without a new best validation result that make a plateau (lr x0.3; the "
                        "third plateau ends a run) (default 10)")
    p.add_argument("--n-train", type=cli.positive_int, default=None,
                   help=f"synthetic training shapes, validation excluded ({shown('n_train')})")
    p.add_argument("--n-val", type=cli.positive_int, default=None,
                   help=f"held-out training shapes for validation ({shown('n_val')})")
    p.add_argument("--n-test", type=cli.positive_int, default=None, help=f"synthetic test shapes ({shown('n_test')})")
    p.add_argument("--data-seed", type=cli.nonnegative_int, default=0,
                   help="seed of the point subset, the validation split and synthetic shapes (default 0)")


def parse(argv=None):
    args = cli.parse_args("point_cloud", __doc__, PRESETS, argv, _own_arguments)
    kind, rest = args.data[0], args.data[1:]
    if kind not in ("synthetic", "modelnet-h5", "modelnet-txt") or len(rest) != (kind != "synthetic"):
        raise SystemExit(f"error: --data must be 'synthetic', 'modelnet-h5 PATH' or 'modelnet-txt DIR', "
                         f"got {' '.join(args.data)!r}")
    args.data_digest = ""        # main() sets the digest of the files it read
    args.n_val_given = any(a == "--n-val" or a.startswith("--n-val=") for a in (sys.argv[1:] if argv is None else argv))
    return args


def main(argv=None):
    args = parse(argv)
    kind = args.data[0]
    if kind != "synthetic":
        path = os.path.abspath(args.data[1])
        os.environ[DATA_ENV] = path
        try:                                # fail here, once, with the loader's message
            raw = (modelnet.load_h5 if kind == "modelnet-h5" else modelnet.load_txt)(path, min(args.points),
                                                                                   args.data_seed)
            args.data_digest = files_digest([path] if kind == "modelnet-h5" else modelnet.files_txt(path))
        except (modelnet.ModelNetError, ImportError, ValueError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        n_train, n_test = len(raw["train"][1]), len(raw["test"][1])
        absent = sorted(set(raw["classes"]) - {raw["classes"][i] for i in np.unique(raw["train"][1])})
        print(f"{kind}: {n_train} training and {n_test} test shapes, {len(raw['classes']) - len(absent)} of "
              f"{len(raw['classes'])} classes in training" + (f" (none of: {', '.join(absent)})" if absent else ""))
        if n_train < 1000:
            print(f"note: {n_train} training shapes is far too few to reproduce the paper's ModelNet40 accuracies "
                  f"(9,843 training shapes); this is a smoke run of the real data path")
        most = max(1, n_train // 5)
        if args.n_val > most:
            if args.n_val_given:
                print(f"error: --n-val {args.n_val} is more than a fifth of the {n_train} training shapes of "
                      f"{path}; give --n-val {most} or less", file=sys.stderr)
                return 2
            print(f"note: the preset's {args.n_val} validation shapes are more than a fifth of the {n_train} "
                  f"training shapes: holding out {most} (--n-val chooses)")
            args.n_val = most
    specs = specs_for(args)
    results = cli.sweep(args, run_one, specs, f"{args.out}/runs/point_cloud", estimate)
    if results is None:
        return 0
    text = table(results, args.points, kind) + "\n" + training_summary(results)
    print("\n" + text)
    figure = plot(results, args.points, f"{args.out}/point_cloud_{kind}.png", kind)
    write_json(f"{args.out}/point_cloud_{kind}.json",
               {"args": {k: v for k, v in vars(args).items()}, "table": text, "paper": PAPER,
                "provenance": provenance(),
                "runs": run_records(results, ("spec", "val", "test", "train", "epochs_run", "stopped", "seconds",
                                              "epoch_seconds", "val_curve"))})
    print(f"wrote {args.out}/point_cloud_{kind}.json and {figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
