r"""`python -m sire_ref bench --experiments`: a FULL training step of every experiment's own model,
sire_ref against the same model and optimizer in PyTorch, started by one command.

A step is what train() does per minibatch: forward, loss, backward, the regularizer
(lambda R_SIRE of Eq. 4.4 or R_SUB of Eq. 4.1, with a fresh draw), gradient clipping when the
experiment clips, and the Adam update. PyTorch runs the same model with our parameters
(sire_ref.tools.torch_twins: nn.GRU / nn.RNN, the regularizers batched as a PyTorch user
writes them). Each framework runs in a process of its own, as a training run does (with
--together both in this one: they then act on each other through the allocator,
timing.median_ms_apart); the two take turns call by call (round-robin), BLAS and PyTorch on
the same thread count, and each time is the median. Also one whole epoch end to end (shuffling,
batching, every step, then evaluation on a validation split) for the integer-task GRU.
The physical limit beside each row: the step's matrix-product FLOPs (`matmul_flops`) at this
machine's single-thread matmul peak, and the fraction of it each side reaches (limit / time).
"""
import dataclasses
import time

import numpy as np

from ..base.memory import keep_freed_memory
from ..data import arithmetic, parity
from ..data.split import Split
from ..experiments.integer_tasks import build_model
from ..experiments.point_cloud import PointSpec, build as build_point_model
from ..models.convnet import ConvNet
from ..models.recurrent import DeepSets, Head, RecurrentSetModel
from ..nn.encoders import Embedding
from ..nn import optim
from ..training.loop import TrainConfig, cast_data, evaluate, train_epoch, train_step
from . import torch_twins
from .timing import matmul_peak, median_ms, median_ms_apart

SIDES = ("sire_ref", "torch")
LAM = 0.01          # the half-range / arithmetic lambda scale; only its presence matters for cost


def experiment_configs(quick=False):
    """[(name, model factory(y_train), TrainConfig, data factory(rng, n))] of every experiment."""
    def integer(n, reg, estimator="subset", method="gru"):
        cfg = TrainConfig(batch_size=128, lr=1e-3, loss="l1", metric="accuracy", reg=reg,
                          lam=LAM if reg != "none" else 0.0, reg_samples=128, estimator=estimator)
        return (f"integer {method} n={n} " + (reg if reg != "sire" else f"sire-{estimator}"),
                lambda y, method=method: build_model(method, 99, y, backend="auto"), cfg,
                lambda rng, N, n=n: arithmetic.make_split(rng, "sum", N, n))

    par = TrainConfig(batch_size=32, lr=0.01, loss="bce")
    configs = [
        ("parity rnn H=20", lambda y: RecurrentSetModel(1, 20, 1, cell="rnn", backend="auto"), par,
         lambda rng, N: parity.make_split(rng, N, 2, 10)),
        ("parity deepsets 100/100", lambda y: DeepSets(1, [1, 100, 100], 1, activation="relu", rho=Head((100,), "relu"),
                                                                backend="auto"),
         par, lambda rng, N: parity.make_split(rng, N, 2, 10))]
    for n in ((10,) if quick else (5, 10, 30)):
        configs += [integer(n, "none"), integer(n, "sire", "subset"), integer(n, "sire", "prefix"),
                    integer(n, "sub")]
    configs.append(integer(10, "none", method="deepsets"))
    sizes = [(32, (16, 32), 128)] + ([] if quick else [(128, (32, 64), 1024)])    # the quick / paper presets
    for hidden, channels, cnn_hidden in sizes:
        configs += [mnist("gru", hidden, "none"), mnist("gru", hidden, "sire"),
                    mnist(f"cnn {channels[0]}/{channels[1]}/{cnn_hidden}", None, "none",
                          lambda y, c=channels, h=cnn_hidden: ConvNet(c, h, backend="auto"))]
    for points, width in [(100, 32), (1000, 32)] + ([] if quick else [(100, 256), (1000, 256)]):   # quick / paper
        configs += [cloud("deepsets", points, width), cloud("sire", points, width)]
    return configs


def cloud(method, points, width):
    """A point-cloud config (experiments.point_cloud's models and optimizer settings)."""
    spec = PointSpec(data="synthetic", points=points, method=method, lam=0.1 if method == "sire" else 0.0, seed=0,
                     data_seed=0, width=width, n_train=1, n_val=1, n_test=1, epochs=1)
    model, cfg = build_point_model(spec, 40)

    def data(rng, N):
        return Split(x=rng.normal(size=(N, points, 3)), lengths=np.full(N, points), y=rng.integers(0, 40, N))
    return f"points {method} n={points} w={width}", lambda y: model, cfg, data


def mnist(label, hidden, reg, factory=None):
    """A Locally Perturbed MNIST config (experiments.perturbed_mnist): 784 pixels, 10 classes."""
    cfg = TrainConfig(batch_size=64, lr=1e-3, clip=1.0, loss="ce", reg=reg, lam=0.1 if reg == "sire" else 0.0,
                      reg_samples=64, estimator="prefix")
    factory = factory or (lambda y: RecurrentSetModel(1, hidden, 10, cell="gru", backend="auto"))
    name = f"mnist {label}" + (f" H={hidden} pixel" if hidden else "") + (" sire-prefix" if reg == "sire" else "")

    def data(rng, N):
        return Split(x=rng.random((N, 784, 1)), lengths=np.full(N, 784), y=rng.integers(0, 10, N))
    return name, factory, cfg, data


def _draw_for(config, rng, lengths):
    from ..core.samples import sample_sire, sample_sub
    if config.reg == "sire":
        return sample_sire(rng, lengths, config.reg_samples, config.estimator)
    if config.reg == "sub":
        return sample_sub(rng, lengths, config.reg_samples)
    return None


def _setup(factory, config, data_factory, dtype, batches=1):
    rng = np.random.default_rng(0)
    split = data_factory(rng, config.batch_size * batches)
    split = cast_data({"train": split}, dtype)["train"]
    model = factory(split.y)
    params = model.init(rng, dtype=np.dtype(dtype))
    return model, params, split, rng


def ours_step(model, params, split, config):
    opt = optim.OPTIMIZERS[config.optimizer][0](params)
    idx, rng = np.arange(config.batch_size), np.random.default_rng(1)
    return lambda: train_step(model, params, opt, split, idx, config, rng, config.lr)


def torch_step(model, params, split, config):
    import torch
    module = torch_twins.twin(model, params)
    trainable = [p for p in module.parameters() if p.requires_grad]
    opt = torch.optim.Adam(trainable, lr=config.lr, eps=config.eps)
    x, y = torch.as_tensor(split.x), torch.as_tensor(split.y)
    rng = np.random.default_rng(1)

    def step():
        batch = x if config.augment is None else torch.as_tensor(config.augment(rng, split.x))
        draw = _draw_for(config, rng, split.lengths)
        opt.zero_grad(set_to_none=True)
        loss = torch_twins.objective(module, batch, split.lengths, y, config, draw)
        loss.backward()
        if config.clip is not None:
            torch.nn.utils.clip_grad_norm_(trainable, config.clip)
        opt.step()
        return float(loss.detach())
    return step


def matmul_flops(model, params, config, lengths):
    """Matrix-product FLOPs of one training step: each weight W (O, I) costs 2 I O per row it
    multiplies, three times (forward, dW, dx). The rows: B T for the layers applied to every element
    (a set encoder, DeepSets' phi, the cell's input side), B for those applied per set (rho, the
    head), B Ho Wo for a convolution (I = C k^2). The recurrence W_hh runs one row-step per live
    (row, step), sum(lengths) for the model (the kernels step no ended row); SIRE "subset" adds the
    draw's subset sizes for its fold (N = 128 draws: about N (L - 2) / 2) and 4N for the swapped
    pairs, "prefix" only the 4N; SUB adds twice the subset sizes (about N (L + 2)); the pairs'
    inputs pass the cell's input side too. The sizes are those of one draw (seed 0) of the step's
    kind. Token inputs are gathers (an embedding, the folded GRU input): no product."""
    B, T, N = len(lengths), int(lengths.max()), config.reg_samples
    recurrent = int(lengths.sum())
    draw = _draw_for(config, np.random.default_rng(0), lengths)
    if config.reg == "sire":
        recurrent += 4 * N + (int(draw["size"].sum()) if config.estimator == "subset" else 0)
    elif config.reg == "sub":
        recurrent += 2 * int(draw["size"].sum())
    tokens = isinstance(getattr(model, "encoder", None), Embedding)   # its table and the layer after it gather
    flops = 0
    for name, w in params.items():
        if w.ndim == 4:                                       # conv F x C x k x k at 28 / 2^i pixels
            flops += 3 * 2 * B * (28 // 2 ** int(name[4])) ** 2 * w.size
        elif w.ndim == 2:
            if tokens and name in ("encoder.weight", "cell.weight_ih", "phi.0.weight"):
                rows = 0
            elif name.startswith("cell."):
                rows = recurrent
            elif name.startswith(("encoder.", "phi.")):
                rows = B * T
            else:                                             # rho, head, fc: one row per set
                rows = B
            flops += 3 * 2 * rows * w.size
    return flops


def _config(name, quick):
    """The (name, factory, TrainConfig, data factory) of the row `name` of experiment_configs(quick)."""
    for config in experiment_configs(quick):
        if config[0] == name:
            return config
    raise KeyError(f"no bench row is named {name!r} (quick={quick})")


def step_fns(side, name, quick, dtype, threads=1, plain=False):
    """{side: one training step} of `side` ("sire_ref" or "torch") of the row `name`, and with plain
    also f"{side} no reg": the same step without the regularizer. Each has its own copy of the
    params; built in the process that times them (timing.median_ms_apart). The process keeps the
    memory it frees (base.memory), as train() has a training run do, on both sides: PyTorch's steps
    gain from it as much as ours, and the ratio measures the code, not the allocator."""
    keep_freed_memory()
    _, factory, config, data_factory = _config(name, quick)
    model, params, split, _ = _setup(factory, config, data_factory, dtype)
    if side == "torch":
        import torch
        torch.set_num_threads(threads)
    make = {"sire_ref": ours_step, "torch": torch_step}[side]
    fns = {side: make(model, {k: v.copy() for k, v in params.items()}, split, config)}
    if plain:
        fns[f"{side} no reg"] = make(model, {k: v.copy() for k, v in params.items()}, split,
                                     dataclasses.replace(config, reg="none", lam=0.0))
    return fns


def _timed(builder, args_of, sides, clock, threads, together, **rounds):
    """{name: median ms} of the functions builder(*args_of(side)) of every side, each side in a
    process of its own (timing.median_ms_apart) or, with together, all in this one."""
    if together:
        fns = {}
        for side in sides:
            fns.update(builder(*args_of(side)))
        return median_ms(fns, clock=clock, **rounds)
    return median_ms_apart({side: (builder, args_of(side)) for side in sides}, clock=clock, threads=threads,
                           **rounds)


def measure_step(name, quick, dtype, peak, clock="wall", threads=1, together=False):
    """One row: each side's step (and, with a regularizer, the step without it) in a process of its
    own, taking turns, or with together all in this process (as when sire_ref is a gradient oracle
    inside a PyTorch program, where each one's allocations act on the other's: timing.median_ms_apart)."""
    _, factory, config, data_factory = _config(name, quick)
    plain = config.reg != "none"
    ms = _timed(step_fns, lambda side: (side, name, quick, dtype, threads, plain), SIDES, clock, threads, together,
                min_rounds=3, max_rounds=200, budget_s=3.0)
    row = {"name": name, "dtype": np.dtype(dtype).name, "ms": ms, "speedup": ms["torch"] / ms["sire_ref"],
           "processes": "one" if together else "apart"}
    model, params, split, _ = _setup(factory, config, data_factory, dtype)
    row["limit_ms"] = matmul_flops(model, params, config, split.lengths) / (peak * 1e6)   # at the matmul peak
    row["limit_fraction"] = {k: row["limit_ms"] / ms[k] for k in SIDES}
    if plain:
        row["reg_share"] = {k: ms[k] / ms[f"{k} no reg"] - 1 for k in SIDES}
    return row


def epoch_fns(side, name, dtype, batches, threads=1):
    """{side: one epoch of `batches` minibatches, then evaluation on a validation split of 2,000}
    (the process set up as step_fns does)."""
    keep_freed_memory()
    _, factory, config, data_factory = _config(name, True)
    model, params, split, rng = _setup(factory, config, data_factory, dtype, batches)
    val = cast_data({"val": data_factory(rng, 2000)}, dtype)["val"]

    def ours():
        state = {"params": {k: v.copy() for k, v in params.items()}, "epoch": 0, "lr_scale": 1.0,
                 "opt": optim.OPTIMIZERS[config.optimizer][0](params)}
        train_epoch(model, split, config, state, np.random.default_rng(2))
        evaluate(model, state["params"], val, config)
    if side == "sire_ref":
        return {side: ours}
    import torch
    torch.set_num_threads(threads)

    def theirs():
        module = torch_twins.twin(model, params)
        step_rng, order = np.random.default_rng(2), np.random.default_rng(2).permutation(len(split.y))
        opt = torch.optim.Adam([p for p in module.parameters() if p.requires_grad], lr=config.lr)
        x, y = torch.as_tensor(split.x), torch.as_tensor(split.y)
        for i in range(0, len(order), config.batch_size):
            idx = order[i:i + config.batch_size]
            L = split.lengths[idx]
            opt.zero_grad(set_to_none=True)
            torch_twins.objective(module, x[idx], L, y[idx], config,
                                  _draw_for(config, step_rng, L)).backward()
            opt.step()
        with torch.no_grad():
            module(torch.as_tensor(val.x), val.lengths)
    return {side: theirs}


def measure_epoch(name, dtype, batches=50, clock="wall", threads=1, together=False):
    """One epoch of `batches` minibatches plus evaluation on a validation split of 2,000 (measure_step's
    processes)."""
    ms = _timed(epoch_fns, lambda side: (side, name, dtype, batches, threads), SIDES, clock, threads, together,
                min_rounds=3, max_rounds=5, budget_s=1.0)
    return {"name": f"{name}: epoch of {batches} steps + eval", "dtype": np.dtype(dtype).name, "ms": ms,
            "speedup": ms["torch"] / ms["sire_ref"], "processes": "one" if together else "apart"}


def run(threads=1, quick=False, dtype="float32", log=print, only=None, clock="wall", together=False):
    """Every experiment's step (and the integer GRU's epoch) at `threads`; only: name words to keep;
    clock: "wall" or "cpu" (tools.timing); together: both frameworks in this process (measure_step)."""
    import torch

    from ..base.threads import blas_threads
    torch.set_num_threads(threads)
    rows = []
    with blas_threads(threads):
        peak = matmul_peak(np.dtype(dtype).type, clock=clock)
        log(f"single-thread matmul peak, {dtype}: {peak:.1f} GFLOP/s ({clock} clock); each framework in "
            + ("this one process" if together else "a process of its own"))
        chosen = [c[0] for c in experiment_configs(quick) if only is None or any(w in c[0] for w in only)]
        for name in chosen:
            start = time.perf_counter()
            rows.append(measure_step(name, quick, dtype, peak, clock, threads, together))
            log(format_row(rows[-1]) + f"  ({time.perf_counter() - start:.0f} s)")
        for name, *_ in experiment_configs(True):
            if name.startswith("integer gru n=10") and not name.endswith("prefix") and only is None:
                rows.append(measure_epoch(name, dtype, clock=clock, threads=threads, together=together))
                log(format_row(rows[-1]))
    return {"threads": threads, "dtype": dtype, "clock": clock, "processes": "one" if together else "apart",
            "allocator": "keeps freed memory (base.memory), both sides", "peak_gflops": peak, "rows": rows}


def format_row(row):
    ms = row["ms"]
    text = (f"{row['name']:<38} {row['dtype']:<8} sire_ref {ms['sire_ref']:9.2f} ms | torch "
            f"{ms['torch']:9.2f} ms | sire_ref {row['speedup']:.2f}x faster")
    if "limit_ms" in row:
        fraction = row["limit_fraction"]
        text += (f" | limit {row['limit_ms']:.2f} ms, reached {100 * fraction['sire_ref']:.0f}% "
                 f"(torch {100 * fraction['torch']:.0f}%)")
    if "reg_share" in row:
        text += (f" | regularizer adds {100 * row['reg_share']['sire_ref']:.0f}% (torch "
                 f"{100 * row['reg_share']['torch']:.0f}%)")
    return text
