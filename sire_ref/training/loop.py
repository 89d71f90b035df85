r"""One training loop for every experiment: minimize  task loss + lambda * R  (R = R_SIRE or R_SUB).

    train(model, data, config, out_dir=None, name="run", options=RunOptions()) -> result dict

The objective is the task loss plus lambda times the regularizer (R_SIRE, Eq. 4.4, or R_SUB,
Eq. 4.1), each a minibatch estimate:

\[ \min_\theta \; \frac{1}{|B|} \sum_{i \in B} \ell(y_\theta(x_i), y_i) + \lambda\, R(\theta) \]
 model: RecurrentSetModel or DeepSets
(sire_ref.models.recurrent); data: {"train": Split, "val": Split, "test": Split, ...}
(sire_ref.data.split). Two configurations:

- TrainConfig is what DEFINES a run (optimizer, loss, regularizer, seed, epochs, ...):
  it is saved with the checkpoint and a resume with a different one is refused.
- RunOptions is HOW it runs (BLAS threads, checkpoint cadence, progress lines): it
  never changes the numbers, so changing it never blocks a resume.

Each epoch shuffles the training set, takes minibatches (each cut to its longest
sequence), adds lambda * the regularizer's gradient (recurrent models only; R needs no labels,
so with reg_on="unlabelled" it is computed on as many sequences drawn from data["unlabelled"]
instead of the minibatch: semi-supervised training, section 7 of the paper), clips, and
steps the optimizer; frozen parameters stay put. Every `eval_every` epochs the
validation metric is measured and the best parameters are kept (selection on
validation only, never on test: the best metric, ties broken by the lower validation
loss); `patience` stops early.

Training to a plateau (`plateau_patience`, the convergence criterion of the experiments):
when `plateau_patience` evaluations in a row bring no new best validation result, the
learning rate is multiplied by `plateau_factor`; after `plateau_decays` such decays, the
next plateau ends the run ("converged"). `epochs` stays an upper bound; the result says
why the run stopped ("plateau", "patience" or "epochs"). At the end the best parameters are evaluated on every
split (per group when a split has `groups`, e.g. test lengths).

Data as CuPy arrays (x and y; lengths and groups stay on the host) run the whole loop on
the GPU: parameters and optimizer state are created there and only scalars come back.

Reproducible: one seed drives initialization, shuffling, dropout and the regularizer's
draws. With out_dir, a checkpoint (sire_ref.training.checkpoint) is written atomically every
`checkpoint_every` epochs; calling train() again with the same TrainConfig, model and data
(`run_identity`: the model's class, settings and parameter shapes, a digest of the data)
resumes from it and gives the same numbers as an uninterrupted run; a checkpoint made for
anything else is refused with a message naming the file and what differs, and a damaged one
raises io.CorruptFileError. The result record (config, identity, curves, final metrics) is
written atomically with a checksum (io.write_record).
"""
import dataclasses
import os
import time
from typing import Callable, Optional

import numpy as np

from ..base import backend
from ..base.io import array_digest, read_record, write_record
from ..base.memory import keep_freed_memory
from ..base.threads import blas_threads
from ..base.validate import check_lengths, trusted
from ..core.samples import permute_rows
from ..nn import losses, optim
from . import checkpoint


@dataclasses.dataclass
class TrainConfig:
    """Everything that defines a run (and so its numbers); saved with checkpoints and results."""
    epochs: int = 100
    batch_size: int = 32
    optimizer: str = "adam"           # "adam" | "sgd"
    lr: float = 1e-3
    weight_decay: float = 0.0
    momentum: float = 0.0             # sgd only
    eps: float = 1e-8                 # adam only
    clip: Optional[float] = None      # max gradient 2-norm
    lr_step: Optional[int] = None     # step schedule: lr * lr_gamma^(epoch // lr_step)
    lr_gamma: float = 0.1
    loss: str = "bce"                 # "bce" | "ce" | "l1" | "mse"
    metric: str = "accuracy"          # "accuracy" | "rmse"
    reg: str = "none"                 # "none" | "sire" | "sub"
    lam: float = 0.0
    reg_samples: int = 32
    estimator: str = "subset"         # SIRE state estimator: "subset" | "prefix"
    reg_on: str = "batch"             # R's sequences: the labelled "batch" | "unlabelled" (data["unlabelled"])
    permute_inputs: bool = False      # pi-SGD: a fresh random order of each training sequence
    augment: Optional[Callable] = None   # (rng, x) -> x on each training batch, handed by the experiment
    seed: int = 0
    dtype: str = "float64"            # "float64" (the reference precision) | "float32"
    eval_every: int = 1
    patience: Optional[int] = None    # evaluations without improvement before stopping
    plateau_patience: Optional[int] = None   # evaluations without improvement before lr decays
    plateau_factor: float = 0.3       # lr multiplier at each plateau
    plateau_decays: int = 2           # decays before the next plateau ends the run

    def __post_init__(self):
        choices = {"optimizer": optim.OPTIMIZERS, "loss": losses.LOSSES, "metric": ("accuracy", "rmse"),
                   "reg": ("none", "sire", "sub"), "estimator": ("subset", "prefix"),
                   "reg_on": ("batch", "unlabelled"),
                   "dtype": ("float64", "float32")}
        for field, allowed in choices.items():
            if getattr(self, field) not in allowed:
                raise ValueError(f"{field} must be one of {sorted(allowed)}, got {getattr(self, field)!r}")
        if self.augment is not None and not callable(self.augment):
            raise TypeError(f"augment must be None or a function (rng, x) -> x, got {self.augment!r}")
        _positive_ints(self, ("epochs", "batch_size", "reg_samples", "eval_every"))
        if not 0 < self.plateau_factor < 1 or self.plateau_decays < 0:
            raise ValueError(f"plateau_factor must be in (0, 1) and plateau_decays >= 0, got "
                             f"{self.plateau_factor} and {self.plateau_decays}")
        if self.plateau_patience is not None:
            _positive_ints(self, ("plateau_patience",))
        if self.lr <= 0 or self.lam < 0:
            raise ValueError(f"lr must be > 0 and lam >= 0, got lr={self.lr}, lam={self.lam}")


@dataclasses.dataclass
class RunOptions:
    """How a run is carried out; none of it changes the numbers, so none of it blocks a resume."""
    threads: int = 1                  # BLAS threads while training (see train())
    checkpoint_every: int = 10        # epochs between checkpoints (and always at the end)
    progress_seconds: float = 10.0    # at most one progress line per this many seconds
    keep_freed_memory: bool = True    # base.memory.keep_freed_memory() for the process: no page faults per step

    def __post_init__(self):
        _positive_ints(self, ("threads", "checkpoint_every"))


def _positive_ints(obj, fields):
    for field in fields:
        if not isinstance(getattr(obj, field), int) or getattr(obj, field) < 1:
            raise ValueError(f"{field} must be a positive int, got {getattr(obj, field)!r}")


def predict(model, params, split, batch=512):
    """Model outputs on a split, in batches each cut to its longest sequence; (N, out)."""
    out = []
    for i in range(0, len(split.lengths), batch):
        L = split.lengths[i:i + batch]
        y, _ = model.forward(params, split.x[i:i + batch, :max(int(L.max()), 1)], L)
        out.append(backend.to_numpy(y))
    return np.concatenate(out)


def _prediction(config, out):
    """What the loss compares with the targets: the logits (B, C) for "ce", else out[:, 0]."""
    return out if config.loss == "ce" else out[:, 0]


def decide(config, out):
    """The predicted labels of outputs (N, out) under config.loss: the class of a logit ("bce":
    out > 0), of logits ("ce": argmax), else the nearest integer (the integer tasks)."""
    pred = _prediction(config, out)
    if config.loss == "bce":
        return pred > 0
    if config.loss == "ce":
        return pred.argmax(axis=1)
    return np.round(pred)


def score(config, out, y):
    """(loss, metric) of outputs against targets under config.loss / config.metric."""
    pred = _prediction(config, out)
    loss = float(losses.LOSSES[config.loss](pred, y)[0])
    if config.metric == "rmse":
        return loss, float(np.sqrt(np.mean((pred - y) ** 2)))
    labels = (y > 0.5) if config.loss == "bce" else y
    return loss, float((decide(config, out) == labels).mean())


def evaluate(model, params, split, config):
    """{"loss", "metric"} on a split, plus "groups": {label: metric} when it has groups."""
    out, y = predict(model, params, split), backend.to_numpy(split.y)
    loss, metric = score(config, out, y)
    result = {"loss": loss, "metric": metric}
    if split.groups is not None:
        groups = backend.to_numpy(split.groups)
        result["groups"] = {str(g): score(config, out[groups == g], y[groups == g])[1]
                            for g in np.unique(groups)}
    return result


def _better(config, val, best):
    """Is this validation result better than the best so far? Metric first, then lower val loss."""
    if best is None:
        return True
    sign = -1 if config.metric == "rmse" else 1
    return (sign * val["metric"], -val["loss"]) > (sign * best["metric"], -best["loss"])


def _unlabelled_batch(split, size, rng):
    """(x, lengths) of `size` sequences drawn from an unlabelled split, cut to their longest."""
    idx = rng.integers(len(split.lengths), size=size)
    L = split.lengths[idx]
    return split.x[backend.array_module(split.x).asarray(idx), :max(int(L.max()), 1)], L


def _batch_loss(model, params, split, idx, config, rng, unlabelled=None):
    """(objective value, gradients, task loss) of the minibatch split[idx]: objective = task loss
    + lambda R, with R on the same sequences, or (config.reg_on == "unlabelled") on as many drawn
    from `unlabelled`."""
    L = split.lengths[idx]
    idx_dev = backend.array_module(split.x).asarray(idx)   # a no-op on NumPy; one small copy on CuPy
    x = split.x[idx_dev, :max(int(L.max()), 1)]
    if config.permute_inputs:
        x = permute_rows(rng, x, L)
    if config.augment is not None:
        x = config.augment(rng, x)
    out, cache = model.forward(params, x, L, train=True, rng=rng)
    task, dpred = losses.LOSSES[config.loss](_prediction(config, out), split.y[idx_dev])
    value, reg = task, None
    if config.reg != "none" and config.lam > 0:
        if config.reg_on == "unlabelled":
            x_u, L_u = _unlabelled_batch(unlabelled, len(idx), rng)
            reg = model.regularizer(params, x_u, L_u, rng, config.reg, config.reg_samples, config.estimator)
        else:
            reg = model.regularizer(params, x, L, rng, config.reg, config.reg_samples, config.estimator,
                                    forward_cache=cache, defer_encoder=True)   # one encoder backward below
        value = value + config.lam * reg.value
    dstates = None if reg is None or reg.dstates is None else config.lam * reg.dstates
    extra = {} if reg is None or reg.dx is None else {"dinputs": config.lam * reg.dx}
    grads = model.backward(params, cache, dpred if config.loss == "ce" else dpred[:, None], dstates, **extra)
    if reg is not None:
        for k in grads:
            grads[k] += config.lam * reg.grads[k]
    return value, grads, task


def train(model, data, config, out_dir=None, name="run", options=None, log=print, on_epoch_end=None):
    """Train `model` on data["train"], select on data["val"]; returns the result dict.

    options: RunOptions (default RunOptions()). BLAS runs on options.threads threads
    (default 1) for the duration: the recurrent products are small, and OpenBLAS threads
    that spin-wait between them were measured to slow training down, badly so when two
    runs share the 2 cores. With options.keep_freed_memory (the default) the process keeps the
    memory it frees, until it exits (base.memory: otherwise glibc returns a step's arrays to the OS
    and the next step faults them in again, up to a third of a point-cloud step).
    on_epoch_end(epoch) is called after each epoch's checkpoint (tests use it to interrupt).
    """
    options = RunOptions() if options is None else options
    _check_data(data, config)
    if options.keep_freed_memory:
        keep_freed_memory()
    data = cast_data(data, config.dtype)
    with blas_threads(options.threads):
        state, rng = _start_or_resume(model, data, config, out_dir, name, log)
        _run_epochs(model, data, config, options, state, rng, out_dir, name, log, on_epoch_end)
        return _finish(model, data, config, state, out_dir, name)      # evaluation pinned too


def _check_data(data, config):
    if "train" not in data or "val" not in data:
        raise ValueError(f"data must have 'train' and 'val' splits, got {sorted(data)}")
    if config.reg_on == "unlabelled" and "unlabelled" not in data:
        raise ValueError("config.reg_on is 'unlabelled': data must have an 'unlabelled' split (its y is "
                         f"never read), got {sorted(data)}")
    for split_name, split in data.items():
        check_lengths(split.lengths, len(split.y), split.x.shape[1], name=f"data['{split_name}'].lengths")


def cast_data(data, dtype):
    """The splits with float inputs and targets in `dtype` (integer tokens and labels stay integers)."""
    def cast(a):
        return a.astype(dtype, copy=False) if np.issubdtype(a.dtype, np.floating) else a
    return {name: split._replace(x=cast(split.x), y=cast(split.y)) for name, split in data.items()}


def _describe(value):
    """A model attribute as JSON: modules by name, dataclasses as dicts, sets sorted."""
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    if isinstance(value, (list, tuple)):
        return [_describe(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_describe(v) for v in value)
    if dataclasses.is_dataclass(value):
        return {"type": type(value).__name__, **_describe(dataclasses.asdict(value))}
    if isinstance(value, dict):
        return {str(k): _describe(v) for k, v in value.items()}
    return getattr(value, "__name__", repr(value))


def config_record(config):
    """The TrainConfig as JSON (a function, the augmentation, by its module and name)."""
    return {k: f"{v.__module__}.{v.__qualname__}" if callable(v) else v
            for k, v in dataclasses.asdict(config).items()}


def run_identity(model, data, config):
    """What defines a run besides its TrainConfig: the model (class, settings, parameter shapes)
    and a digest of every array of the data. A checkpoint made for another identity is refused."""
    shapes = {k: [list(v.shape), str(v.dtype)]
              for k, v in model.init(np.random.default_rng(0), dtype=np.dtype(config.dtype)).items()}
    arrays = {f"{split}.{field}": backend.to_numpy(value) for split, part in data.items()
              for field, value in part._asdict().items() if value is not None}
    return {"model": {"class": type(model).__name__, "settings": _describe(vars(model)),
                      "params": shapes},
            "data": array_digest(arrays)}


def _refuse(path, what, saved=None, now=None):
    """Raise: the checkpoint at `path` is another run's; name the keys of saved and now that differ."""
    differ = sorted(k for k in set(saved) | set(now) if saved.get(k) != now.get(k)) if saved else []
    detail = f" ({', '.join(differ[:6])} differ)" if differ else ""
    raise ValueError(f"{path} was written for another {what}{detail}, so it is not this run: use "
                     f"another output folder, or move the file aside to start this run over")


def _start_or_resume(model, data, config, out_dir, name, log):
    """(state, rng): a fresh state from config.seed, or the checkpoint's if one exists."""
    cfg, identity = config_record(config), run_identity(model, data, config)
    xp = backend.array_module(data["train"].x)      # CuPy data: params, optimizer state live there too
    rng = np.random.default_rng(config.seed)
    path = checkpoint.paths(out_dir, name)[0] if out_dir else None
    if path and os.path.exists(path):
        state = checkpoint.load(path, xp)
        state.setdefault("epoch_seconds", [])
        if state["config"] != cfg:
            _refuse(path, "training configuration", state["config"], cfg)
        if state["identity"]["model"] != identity["model"]:
            _refuse(path, "model", state["identity"]["model"]["settings"], identity["model"]["settings"])
        if state["identity"]["data"] != identity["data"]:
            _refuse(path, "data set")
        rng.bit_generator.state = state["rng"]
        log(f"[{name}] already finished (at epoch {state['epoch']}, stopped by {state['stopped']}); reusing its "
            f"checkpoint" if state["done"] else f"[{name}] resuming from epoch {state['epoch']}")
        return state, rng
    params = backend.to_module(model.init(rng, dtype=np.dtype(config.dtype)), xp)
    state = {"epoch": 0, "config": cfg, "identity": identity, "history": [], "epoch_seconds": [], "best": None,
             "since_best": 0, "done": False,
             "lr_scale": 1.0, "decays": 0, "stopped": None,
             "params": params, "best_params": {k: v.copy() for k, v in params.items()},
             "opt": optim.OPTIMIZERS[config.optimizer][0](params)}
    return state, rng


def train_step(model, params, opt, split, idx, config, rng, lr, unlabelled=None):
    """One full training step on split[idx]: forward, loss, backward, lambda R, clipping, and the
    optimizer's update of the trainable params (in place). Returns (the objective's value, the
    task loss's, 0-d arrays where the data are: never read back to the host here). unlabelled: the
    Split R is computed on when config.reg_on == "unlabelled". Runs trusted (base.validate): train()
    checked the data, and a NaN in the epoch's objective stops the run."""
    with trusted():
        value, grads, task = _batch_loss(model, params, split, idx, config, rng, unlabelled)
    if config.clip is not None:
        optim.clip_grad_norm(grads, config.clip)
    trainable = {k: params[k] for k in params if k not in model.frozen}
    opt_kwargs = ({"eps": config.eps, "fused_update": _fused_adam(model, params)} if config.optimizer == "adam"
                  else {"momentum": config.momentum})
    optim.OPTIMIZERS[config.optimizer][1](trainable, grads, opt, lr=lr, weight_decay=config.weight_decay,
                                          **opt_kwargs)
    return value, task


def _fused_adam(model, params):
    """kernels.adam's one-pass update where the model runs on the kernels (backend "numba" or "auto" on
    NumPy arrays), else None: nn.optim.adam_step's own lines."""
    if backend.resolve(getattr(model, "backend", None), *params.values()) != "numba":
        return None
    from ..kernels.adam import fused_update
    return fused_update


def train_epoch(model, split, config, state, rng, unlabelled=None):
    """One pass over the training split in a fresh random order; returns the means over its
    sequences of (the objective, the task loss), each measured on the minibatch before its step."""
    lr = optim.step_lr(config.lr, state["epoch"], config.lr_step, config.lr_gamma) * state["lr_scale"]
    order, objective, task = rng.permutation(len(split.y)), 0.0, 0.0
    for i in range(0, len(order), config.batch_size):
        idx = order[i:i + config.batch_size]
        value, task_value = train_step(model, state["params"], state["opt"], split, idx, config, rng, lr,
                                       unlabelled)
        objective = objective + value.astype(np.float64) * len(idx)      # float64 sums, as before
        task = task + task_value.astype(np.float64) * len(idx)
    return float(objective) / len(order), float(task) / len(order)    # the epoch's only reads to the host


def epoch_seconds(model, data, config, steps=10):
    """Measured seconds of one training epoch of this run on this machine (one BLAS thread): the
    mean of `steps` training steps (after two warm-up steps that compile the kernels) times the
    epoch's batches, plus one validation pass. For sizing sweeps (--dry-run)."""
    data = cast_data(data, config.dtype)
    split = data["train"]
    with blas_threads(1):
        rng = np.random.default_rng(config.seed)
        params = model.init(rng, dtype=np.dtype(config.dtype))
        opt = optim.OPTIMIZERS[config.optimizer][0](params)
        starts = range(0, len(split.y), config.batch_size)
        batches = [np.arange(i, min(i + config.batch_size, len(split.y))) for i in starts][:steps + 2]
        for idx in batches[:2]:
            train_step(model, params, opt, split, idx, config, rng, config.lr, data.get("unlabelled"))
        start = time.perf_counter()
        for idx in batches[2:]:
            train_step(model, params, opt, split, idx, config, rng, config.lr, data.get("unlabelled"))
        per_step = (time.perf_counter() - start) / max(len(batches) - 2, 1)
        start = time.perf_counter()
        evaluate(model, params, data["val"], config)
        return per_step * len(starts) + time.perf_counter() - start


def _select(model, data, config, state, record):
    """Evaluate on validation; keep the parameters if they are the best so far."""
    val = evaluate(model, state["params"], data["val"], config)
    record.update(val_loss=val["loss"], val_metric=val["metric"])
    if _better(config, val, state["best"]):
        state["best"] = {"metric": val["metric"], "loss": val["loss"], "epoch": record["epoch"]}
        state["best_params"] = {k: v.copy() for k, v in state["params"].items()}
        state["since_best"] = 0
    else:
        state["since_best"] += 1
    if config.plateau_patience is not None and state["since_best"] >= config.plateau_patience:
        if state["decays"] >= config.plateau_decays:
            state["stopped"] = "plateau"
        else:                                   # a plateau: a smaller step, the count starts again
            state["lr_scale"] *= config.plateau_factor
            state["decays"] += 1
            state["since_best"] = 0


def _progress_line(name, config, state, record, seconds):
    best = state["best"] or {}
    last_val = next((h["val_metric"] for h in reversed(state["history"]) if "val_metric" in h),
                    float("nan"))
    return (f"[{name}] epoch {state['epoch']}/{config.epochs} train loss {record['train_loss']:.4g}"
            f" | val {config.metric} {last_val:.4g} (best "
            f"{best.get('metric', float('nan')):.4g} @ {best.get('epoch', '-')}) | lr x{state['lr_scale']:.3g}"
            f" | {seconds:.0f}s")


def _run_epochs(model, data, config, options, state, rng, out_dir, name, log, on_epoch_end):
    path = checkpoint.paths(out_dir, name)[0] if out_dir else None
    last_print, start = 0.0, time.perf_counter()
    while not state["done"] and state["epoch"] < config.epochs:
        began = time.perf_counter()
        objective, task = train_epoch(model, data["train"], config, state, rng, data.get("unlabelled"))
        if not np.isfinite(objective):          # the steps run trusted: a NaN surfaces here, once an epoch
            raise FloatingPointError(f"[{name}] epoch {state['epoch'] + 1}: the training objective is {objective} "
                                     "(NaN or inf in the params or the data); the last checkpoint is kept")
        record = {"epoch": state["epoch"] + 1, "train_loss": objective, "train_task_loss": task}
        # wall seconds are how a run went, not its numbers: kept apart from the history (which a
        # resumed run reproduces exactly)
        state["epoch_seconds"].append(time.perf_counter() - began)
        state["epoch"] += 1
        if state["epoch"] % config.eval_every == 0 or state["epoch"] == config.epochs:
            _select(model, data, config, state, record)
        record["lr_scale"] = state["lr_scale"]
        state["history"].append(record)
        state["rng"] = rng.bit_generator.state
        if config.patience is not None and state["since_best"] >= config.patience:
            state["stopped"] = "patience"
        elif state["stopped"] is None and state["epoch"] == config.epochs:
            state["stopped"] = "epochs"
        done = state["done"] = state["stopped"] is not None
        if path and (state["epoch"] % options.checkpoint_every == 0 or done):
            checkpoint.save(path, state)
        now = time.perf_counter() - start
        if now - last_print >= options.progress_seconds or done:
            last_print = now
            log(_progress_line(name, config, state, record, now))
        if on_epoch_end is not None:
            on_epoch_end(state["epoch"])


def _finish(model, data, config, state, out_dir, name):
    """The result dict of the best parameters, written as JSON when out_dir is set."""
    best_params = state["best_params"]
    result = {"name": name, "config": state["config"], "identity": state["identity"],
              "history": state["history"], "epoch_seconds": state["epoch_seconds"],
              "best": state["best"], "epochs_run": state["epoch"], "stopped": state["stopped"],
              "metrics": {k: evaluate(model, best_params, s, config) for k, s in data.items()
                          if k != "unlabelled"}}
    if out_dir:
        write_record(checkpoint.paths(out_dir, name)[1], result)
    result["params"] = best_params
    return result


def load_result(out_dir, name):
    """The JSON result a finished train() wrote, or None."""
    path = checkpoint.paths(out_dir, name)[1]
    return read_record(path) if os.path.exists(path) else None
