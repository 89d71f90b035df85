r"""Locally Perturbed MNIST (Section 6.5, Figure 3, Appendix B): CNN vs GRU vs GRU + SIRE.

    python -m sire_ref.experiments.perturbed_mnist [--preset quick|paper] [--data-dir DIR] [--jobs J]

Each digit is flattened to 784 pixels and perturbed by random permutations inside windows of
4, then 7 (sire_ref.data.perturbed_mnist: drawn per image, seeded; a pixel moves at most 9
places and stays in its row). Methods, all on the same perturbed pixel sequences:
  cnn_clean  the CNN baseline on CLEAN digits (the paper's footnote 7: 0.9963)
  cnn        the CNN on perturbed digits (paper 0.963)
  gru        a GRU reading ONE PIXEL PER STEP (784 steps, input size 1), a linear head on the
             last state, cross-entropy (paper 0.833)
  sire       the same GRU + lambda R_SIRE (Eq. 4.4) with the "prefix" estimator: the state
             reached by a digit's own first t pixels, then pixels t+1 and t+2 in both orders
             (paper 0.977); lambda chosen per seed on the validation split.
Why this reading: the perturbation acts on the order of the 784-vector, so one pixel per step
is the reading in which the data's invariance (nearby pixels swapped) is an invariance of the
sequence, the only kind R_SIRE can reward; and the prefix estimator asks for invariance only
on states the data reach and only to swaps of neighbours, which is what the perturbation does
(a "subset" draw would reward full invariance, which would erase the digit).

Data: the MNIST IDX files from --data-dir or $SIRE_REF_MNIST (sire_ref.data.mnist; --download
fetches them first, if this machine has internet). Writes <out>/perturbed_mnist.json,
<out>/perturbed_mnist.png (test accuracy beside the paper's, validation curves) and
<out>/perturbed_mnist_examples.png (Figure 3: digits before and after). Runs go through the
sweep runner (resumable; --jobs N on a local Dask cluster).
"""
import dataclasses
import os
import sys

import numpy as np

from ..base.io import files_digest, save_figure, write_json
from ..data import mnist
from ..data.perturbed_mnist import local_permutations, make_data, max_displacement
from ..models.convnet import ConvNet
from ..models.recurrent import RecurrentSetModel
from ..training.loop import RunOptions, TrainConfig, train
from .runner import cli
from .runner.report import select, training_summary
from .runner.spec import RunSettings

ROW = 28                     # the "row" reading: one image row (28 pixels) per step
METHODS = ("gru", "sire", "cnn_clean", "cnn")       # the long runs first: a sweep on J workers ends sooner
PAPER = {"cnn_clean": 0.9963, "cnn": 0.963, "gru": 0.833, "sire": 0.977}
PRESETS = {
    # quick: a subset sized for about 10-15 minutes on 2 cores (--jobs 2); far from the paper's
    # training budget, so its accuracies are a smoke run, not a reproduction.
    "quick": dict(seeds=1, n_train=10000, n_val=1000, n_test=2000, hidden=32, channels=(16, 32), cnn_hidden=128,
                  epochs=30, cnn_epochs=8, lambdas=[0.1, 1.0], backend="auto"),
    # paper: all 60k / 10k digits (5k of the training digits held out for validation).
    "paper": dict(seeds=3, n_train=55000, n_val=5000, n_test=10000, hidden=128, channels=(32, 64),
                  cnn_hidden=1024, epochs=100, cnn_epochs=30, lambdas=[0.01, 0.1, 1.0], backend="auto"),
}


@dataclasses.dataclass(frozen=True)
class MnistSpec(RunSettings):
    """One run: method (METHODS), lam (R_SIRE's lambda, 0 unless method is "sire"), seed (model),
    data_seed (splits and perturbation), split sizes, hidden (GRU units), conv0 / conv1 / cnn_hidden
    (CNN widths), epochs (upper bound; a plateau ends runs earlier), batch_size, lr (Adam), clip
    (gradient norm), plateau_patience / plateau_decays (train.TrainConfig), dtype, backend.
    data_digest: a digest of the four MNIST files' content (io.files_digest): the folder's name is not
    part of a run's definition, its data are, so a run made from other files is never reused."""
    method: str
    lam: float
    n_train: int
    n_val: int
    n_test: int
    hidden: int
    conv0: int
    conv1: int
    cnn_hidden: int
    batch_size: int = 64
    lr: float = 1e-3
    clip: float = 1.0
    plateau_patience: int = 5        # the pixel GRU sits at chance for its first ~500 steps
    plateau_decays: int = 1
    reading: str = "pixel"           # the GRU's reading: "pixel" (784 steps of 1) or "row" (28 steps of 28)
    data_digest: str = ""

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")

    @property
    def name(self):
        return f"mnist-{self.method}-lam{self.lam:g}-seed{self.seed}-{self.fingerprint}"


def _setup(spec):
    """(data, model, TrainConfig) of a spec; the MNIST folder comes from $SIRE_REF_MNIST."""
    data = make_data(mnist.load_mnist(None), spec.data_seed, spec.n_train, spec.n_val, spec.n_test,
                     perturbed=spec.method != "cnn_clean")
    if spec.method.startswith("cnn"):
        model = ConvNet((spec.conv0, spec.conv1), spec.cnn_hidden, backend=spec.backend)
    else:
        step = ROW if spec.reading == "row" else 1
        data = {k: v._replace(x=v.x.reshape(len(v.y), -1, step), lengths=np.full(len(v.y), 784 // step))
                for k, v in data.items()}
        model = RecurrentSetModel(step, spec.hidden, 10, cell="gru", backend=spec.backend)
    config = TrainConfig(epochs=spec.epochs, batch_size=spec.batch_size, lr=spec.lr, clip=spec.clip, loss="ce",
                         reg="sire" if spec.lam > 0 else "none", lam=spec.lam, reg_samples=spec.batch_size,
                         estimator="prefix", seed=spec.seed, dtype=spec.dtype,
                         plateau_patience=spec.plateau_patience, plateau_decays=spec.plateau_decays)
    return data, model, config


def run_one(spec, checkpoint_dir):
    """Train one spec (the sweep runner's unit of work): accuracies, curves, summary."""
    data, model, config = _setup(spec)
    result = train(model, data, config, checkpoint_dir, spec.name,
                   RunOptions(checkpoint_every=1, progress_seconds=60), log=lambda t: print(t, flush=True))
    m = result["metrics"]
    out = {"val": m["val"]["metric"], "test": m["test"]["metric"], "train": m["train"]["metric"],
           "best_epoch": result["best"]["epoch"], "epochs_run": result["epochs_run"],
           "stopped": result["stopped"], "curve": [h["train_loss"] for h in result["history"]],
           "val_curve": [h.get("val_metric") for h in result["history"]], "epoch_seconds": result["epoch_seconds"]}
    out["summary"] = (f"val {out['val']:.3f}, test {out['test']:.3f}, {out['epochs_run']} epochs "
                      f"(stopped: {out['stopped']})")
    return out


def estimate(specs):
    return cli.price(specs, lambda s: (s.method, s.lam > 0), _setup,
                     lambda s: f"{s.method}{' (lambda > 0)' if s.lam > 0 else ''}, {s.epochs} epochs of "
                               f"{s.n_train} digits")


def specs_for(args):
    return [MnistSpec(method=method, lam=lam, seed=seed, data_seed=0, n_train=args.n_train, n_val=args.n_val,
                      n_test=args.n_test, hidden=args.hidden, conv0=args.channels[0], conv1=args.channels[1],
                      cnn_hidden=args.cnn_hidden, backend=args.backend,
                      reading="pixel" if method.startswith("cnn") else args.reading,
                      epochs=args.cnn_epochs if method.startswith("cnn") else args.epochs,
                      data_digest=args.data_digest)
            for seed in range(args.seeds) for method in args.methods
            for lam in (args.lambdas if method == "sire" else [0.0])]


def _paper_order(methods):
    return [m for m in PAPER if m in methods]


def table(best, methods):
    lines = ["Locally Perturbed MNIST, test accuracy (mean (std) over seeds; lambda on validation) | paper",
             f"{'method':<11}{'ours':>16}{'paper':>9}  lambda chosen"]
    for m in _paper_order(methods):
        runs = [r for (mm, _), r in sorted(best.items()) if mm == m]
        accs = [r["test"] for r in runs]
        lams = ", ".join(f"{r['spec']['lam']:g}" for r in runs)
        lines.append(f"{m:<11}{f'{np.mean(accs):.4f} ({np.std(accs):.3f})':>16}{PAPER[m]:>9.4f}  {lams}")
    return "\n".join(lines)


def plot_examples(mnist_data, path, n=6, seed=0):
    """Figure 3: n test digits before (top) and after (bottom) the local perturbation."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images = mnist_data["test_images"][:n].reshape(n, 784)
    perturbed = np.take_along_axis(images, local_permutations(seed, "test", np.arange(n)), axis=1)
    fig, axes = plt.subplots(2, n, figsize=(1.4 * n, 3.1))
    for j in range(n):
        for row, img in enumerate((images[j], perturbed[j])):
            axes[row, j].imshow(img.reshape(28, 28), cmap="gray_r")
            axes[row, j].axis("off")
    axes[0, 0].set_title("MNIST", loc="left", fontsize=9)
    axes[1, 0].set_title("Locally Perturbed (windows 4, 7)", loc="left", fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)
    return path


def plot_results(best, results, methods, path):
    """Test accuracy of the runs chosen on validation beside the paper's, and every run's validation
    accuracy against epochs and against its training seconds (runs recorded before they kept their
    epochs' seconds are left out of that panel)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, by_epoch, by_time) = plt.subplots(1, 3, figsize=(15, 4))
    methods = _paper_order(methods)
    for i, m in enumerate(methods):
        accs = [r["test"] for (mm, _), r in best.items() if mm == m]
        ax.bar(i - 0.2, np.mean(accs), 0.4, yerr=np.std(accs), color="C0", label="ours" if i == 0 else None)
        ax.bar(i + 0.2, PAPER[m], 0.4, color="0.7", label="paper" if i == 0 else None)
        for k, r in enumerate(sorted((r for r in results.values() if r["spec"]["method"] == m),
                                     key=lambda r: (r["spec"]["lam"], r["spec"]["seed"]))):
            style = {"color": f"C{i}", "ls": ("-", "--", ":", "-.")[k % 4], "lw": 1.2,
                     "label": f"{m} lambda {r['spec']['lam']:g} seed {r['spec']['seed']}"}
            by_epoch.plot(range(1, len(r["val_curve"]) + 1), r["val_curve"], **style)
            if "epoch_seconds" in r:
                by_time.plot(np.cumsum(r["epoch_seconds"]) / 60, r["val_curve"], **style)
    ax.set(xticks=range(len(methods)), xticklabels=methods, ylabel="test accuracy", ylim=(0, 1.02),
           title="Locally Perturbed MNIST (chosen on validation)")
    by_epoch.set(xlabel="epoch", ylabel="validation accuracy", ylim=(0, 1.02), title="every run")
    by_time.set(xlabel="training minutes (one core)", ylabel="validation accuracy", ylim=(0, 1.02), title="every run")
    for a in (ax, by_epoch, by_time):
        a.legend(fontsize=7)
        a.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)
    return path


def _own_arguments(p, shown):
    p.add_argument("--data-dir", default=None,
                   help=f"folder with the four MNIST IDX files, raw or .gz (default ${mnist.ENV})")
    p.add_argument("--download", action="store_true",
                   help="first download the MNIST files into --data-dir (needs internet; MD5-checked)")
    p.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS),
                   help="methods to run (default all)")
    p.add_argument("--reading", choices=("pixel", "row"), default="pixel",
                   help="how the GRU reads a digit: one pixel per step (default; the order the perturbation "
                        "acts on) or one row of 28 pixels per step (the perturbation then permutes each "
                        "input vector, which R_SIRE cannot see)")
    p.add_argument("--lambdas", nargs="+", type=cli.positive_float, default=None,
                   help=f"R_SIRE lambdas tried for 'sire', chosen on validation ({shown('lambdas')})")
    p.add_argument("--epochs", type=cli.positive_int, default=None,
                   help=f"most GRU epochs; runs end earlier at a plateau ({shown('epochs')})")
    p.add_argument("--cnn-epochs", type=cli.positive_int, default=None,
                   help=f"most CNN epochs ({shown('cnn_epochs')})")
    p.add_argument("--n-train", type=cli.positive_int, default=None, help=f"training digits ({shown('n_train')})")
    p.add_argument("--n-val", type=cli.positive_int, default=None, help=f"validation digits ({shown('n_val')})")
    p.add_argument("--n-test", type=cli.positive_int, default=None, help=f"test digits ({shown('n_test')})")
    p.add_argument("--hidden", type=cli.width, default=None, help=f"GRU units ({shown('hidden')})")
    p.add_argument("--channels", type=cli.width, nargs=2, default=None,
                   help=f"CNN conv widths ({shown('channels')})")
    p.add_argument("--cnn-hidden", type=cli.width, default=None,
                   help=f"CNN fully connected width ({shown('cnn_hidden')})")


def parse(argv=None):
    args = cli.parse_args("perturbed_mnist", __doc__, PRESETS, argv, _own_arguments)
    args.data_digest = ""        # main() sets the digest of the files it found
    return args


def main(argv=None):
    args = parse(argv)
    try:
        if args.download:
            args.data_dir = args.data_dir or os.environ.get(mnist.ENV) or "mnist"
            mnist.download(args.data_dir)
        data_dir = os.path.abspath(mnist.resolve_dir(args.data_dir))
        digits = mnist.load_mnist(data_dir)
        args.data_digest = files_digest(mnist.files(data_dir))
    except mnist.MnistFileError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    os.environ[mnist.ENV] = data_dir          # the runs (in this process or Dask workers) read it
    perm = local_permutations(0, "test", np.arange(len(digits["test_labels"])))
    print(f"Locally Perturbed MNIST: largest pixel displacement {max_displacement(perm)} over the "
          f"{len(perm)} test digits (paper: at most 11)")
    examples = plot_examples(digits, f"{args.out}/perturbed_mnist_examples.png")
    specs = specs_for(args)
    results = cli.sweep(args, run_one, specs, f"{args.out}/runs/perturbed_mnist", estimate)
    if results is None:
        return 0
    best = select(results.values(), key=("method", "seed"))
    text = table(best, args.methods) + "\n" + training_summary(results)
    print("\n" + text)
    figure = plot_results(best, results, args.methods, f"{args.out}/perturbed_mnist.png")
    write_json(f"{args.out}/perturbed_mnist.json",
               {"args": {k: v for k, v in vars(args).items() if k != "data_dir"}, "table": text,
                "max_displacement": max_displacement(perm), "paper": PAPER,
                "runs": {name: {k: r[k] for k in ("spec", "val", "test", "train", "epochs_run", "stopped",
                                                  "seconds", "val_curve", "epoch_seconds") if k in r}
                        for name, r in results.items()}})
    print(f"wrote {args.out}/perturbed_mnist.json, {figure}, {examples}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
