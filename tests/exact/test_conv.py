"""Convolution, max pooling and the CNN baseline (Section 6.5, footnote 7): gradients against
central differences (float64, rel < 1e-7, nonzero biases), the convolution against its
definition written as loops, and everything against PyTorch float64 where torch is installed."""
import numpy as np
import pytest

from sire_ref.models.convnet import ConvNet
from sire_ref.nn import activations, conv, pool
from sire_ref.tools.interop.torch import INSTALL as TORCH_INSTALL
from sire_ref.tools.testing import check_layer_gradients, nonzero_relative_error, numerical_gradient

TOL = 1e-7


@pytest.mark.parametrize("kernel,pad", [(3, 0), (3, 1), (5, 2), (2, 1)])
def test_conv_gradients(kernel, pad):
    rng = np.random.default_rng(kernel + 10 * pad)
    params = conv.init(2, 3, kernel, rng)
    x = rng.normal(size=(2, 2, 6, 5))                   # H != W: rows and columns kept apart
    check_layer_gradients(lambda p, a: conv.forward(p, a, pad), conv.backward, params, x, rng)


def test_conv_without_dx_gives_the_same_weight_gradients():
    rng = np.random.default_rng(9)
    params, x = conv.init(2, 3, 3, rng), rng.normal(size=(2, 2, 5, 4))
    y, cache = conv.forward(params, x, 1)
    dy = rng.normal(size=y.shape)
    (g1, dx), (g2, none) = conv.backward(params, cache, dy), conv.backward(params, cache, dy, with_dx=False)
    assert dx.shape == x.shape and none is None
    assert all(np.array_equal(g1[k], g2[k]) for k in g1)


def test_conv_matches_its_definition():
    """y[b,f,i,j] = bias[f] + sum_{c,u,v} weight[f,c,u,v] xpad[b,c,i+u,j+v], as loops."""
    rng = np.random.default_rng(3)
    params, x, pad = conv.init(2, 3, 3, rng), rng.normal(size=(2, 2, 5, 4)), 1
    y, _ = conv.forward(params, x, pad)
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    w, b = params["weight"], params["bias"]
    expected = np.empty_like(y)
    for n, f, i, j in np.ndindex(*y.shape):
        expected[n, f, i, j] = b[f] + (w[f] * xpad[n, :, i:i + 3, j:j + 3]).sum()
    assert np.abs(y - expected).max() < 1e-13


def test_pool_gradients_and_values():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 3, 4, 6))
    y, cache = pool.forward(x)
    assert np.array_equal(y, x.reshape(2, 3, 2, 2, 3, 2).max(axis=(3, 5)))
    check_layer_gradients(lambda p, a: pool.forward(a), lambda p, c, d: ({}, pool.backward(c, d)), {}, x, rng)


def test_pool_tie_goes_to_the_first_entry():
    """As PyTorch: on a tie the first entry in row-major order gets the whole gradient."""
    x = np.array([[[[1.0, 1.0], [1.0, 0.0]]]])
    _, cache = pool.forward(x)
    assert np.array_equal(pool.backward(cache, np.ones((1, 1, 1, 1))), [[[[1.0, 0.0], [0.0, 0.0]]]])


@pytest.mark.parametrize("bad,match", [((2, 3, 5, 4), "H and W even"), ((2, 4, 4), r"\(B, C, H, W\)")])
def test_pool_refuses_odd_or_flat_inputs(bad, match):
    with pytest.raises(ValueError, match=match):
        pool.forward(np.zeros(bad))


def test_conv_refuses_wrong_channels_and_too_small_inputs():
    params = conv.init(2, 3, 5, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"x must be \(B, 2, H, W\)"):
        conv.forward(params, np.zeros((1, 3, 8, 8)))
    with pytest.raises(ValueError, match="does not fit"):
        conv.forward(params, np.zeros((1, 2, 3, 3)))


def _small_net(rng, dropout_rate=0.0, backend=None):
    model = ConvNet(channels=(2, 3), hidden=5, dropout_rate=dropout_rate, backend=backend)
    return model, model.init(rng), rng.normal(size=(2, 784, 1))


@pytest.mark.parametrize("backend", [None, "numba"])
def test_convnet_gradients_against_finite_differences(backend):
    rng = np.random.default_rng(5)
    model, params, x = _small_net(rng, backend=backend)
    y, cache = model.forward(params, x)
    dy = rng.normal(size=y.shape)
    grads = model.backward(params, cache, dy)
    numeric = numerical_gradient(lambda a: float((model.forward(a, x)[0] * dy).sum()), params)
    for k in params:
        assert nonzero_relative_error(grads[k], numeric[k]) < TOL, k


def test_convnet_refuses_changed_params_and_partial_digits():
    rng = np.random.default_rng(6)
    model, params, x = _small_net(rng)
    y, cache = model.forward(params, x)
    params["conv0.bias"] += 1.0
    with pytest.raises(ValueError, match="conv0.bias"):
        model.backward(params, cache, np.ones_like(y))
    with pytest.raises(ValueError, match="every length must be 784"):
        model.forward(params, x, lengths=[784, 700])
    with pytest.raises(ValueError, match=r"\(B, 784, 1\)"):
        model.forward(params, x[:, :700])
    with pytest.raises(ValueError, match="no recurrent states"):
        model.regularizer(params, x, None, rng)


@pytest.mark.parametrize("backend", [None, "numba"])
def test_convnet_against_torch_float64(backend):
    """The same weights in torch (Conv2d, ReLU, MaxPool2d, Linear, dropout off): logits and every
    gradient to < 1e-12."""
    torch = pytest.importorskip("torch", reason=f"torch not installed: {TORCH_INSTALL}")
    F = torch.nn.functional
    rng = np.random.default_rng(7)
    model, params, x = _small_net(rng, backend=backend)
    y, cache = model.forward(params, x)
    dy = rng.normal(size=y.shape)
    grads = model.backward(params, cache, dy)
    t = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    h = torch.tensor(x).reshape(2, 1, 28, 28)
    for i in range(2):
        h = F.max_pool2d(F.relu(F.conv2d(h, t[f"conv{i}.weight"], t[f"conv{i}.bias"], padding=2)), 2)
    h = F.relu(F.linear(h.reshape(2, -1), t["fc.0.weight"], t["fc.0.bias"]))
    out = F.linear(h, t["fc.1.weight"], t["fc.1.bias"])
    (out * torch.tensor(dy)).sum().backward()
    assert nonzero_relative_error(y, out.detach().numpy()) < 1e-12
    for k in params:
        assert nonzero_relative_error(grads[k], t[k].grad.numpy()) < 1e-12, k


def test_convnet_gradients_with_dropout_mask():
    """In training mode the dropout mask (the same seed in every evaluation) scales the hidden
    layer; backward must scale its gradient the same way."""
    rng = np.random.default_rng(8)
    model, params, x = _small_net(rng, dropout_rate=0.4)

    def run(p):
        return model.forward(p, x, train=True, rng=np.random.default_rng(0))

    y, cache = run(params)
    assert cache.drop is not None and (cache.drop == 0).any()
    dy = rng.normal(size=y.shape)
    grads = model.backward(params, cache, dy)
    numeric = numerical_gradient(lambda a: float((run(a)[0] * dy).sum()), params)
    for k in params:
        assert nonzero_relative_error(grads[k], numeric[k]) < TOL, k


# kernels.conv's two backwards: ROUTED_CHANNELS 1 routes both layers, a huge one takes the dense way for both
BACKWARDS = pytest.mark.parametrize("routed_channels", [1, 10 ** 9], ids=["routed", "dense"])


@BACKWARDS
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_convnet_kernels_equal_the_reference(monkeypatch, dtype, tol, routed_channels):
    """The channels-last kernels (kernels.conv) against nn.conv / nn.pool at the quick preset's
    shape class: 5 images in chunks of 2 (a remainder chunk), nonzero biases, logits and every
    gradient; float32 against the float64 reference; each backward on both layers."""
    from sire_ref.kernels import conv as kernel
    monkeypatch.setattr(kernel, "CHUNK_BYTES", 2 * 28 * 28 * 25 * np.dtype(dtype).itemsize)
    monkeypatch.setattr(kernel, "ROUTED_CHANNELS", routed_channels)
    rng = np.random.default_rng(11)
    reference, fast = ConvNet((4, 6), 8, backend=None), ConvNet((4, 6), 8, backend="numba")
    params = {k: v + 0.05 for k, v in reference.init(rng).items()}        # nonzero biases
    x = rng.normal(size=(5, 784, 1))
    y, cache = reference.forward(params, x)
    dy = rng.normal(size=y.shape)
    grads = reference.backward(params, cache, dy)
    cast = {k: v.astype(dtype) for k, v in params.items()}
    y_fast, cache_fast = fast.forward(cast, x.astype(dtype))
    assert cache_fast.fast and not cache.fast
    grads_fast = fast.backward(cast, cache_fast, dy.astype(dtype))
    assert y_fast.dtype == dtype and nonzero_relative_error(y_fast, y) < tol
    for k in params:
        assert grads_fast[k].dtype == dtype and nonzero_relative_error(grads_fast[k], grads[k]) < tol, k


@BACKWARDS
@pytest.mark.parametrize("bias", [0.3, -0.3])
def test_conv_block_kernel_routes_ties_and_dead_windows_as_the_reference(monkeypatch, bias, routed_channels):
    """A constant image makes every interior pooling window a tie (the first entry wins, as
    PyTorch) and, with bias -0.3, windows dead (relu 0: no gradient); dx shows where each
    gradient went. kernels.conv's block (channels-last, each backward) against nn.conv, relu, nn.pool."""
    from sire_ref.kernels import conv as kernel
    monkeypatch.setattr(kernel, "ROUTED_CHANNELS", routed_channels)
    rng = np.random.default_rng(12)
    params = conv.init(3, 4, 3, rng)
    params["bias"][:] = bias
    x = np.full((2, 3, 8, 6), 0.5)
    y, c_conv = conv.forward(params, x, 1)
    a, c_act = activations.forward("relu", y)
    p, c_pool = pool.forward(a)
    dp = rng.normal(size=p.shape)
    grads, dx = conv.backward(params, c_conv, activations.backward("relu", c_act, pool.backward(c_pool, dp)))
    nhwc = (0, 2, 3, 1)
    p_fast, cache = kernel.block_forward(params["weight"], params["bias"], x.transpose(nhwc), 1)
    d_w, d_b, dx_fast = kernel.block_backward(params["weight"], cache, dp.transpose(nhwc), 1, with_dx=True)
    assert np.allclose(p_fast, p.transpose(nhwc), rtol=1e-13, atol=1e-15)
    assert np.allclose(dx_fast, dx.transpose(nhwc), rtol=1e-12, atol=1e-15)
    assert np.allclose(d_w, grads["weight"], rtol=1e-12) and np.allclose(d_b, grads["bias"], rtol=1e-12)


@pytest.mark.parametrize("channels", [1, 3, 4, 6])      # both sides of kernels.conv.ROW_CHANNELS
def test_im2col_is_the_windows_and_col2im_its_adjoint(channels):
    from sire_ref.kernels import conv as kernel
    rng = np.random.default_rng(13)
    x = rng.normal(size=(2, 6, 8, channels))
    cols = np.empty((2 * 6 * 8, 9 * channels))
    kernel.im2col(x, 3, 1, cols)
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(1, 2))   # (2, 6, 8, C, 3, 3)
    assert np.array_equal(cols, windows.transpose(0, 1, 2, 4, 5, 3).reshape(cols.shape))
    d_cols, dx = rng.normal(size=cols.shape), np.empty_like(x)
    kernel.col2im(d_cols, 3, 1, dx)
    assert np.isclose((dx * x).sum(), (d_cols * cols).sum(), rtol=1e-12)      # <col2im(d), x> = <d, im2col(x)>
