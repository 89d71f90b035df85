r"""Learning parity (Section 6.1, Figure 1; Appendix B): RNNs extrapolate, DeepSets do not.

    python -m sire_ref.experiments.parity [--preset quick|paper] [--seeds N] [--cell rnn|gru] [--out DIR]

Trains, for each seed, a recurrent model (20 hidden units, a linear head on the final
state, BCE on the logit) and DeepSets (Eq. 1.1; phi and rho with one hidden layer of
width 100, ReLU) on 1000 Boolean sequences of lengths 2..10; selects each on a
validation set of the same lengths (never on test); and tests on 3000 sequences of
lengths 2..100 in buckets of 10. The exact 3-neuron RNN of Theorem 4 (Eq. 3.2) is the
third curve. Prints accuracy by test length for every seed and the mean, and writes
<out>/parity.png and <out>/parity.json. Every run (model x seed) is a ParitySpec on the sweep
runner (sweep.py): its record lands under <out>/runs/parity/results/, its checkpoints under
<out>/runs/parity/checkpoints/, so an interrupted call resumes and finished runs are not
repeated; --jobs N spreads them over a local Dask cluster, --scheduler over an existing one.
"""
import dataclasses
import sys
import time

from ..base.io import write_json
from ..core.constructions import parity_rnn
from ..data.parity import TEST_BUCKETS, make_data
from ..models.recurrent import DeepSets, Head, RecurrentSetModel
from ..training.loop import RunOptions, TrainConfig, train
from .runner import cli
from .runner.report import bucket_table, plot_curves
from .runner.spec import RunSettings

PRESETS = {
    # quick: minutes on 2 cores. paper: Appendix B sizes, longer training and more seeds.
    "quick": dict(seeds=3, rnn_epochs=300, deepsets_epochs=300, lr=0.01, deepsets_lr=3e-3,
                  backend="numpy", dtype="float64"),
    "paper": dict(seeds=10, rnn_epochs=1000, deepsets_epochs=2000, lr=0.01, deepsets_lr=3e-3,
                  backend="numpy", dtype="float64"),
}

OPTIONS = RunOptions(checkpoint_every=50)


def _own_arguments(p, shown):
    p.add_argument("--cell", choices=("rnn", "gru"), default="rnn", help="recurrent cell (default rnn)")
    p.add_argument("--hidden", type=cli.width, default=20, help="recurrent hidden units (default 20)")
    p.add_argument("--rnn-epochs", type=cli.positive_int, default=None, help=f"recurrent model epochs ({shown('rnn_epochs')})")
    p.add_argument("--deepsets-epochs", type=cli.positive_int, default=None,
                   help=f"DeepSets epochs ({shown('deepsets_epochs')})")
    p.add_argument("--lr", type=cli.positive_float, default=None, help=f"Adam learning rate, recurrent ({shown('lr')})")
    p.add_argument("--deepsets-lr", type=cli.positive_float, default=None,
                   help=f"Adam learning rate, DeepSets ({shown('deepsets_lr')})")
    p.add_argument("--batch-size", type=cli.positive_int, default=32, help="minibatch size (default 32)")
    p.add_argument("--dtype", choices=("float32", "float64"), default=None,
                   help=f"training precision ({shown('dtype')})")
    p.add_argument("--data-seed", type=cli.nonnegative_int, default=0, help="seed of the data sets (default 0)")


def parse_args(argv):
    return cli.parse_args("parity", __doc__, PRESETS, argv, _own_arguments)


@dataclasses.dataclass(frozen=True)
class ParitySpec(RunSettings):
    """One parity training run. model: "recurrent" (a `cell` with `hidden` units) or "deepsets"
    (cell "none", hidden 0: its fixed architecture);
    seed: the model's; data_seed: the data sets'; epochs, lr, batch_size, dtype, backend: as in
    TrainConfig and the models. `name` carries the readable fields and a digest of all of them."""
    model: str
    cell: str
    hidden: int
    lr: float
    batch_size: int

    @property
    def name(self):
        label = self.cell if self.model == "recurrent" else "deepsets"
        return f"{label}-seed{self.seed}-{self.fingerprint}"


def specs_for(args):
    """Per seed: the recurrent model and DeepSets, with the command line's settings."""
    shared = dict(data_seed=args.data_seed, batch_size=args.batch_size, dtype=args.dtype, backend=args.backend)
    return [spec for seed in range(args.seeds) for spec in (
        ParitySpec(model="recurrent", cell=args.cell, hidden=args.hidden, seed=seed, epochs=args.rnn_epochs,
                   lr=args.lr, **shared),
        ParitySpec(model="deepsets", cell="none", hidden=0, seed=seed, epochs=args.deepsets_epochs,
                   lr=args.deepsets_lr, **shared))]


def _setup(spec):
    """(data, model, TrainConfig) of a ParitySpec."""
    if spec.model == "recurrent":
        model = RecurrentSetModel(1, spec.hidden, 1, cell=spec.cell, backend=spec.backend)
    else:
        model = DeepSets(1, [1, 100, 100], 1, activation="relu", rho=Head((100,), "relu"), backend=spec.backend)
    config = TrainConfig(epochs=spec.epochs, batch_size=spec.batch_size, lr=spec.lr, seed=spec.seed,
                         eval_every=5, dtype=spec.dtype)
    return make_data(spec.data_seed), model, config


def run_one(spec, checkpoint_dir):
    """Train one ParitySpec (the sweep's unit of work); its result without the parameters."""
    data, model, config = _setup(spec)
    result = train(model, data, config, checkpoint_dir, spec.name, OPTIONS,
                   log=lambda text: print(text, flush=True))
    out = {k: result[k] for k in ("config", "best", "epochs_run", "metrics", "history", "stopped")}
    out["summary"] = (f"val accuracy {result['best']['metric']:.3f}, {result['epochs_run']} epochs, "
                      f"worst test bucket {min(result['metrics']['test']['groups'].values()):.3f}")
    return out


def estimate(specs):
    """--dry-run pricing (cli.price), one probe per model kind."""
    return cli.price(specs, lambda spec: dataclasses.replace(spec, seed=0), _setup,
                     lambda spec: f"{spec.name.split('-')[0]} ({spec.epochs} epochs)")


def by_model(results):
    """Sweep results as {"RNN" | "DeepSets": {seed: result}}, seeds in order."""
    runs = {"RNN": {}, "DeepSets": {}}
    for r in sorted(results.values(), key=lambda r: r["spec"]["seed"]):
        runs["RNN" if r["spec"]["model"] == "recurrent" else "DeepSets"][r["spec"]["seed"]] = r
    return runs


def main(argv=None):
    args = parse_args(argv)
    start = time.perf_counter()
    results = cli.sweep(args, run_one, specs_for(args), f"{args.out}/runs/parity", estimate)
    if results is None:
        return 0
    test = make_data(args.data_seed)["test"]
    labels = [str(hi) for _, hi in TEST_BUCKETS]
    runs = by_model(results)
    curves = {name: {seed: [r["metrics"]["test"]["groups"][g] for g in labels] for seed, r in rs.items()}
              for name, rs in runs.items()}
    exact = (parity_rnn(test.x, test.lengths) == test.y)
    curves["exact RNN (Eq. 3.2)"] = {0: [float(exact[test.groups == int(g)].mean()) for g in labels]}
    print()
    print(bucket_table(curves, labels, title="test accuracy by length bucket (upper end of bucket)"))
    train_fit = {name: {seed: r["metrics"]["train"]["metric"] for seed, r in rs.items()}
                 for name, rs in runs.items()}
    for name, fits in train_fit.items():
        print(f"{name} training accuracy per seed: " + ", ".join(f"{v:.3f}" for v in fits.values()))
    png = plot_curves(curves, [(lo + hi) / 2 for lo, hi in TEST_BUCKETS], f"{args.out}/parity.png",
                      xlabel="test sequence length (middle of each bucket of lengths)",
                      ylabel="test accuracy", shade=(2, 10),
                      title=f"Parity: trained on lengths 2-10 ({args.cell.upper()} vs DeepSets)",
                      styles={"exact RNN (Eq. 3.2)": dict(color="k", ls="--", lw=1.2, marker=None)})
    write_json(f"{args.out}/parity.json", {
        "args": vars(args), "buckets": TEST_BUCKETS, "curves": curves, "train_accuracy": train_fit,
        "runs": {name: {seed: {k: r[k] for k in ("config", "best", "epochs_run", "metrics", "history")}
                        for seed, r in rs.items()} for name, rs in runs.items()},
        "seconds": time.perf_counter() - start})
    print(f"\nwrote {png} and {args.out}/parity.json in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
