"""Recurrent cells with the contract of ARCHITECTURE.md: pure functions, explicit caches."""
from . import gru, rnn

CELLS = {"rnn": rnn, "gru": gru}


def get_cell(name):
    """The cell module for "rnn" or "gru"."""
    if name not in CELLS:
        raise ValueError(f"cell must be one of {sorted(CELLS)}, got {name!r}")
    return CELLS[name]
