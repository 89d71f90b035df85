r"""numba twins of a conv block of `nn.conv`, relu and `nn.pool` for the CNN baseline on the CPU.

The block is conv 5x5 -> relu -> max-pool 2, on images laid out channels-last (B, H, W, C), so
that the columns, the product and the pooling read memory in the order it is stored, with no
transposes between layers. The math is `nn.conv`'s and `nn.pool`'s (held equal to them by
tests/exact/test_conv.py):

    cols[(b, i, j), (u, v, c)] = xpad[b, i + u, j + v, c]          im2col of the zero-padded x
    y = cols W^T                                                   one GEMM (W: weight as (F, k k C))
    p[b, i, j, f] = max(0, max_{2x2 window} (y + bias)[b, 2i.., 2j.., f])     relu, bias, pool fused
    winner[b, i, j, f] = the window's first maximum (row-major), as PyTorch's MaxPool2d

relu(maxpool(y)) = maxpool(relu(y)) as relu is monotone, and the gradient agrees: it reaches the
winner only where the pooled value is > 0 (relu's gradient at 0 is 0). The forward runs the batch
in chunks of a few images, so that each chunk's columns (k k times the chunk's pixels) stay in cache
from im2col through the product and the pooling (measured: the whole-batch columns, 20 MB at the
quick preset, made the step memory-bound and 30% slower).

The backward has two ways to the same sums. After relu and the pool, dy = d(loss)/dy is nonzero only
at the winners of live windows (p > 0), at most one conv output in four (the windows do not overlap).
With (r, s) = the winner of window (b, i, j, f):

    dW[f, u, v, c] = sum_{b, i, j: p > 0} dp[b, i, j, f] xpad[b, r + u, s + v, c]
    dxpad[b, r + u, s + v, c] += dp[b, i, j, f] W[f, u, v, c]           db[f] = sum_{p > 0} dp

- routed (C >= ROUTED_CHANNELS, `_routed_backward`): these sums as written, one live window at a
  time, each a few loops over k C contiguous values; no dy, no columns, no col2im, and at most a
  quarter of the dense products' FLOPs.
- dense (fewer channels): per chunk dy from the pool, dW += dy^T cols (cols recomputed rather than
  storing k k copies of the input), dx = col2im(dy W). With one input channel a window row is only
  k values, too short for the routed loops (measured slower there).
"""
import numpy as np
from numba import njit

from ..nn.conv import weight_matrix

CHUNK_BYTES = 1 << 20    # a chunk's columns fit in a 1 MB L2
ROW_CHANNELS = 4         # below this many channels im2col copies a window's rows whole (_windows)
ROUTED_CHANNELS = 4      # from this many input channels block_backward routes each live gradient


@njit(cache=True)
def _windows(xpad, cols, k, adjoint):
    """cols[b, i, j, u, v, c] = xpad[b, i + u, j + v, c] for every output pixel's k x k window, or
    (adjoint) xpad[b, i + u, j + v, c] += cols[b, i, j, u, v, c]; cols as (n, Ho, Wo, k, k, C).
    With few channels (C < ROW_CHANNELS) the k pixels of a window's row are k C contiguous values in
    both, copied by one loop that vectorizes (_window_rows: 2-4x faster for the first layer's single
    channel); with more, the loop over each pixel's channels is the faster one (measured)."""
    n, Ho, Wo, C = cols.shape[0], cols.shape[1], cols.shape[2], cols.shape[5]
    if C < ROW_CHANNELS:
        _window_rows(xpad.reshape(xpad.shape[0], xpad.shape[1], -1), cols.reshape(n, Ho, Wo, k, k * C), C, adjoint)
        return
    for b in range(n):
        for i in range(Ho):
            for j in range(Wo):
                for u in range(k):
                    for v in range(k):
                        if adjoint:
                            for c in range(C):
                                xpad[b, i + u, j + v, c] += cols[b, i, j, u, v, c]
                        else:
                            for c in range(C):
                                cols[b, i, j, u, v, c] = xpad[b, i + u, j + v, c]


@njit(cache=True)
def _window_rows(xrows, rows, C, adjoint):
    """_windows with each window row whole: rows[b, i, j, u, m] = xrows[b, i + u, j C + m], m < k C."""
    n, Ho, Wo, k, kC = rows.shape
    for b in range(n):
        for i in range(Ho):
            for j in range(Wo):
                for u in range(k):
                    if adjoint:
                        for m in range(kC):
                            xrows[b, i + u, j * C + m] += rows[b, i, j, u, m]
                    else:
                        for m in range(kC):
                            rows[b, i, j, u, m] = xrows[b, i + u, j * C + m]


@njit(cache=True)
def im2col(x, k, pad, cols):
    """cols (n Ho Wo, k k C) of x (n, H, W, C): the k x k window at each output pixel of the
    zero-padded x (one padded copy, then branch-free loops: 20% faster than bounds tests)."""
    n, H, W, C = x.shape
    xpad = np.zeros((n, H + 2 * pad, W + 2 * pad, C), x.dtype)
    xpad[:, pad:pad + H, pad:pad + W] = x
    _windows(xpad, cols.reshape(n, H + 2 * pad - k + 1, W + 2 * pad - k + 1, k, k, C), k, False)


@njit(cache=True)
def col2im(d_cols, k, pad, dx):
    """dx (n, H, W, C) = im2col's adjoint of d_cols (n Ho Wo, k k C): each column entry's gradient
    added back to the pixel it was read from (into a padded dx, whose border is then dropped)."""
    n, H, W, C = dx.shape
    dxpad = np.zeros((n, H + 2 * pad, W + 2 * pad, C), dx.dtype)
    _windows(dxpad, d_cols.reshape(n, H + 2 * pad - k + 1, W + 2 * pad - k + 1, k, k, C), k, True)
    dx[:] = dxpad[:, pad:pad + H, pad:pad + W]


@njit(cache=True)
def bias_relu_pool(y, bias, p, winner):
    """p (n, H/2, W/2, F) = max(0, window max of y + bias), winner (same shape, int8 0..3) its
    first maximum in row-major order, of y (n, H, W, F) without the bias."""
    n, H, W, F = y.shape
    for b in range(n):
        for i in range(H // 2):
            for j in range(W // 2):
                for f in range(F):
                    best, at = y[b, 2 * i, 2 * j, f] + bias[f], 0
                    for q in range(1, 4):
                        val = y[b, 2 * i + q // 2, 2 * j + q % 2, f] + bias[f]
                        if val > best:
                            best, at = val, q
                    p[b, i, j, f] = best if best > 0 else 0
                    winner[b, i, j, f] = at


@njit(cache=True)
def bias_relu_pool_backward(dp, p, winner, dy, d_bias):
    """dy (n, H, W, F) = dp (n, H/2, W/2, F) routed to each window's winner where p > 0, zeros
    elsewhere; d_bias (F,) += the routed dp (the bias's gradient is the sum of dy)."""
    n, Hp, Wp, F = dp.shape
    dy[:] = 0
    for b in range(n):
        for i in range(Hp):
            for j in range(Wp):
                for f in range(F):
                    if p[b, i, j, f] > 0:
                        q = winner[b, i, j, f]
                        dy[b, 2 * i + q // 2, 2 * j + q % 2, f] = dp[b, i, j, f]
                        d_bias[f] += dp[b, i, j, f]


def _chunks(x, k, pad):
    """(chunk size in images, Ho, Wo) for x (B, H, W, C): as many images as fit CHUNK_BYTES of columns."""
    B, H, W, C = x.shape
    Ho, Wo = H + 2 * pad - k + 1, W + 2 * pad - k + 1
    if Ho % 2 or Wo % 2:
        raise ValueError(f"the pool needs an even conv output, got {Ho} x {Wo} from x of shape {x.shape}")
    return max(1, CHUNK_BYTES // (Ho * Wo * k * k * C * x.itemsize)), Ho, Wo


def block_forward(weight, bias, x, pad):
    """p (B, Ho/2, Wo/2, F) = pool(relu(conv(x) + bias)) of x (B, H, W, C), weight (F, C, k, k) as
    PyTorch's; the cache (x, p, winner) for block_backward."""
    F, k = weight.shape[0], weight.shape[2]
    x = np.ascontiguousarray(x)
    chunk, Ho, Wo = _chunks(x, k, pad)
    w_t = np.ascontiguousarray(weight_matrix(weight).T)
    p = np.empty((x.shape[0], Ho // 2, Wo // 2, F), x.dtype)
    winner = np.empty(p.shape, np.int8)
    cols = np.empty((chunk * Ho * Wo, w_t.shape[0]), x.dtype)
    y = np.empty((chunk * Ho * Wo, F), x.dtype)
    for s in range(0, x.shape[0], chunk):
        n = min(chunk, x.shape[0] - s)
        c, yc = cols[:n * Ho * Wo], y[:n * Ho * Wo]
        im2col(x[s:s + n], k, pad, c)
        np.matmul(c, w_t, out=yc)
        bias_relu_pool(yc.reshape(n, Ho, Wo, F), bias, p[s:s + n], winner[s:s + n])
    return p, (x, p, winner)


def block_backward(weight, cache, dp, pad, with_dx):
    """(d_weight (F, C, k, k), d_bias (F,), dx (B, H, W, C) or None) of dp (B, Ho/2, Wo/2, F):
    routed with C >= ROUTED_CHANNELS, else dense (module docstring)."""
    x, p, winner = cache
    F, C, k = weight.shape[0], weight.shape[1], weight.shape[2]
    dp = np.ascontiguousarray(dp)
    if C >= ROUTED_CHANNELS:
        w_rows = np.ascontiguousarray(weight_matrix(weight)).reshape(F, k, k * C)
        d_w, d_bias = np.zeros(w_rows.shape, x.dtype), np.zeros(F, x.dtype)
        dx = np.empty(x.shape if with_dx else (0,) + x.shape[1:], x.dtype)
        _routed_backward(x, w_rows, dp, p, winner, pad, d_w, d_bias, dx, with_dx)
        return d_w.reshape(F, k, k, C).transpose(0, 3, 1, 2), d_bias, (dx if with_dx else None)
    return _dense_backward(weight, x, p, winner, dp, pad, with_dx)


@njit(cache=True, inline="always")
def _axpy(a, x, y):
    """y += a x over 1-D arrays of one length: one loop writing one array, which vectorizes."""
    for m in range(x.shape[0]):
        y[m] += a * x[m]


@njit(cache=True)
def _routed_backward(x, w_rows, dp, p, winner, pad, d_w, d_bias, dx, with_dx):
    """The routed backward (module docstring) into d_w (F, k, k C), d_bias (F,) and, with with_dx,
    dx (n, H, W, C); w_rows is the weight as (F, k, k C). One padded image at a time, its rows flat
    (H + 2 pad, (W + 2 pad) C), so that window row u of the output pixel (r, s) is the k C contiguous
    values from (r + u, s C); filter by filter, so that d_w[f] stays in L1 (measured 1.2-1.4x faster
    than the pixel-outer order at 16 and 32 channels)."""
    n, H, W, C = x.shape
    Hp, Wp, F = dp.shape[1], dp.shape[2], dp.shape[3]
    k, kC = w_rows.shape[1], w_rows.shape[2]
    xrows = np.zeros((H + 2 * pad, (W + 2 * pad) * C), x.dtype)
    dxrows = np.zeros(xrows.shape, x.dtype)
    for b in range(n):
        xrows[pad:pad + H, pad * C:(pad + W) * C] = x[b].reshape(H, W * C)
        if with_dx:
            dxrows[:] = 0
        for f in range(F):
            for i in range(Hp):
                for j in range(Wp):
                    if p[b, i, j, f] > 0:
                        g, q = dp[b, i, j, f], winner[b, i, j, f]
                        r, s = 2 * i + q // 2, (2 * j + q % 2) * C
                        d_bias[f] += g
                        for u in range(k):
                            _axpy(g, xrows[r + u, s:s + kC], d_w[f, u])
                            if with_dx:
                                _axpy(g, w_rows[f, u], dxrows[r + u, s:s + kC])
        if with_dx:
            dx[b].reshape(H, W * C)[:] = dxrows[pad:pad + H, pad * C:(pad + W) * C]


def _dense_backward(weight, x, p, winner, dp, pad, with_dx):
    """The dense backward (module docstring), per chunk of images: dy from the pool, dW += dy^T cols
    (cols recomputed), dx = col2im(dy W)."""
    F, C, k = weight.shape[0], weight.shape[1], weight.shape[2]
    chunk, Ho, Wo = _chunks(x, k, pad)
    w = np.ascontiguousarray(weight_matrix(weight))
    d_w, d_bias = np.zeros(w.shape, x.dtype), np.zeros(F, x.dtype)
    dx = np.empty(x.shape, x.dtype) if with_dx else None
    cols = np.empty((chunk * Ho * Wo, w.shape[1]), x.dtype)
    dy = np.empty((chunk, Ho, Wo, F), x.dtype)
    d_cols = np.empty(cols.shape, x.dtype) if with_dx else None
    for s in range(0, x.shape[0], chunk):
        n = min(chunk, x.shape[0] - s)
        c, dyc = cols[:n * Ho * Wo], dy[:n]
        bias_relu_pool_backward(dp[s:s + n], p[s:s + n], winner[s:s + n], dyc, d_bias)
        im2col(x[s:s + n], k, pad, c)
        d_rows = dyc.reshape(-1, F)
        d_w += d_rows.T @ c
        if with_dx:
            col2im(np.matmul(d_rows, w, out=d_cols[:n * Ho * Wo]), k, pad, dx[s:s + n])
    return d_w.reshape(F, k, k, C).transpose(0, 3, 1, 2), d_bias, dx
