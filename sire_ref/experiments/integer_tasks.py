r"""What the integer-sequence experiments share (Sections 6.2, 6.4, Appendix C): a run's
definition (`RunSpec`), its model, and the function that trains it.

The setup is the one of the code the paper says it used (Murphy et al. 2018,
PurdueMINDS/JanossyPooling, `arithmetic_tasks/`): a frozen embedding of the integers
(U(-0.5, 0.5), 100 dimensions); the recurrent model's last state s_T goes through
rho = one hidden layer of 100 tanh units, then a linear output (their `--hidden_layers 1
--neurons 100`), for every recurrent method; DeepSets is phi = Linear(100, 30) + tanh per
element, sum, the same rho (Eq. 1.1); L1 loss (Appendix B), Adam, batch 128.

Kept on purpose, each a RunSpec field so the other choice is one flag away (README, "What we
keep"): the prediction is offset + scale * rho(s_T) with offset, scale the training targets'
mean and std (fixed; the loss stays in the original units; `rescale=False` drops it), and
Adam lr 1e-3 with the plateau criterion (train.TrainConfig) instead of lr 1e-4 for 1000 epochs.

Methods: "gru" (lambda = 0), "sire" (GRU + lambda R_SIRE, Eq. 4.4), "sub" (GRU + lambda R_SUB,
Eq. 4.1), "deepsets" (Eq. 1.1), "pisgd" (GRU trained on random orders, majority vote over 20
orders at test). Accuracy: the rounded prediction equals the target (Appendix B); variance
reports MSE (Appendix B) with RMSE beside it (selection uses either: one is the square of the other).
`run_one(spec, out_dir)` trains one spec (the sweep runner's unit of work) and measures how
invariant the trained model is on the test set (sire_ref.training.diagnostics: order sensitivity, the
SIRE estimate, the bound); `specs_for` lists the sweep's specs; `add_arguments` the options the
scripts share. `SemiSpec` adds unlabelled sequences on which R alone is computed.
"""
import dataclasses

import numpy as np

from ..data.arithmetic import make_data, make_split
from ..models.recurrent import DeepSets, Head, RecurrentSetModel
from ..nn.encoders import Embedding
from ..training.diagnostics import diagnose, model_subject
from ..training.loop import RunOptions, TrainConfig, train
from .pisgd import predict_vote
from .runner import cli
from .runner.spec import RunSettings

METHODS = ("gru", "sire", "sub", "deepsets", "pisgd")


@dataclasses.dataclass(frozen=True)
class RunSpec(RunSettings):
    """One training run of an integer-sequence experiment.

    task: "sum" | "range" | "variance" | "half_range"; length: sequence length n;
    seed: model seed (data come from data_seed); method: one of METHODS; lam: lambda of
    R_SIRE / R_SUB (0 for the other methods); n_train, n_val, n_test: split sizes;
    max_value: integers are uniform in 0..max_value; hidden: GRU units; rho_hidden: tanh units of
    rho's hidden layer between s_T and the output (0: a linear head on s_T); rescale: the fixed
    target rescaling of the output (module docstring); epochs, batch_size,
    lr: Adam training (epochs is an upper bound); plateau_patience, plateau_decays: the
    convergence criterion (train.TrainConfig: the learning rate decays by 0.3 after each
    plateau of plateau_patience epochs without a new best validation result; the run ends at
    the plateau after plateau_decays decays); dtype: "float32" | "float64"; backend: the
    model's compute backend ("auto": the fastest); estimator: SIRE's state estimator
    ("subset" | "prefix"); eval_every: epochs between validation checks.

    `name` carries the fields people read and a digest of ALL fields, so a run made with
    other settings is never mistaken for this one.
    """
    task: str
    length: int
    method: str
    lam: float
    n_train: int
    n_val: int
    n_test: int
    max_value: int
    hidden: int
    batch_size: int
    lr: float
    plateau_patience: int = 5
    plateau_decays: int = 2
    estimator: str = "subset"
    eval_every: int = 1
    rho_hidden: int = 100
    rescale: bool = True

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if not isinstance(self.rho_hidden, int) or self.rho_hidden < 0:
            raise ValueError(f"rho_hidden must be an int >= 0 (0: a linear head), got {self.rho_hidden!r}")

    @property
    def name(self):
        return (f"{self.task}-n{self.length}-seed{self.seed}-{self.method}-lam{self.lam:g}-"
                f"{self.fingerprint}")


@dataclasses.dataclass(frozen=True)
class SemiSpec(RunSpec):
    """A RunSpec whose regularizer (method "sire" or "sub", lam > 0) is computed on n_unlabelled
    extra sequences of the same task (drawn from their own seed; their targets are never read)
    instead of the labelled minibatch: TrainConfig.reg_on = "unlabelled"."""
    n_unlabelled: int = 0

    def __post_init__(self):
        super().__post_init__()
        if self.n_unlabelled < 1:
            raise ValueError(f"n_unlabelled must be >= 1, got {self.n_unlabelled}")


def spec_from_dict(fields):
    """The RunSpec or SemiSpec a sweep record's "spec" holds."""
    return (SemiSpec if "n_unlabelled" in fields else RunSpec)(**fields)


def build_model(method, max_value, y_train, hidden=80, embed=100, backend="auto", rho_hidden=100,
                rescale=True):
    """The model of a method: DeepSets (rho with 100 tanh units, as the Janossy code) or a GRU of
    `hidden` units whose last state goes through rho (rho_hidden tanh units, then linear)."""
    enc = Embedding(max_value + 1, embed, frozen=True)
    offset, scale = (float(y_train.mean()), float(y_train.std() or 1.0)) if rescale else (0.0, 1.0)
    if method == "deepsets":
        return DeepSets(1, [embed, 30], 1, activation="tanh", encoder=enc,
                        rho=Head((100,), "tanh", offset=offset, scale=scale), backend=backend)
    return RecurrentSetModel(1, hidden, 1, cell="gru", encoder=enc, backend=backend,
                             head=Head((rho_hidden,) if rho_hidden else (), "tanh", offset=offset, scale=scale))


def _print(text):
    print(text, flush=True)       # from a worker process too: a long run shows a line a minute


def _setup(spec):
    """(data, model, TrainConfig) of a RunSpec."""
    data = make_data(spec.data_seed, spec.task, spec.length, spec.n_train, spec.n_val, spec.n_test,
                     spec.max_value)
    semi = isinstance(spec, SemiSpec)
    if semi:
        pool = make_split(np.random.default_rng([spec.data_seed, 7]), spec.task, spec.n_unlabelled,
                          spec.length, spec.max_value)
        data["unlabelled"] = pool._replace(y=np.full(spec.n_unlabelled, np.nan))   # labels unseen
    model = build_model(spec.method, spec.max_value, data["train"].y, spec.hidden, backend=spec.backend,
                        rho_hidden=spec.rho_hidden, rescale=spec.rescale)
    reg = spec.method if spec.method in ("sire", "sub") and spec.lam > 0 else "none"
    config = TrainConfig(epochs=spec.epochs, batch_size=spec.batch_size, lr=spec.lr, loss="l1",
                         metric="rmse" if spec.task == "variance" else "accuracy", reg=reg, lam=spec.lam,
                         reg_samples=spec.batch_size, estimator=spec.estimator, seed=spec.seed,
                         reg_on="unlabelled" if semi and reg != "none" else "batch",
                         dtype=spec.dtype, permute_inputs=spec.method == "pisgd",
                         eval_every=spec.eval_every, plateau_patience=spec.plateau_patience,
                         plateau_decays=spec.plateau_decays)
    return data, model, config


def estimate(specs):
    """--dry-run pricing (cli.price), one probe per kind of run: task, length, method, regularized
    or not, sizes."""
    return cli.price(specs, lambda spec: dataclasses.replace(spec, seed=0, data_seed=1000,
                                                             lam=float(spec.lam > 0)),
                     _setup, lambda spec: f"{spec.task} n={spec.length} {spec.method}"
                                          f"{' (lambda > 0)' if spec.lam > 0 else ''}, {spec.epochs} "
                                          f"epochs of {spec.n_train} sequences")


def run_one(spec, checkpoint_dir):
    """Train one RunSpec, checkpointing under checkpoint_dir; returns {"val", "test", "curve",
    "summary", ...} (metric per the task). The sweep runner's unit of work."""
    data, model, config = _setup(spec)
    metric = config.metric
    result = train(model, data, config, checkpoint_dir, spec.name,
                   RunOptions(checkpoint_every=10, progress_seconds=60), log=_print)
    out = {"val": result["metrics"]["val"]["metric"], "test": result["metrics"]["test"]["metric"],
           "train": result["metrics"]["train"]["metric"], "best_epoch": result["best"]["epoch"],
           "epochs_run": result["epochs_run"], "stopped": result["stopped"],
           "curve": [h["train_loss"] for h in result["history"]],
           "task_curve": [h["train_task_loss"] for h in result["history"]],
           "epoch_seconds": result["epoch_seconds"],
           "val_curve": [h.get("val_metric") for h in result["history"]]}
    if spec.method == "pisgd" and metric == "accuracy":
        voted, single = predict_vote(model, result["params"], data["test"],
                                     np.random.default_rng([spec.seed, 5]))
        out["test_single_order"] = out["test"]
        out["test"] = float((voted == data["test"].y).mean())
    if metric == "rmse":                       # Appendix B reports the variance task's MSE
        out.update(val_mse=out["val"] ** 2, test_mse=out["test"] ** 2)
    (out["invariance"],) = diagnose(model_subject(model, result["params"], config), data["test"],
                                    np.random.default_rng([spec.seed, 11])).values()
    out["summary"] = (f"val {metric} {out['val']:.3f}, test {out['test']:.3f}, {out['epochs_run']} "
                      f"epochs (stopped: {out['stopped']}), order sensitivity "
                      f"{out['invariance']['order_mean']:.3g}")
    return out


def specs_for(args, task, methods, max_value=99):
    """Every (length, seed, method, lambda) RunSpec of a sweep, from parsed arguments."""
    return [RunSpec(task=task, length=n, seed=seed, data_seed=1000 + seed, method=method, lam=lam,
                    n_train=args.n_train, n_val=args.n_val, n_test=args.n_test, max_value=max_value,
                    hidden=80, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                    plateau_patience=args.plateau_patience, plateau_decays=args.plateau_decays,
                    dtype=args.dtype, backend=args.backend, rho_hidden=args.rho_hidden,
                    rescale=not args.no_rescale)
            for n in args.lengths for seed in range(args.seeds) for method in methods
            for lam in (args.lambdas if method in ("sire", "sub") else [0.0])]


def add_arguments(p, shown):
    """The options of the integer-sequence scripts besides cli's (epochs, convergence, training size)."""
    p.add_argument("--epochs", type=cli.positive_int, default=None,
                   help=f"most training epochs; runs end earlier at a plateau ({shown('epochs')})")
    p.add_argument("--plateau-patience", type=cli.positive_int, default=None,
                   help=f"epochs without a new best validation result that make a plateau "
                        f"({shown('plateau_patience')})")
    p.add_argument("--plateau-decays", type=cli.nonnegative_int, default=None,
                   help=f"learning-rate decays (x0.3) before the next plateau ends a run "
                        f"({shown('plateau_decays')})")
    p.add_argument("--dtype", choices=("float32", "float64"), default=None,
                   help=f"training precision ({shown('dtype')})")
    p.add_argument("--n-train", type=cli.positive_int, default=None, help=f"training sequences ({shown('n_train')})")
    p.add_argument("--n-val", type=cli.positive_int, default=None,
                   help=f"validation sequences, which choose lambda and find the plateau ({shown('n_val')})")
    p.add_argument("--n-test", type=cli.positive_int, default=None,
                   help=f"test sequences, also those the order-sensitivity diagnosis reads ({shown('n_test')})")
    p.add_argument("--lr", type=cli.positive_float, default=None, help=f"Adam learning rate ({shown('lr')})")
    p.add_argument("--rho-hidden", type=cli.nonnegative_int, default=100,
                   help="tanh units of rho between the GRU's last state and the output, as the Janossy-pooling "
                        "code (default 100; 0: a linear head on the state)")
    p.add_argument("--no-rescale", action="store_true",
                   help="no fixed rescaling of the output by the training targets' mean and std (kept by "
                        "default: README, 'What we keep')")


# What every integer-task preset shares: float32 on the fastest backend, trained to a plateau.
CONVERGED = dict(plateau_patience=5, plateau_decays=2, dtype="float32", backend="auto")
