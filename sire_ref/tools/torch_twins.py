r"""The experiments' models, optimizer and regularizers written as a PyTorch user would, for the bench.

`twin(model, params)` builds a torch nn.Module holding exactly our parameters (same names
and shapes; float dtype of params) for a RecurrentSetModel, DeepSets, the CNN baseline
(convnet.ConvNet: F.conv2d, F.max_pool2d) or the point-cloud DeepSets (pointsets: max-subtracted
linear layers, max pooling), dropout in training mode; `objective(...)`
is one training step's loss: the task loss plus lambda times R_SIRE (Eq. 4.4) or R_SUB
(Eq. 4.1) on a draw from sire_ref.core.samples, batched the way PyTorch code is usually written:

    SIRE "subset": the gathered subsets x_S run through nn.GRU / nn.RNN (a packed sequence, its
                   final state; s0 where |S| = 0), then two cell steps per order;
    SIRE "prefix": s is the forward pass's own state at position t - 1 (no second fold);
    SUB:           both orders of every subset run as one packed batch of 2N sequences.
Independent of sire_ref's backward code: autograd differentiates it. Used by
`python -m sire_ref bench --experiments` (speed) and by tests (same loss as ours).
"""
import numpy as np

from ..models.convnet import ConvNet
from ..models.pointsets import EquivariantDeepSets
from .interop.torch import require as require_torch


def twin(model, params):
    """A torch module with our parameters: forward(x, lengths) -> (y (B, out), states or None)."""
    torch = require_torch()
    nn = torch.nn
    dtype = getattr(torch, np.dtype(params[next(iter(params))].dtype).name)

    def tensor(a):
        return nn.Parameter(torch.tensor(np.asarray(a), dtype=dtype))

    class Twin(nn.Module):
        def __init__(self):
            super().__init__()
            self.ours = {k.replace(".", "_"): k for k in params}
            for k, v in params.items():
                self.register_parameter(k.replace(".", "_"), tensor(v))
            if "encoder.weight" in params and "encoder.weight" in model.frozen:
                self.encoder_weight.requires_grad_(False)
            self.recurrent = hasattr(model, "cell")
            self.image = isinstance(model, ConvNet)
            self.points = isinstance(model, EquivariantDeepSets)
            if self.recurrent:
                H = params["cell.s0"].shape[0]
                kind = model.cell.name
                I = params["cell.weight_ih"].shape[1]
                self.rnn = {"rnn": nn.RNN, "gru": nn.GRU}[kind](I, H, batch_first=True, dtype=dtype)
                self.step = {"rnn": nn.RNNCell, "gru": nn.GRUCell}[kind](I, H, dtype=dtype)
                for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):   # one set of weights
                    setattr(self.rnn, f"{k}_l0", getattr(self, f"cell_{k}"))
                    setattr(self.step, k, getattr(self, f"cell_{k}"))

        def mlp(self, prefix, h, act, final, drop=0.0, equivariant=False):
            n = len({k.split(".")[1] for k in params if k.startswith(prefix + ".")})
            for i in range(n):
                if i > 0:
                    h = torch.nn.functional.dropout(h, drop, training=self.training)
                if equivariant:                   # Gamma(h - max over the set)
                    h = h - h.max(1, keepdim=True)[0]
                h = h @ getattr(self, f"{prefix}_{i}_weight").T + getattr(self, f"{prefix}_{i}_bias")
                if i < n - 1 or final:
                    h = torch.tanh(h) if act == "tanh" else torch.relu(h)
            return h

        def encode(self, x):
            if model.encoder is None:
                return x
            if hasattr(model.encoder, "vocab"):
                return self.encoder_weight[x]
            return self.mlp("encoder", x, model.encoder.activation, True, equivariant=model.encoder.reads_set)

        def fold(self, e):
            """All states (B, T, H) of e (B, T, I) from s0."""
            h0 = self.cell_s0.expand(1, e.shape[0], -1).contiguous()
            return self.rnn(e, h0)[0]

        def cnn(self, x):
            F = torch.nn.functional
            h = x.reshape(x.shape[0], 1, 28, 28)
            for i in range(2):
                h = F.conv2d(h, getattr(self, f"conv{i}_weight"), getattr(self, f"conv{i}_bias"), padding=2)
                h = F.max_pool2d(F.relu(h), 2)
            h = F.relu(F.linear(h.reshape(h.shape[0], -1), self.fc_0_weight, self.fc_0_bias))
            h = F.dropout(h, model.dropout_rate, training=self.training)
            return F.linear(h, self.fc_1_weight, self.fc_1_bias), None, x

        def point_deepsets(self, x):
            F = torch.nn.functional
            h = x
            for i in range(model.layers):      # Gamma(h - max over the set), tanh
                h = torch.tanh(F.linear(h - h.max(1, keepdim=True)[0], getattr(self, f"phi_{i}_weight"),
                                        getattr(self, f"phi_{i}_bias")))
            h = F.dropout(h.max(1)[0], model.dropout_rate, training=self.training)
            h = F.dropout(torch.tanh(F.linear(h, self.rho_0_weight, self.rho_0_bias)), model.dropout_rate,
                          training=self.training)
            return F.linear(h, self.rho_1_weight, self.rho_1_bias), None, x

        def forward(self, x, lengths):
            if self.image:
                return self.cnn(x)
            if self.points:
                return self.point_deepsets(x)
            e = self.encode(x)
            L = torch.as_tensor(lengths)
            if self.recurrent:
                states = self.fold(e)
                s = states[torch.arange(e.shape[0]), L - 1]
                s = torch.nn.functional.dropout(s, model.head.input_dropout, training=self.training)
                y = self.mlp("head", s, model.head.activation, False, drop=model.head.dropout)
            else:
                mask = (torch.arange(e.shape[1])[None, :] < L[:, None]).to(e.dtype)[:, :, None]
                h = self.mlp("phi", e, model.activation, True)
                y = self.mlp("rho", (h * mask).sum(1), model.head.activation, False)
                states = None
            return model.head.offset + model.head.scale * y, states, e

    return Twin()


def _final(module, e_rows, size):
    """Fold each row of e_rows (N, K, I) over its first size[n] inputs; s0 where size is 0. The
    rows of unequal lengths go through nn.GRU / nn.RNN as a packed sequence, so that no step is
    spent on padding (as sire_ref's kernels skip ended rows)."""
    torch = require_torch()
    s0 = module.cell_s0.expand(e_rows.shape[0], -1)
    size = torch.as_tensor(size)
    rows = torch.nonzero(size > 0).flatten()
    if rows.numel() == 0:
        return s0
    packed = torch.nn.utils.rnn.pack_padded_sequence(e_rows[rows], size[rows], batch_first=True,
                                                     enforce_sorted=False)
    _, last = module.rnn(packed, module.cell_s0.expand(1, rows.numel(), -1).contiguous())
    return s0.index_copy(0, rows, last[0])


def sire(module, e, states, draw, estimator):
    """R_SIRE (Eq. 4.4) on the draw; `states` are the forward pass's (used by "prefix")."""
    torch = require_torch()
    seq = torch.as_tensor(draw["seq"])
    if estimator == "prefix" and states is not None:
        size = torch.as_tensor(draw["size"])
        s = torch.where((size > 0)[:, None], states[seq, (size - 1).clamp(min=0)],
                        module.cell_s0.expand(len(seq), -1))
    else:
        pos = torch.as_tensor(np.maximum(draw["subset"], 0))
        s = _final(module, e[seq[:, None], pos], draw["size"])
    x_a, x_c = e[seq, torch.as_tensor(draw["a"])], e[seq, torch.as_tensor(draw["c"])]
    diff = module.step(x_c, module.step(x_a, s)) - module.step(x_a, module.step(x_c, s))
    return (diff * diff).sum(1).mean()


def sub(module, e, draw):
    """R_SUB (Eq. 4.1): both orders of every subset as one packed batch."""
    torch = require_torch()
    N = len(draw["seq"])
    rows = np.arange(N)[:, None]
    orders = [np.where(p >= 0, draw["subset"][rows, np.maximum(p, 0)], 0) for p in (draw["p"], draw["q"])]
    seq = torch.as_tensor(np.concatenate([draw["seq"]] * 2))
    final = _final(module, e[seq[:, None], torch.as_tensor(np.concatenate(orders))],
                   np.concatenate([draw["size"]] * 2))
    diff = final[:N] - final[N:]
    return (diff * diff).sum(1).mean()


LOSSES = {"l1": lambda p, y: (p - y).abs().mean(),
          "bce": lambda p, y: require_torch().nn.functional.binary_cross_entropy_with_logits(p, y),
          "ce": lambda p, y: require_torch().nn.functional.cross_entropy(p, y)}


def objective(module, x, lengths, y, config, draw=None):
    """Task loss + config.lam * R of one minibatch (the regularizer on the given draw)."""
    torch = require_torch()
    out, states, e = module(x, lengths)
    value = LOSSES[config.loss](out if config.loss == "ce" else out[:, 0], y)
    if config.reg == "sire" and config.lam > 0:
        value = value + config.lam * sire(module, e, states, draw, config.estimator)
    elif config.reg == "sub" and config.lam > 0:
        value = value + config.lam * sub(module, e, draw)
    return value if isinstance(value, torch.Tensor) else torch.as_tensor(value)
