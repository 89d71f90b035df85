r"""Encoders e_t = enc(x_t) in front of a set model (the input side of Eq. 1.1 and Eq. 2.1).

    Embedding(vocab, dim, frozen): x (B, T) integer tokens in 0..vocab-1 -> e = E[x] (B, T, dim)
    MLP(sizes, activation):         x (B, T, sizes[0]) -> e (B, T, sizes[-1]), activation after
                                    every layer, the last included

A frozen encoder is not trained: its parameter names are in `frozen_names` and it
returns no gradient (the integer tasks' embedding is frozen, as in Janossy pooling).
Embedding.fold / unfold let the next layer read the tokens directly (the models' fast path).
Parameters live under the prefix "encoder." of the model's flat dict.
"""
import dataclasses

import numpy as np

from . import embedding, mlp
from .params import prefixed, take

ACTIVATIONS = ("tanh", "relu")


@dataclasses.dataclass(frozen=True)
class Embedding:
    """vocab V: number of tokens; dim D: embedding size; frozen: keep E at its U(-0.5, 0.5) init."""
    vocab: int
    dim: int
    frozen: bool = False

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

    def init(self, rng, dtype=np.float64):
        return prefixed("encoder", mlp.init(list(self.sizes), rng, dtype))

    def forward(self, params, x):
        return mlp.forward(take("encoder", params), x, self.activation, final_activation=True)

    def backward(self, params, cache, de):
        g, _ = mlp.backward(take("encoder", params), cache, de)
        return prefixed("encoder", g)
