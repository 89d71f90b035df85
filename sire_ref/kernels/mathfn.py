r"""tanh and sigmoid for numba loops, accurate to float64 and written so LLVM can vectorize them.

numba's pip build has no SVML, so np.tanh / math.exp inside a jitted loop are scalar
libm calls (7-20 ns per element here, 10-40x slower than NumPy's SIMD ufuncs). These
helpers use only arithmetic, selects and integer shifts, which vectorize:

    e^y, y <= 0:  k = round(y / ln 2) (clamped to -1022..0), r = y - k ln 2 (two-part ln 2),
                  |r| <= ln(2)/2, so e^y = 2^k (1 + q(r)) with q(r) = r + r^2/2! + ... + r^14/14!
                  (truncation below 2^-60 relative); 2^k is built from its exponent bits.
    expm1(y)   =  q(r) when k = 0 (no cancellation near 0), else 2^k (1 + q(r)) - 1.
    tanh(x)    =  sign(x) * (-m) / (m + 2),  m = expm1(-2|x|)
    sigmoid(x) =  1 / (1 + e) for x >= 0, e / (1 + e) otherwise,  e = e^{-|x|}

Everything is computed in float64 and rounded once to the output's dtype, so float32
results are correctly rounded in practice and float64 ones are within a few ulp.
The functions work on 1-D arrays in place: out[i] = f(a[i]); `bits` is an int64 scratch
array of the same length (2^k is assembled there and read back through a float64 view).

float32 kernels use `tanh_f32` / `sigmoid_f32` instead, 8x cheaper (0.4 ns per element
here, all in float32 SIMD lanes):

    tanh(x)    ~  x P(x^2) / Q(x^2),  x clamped to [-9, 9] (tanh(9) rounds to 1 in float32)
    sigmoid(x) =  (1 + tanh(x / 2)) / 2

with P of degree 4 and Q of degree 4 in x^2, fitted to tanh on [0, 9] by reweighted linear
least squares (relative error 6.4e-8 in exact arithmetic). Evaluated in float32 the
absolute error stays below 4e-7 (about 6 ulp near +-1); the sigmoid's below 2e-7 absolute
(its relative error grows in the far left tail, where sigmoid < 1e-6).
"""
import math

import numpy as np
from numba import njit

LN2_HI = 6.93147180369123816490e-01     # ln 2 split so that k * LN2_HI is exact for |k| < 2^20
LN2_LO = 1.90821492927058770002e-10
INV_LN2 = 1.44269504088896338700e+00
TAYLOR = tuple(1.0 / math.factorial(n) for n in range(14, 1, -1))   # 1/14!, 1/13!, ..., 1/2!


@njit(error_model="numpy", cache=True, inline="always")
def _q(r):
    """e^r - 1 for |r| <= ln(2)/2: r + r^2 (1/2! + r (1/3! + ... + r/14!)), in Horner form."""
    p = 0.0
    for c in TAYLOR:
        p = p * r + c
    return r + r * r * p


@njit(error_model="numpy", cache=True)
def _expm1_parts(a, factor, q, bits):
    """For y_i = -factor |a_i| <= 0: q[i] = q(r_i) and bits[i] = the float64 bits of 2^k_i.

    a must not share memory with q or bits: LLVM then vectorizes the loop (an aliased
    call falls back to scalar code, 5x slower).
    """
    for i in range(a.size):
        yi = max(-factor * abs(np.float64(a[i])), -708.0)
        k = np.floor(yi * INV_LN2 + 0.5)
        r = (yi - k * LN2_HI) - k * LN2_LO
        q[i] = _q(r)
        bits[i] = (np.int64(k) + 1023) << 52


@njit(error_model="numpy", cache=True)
def tanh(a, out, q, bits):
    """out[i] = tanh(a[i]); q (float64) and bits (int64) are scratch arrays of a's length."""
    _expm1_parts(a, 2.0, q, bits)
    scale = bits.view(np.float64)
    for i in range(a.size):
        m = q[i] if scale[i] == 1.0 else scale[i] * (1.0 + q[i]) - 1.0
        t = -m / (m + 2.0)
        out[i] = t if a[i] >= 0 else -t


@njit(error_model="numpy", cache=True)
def sigmoid(a, out, q, bits):
    """out[i] = 1 / (1 + exp(-a[i])), both tails to full relative precision."""
    _expm1_parts(a, 1.0, q, bits)
    scale = bits.view(np.float64)
    for i in range(a.size):
        e = scale[i] * (1.0 + q[i])
        out[i] = (1.0 if a[i] >= 0 else e) / (1.0 + e)


RATIONAL_P = (0.999999993880531, 0.13398552906318908, 0.0035162412660916646, 2.0942470600179062e-05,
              1.3804605259680395e-08)
RATIONAL_Q = (1.0, 0.4673187897014916, 0.025955976849349315, 0.00033191303110268204,
              7.963245895762e-07)
_P = tuple(np.float32(c) for c in RATIONAL_P)
_Q = tuple(np.float32(c) for c in RATIONAL_Q)


@njit(error_model="numpy", cache=True, inline="always")
def _tanh_rational(x):
    """x P(x^2) / Q(x^2) in float32 for x already clamped to [-9, 9], kept within [-1, 1]."""
    u = x * x
    p = x * ((((_P[4] * u + _P[3]) * u + _P[2]) * u + _P[1]) * u + _P[0])
    t = p / ((((_Q[4] * u + _Q[3]) * u + _Q[2]) * u + _Q[1]) * u + _Q[0])
    return min(max(t, np.float32(-1.0)), np.float32(1.0))      # near +-9 the ratio passes 1 by an ulp


@njit(error_model="numpy", cache=True, fastmath=True)
def tanh_f32(a, out):
    """out[i] = tanh(a[i]) for float32 arrays (module docstring: error below 4e-7)."""
    lo, hi = np.float32(-9.0), np.float32(9.0)
    for i in range(a.size):
        out[i] = _tanh_rational(min(max(a[i], lo), hi))


@njit(error_model="numpy", cache=True, fastmath=True)
def sigmoid_f32(a, out):
    """out[i] = 1 / (1 + exp(-a[i])) = (1 + tanh(a[i] / 2)) / 2 for float32 arrays."""
    lo, hi, half = np.float32(-9.0), np.float32(9.0), np.float32(0.5)
    for i in range(a.size):
        out[i] = half + half * _tanh_rational(min(max(half * a[i], lo), hi))


TANH, SIGMOID = 0, 1


@njit(error_model="numpy", cache=True)
def activate(fn, a, out, q, bits, single):
    """out = tanh(a) (fn = TANH) or sigmoid(a) (fn = SIGMOID) for a kernel: the float32
    rational when `single`, else the float64-accurate version (q, bits: its scratch)."""
    if fn == TANH:
        if single:
            tanh_f32(a, out)
        else:
            tanh(a, out, q, bits)
    elif single:
        sigmoid_f32(a, out)
    else:
        sigmoid(a, out, q, bits)


def flush_floor(dtype):
    """The magnitude below which the backward kernels set a running state gradient ds to zero.

    Through hundreds of steps ds shrinks geometrically (vanishing gradients) into the
    subnormal range, where x86 arithmetic is 10-100x slower: a float32 GRU backward over 784
    pixels took 116 ms at initialization instead of 45 ms (float64, no subnormals). An entry
    below tiny / eps (the smallest normal number divided by the precision: 9.9e-32 in float32,
    1.0e-292 in float64) is below eps times any normal number, so no sum it enters can tell;
    flushing it also keeps the products formed from it out of the subnormal range."""
    info = np.finfo(dtype)
    return float(info.tiny / info.eps)

