r"""Learning parity (Section 6.1, Figure 1; Appendix B): RNNs extrapolate, DeepSets do not.

    python -m sire_ref.experiments.parity [--preset quick|paper] [--seeds N] [--cell rnn|gru] [--out DIR]

Trains, for each seed, a recurrent model (20 hidden units, a linear head on the final
state, BCE on the logit) and DeepSets (Eq. 1.1; phi and rho with one hidden layer of
width 100, ReLU) on 1000 Boolean sequences of lengths 2..10; selects each on a
validation set of the same lengths (never on test); and tests on 3000 sequences of
lengths 2..100 in buckets of 10. The exact 3-neuron RNN of Theorem 4 (Eq. 3.2) is the
third curve. Prints accuracy by test length for every seed and the mean, and writes
<out>/parity.png and <out>/parity.json; training runs checkpoint under <out>/runs/parity/
so an interrupted call resumes and finished runs are not repeated.
"""
import sys
import time


from ..constructions import parity_rnn
from ..data.parity import TEST_BUCKETS, make_data
from ..io import digest, write_json
from ..models import DeepSets, RecurrentSetModel
from ..train import RunOptions, TrainConfig, train
from . import cli
from .report import bucket_table, plot_curves

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
    p.add_argument("--hidden", type=cli.positive_int, default=20, help="recurrent hidden units (default 20)")
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


def run(args, log=print):
    data = make_data(args.data_seed)
    test = data["test"]
    labels = [str(hi) for _, hi in TEST_BUCKETS]
    runs = {"RNN": {}, "DeepSets": {}}
    # The model and data a checkpoint was made with are part of its name (the TrainConfig inside
    # it is compared on resume): other settings start their own runs, never reuse these.
    shared = {"data_seed": args.data_seed, "backend": args.backend}   # the rest is in TrainConfig
    rnn_tag, ds_tag = digest(dict(shared, cell=args.cell, hidden=args.hidden)), digest(shared)
    for seed in range(args.seeds):
        rnn = RecurrentSetModel(1, args.hidden, 1, cell=args.cell, backend=args.backend)
        cfg = TrainConfig(epochs=args.rnn_epochs, batch_size=args.batch_size, lr=args.lr, seed=seed,
                          eval_every=5, dtype=args.dtype)
        runs["RNN"][seed] = train(rnn, data, cfg, f"{args.out}/runs/parity", f"{args.cell}-seed{seed}-{rnn_tag}",
                                  OPTIONS, log)
        ds = DeepSets(1, [1, 100, 100], (100,), 1, activation="relu", backend=args.backend)
        cfg = TrainConfig(epochs=args.deepsets_epochs, batch_size=args.batch_size, lr=args.deepsets_lr,
                          seed=seed, eval_every=5, dtype=args.dtype)
        runs["DeepSets"][seed] = train(ds, data, cfg, f"{args.out}/runs/parity", f"deepsets-seed{seed}-{ds_tag}",
                                       OPTIONS, log)
    exact = (parity_rnn(test.x, test.lengths) == test.y)
    curves = {name: {seed: [r["metrics"]["test"]["groups"][g] for g in labels] for seed, r in rs.items()}
              for name, rs in runs.items()}
    curves["exact RNN (Eq. 3.2)"] = {0: [float(exact[test.groups == int(g)].mean()) for g in labels]}
    return runs, curves, labels


def main(argv=None):
    args = parse_args(argv)
    start = time.perf_counter()
    runs, curves, labels = run(args)
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
