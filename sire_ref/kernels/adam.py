r"""numba twin of `nn.optim.adam_step`'s update of one array: the whole update in one pass.

    g <- g + wd theta;  m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g g
    theta <- theta - lr (m / c1) / (sqrt(v / c2) + eps),   c1 = 1 - b1^t, c2 = 1 - b2^t

The NumPy reference makes about 14 passes over each array, each a ufunc call with its own
temporary; this is one loop that reads theta, g, m, v once. Every operation is the reference's,
in its order and in the arrays' dtype (the scalars are rounded to it first, as NumPy rounds a
Python float it combines with a float32 array), with no fused multiply-adds: the same numbers
bit for bit (tests/exact/test_optim.py).
"""
import functools

import numpy as np
from numba import njit


def fused_update(theta, g, m, v, lr, betas, eps, weight_decay, t):
    """nn.optim.adam_step's fused_update: theta, m, v updated in place from g at step t >= 1 and True,
    or False (nothing done) when the arrays are not NumPy, C-contiguous and of one dtype."""
    arrays = (theta, g, m, v)
    if not all(type(a) is np.ndarray and a.flags.c_contiguous and a.dtype == theta.dtype for a in arrays):
        return False
    _update(*(a.reshape(-1) for a in arrays), coefficients(theta.dtype, lr, *betas, eps, weight_decay, t))
    return True


@functools.lru_cache(maxsize=8)
def coefficients(dtype, lr, b1, b2, eps, weight_decay, t):
    """The update's scalars at step t rounded to dtype, [lr, b1, 1 - b1, b2, 1 - b2, c1, c2, eps, wd]:
    one array made once a step (a call with nine scalar arguments cost 4 us of dispatch, this one 1 us)."""
    out = np.array([lr, b1, 1 - b1, b2, 1 - b2, 1 - b1 ** t, 1 - b2 ** t, eps, weight_decay], dtype=dtype)
    out.flags.writeable = False
    return out


@njit(error_model="numpy", cache=True)
def _update(theta, g, m, v, coeffs):
    lr, b1, b1_rest, b2, b2_rest, c1, c2, eps, wd = (coeffs[0], coeffs[1], coeffs[2], coeffs[3], coeffs[4],
                                                     coeffs[5], coeffs[6], coeffs[7], coeffs[8])
    for i in range(theta.size):
        g_i = g[i] + wd * theta[i] if wd != 0 else g[i]
        m_i = m[i] * b1 + b1_rest * g_i
        v_i = v[i] * b2 + b2_rest * g_i * g_i
        m[i] = m_i
        v[i] = v_i
        theta[i] = theta[i] - lr * (m_i / c1) / (np.sqrt(v_i / c2) + eps)
