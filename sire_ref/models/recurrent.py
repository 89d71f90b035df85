r"""The two model families of the experiments, as params + forward/backward (no hidden state).

RecurrentSetModel (the cell's fold, Eq. 2.2), with \( e_t = \mathrm{enc}(x_t) \):

\[ y = \mathrm{offset} + \mathrm{scale} \cdot \mathrm{head}(f(s_0, e_1, \ldots, e_T)) \]

(enc may read the whole set, e = enc(x_1..x_T): nn.encoders.Equivariant); DeepSets (Eq. 1.1):

\[ y = \mathrm{offset} + \mathrm{scale} \cdot \rho(\sum_{t < \mathrm{length}} \phi(e_t)) \]

enc is the identity or an encoder of `sire_ref.nn.encoders` (Embedding of integer tokens,
MLP); phi is an MLP; head and rho are `Head`s: an MLP with its dropouts, then offset and scale,
fixed constants (not learned): the affine target rescaling of experiments.integer_tasks for
regression targets in the hundreds.
A model object holds only its configuration; params are a flat dict with names
"encoder.*", "cell.*", "head.*" / "phi.*", "rho.*". Names in `model.frozen` are not
trained (a frozen embedding).

backend: where arrays live and which kernels run the cell's sequence passes (base.backend):
None or "numpy" the plain reference, "numba" the jitted kernels, "auto" numba on the CPU and CuPy
on a GPU, "cupy". shortcuts: the two algorithm choices of the fast path (`Shortcuts`), each the
same math to round-off (tests hold them equal to the plain path): an Embedding folded into the
next layer (Embedding.fold: tokens read as one-hot rows, a row gather instead of the input
product, sire_ref.nn.inputs), and SIRE's "prefix" estimator reading its reached states from the
forward pass (regularizers.sire_from_states) instead of folding the prefixes again. By default
both are on for a fast backend (base.backend.FAST) and off for the plain reference.

forward(params, x, lengths, train=False, rng=None) -> (y (B, out), cache)
backward(params, cache, dy, dstates=None, dinputs=None) -> grads (keys of params); dstates: an extra
    gradient on the forward's cell states (B, T, H), from `regularizer`; dinputs (recurrent only): one
    on the encoded inputs (B, T, E), from a `regularizer(..., defer_encoder=True)`. forward keeps copies
    of params and x, and backward refuses any other shape, dtype or value (other params, or
    arrays changed in place in between): the gradient would silently belong to neither.
regularizer(params, x, lengths, rng, reg, n_samples, estimator, forward_cache=None, defer_encoder=False)
    -> RegularizerResult(value, grads, dx=, dstates=)   (recurrent only; dstates is None unless the
    fast path read the forward_cache's states; dx is None unless the encoder's part was deferred)
"""
import dataclasses
from typing import NamedTuple

import numpy as np

from ..base.backend import BACKENDS, FAST, array_module
from ..base.validate import check_array, check_lengths, check_made_from, remember
from ..core.cells import get_cell
from ..core.regularizers import RegularizerResult, sire, sire_from_states, sub
from ..core.samples import sample_sire, sample_sub
from ..nn import dropout, mlp
from ..nn.encoders import ACTIVATIONS, MLP, Embedding
from ..nn.params import add_into, prefixed, take
from .pointsets import max_over_set, tanh_grad_and_set_sum


class RecurrentCache(NamedTuple):
    """RecurrentSetModel.forward's cache: encoder, cell, dropout and head caches, the cell's states
    (B, T, H), the cell's params as the inputs see them (folded on the fast path), the inputs
    the cell read, and made_from: (copies of params and x, the caller's x) for backward's check."""
    enc: object
    cell: object
    drop: object
    head: object
    states: object
    cell_params: dict
    inputs: object
    made_from: tuple


class DeepSetsCache(NamedTuple):
    """DeepSets.forward's cache: encoder, phi and rho caches, the length mask, phi's params as
    the inputs see them, and made_from like RecurrentCache's."""
    enc: object
    phi: object
    rho: object
    mask: object
    phi_params: dict
    made_from: tuple


class Shortcuts(NamedTuple):
    """fold_embedding: fold an Embedding encoder into the next layer; states_from_forward: SIRE's
    "prefix" estimator reads its states from the forward pass (module docstring)."""
    fold_embedding: bool = False
    states_from_forward: bool = False


FIRST_WEIGHT = {"cell": "weight_ih", "phi": "0.weight"}     # the weight an Embedding folds into


@dataclasses.dataclass(frozen=True)
class Head:
    """What maps a set's summary (the cell's final state; DeepSets' pooled phi) to the output: an MLP
    through `hidden` layers with `activation`, dropout `input_dropout` on its input and `dropout` on
    the input of every later layer (DeepSets' rho of the point clouds: dropout, Linear, tanh,
    dropout, Linear), then the fixed rescaling y = offset + scale * mlp(...) (not learned: the
    integer tasks' targets in the hundreds)."""
    hidden: tuple = ()
    activation: str = "tanh"
    input_dropout: float = 0.0
    dropout: float = 0.0
    offset: float = 0.0
    scale: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "hidden", tuple(self.hidden))
        if not all(isinstance(h, (int, np.integer)) and not isinstance(h, bool) and h >= 1 for h in self.hidden):
            raise ValueError(f"Head.hidden must hold layer widths >= 1, got {self.hidden!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"Head.activation must be one of {ACTIVATIONS}, got {self.activation!r}")
        for name in ("input_dropout", "dropout"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"Head.{name} must be in [0, 1), got {getattr(self, name)!r}")
        for name in ("offset", "scale"):
            if not np.isfinite(getattr(self, name)):
                raise ValueError(f"Head.{name} must be finite, got {getattr(self, name)!r}")
        object.__setattr__(self, "offset", float(self.offset))
        object.__setattr__(self, "scale", float(self.scale))


class _Encoded:
    """Shared ends: the optional encoder, the head (its output rescaling), the fast path's switch."""

    def __init__(self, encoder, head, backend, shortcuts):
        if not isinstance(head, Head):
            raise TypeError(f"head must be a sire_ref.models.recurrent.Head(...), got {head!r}")
        if encoder is not None and not isinstance(encoder, (Embedding, MLP)):
            raise TypeError(f"encoder must be None, sire_ref.nn.encoders.Embedding(...) or "
                            f"sire_ref.nn.encoders.MLP(...), got {encoder!r}")
        if backend is not None and backend not in BACKENDS:
            raise ValueError(f"backend must be None or one of {BACKENDS}, got {backend!r}")
        if shortcuts is None:
            fast = backend in FAST
            shortcuts = Shortcuts(fold_embedding=fast and isinstance(encoder, Embedding), states_from_forward=fast)
        if not isinstance(shortcuts, Shortcuts):
            raise TypeError(f"shortcuts must be None or sire_ref.models.recurrent.Shortcuts(...), got {shortcuts!r}")
        if shortcuts.fold_embedding and not isinstance(encoder, Embedding):
            raise ValueError(f"shortcuts.fold_embedding needs an Embedding encoder, the model has {encoder!r}")
        self.encoder, self.head = encoder, head
        self.frozen = set(encoder.frozen_names) if encoder is not None else set()
        self.backend, self.shortcuts = backend, shortcuts

    def _first_layer(self, params, name, x):
        """(params of layer `name` as the inputs see them, inputs, encoder cache): the folded
        weight and the raw tokens on the fast path, else the layer's own params and enc(x)."""
        layer = take(name, params)
        if self.shortcuts.fold_embedding:
            key = FIRST_WEIGHT[name]
            return dict(layer, **{key: self.encoder.fold(params, layer[key])}), x, None
        e, c_enc = self._encode(params, x)
        return layer, e, c_enc

    def _first_layer_backward(self, params, name, g_layer, de, c_enc, grads):
        """Add a first layer's gradients (unfolding them on the fast path) and the encoder's."""
        if self.shortcuts.fold_embedding:
            key = FIRST_WEIGHT[name]
            g_layer[key], g_enc = self.encoder.unfold(params, params[f"{name}.{key}"], g_layer[key])
            for k, g in g_enc.items():
                grads[k] += g
        else:
            self._encode_backward(params, c_enc, de, grads)
        add_into(grads, name, g_layer)

    def _init_encoder(self, rng, dtype):
        return {} if self.encoder is None else self.encoder.init(rng, dtype)

    def encode(self, params, x):
        """The inputs as the first layer reads them, e = enc(x) (B, T, E), or x without an encoder."""
        return self._encode(params, x)[0]

    def _encode(self, params, x):
        if self.encoder is None:
            return x, None
        if self.encoder.reads_set:              # the equivariant encoder's max has a numba pass
            return self.encoder.forward(params, x, max_over_set(self.backend, x))
        return self.encoder.forward(params, x)

    def _encode_backward(self, params, cache, de, grads):
        if self.encoder is None:
            return
        fused = {"tanh_grad_and_set_sum": tanh_grad_and_set_sum(self.backend, de)} if self.encoder.reads_set else {}
        for k, g in self.encoder.backward(params, cache, de, **fused).items():
            grads[k] += g

    def _zeros(self, params):
        xp = array_module(*params.values())
        return {k: xp.zeros_like(v) for k, v in params.items()}


class RecurrentSetModel(_Encoded):
    """encoder -> rnn/gru cell -> MLP head on each sequence's final state.

    head: `Head` (its MLP, dropouts and output rescaling).

    tbptt: None (full backpropagation through time) or a window W: truncated BPTT, as a PyTorch
    loop that detaches the state every W steps. The forward is the same; the gradient flows
    within each window [kW, kW + W) and stops at its start (the state carried in from the
    previous window is a constant), so s0 gets gradient from the first window only.
    """

    def __init__(self, input_size, hidden_size, out_size, cell="rnn", encoder=None, head=Head(), backend=None,
                 shortcuts=None, tbptt=None):
        super().__init__(encoder, head, backend, shortcuts)
        if tbptt is not None and (not isinstance(tbptt, int) or tbptt < 1):
            raise ValueError(f"tbptt must be None or a positive int window, got {tbptt!r}")
        self.tbptt = tbptt
        self.cell = get_cell(cell)
        self.input_size, self.hidden_size, self.out_size = input_size, hidden_size, out_size
        self.head_sizes = [hidden_size, *head.hidden, out_size]

    def init(self, rng, dtype=np.float64):
        params = self._init_encoder(rng, dtype)
        cell_in = self.input_size if self.encoder is None else self.encoder.out_size
        params.update(prefixed("cell", self.cell.init_params(cell_in, self.hidden_size, rng, dtype)))
        params.update(prefixed("head", mlp.init(self.head_sizes, rng, dtype)))
        return params

    def forward(self, params, x, lengths=None, train=False, rng=None):
        cell_params, e, c_enc = self._first_layer(params, "cell", x)
        lengths = self.cell.check_forward_args(cell_params, e, lengths)
        self._check_whole_sets(lengths, e.shape[1])
        states, c_cell = self._fold(cell_params, e, lengths)
        s, c_drop = dropout.forward(states[:, -1], self.head.input_dropout, rng, train)
        y, c_head = mlp.forward(take("head", params), s, self.head.activation, dropout_rate=self.head.dropout,
                                rng=rng, train=train)
        return self.head.offset + self.head.scale * y, RecurrentCache(c_enc, c_cell, c_drop, c_head, states,
                                                            cell_params, e, remember(params, x))

    def backward(self, params, cache, dy, dstates=None, dinputs=None):
        """Gradients of dy (N, out) on the outputs (plus dstates (B, T, H) on the cell's states, and
        dinputs (B, T, E) on the encoded inputs: a deferred regularizer's) for every param. params
        and x must be those of the forward (checked, see validate.check_unchanged)."""
        if not isinstance(cache, RecurrentCache):
            raise TypeError(f"cache must be the cache RecurrentSetModel.forward returned, got "
                            f"{type(cache).__name__}")
        check_made_from(cache.made_from, params, f"{type(self).__name__}.backward")
        c_enc, c_cell, c_drop, c_head, states, cell_params = cache[:6]
        grads = self._zeros(params)
        g_head, ds = mlp.backward(take("head", params), c_head, self.head.scale * dy)
        add_into(grads, "head", g_head)
        if dstates is not None:
            check_array(dstates, "dstates", shape=states.shape, dtype=states.dtype)
        d_all = array_module(ds).zeros(states.shape, dtype=ds.dtype) if dstates is None else dstates.copy()
        d_all[:, -1] += dropout.backward(c_drop, ds)
        g_cell, de = self._fold_backward(cell_params, c_cell, d_all)
        if dinputs is not None:
            if de is None:
                raise ValueError("dinputs: this model computes no gradient on its encoded inputs (no encoder "
                                 "to pass it through, a frozen one, or a folded embedding)")
            check_array(dinputs, "dinputs", shape=de.shape, dtype=de.dtype)
            de = de + dinputs
        self._first_layer_backward(params, "cell", g_cell, de, c_enc, grads)
        return grads

    def _check_whole_sets(self, lengths, T):
        if self.encoder is not None and self.encoder.reads_set and (np.asarray(lengths) != T).any():
            raise ValueError(f"lengths must all be {T}: the {type(self.encoder).__name__} encoder reads the whole "
                             f"set (a max over its elements would see the padding), got lengths "
                             f"{np.unique(np.asarray(lengths)).tolist()}")

    def _windows(self, T):
        W = max(T, 1) if self.tbptt is None else self.tbptt
        return [(a, min(a + W, T)) for a in range(0, max(T, 1), W)]

    def _fold(self, cell_params, e, lengths):
        """(states (B, T, H), [cache per tbptt window]): each window starts from the previous
        window's last states (one window without tbptt)."""
        B, T = e.shape[:2]
        caches, parts = [], []
        for a, b in self._windows(T):
            initial = None if a == 0 else parts[-1][:, -1]
            part, cache = self.cell.unchecked_forward(cell_params, e[:, a:b], np.clip(lengths - a, 0, b - a),
                                                      backend=self.backend, initial=initial)
            parts.append(part)
            caches.append(cache)
        return (parts[0] if len(parts) == 1 else array_module(e).concatenate(parts, axis=1)), caches

    def _fold_backward(self, cell_params, caches, d_all):
        """(cell grads, de) of d_all (B, T, H): window by window; the gradient reaching a later
        window's initial state is dropped (truncated BPTT), the first window's goes to s0."""
        xp = array_module(d_all)
        grads = {k: xp.zeros_like(v) for k, v in cell_params.items()}
        des = []
        for (a, b), cache in zip(self._windows(d_all.shape[1]), caches):
            g, de, ds_initial = self.cell.unchecked_backward_rows(cell_params, cache, d_all[:, a:b])
            for k, v in g.items():
                grads[k] += v
            if a == 0:
                grads["s0"] += ds_initial.sum(axis=0)     # s0 was broadcast over the batch
            des.append(de)
        return grads, (None if des[0] is None else des[0] if len(des) == 1 else xp.concatenate(des, axis=1))

    def regularizer(self, params, x, lengths, rng, reg="sire", n_samples=32, estimator="subset",
                    forward_cache=None, defer_encoder=False):
        """RegularizerResult(value, grads, dx=, dstates=) of R_SIRE (Eq. 4.4) or R_SUB (Eq. 4.1) on the
        cell's states of encoded x. forward_cache: this batch's `forward` cache, whose encoded inputs
        (or folded weight) are reused; on the fast path a "prefix" SIRE also reads its states
        from it and returns dstates for `backward`. defer_encoder (with forward_cache): where the
        gradient would pass through the encoder, return it instead as dx = dR/de (B, T, E) on the
        encoded inputs, for `backward(..., dinputs=lambda dx)` to pass through the encoder together
        with the loss's (one encoder backward a step instead of two; grads then lack the encoder's
        part); dx is None otherwise."""
        lengths = check_lengths(lengths, x.shape[0], x.shape[1])
        self._check_whole_sets(lengths, x.shape[1])
        if reg not in ("sire", "sub"):
            raise ValueError(f"reg must be 'sire' or 'sub', got {reg!r}")
        if forward_cache is None:
            cell_params, e, c_enc = self._first_layer(params, "cell", x)
        else:
            c_enc, cell_params, e = forward_cache.enc, forward_cache.cell_params, forward_cache.inputs
        dstates = None
        need_dx = self.encoder is not None and not self.frozen and not self.shortcuts.fold_embedding
        if reg == "sub":
            out = sub(self.cell, cell_params, e, sample_sub(rng, lengths, n_samples), lengths, need_dx,
                      backend=self.backend)
        elif estimator == "prefix" and forward_cache is not None and self.shortcuts.states_from_forward:
            draw = sample_sire(rng, lengths, n_samples, estimator)
            out = sire_from_states(self.cell, cell_params, e, forward_cache.states, draw, lengths, need_dx,
                                   backend=self.backend)
            dstates = out.dstates
        else:
            draw = sample_sire(rng, lengths, n_samples, estimator)
            out = sire(self.cell, cell_params, e, draw, lengths, with_dx=need_dx, backend=self.backend)
        grads = self._zeros(params)
        if defer_encoder and forward_cache is not None and need_dx:
            add_into(grads, "cell", dict(out.grads))
            return RegularizerResult(out.value, grads, dx=out.dx, dstates=dstates)
        self._first_layer_backward(params, "cell", dict(out.grads), out.dx, c_enc, grads)
        return RegularizerResult(out.value, grads, dstates=dstates)


class DeepSets(_Encoded):
    """rho(sum_t phi(e_t)) (Eq. 1.1) with a length mask; phi ends in its activation."""

    def __init__(self, input_size, phi_sizes, out_size, activation="relu", encoder=None, rho=None, backend=None,
                 shortcuts=None):
        rho = Head(activation=activation) if rho is None else rho         # rho: phi's activation by default
        if isinstance(rho, Head) and (rho.input_dropout or rho.dropout):
            raise ValueError(f"DeepSets' rho takes no dropout, got {rho!r}")
        super().__init__(encoder, rho, backend, shortcuts)
        self.input_size, self.activation = input_size, activation
        self.phi_sizes = list(phi_sizes)
        self.rho_sizes = [self.phi_sizes[-1], *rho.hidden, out_size]

    def init(self, rng, dtype=np.float64):
        params = self._init_encoder(rng, dtype)
        params.update(prefixed("phi", mlp.init(self.phi_sizes, rng, dtype)))
        params.update(prefixed("rho", mlp.init(self.rho_sizes, rng, dtype)))
        return params

    def forward(self, params, x, lengths=None, train=False, rng=None):
        if not np.issubdtype(getattr(x, "dtype", np.float64), np.integer):
            check_array(x, "x", ndim=3)          # dense inputs: finite floats (B, T, I); tokens: the encoder's
        lengths = check_lengths(lengths, x.shape[0], x.shape[1])
        phi_params, e, c_enc = self._first_layer(params, "phi", x)
        h, c_phi = mlp.forward(phi_params, e, self.activation, final_activation=True)
        xp = array_module(h)
        mask = xp.asarray(np.arange(x.shape[1])[None, :, None] < lengths[:, None, None]).astype(h.dtype)
        y, c_rho = mlp.forward(take("rho", params), (h * mask).sum(axis=1), self.head.activation)
        return self.head.offset + self.head.scale * y, DeepSetsCache(c_enc, c_phi, c_rho, mask, phi_params,
                                                           remember(params, x))

    def backward(self, params, cache, dy, dstates=None):
        """Gradients of dy (N, out) on the outputs for every param (dstates: unused, no states).
        params and x must be those of the forward (checked)."""
        if not isinstance(cache, DeepSetsCache):
            raise TypeError(f"cache must be the cache DeepSets.forward returned, got {type(cache).__name__}")
        check_made_from(cache.made_from, params, f"{type(self).__name__}.backward")
        c_enc, c_phi, c_rho, mask, phi_params = cache[:5]
        grads = self._zeros(params)
        g_rho, dpooled = mlp.backward(take("rho", params), c_rho, self.head.scale * dy)
        add_into(grads, "rho", g_rho)
        g_phi, de = mlp.backward(phi_params, c_phi, dpooled[:, None, :] * mask)
        self._first_layer_backward(params, "phi", g_phi, de, c_enc, grads)
        return grads
