r"""Bring your own: check YOUR PyTorch or JAX implementation of SIRE, SUB or a cell against ours.

    from sire_ref.tools import crosscheck
    result = crosscheck.check(my_sire, framework="torch", kind="sire", estimator="prefix")
    assert result.ok, result.first_failure

Your function, written in your framework, takes our parameter names and explicit draws:
    kind "sire" / "sub":  fn(params, x, lengths, draw) -> scalar R (Eq. 4.4 / Eq. 4.1)
    kind "states":        fn(params, x, lengths) -> states (B, T, H), each sequence's state
                          carried unchanged past its length
params {"weight_ih" (G H, I), "weight_hh" (G H, H), "bias_ih", "bias_hh" (G H,), "s0" (H,)}
(PyTorch's layout: G = 1 for the tanh RNN, 3 for the GRU with gate blocks r, z, n), x (B, T, I),
lengths (B,) int64, draw: our draw (sire_ref.core.samples) as int64 arrays of your framework:
    SIRE: seq (N,), subset (N, K) (-1 past size), size (N,), a, c (N,), lengths (B,)
    SUB:  seq, subset, size, p, q (N, K), lengths
all float64 (torch.float64 / jax x64), on random problems that sire_ref makes (`Problems`): nonzero
biases and s0, lengths including 0, 1, 2 and T. Your function is differentiated by your
framework's autodiff (torch.autograd / jax.grad) with respect to every parameter and x, and value
and gradients are compared with sire_ref's (regularizers.sire / sub, the cells' backward). The
report names the first quantity that disagrees (value, then weight_ih, weight_hh, bias_ih,
bias_hh, s0, x) and by how much (relative error, testing.relative_error).

It cannot be fooled: a NaN or inf anywhere is a disagreement (relative error inf), `problems.count`
must be >= 1 and `tol` finite and > 0, and fn's result is checked against the contract (type,
shape, gradient flow) with a message that says what it returned and what was expected.
"""
import dataclasses
import math
from typing import Optional

import numpy as np

from ..core.cells import get_cell
from ..core.cells.recurrence import WEIGHT_KEYS
from ..core.regularizers import sire, sub
from ..core.samples import ESTIMATORS, sample_sire, sample_sub
from .testing import compare

KINDS = ("sire", "sub", "states")
FRAMEWORKS = ("torch", "jax")
ORDER = ("value", "states", *WEIGHT_KEYS, "s0", "x")


@dataclasses.dataclass
class CrossCheck:
    """ok: every quantity of every problem within tol; reports: per problem {name: {value, max_abs,
    rel}}; first_failure: (problem, name, rel, max_abs) of the first disagreement, or None."""
    ok: bool
    tol: float
    reports: list
    first_failure: Optional[tuple]

    def __str__(self):
        if self.ok:
            return f"crosscheck PASS: {len(self.reports)} problems, every value and gradient within {self.tol:g}"
        p, name, rel, max_abs = self.first_failure
        return (f"crosscheck FAIL: problem {p}: {name} disagrees, relative error {rel:.3e} (max abs {max_abs:.3e}, "
                f"tolerance {self.tol:g})")


@dataclasses.dataclass(frozen=True)
class Problems:
    """The random problems a check runs on: `count` of them from `seed`, each a batch of `batch`
    sequences of `seq_len` steps of `input_size` features, a cell of `hidden_size`, and draws of
    `n_samples` terms."""
    count: int = 3
    seed: int = 0
    n_samples: int = 8
    batch: int = 6
    seq_len: int = 6
    input_size: int = 3
    hidden_size: int = 5


def problem(rng, cell, problems=Problems()):
    """(params, x, lengths): float64, nonzero biases and s0, lengths starting 0, 1, 2, T."""
    B, T = problems.batch, problems.seq_len
    if B < 4 or T < 3:
        raise ValueError(f"batch must be >= 4 and seq_len >= 3 (lengths 0, 1, 2 and T), got {B}, {T}")
    params = cell.init_params(problems.input_size, problems.hidden_size, rng, dtype=np.float64)
    params["s0"] = rng.uniform(-0.5, 0.5, size=problems.hidden_size)
    x = rng.normal(size=(B, T, problems.input_size))
    lengths = rng.integers(0, T + 1, size=B)
    lengths[:4] = (0, 1, 2, T)
    return params, x, lengths


def ours(kind, cell, params, x, lengths, draw, upstream):
    """sire_ref's value (R, or the states) and gradients {params..., "x"} for the comparison."""
    if kind == "states":
        states, cache = cell.forward(params, x, lengths)
        grads, dx = cell.backward(params, cache, upstream)
        return dict(grads, x=dx, states=states)
    out = (sire if kind == "sire" else sub)(cell, params, x, draw, lengths, with_dx=True)
    return dict(out.grads, x=out.dx, value=np.asarray(float(out.value)))


class ContractError(TypeError):
    """fn returned something other than the contract's (module docstring)."""


def _expected(kind, x, hidden_size):
    return ("a scalar (shape ())" if kind != "states"
            else f"states of shape {(x.shape[0], x.shape[1], hidden_size)}")


def _call(fn, framework, kind, args):
    try:
        return fn(*args)
    except Exception as err:
        first = str(err).splitlines()[0] if str(err) else ""
        raise ContractError(f"fn raised {type(err).__name__}: {first} -- when called as fn(params, x, lengths"
                            f"{'' if kind == 'states' else ', draw'}) with {framework} float64 arrays "
                            f"(framework={framework!r}: is fn written for {framework}?)") from err


def _check_result(out, kind, framework, array_type, x, hidden_size):
    """Raise ContractError unless out is an array of `framework` with the contract's shape."""
    want = _expected(kind, x, hidden_size)
    if not isinstance(out, array_type):
        raise ContractError(f"fn returned {type(out).__module__}.{type(out).__name__}; expected a {framework} "
                            f"array, {want}, computed from params and x so that {framework} can "
                            f"differentiate it")
    shape = tuple(out.shape)
    good = shape == () if kind != "states" else shape == (x.shape[0], x.shape[1], hidden_size)
    if not good:
        raise ContractError(f"fn returned an array of shape {shape}; expected {want}")


def _run_torch(fn, kind, params, x, lengths, draw, upstream):
    import torch
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    tx = torch.tensor(x, requires_grad=True)
    tl = torch.as_tensor(lengths, dtype=torch.int64)
    hidden = params["s0"].shape[0]
    if kind == "states":
        out = _call(fn, "torch", kind, (tp, tx, tl))
        _check_result(out, kind, "torch", torch.Tensor, x, hidden)
        scalar = (out * torch.as_tensor(upstream)).sum()
    else:
        out = scalar = _call(fn, "torch", kind,
                             (tp, tx, tl, {k: torch.as_tensor(v, dtype=torch.int64) for k, v in draw.items()}))
        _check_result(out, kind, "torch", torch.Tensor, x, hidden)
    if not scalar.requires_grad:
        raise ContractError("fn returned a tensor that does not depend on params or x (requires_grad is "
                            "False: detached, or built with .numpy() / torch.tensor(...)); expected one "
                            "torch can differentiate")
    inputs = [tp[k] for k in params] + [tx]
    grads = torch.autograd.grad(scalar, inputs, allow_unused=True)
    grads = [torch.zeros_like(i) if g is None else g for g, i in zip(grads, inputs)]   # unused: zero
    result = {k: g.detach().numpy() for k, g in zip(list(params) + ["x"], grads)}
    result["states" if kind == "states" else "value"] = out.detach().numpy()
    return result


def _run_jax(fn, kind, params, x, lengths, draw, upstream):
    import jax
    import jax.numpy as jnp
    with jax.enable_x64(True):
        jl = jnp.asarray(lengths, dtype=jnp.int64)
        jdraw = {k: jnp.asarray(v, dtype=jnp.int64) for k, v in draw.items()} if draw is not None else None

        hidden = params["s0"].shape[0]

        def scalar(p, xj):
            out = _call(fn, "jax", kind, (p, xj, jl) if kind == "states" else (p, xj, jl, jdraw))
            _check_result(out, kind, "jax", jax.Array, x, hidden)
            return (jnp.sum(out * upstream), out) if kind == "states" else (out, out)

        try:
            (_, out), (gp, gx) = jax.value_and_grad(scalar, argnums=(0, 1), has_aux=True)(
                {k: jnp.asarray(v) for k, v in params.items()}, jnp.asarray(x))
        except ContractError:
            raise
        except Exception as err:       # e.g. a NumPy call on a tracer: the function cannot be differentiated
            raise ContractError(f"jax.grad could not differentiate fn ({type(err).__name__}: "
                                f"{str(err).splitlines()[0] if str(err) else ''}); expected a function of "
                                f"jax.numpy operations on params and x") from err
        result = {k: np.asarray(g) for k, g in gp.items()}
        result["x"] = np.asarray(gx)
        result["states" if kind == "states" else "value"] = np.asarray(out)
        return result


def check(fn, framework, kind="sire", cell="gru", estimator="subset", problems=Problems(), tol=1e-9, log=print):
    """Compare fn (module docstring) with sire_ref on random float64 problems (`Problems`: how many,
    their seed and sizes); returns a CrossCheck and logs one line per problem (log=None: silent)."""
    if framework not in FRAMEWORKS:
        raise ValueError(f"framework must be one of {FRAMEWORKS}, got {framework!r}")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
    if not callable(fn):
        raise TypeError(f"fn must be a function of (params, x, lengths[, draw]), got {type(fn).__name__}")
    if not isinstance(problems, Problems):
        raise TypeError(f"problems must be a crosscheck.Problems, got {type(problems).__name__}")
    count, n_samples = problems.count, problems.n_samples
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"problems.count must be an int >= 1 (a check of no problem proves nothing), got {count!r}")
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not (math.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be a finite number > 0, got {tol!r}")
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 1:
        raise ValueError(f"problems.n_samples must be an int >= 1, got {n_samples!r}")
    run = _run_torch if framework == "torch" else _run_jax
    c = get_cell(cell)
    rng = np.random.default_rng(problems.seed)
    reports, first = [], None
    for p in range(count):
        params, x, lengths = problem(rng, c, problems)
        draw = None if kind == "states" else (
            sample_sire(rng, lengths, n_samples, estimator) if kind == "sire" else sample_sub(rng, lengths, n_samples))
        upstream = rng.normal(size=(problems.batch, problems.seq_len, problems.hidden_size))
        mine = ours(kind, c, params, x, lengths, draw, upstream)
        theirs = run(fn, kind, params, x, lengths, draw, upstream)
        missing = sorted(set(mine) - set(theirs))
        if missing:
            raise ValueError(f"fn's result lacks {missing}: it must use params with keys {sorted(params)}")
        report = compare(mine, {k: theirs[k] for k in mine})
        reports.append(report)
        bad = [k for k in ORDER if k in report and not report[k]["rel"] <= tol]     # NaN is bad too
        if bad and first is None:
            first = (p, bad[0], report[bad[0]]["rel"], report[bad[0]]["max_abs"])
        if log is not None:
            worst = max(report, key=lambda k: report[k]["rel"])
            log(f"problem {p}: lengths {lengths.tolist()}, worst {worst} {report[worst]['rel']:.2e}"
                + (f"; FIRST DISAGREEMENT: {bad[0]} {report[bad[0]]['rel']:.2e}" if bad else ""))
    result = CrossCheck(ok=first is None, tol=tol, reports=reports, first_failure=first)
    if log is not None:
        log(str(result))
    return result
