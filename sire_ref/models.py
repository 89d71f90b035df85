r"""The two model families of the experiments, as params + forward/backward (no hidden state).

RecurrentSetModel:  e_t = enc(x_t);  s_T = f(s_0, e_1..e_T) (Eq. 2.2, the cell);  y = offset + scale * head(s_T)
DeepSets (Eq. 1.1): e_t = enc(x_t);  y = offset + scale * rho( sum_{t < length} phi(e_t) )

enc is the identity or an encoder of `sire_ref.nn.encoders` (Embedding of integer tokens,
MLP); head, phi and rho are MLPs. offset and scale are fixed constants (not learned): the
affine target rescaling of EXPERIMENT-NOTES.md for regression targets in the hundreds.
A model object holds only its configuration; params are a flat dict with names
"encoder.*", "cell.*", "head.*" / "phi.*", "rho.*". Names in `model.frozen` are not
trained (a frozen embedding). RecurrentSetModel(backend="numba") runs the cell's
sequence passes on the jitted kernels (sire_ref.kernels), same numbers to round-off.

forward(params, x, lengths, train=False, rng=None) -> (y (B, out), cache)
backward(params, cache, dy) -> grads (keys of params)
regularizer(params, x, lengths, rng, kind, n_samples, estimator) -> (value, grads)   (recurrent only)
"""
import numpy as np

from .backend import array_module
from .cells import get_cell
from .nn import dropout, mlp
from .nn.encoders import MLP, Embedding
from .nn.params import add_into, prefixed, take
from .regularizers import sire, sub
from .samples import sample_sire, sample_sub
from .validate import check_lengths


class _Encoded:
    """Shared front end: the optional encoder and the fixed output rescaling."""

    def __init__(self, encoder, offset, scale):
        if encoder is not None and not isinstance(encoder, (Embedding, MLP)):
            raise TypeError(f"encoder must be None, sire_ref.nn.encoders.Embedding(...) or "
                            f"sire_ref.nn.encoders.MLP(...), got {encoder!r}")
        self.encoder, self.offset, self.scale = encoder, float(offset), float(scale)
        self.frozen = set(encoder.frozen_names) if encoder is not None else set()

    def _init_encoder(self, rng, dtype):
        return {} if self.encoder is None else self.encoder.init(rng, dtype)

    def _encode(self, params, x):
        return (x, None) if self.encoder is None else self.encoder.forward(params, x)

    def _encode_backward(self, params, cache, de, grads):
        if self.encoder is not None:
            for k, g in self.encoder.backward(params, cache, de).items():
                grads[k] += g

    def _zeros(self, params):
        xp = array_module(*params.values())
        return {k: xp.zeros_like(v) for k, v in params.items()}


class RecurrentSetModel(_Encoded):
    """encoder -> rnn/gru cell -> MLP head on each sequence's final state."""

    def __init__(self, input_size, hidden_size, out_size, cell="rnn", head_hidden=(), encoder=None,
                 head_activation="tanh", state_dropout=0.0, offset=0.0, scale=1.0, backend=None):
        super().__init__(encoder, offset, scale)
        self.cell, self.backend = get_cell(cell), backend     # backend: the cell's compute backend
        self.input_size, self.hidden_size, self.out_size = input_size, hidden_size, out_size
        self.head_sizes = [hidden_size, *head_hidden, out_size]
        self.head_activation, self.state_dropout = head_activation, state_dropout

    def init(self, rng, dtype=np.float64):
        params = self._init_encoder(rng, dtype)
        cell_in = self.input_size if self.encoder is None else self.encoder.out_size
        params.update(prefixed("cell", self.cell.init_params(cell_in, self.hidden_size, rng, dtype)))
        params.update(prefixed("head", mlp.init(self.head_sizes, rng, dtype)))
        return params

    def forward(self, params, x, lengths=None, train=False, rng=None):
        e, c_enc = self._encode(params, x)
        states, c_cell = self.cell.forward(take("cell", params), e, lengths, backend=self.backend)
        s, c_drop = dropout.forward(states[:, -1], self.state_dropout, rng, train)
        y, c_head = mlp.forward(take("head", params), s, self.head_activation)
        return self.offset + self.scale * y, (c_enc, c_cell, c_drop, c_head, states.shape)

    def backward(self, params, cache, dy):
        c_enc, c_cell, c_drop, c_head, shape = cache
        grads = self._zeros(params)
        g_head, ds = mlp.backward(take("head", params), c_head, self.scale * dy)
        add_into(grads, "head", g_head)
        dstates = array_module(ds).zeros(shape, dtype=ds.dtype)
        dstates[:, -1] = dropout.backward(c_drop, ds)
        g_cell, de = self.cell.backward(take("cell", params), c_cell, dstates)
        add_into(grads, "cell", g_cell)
        self._encode_backward(params, c_enc, de, grads)
        return grads

    def regularizer(self, params, x, lengths, rng, kind="sire", n_samples=32, estimator="subset"):
        """(value, grads) of R_SIRE (Eq. 4.4) or R_SUB (Eq. 4.1) on the cell's states of encoded x."""
        lengths = check_lengths(lengths, x.shape[0], x.shape[1])
        e, c_enc = self._encode(params, x)
        need_dx = self.encoder is not None and not self.frozen   # dx only feeds a trainable encoder
        if kind == "sire":
            draw = sample_sire(rng, lengths, n_samples, estimator)
            out = sire(self.cell, take("cell", params), e, draw, with_dx=need_dx, backend=self.backend)
        elif kind == "sub":
            out = sub(self.cell, take("cell", params), e, sample_sub(rng, lengths, n_samples),
                      with_dx=need_dx, backend=self.backend)
        else:
            raise ValueError(f"kind must be 'sire' or 'sub', got {kind!r}")
        grads = self._zeros(params)
        add_into(grads, "cell", out.grads)
        if need_dx:
            self._encode_backward(params, c_enc, out.dx, grads)
        return out.value, grads


class DeepSets(_Encoded):
    """rho(sum_t phi(e_t)) (Eq. 1.1) with a length mask; phi ends in its activation."""

    def __init__(self, input_size, phi_sizes, rho_hidden, out_size, activation="relu", encoder=None,
                 offset=0.0, scale=1.0):
        super().__init__(encoder, offset, scale)
        self.input_size, self.activation = input_size, activation
        self.phi_sizes = list(phi_sizes)
        self.rho_sizes = [self.phi_sizes[-1], *rho_hidden, out_size]

    def init(self, rng, dtype=np.float64):
        params = self._init_encoder(rng, dtype)
        params.update(prefixed("phi", mlp.init(self.phi_sizes, rng, dtype)))
        params.update(prefixed("rho", mlp.init(self.rho_sizes, rng, dtype)))
        return params

    def forward(self, params, x, lengths=None, train=False, rng=None):
        lengths = check_lengths(lengths, x.shape[0], x.shape[1])
        e, c_enc = self._encode(params, x)
        xp = array_module(e)
        mask = xp.asarray(np.arange(x.shape[1])[None, :, None] < lengths[:, None, None]).astype(e.dtype)
        h, c_phi = mlp.forward(take("phi", params), e, self.activation, final_activation=True)
        y, c_rho = mlp.forward(take("rho", params), (h * mask).sum(axis=1), self.activation)
        return self.offset + self.scale * y, (c_enc, c_phi, c_rho, mask)

    def backward(self, params, cache, dy):
        c_enc, c_phi, c_rho, mask = cache
        grads = self._zeros(params)
        g_rho, dpooled = mlp.backward(take("rho", params), c_rho, self.scale * dy)
        add_into(grads, "rho", g_rho)
        g_phi, de = mlp.backward(take("phi", params), c_phi, dpooled[:, None, :] * mask)
        add_into(grads, "phi", g_phi)
        self._encode_backward(params, c_enc, de, grads)
        return grads
