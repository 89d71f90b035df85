"""Exact linear pieces of a scalar-input, scalar-output ReLU network.

A network is a list of layers (W, b) with plain Python numbers (Fraction for
exact arithmetic, float otherwise): W is a list of rows (one per unit), b a
list. Every layer but the last applies ReLU; the last is linear with one row.

The breakpoints are computed, not sampled: on each interval of the current
partition every unit's pre-activation is an affine function a*z + c of the
input z, so its ReLU kink sits exactly at z = -c/a. Splitting at all kinks inside
the interval and reading off which units are active on each sub-interval gives
the next layer's affine functions. Adjacent pieces with the same affine function
are merged at the end, so the count is that of maximal linear pieces.
"""
from fractions import Fraction


def _inside(lo, hi, z):
    return (lo is None or z > lo) and (hi is None or z < hi)


def _point_in(lo, hi):
    if lo is None and hi is None:
        return 0
    if lo is None:
        return hi - 1
    if hi is None:
        return lo + 1
    return (lo + hi) / 2


def _same(f, g, exact):
    if exact:
        return f == g
    return all(abs(u - v) <= 1e-9 * max(1.0, abs(u), abs(v)) for u, v in zip(f, g))


def pieces(layers):
    """Maximal linear pieces [(lo, hi, slope, intercept)] of the network over the real line.

    lo = None means -inf and hi = None means +inf. Exact when every weight is a
    Fraction or int; with floats the kinks are still computed analytically and
    adjacent pieces merge when their coefficients agree to 1e-9.
    """
    exact = all(isinstance(v, (int, Fraction)) for W, b in layers for row in W for v in row + b)
    parts = [(None, None, [(1, 0)])]                 # the input z itself
    for depth, (W, b) in enumerate(layers):
        last = depth == len(layers) - 1
        new = []
        for lo, hi, feats in parts:
            pre = [(sum(w * f[0] for w, f in zip(row, feats)),
                    sum(w * f[1] for w, f in zip(row, feats)) + bias) for row, bias in zip(W, b)]
            if last:
                new.append((lo, hi, pre))
                continue
            roots = {(-Fraction(c) / a if exact else -c / a) for a, c in pre if a != 0}
            kinks = sorted(z for z in roots if _inside(lo, hi, z))
            edges = [lo] + kinks + [hi]
            for left, right in zip(edges[:-1], edges[1:]):
                z = _point_in(left, right)
                new.append((left, right, [(a, c) if a * z + c > 0 else (0, 0) for a, c in pre]))
        parts = new
    merged = []
    for lo, hi, (affine,) in parts:
        if merged and _same(merged[-1][2:], affine, exact):
            merged[-1] = (merged[-1][0], hi) + merged[-1][2:]
        else:
            merged.append((lo, hi) + tuple(affine))
    return merged


def evaluate(layers, z):
    """The network's output at z, in the arithmetic of the weights (exact with Fractions)."""
    h = [z]
    for depth, (W, b) in enumerate(layers):
        pre = [sum(w * v for w, v in zip(row, h)) + bias for row, bias in zip(W, b)]
        h = pre if depth == len(layers) - 1 else [max(p, 0) for p in pre]
    return h[0]


def size(layers):
    """(hidden units, parameters) of a network."""
    units = sum(len(W) for W, _ in layers[:-1])
    params = sum(len(W) * len(W[0]) + len(b) for W, b in layers)
    return units, params
