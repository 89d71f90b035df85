r"""Encoders e_t = enc(x_t) in front of a set model (the input side of Eq. 1.1 and Eq. 2.1).

    Embedding(vocab, dim, frozen): x (B, T) integer tokens in 0..vocab-1 -> e = E[x] (B, T, dim)
    MLP(sizes, activation):         x (B, T, sizes[0]) -> e (B, T, sizes[-1]), activation after
                                    every layer, the last included
    Equivariant(sizes, activation): x (B, N, sizes[0]) -> e (B, N, sizes[-1]), layers
                                    h <- act(Gamma_l(h - max_n h)) (nn.equivariant): DeepSets'
                                    point-cloud phi, which sees the whole set (reads_set)

A frozen encoder is not trained: its parameter names are in `frozen_names` and it
returns no gradient (the integer tasks' embedding is frozen, as in Janossy pooling).
Embedding.fold / unfold let the next layer read the tokens directly (the models' fast path).
Parameters live under the prefix "encoder." of the model's flat dict.
"""
import dataclasses

import numpy as np

from . import activations, embedding, equivariant, mlp
from .params import prefixed, take

ACTIVATIONS = ("tanh", "relu")


@dataclasses.dataclass(frozen=True)
class Embedding:
    """vocab V: number of tokens; dim D: embedding size; frozen: keep E at its U(-0.5, 0.5) init."""
    vocab: int
    dim: int
    frozen: bool = False

    reads_set = False          # e_t depends on x_t alone

    @property
    def out_size(self):
        return self.dim

    @property
    def frozen_names(self):
        return {"encoder.weight"} if self.frozen else set()

    def init(self, rng, dtype=np.float64):
        return prefixed("encoder", embedding.init(self.vocab, self.dim, rng, dtype))

    def forward(self, params, x):
        return embedding.forward(take("encoder", params), x)

    def backward(self, params, cache, de):
        """{"weight": dE} under the encoder prefix (empty when frozen: no work is done)."""
        if self.frozen:
            return {}
        g, _ = embedding.backward(take("encoder", params), cache, de)
        return prefixed("encoder", g)

    def fold(self, params, weight):
        """W' = W E^T (O, V) for the layer W (O, D) after the embedding: that layer then reads
        the tokens as one-hot rows (nn.inputs), E[x] W^T = e_x W'^T, with no product per token."""
        return weight @ params["encoder.weight"].T

    def unfold(self, params, weight, d_folded):
        """(dW (O, D), encoder grads) from dW' of the folded layer: dW = dW' E, dE = dW'^T W."""
        E = params["encoder.weight"]
        return d_folded @ E, ({} if self.frozen else {"encoder.weight": d_folded.T @ weight})


@dataclasses.dataclass(frozen=True)
class MLP:
    """sizes: [in, h_1, ..., out] with the activation after every layer (the last included)."""
    sizes: tuple
    activation: str = "tanh"

    def __post_init__(self):
        if len(self.sizes) < 2 or self.activation not in ACTIVATIONS:
            raise ValueError(f"MLP encoder needs sizes [in, ..., out] and activation in {ACTIVATIONS}, "
                             f"got sizes={self.sizes!r}, activation={self.activation!r}")
        object.__setattr__(self, "sizes", tuple(self.sizes))

    @property
    def out_size(self):
        return self.sizes[-1]

    frozen_names = frozenset()
    reads_set = False          # e_t depends on x_t alone

    def init(self, rng, dtype=np.float64):
        return prefixed("encoder", mlp.init(list(self.sizes), rng, dtype))

    def forward(self, params, x):
        return mlp.forward(take("encoder", params), x, self.activation, final_activation=True)

    def backward(self, params, cache, de):
        g, _ = mlp.backward(take("encoder", params), cache, de)
        return prefixed("encoder", g)


@dataclasses.dataclass(frozen=True)
class Equivariant(MLP):
    """sizes: [in, h_1, ..., out]; layer l: h <- act(Gamma_l(h - max over the set of h)), the
    permutation-equivariant phi of DeepSets' point-cloud model, which the authors' code puts in
    front of its GRU too. e_t depends on the whole set (reads_set): permuting the set permutes
    e the same way, so R_SIRE on e is R_SIRE on the set. A model using it must read whole sets
    (every length = T): the max would otherwise see padding."""
    reads_set = True

    def forward(self, params, x, max_over_set=None):
        """max_over_set: as nn.setpool.forward's (the model passes its numba pass on the CPU)."""
        h, caches = x, []
        for i in range(len(self.sizes) - 1):
            h, c_eq = equivariant.forward(take(f"encoder.{i}", params), h, max_over_set)
            h, c_act = activations.forward(self.activation, h)
            caches.append((c_eq, c_act))
        return h, caches

    def backward(self, params, cache, de, tanh_grad_and_set_sum=None):
        """tanh_grad_and_set_sum: as nn.equivariant.backward_through's (the model passes its numba pass)."""
        grads, d = {}, de
        for i in reversed(range(len(cache))):
            c_eq, c_act = cache[i]
            g, d = equivariant.backward_through(self.activation, take(f"encoder.{i}", params), c_eq, c_act, d,
                                                need_dx=i > 0, tanh_grad_and_set_sum=tanh_grad_and_set_sum)
            grads.update(prefixed(f"encoder.{i}", g))
        return grads
