"""numba twins of the cells' sequence passes (the CPU fast path, `backend="numba"`).

The reference in `sire_ref/cells/` is the readable truth; these kernels run the same
math (Eq. 2.1-2.2 and its backward) as jitted loops, held equal to it by the tests.
Importing numba takes seconds, so the cells import a kernel only on first use.
"""


def kernel_for(cell_name):
    """The kernel module (forward, backward) of the cell named "rnn" or "gru"."""
    if cell_name == "rnn":
        from . import rnn as kernel
    elif cell_name == "gru":
        from . import gru as kernel
    else:
        raise ValueError(f"no numba kernel for cell {cell_name!r}; expected 'rnn' or 'gru'")
    return kernel
