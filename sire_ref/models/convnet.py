r"""The CNN baseline of Section 6.5 (footnote 7): 2 convolution layers, then 2 fully connected.

    x (B, 784, 1) pixel sequence -> image (B, 1, 28, 28)
    -> conv 5x5 (channels[0], pad 2) -> relu -> max-pool 2   (B, channels[0], 14, 14)
    -> conv 5x5 (channels[1], pad 2) -> relu -> max-pool 2   (B, channels[1], 7, 7)
    -> flatten -> linear (hidden) -> relu -> dropout -> linear (10 logits)

The paper names only the layer counts; the widths are ours (the classic MNIST CNN's 32 / 64
channels and 1024 hidden units by default). It takes the same pixel sequences as the GRU (the
perturbed flattened digit, reshaped back to 28 x 28), so both read identical data, and it has
the model interface train() uses: init, forward(params, x, lengths, train, rng) -> (logits,
cache), backward(params, cache, dy) -> grads. Params "conv0.*", "conv1.*", "fc.0.*", "fc.1.*".

backend (base.backend): None or "numpy" run the reference layers (nn.conv, nn.pool: NCHW as PyTorch,
NumPy or CuPy); "numba" and "auto" on NumPy arrays run the conv blocks channels-last on the jitted
kernels (kernels.conv: im2col and col2im in loops, relu and max-pool fused), the same math to
round-off; "auto" on CuPy arrays runs the reference on the GPU.
"""
from typing import NamedTuple

import numpy as np

from ..base.backend import BACKENDS, array_module, resolve
from ..base.validate import check_lengths, check_made_from, remember
from ..nn import activations, conv, dropout, linear, mlp, pool
from ..nn.params import add_into, prefixed, take

SIDE, KERNEL = 28, 5


class ConvNetCache(NamedTuple):
    """forward's cache: whether the conv blocks ran on the kernels, their caches, the dropout
    cache, the fc caches (first linear, relu, last linear), and made_from (copies of params and
    x, and x) for backward's check."""
    fast: bool
    blocks: list
    drop: object
    fc: object
    made_from: tuple


class ConvNet:
    """2 conv + 2 fully connected layers on 28 x 28 digits (module docstring)."""

    def __init__(self, channels=(32, 64), hidden=1024, out_size=10, dropout_rate=0.5, backend=None):
        if len(channels) != 2:
            raise ValueError(f"channels must give the two conv layers' widths, got {channels!r}")
        if backend is not None and backend not in BACKENDS:
            raise ValueError(f"backend must be None or one of {BACKENDS}, got {backend!r}")
        self.backend = backend
        self.channels, self.hidden, self.out_size = tuple(channels), hidden, out_size
        self.dropout_rate = dropout_rate
        self.frozen = set()

    def init(self, rng, dtype=np.float64):
        params = {}
        for i, (c_in, c_out) in enumerate(zip((1,) + self.channels[:1], self.channels)):
            params.update(prefixed(f"conv{i}", conv.init(c_in, c_out, KERNEL, rng, dtype)))
        flat = self.channels[1] * (SIDE // 4) ** 2
        params.update(prefixed("fc", mlp.init([flat, self.hidden, self.out_size], rng, dtype)))
        return params

    def forward(self, params, x, lengths=None, train=False, rng=None):
        """logits (B, out_size) of pixel sequences x (B, 784, 1); lengths must be all 784."""
        if x.ndim != 3 or x.shape[1:] != (SIDE * SIDE, 1):
            raise ValueError(f"x must be (B, {SIDE * SIDE}, 1) pixel sequences, got shape {x.shape}")
        lengths = check_lengths(lengths, x.shape[0], x.shape[1])
        if (lengths != SIDE * SIDE).any():
            raise ValueError(f"ConvNet reads whole digits: every length must be {SIDE * SIDE}")
        fast = resolve(self.backend, x) == "numba"
        h, blocks = (_fast_blocks if fast else _reference_blocks)(params, x.reshape(x.shape[0], SIDE, SIDE))
        z, c_fc0 = linear.forward(take("fc.0", params), h)
        z, c_relu = activations.forward("relu", z)
        z, c_drop = dropout.forward(z, self.dropout_rate, rng, train)
        y, c_fc1 = linear.forward(take("fc.1", params), z)
        cache = ConvNetCache(fast, blocks, c_drop, (c_fc0, c_relu, c_fc1), remember(params, x))
        return y, cache

    def backward(self, params, cache, dy, dstates=None):
        """Gradients of dy (B, out_size) on the logits for every param (dstates: unused)."""
        if not isinstance(cache, ConvNetCache):
            raise TypeError(f"cache must be the cache ConvNet.forward returned, got {type(cache).__name__}")
        check_made_from(cache.made_from, params, "ConvNet.backward")
        xp = array_module(dy)
        grads = {k: xp.zeros_like(v) for k, v in params.items()}
        c_fc0, c_relu, c_fc1 = cache.fc
        g, dz = linear.backward(take("fc.1", params), c_fc1, dy)
        add_into(grads, "fc.1", g)
        dz = activations.backward("relu", c_relu, dropout.backward(cache.drop, dz))
        g, dh = linear.backward(take("fc.0", params), c_fc0, dz)
        add_into(grads, "fc.0", g)
        (_fast_blocks_backward if cache.fast else _reference_blocks_backward)(params, cache.blocks, dh, grads)
        return grads

    def regularizer(self, *args, **kwargs):
        raise ValueError("ConvNet has no recurrent states: R_SIRE and R_SUB apply to recurrent models "
                         "only (train it with reg='none')")


def _reference_blocks(params, image):
    """The two conv blocks on nn.conv / nn.pool (NCHW): image (B, 28, 28) -> (B, C 7 7) flattened
    in PyTorch's (C, H, W) order, and the blocks' caches."""
    h, blocks = image[:, None], []
    for i in range(2):
        h, c_conv = conv.forward(take(f"conv{i}", params), h, pad=KERNEL // 2)
        h, c_act = activations.forward("relu", h)
        h, c_pool = pool.forward(h)
        blocks.append((c_conv, c_act, c_pool))
    return h.reshape(h.shape[0], -1), blocks


def _reference_blocks_backward(params, blocks, d_flat, grads):
    """Adds the conv blocks' gradients of d_flat (B, C 7 7) into grads."""
    dh = d_flat.reshape(d_flat.shape[0], -1, SIDE // 4, SIDE // 4)
    for i in reversed(range(2)):
        c_conv, c_act, c_pool = blocks[i]
        dh = activations.backward("relu", c_act, pool.backward(c_pool, dh))
        g, dh = conv.backward(take(f"conv{i}", params), c_conv, dh, with_dx=i > 0)   # no dx for the image
        add_into(grads, f"conv{i}", g)


def _fast_blocks(params, image):
    """_reference_blocks on the kernels, channels-last (B, H, W, C) from the image to the flatten."""
    from ..kernels import conv as kernel
    h, blocks = image[..., None], []
    for i in range(2):
        h, c_block = kernel.block_forward(params[f"conv{i}.weight"], params[f"conv{i}.bias"], h, KERNEL // 2)
        blocks.append(c_block)
    return h.transpose(0, 3, 1, 2).reshape(h.shape[0], -1), blocks


def _fast_blocks_backward(params, blocks, d_flat, grads):
    """_reference_blocks_backward on the kernels."""
    from ..kernels import conv as kernel
    dh = d_flat.reshape(d_flat.shape[0], -1, SIDE // 4, SIDE // 4).transpose(0, 2, 3, 1)
    for i in reversed(range(2)):
        d_w, d_b, dh = kernel.block_backward(params[f"conv{i}.weight"], blocks[i], dh, KERNEL // 2, with_dx=i > 0)
        add_into(grads, f"conv{i}", {"weight": d_w, "bias": d_b})
