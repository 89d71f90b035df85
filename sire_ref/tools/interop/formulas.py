"""What the autodiff oracles share: their input check, and the regularizers' formulas as written.

Each oracle (interop.torch, interop.jax, interop.keras) supplies `fold(s, b, positions)`: its own
cell run from state s (1, H) over x[b, positions] in that order (s itself for no positions), in
its own arrays. Nothing here knows a framework, and nothing here is sire_ref.core.regularizers: the
oracles stay independent of the code they check.
"""
import numpy as np

from ...base.validate import check_array
from ...core.cells import get_cell, kind_of


def check_oracle_inputs(params, x, framework):
    """(kind, H) of a float64 problem: params of a cell and x (B, T, I) of its input size; the
    oracles run in float64 only (they are held to 1e-9)."""
    kind = kind_of(params)
    I, H, dtype = get_cell(kind).check_params(params)
    if dtype != np.float64:
        raise ValueError(f"the {framework} oracle runs in float64: pass float64 params")
    check_array(x, "x", shape=(None, None, I), dtype=dtype)
    return kind, H


def regularizer_differences(kind, samples, fold, s0, stop=None):
    """Row n of a checked draw -> the vector inside ||.||^2, as the paper writes it:
        SIRE (Eq. 4.4): s = f(s0, x_S);  f(s, x_a, x_c) - f(s, x_c, x_a)
        SUB  (Eq. 4.1): f(s0, x_S[p]) - f(s0, x_S[q])
    stop(s) blocks the gradient at s (SIRE with through_state=False), None keeps it.
    Returns the list of N differences (1, H); R is the mean of their squared norms."""
    diffs = []
    for n in range(samples["seq"].shape[0]):
        b, m = int(samples["seq"][n]), int(samples["size"][n])
        S = samples["subset"][n, :m].tolist()
        if kind == "sire":
            s = fold(s0, b, S)
            s = s if stop is None else stop(s)
            a, c = int(samples["a"][n]), int(samples["c"][n])
            diffs.append(fold(s, b, [a, c]) - fold(s, b, [c, a]))
        elif kind == "sub":
            p, q = samples["p"][n, :m].tolist(), samples["q"][n, :m].tolist()
            diffs.append(fold(s0, b, [S[i] for i in p]) - fold(s0, b, [S[i] for i in q]))
        else:
            raise ValueError(f"kind must be 'sire' or 'sub', got {kind!r}")
    if not diffs:
        raise ValueError("samples is empty: nothing to differentiate")
    return diffs
