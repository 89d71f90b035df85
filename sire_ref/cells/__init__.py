"""Recurrent cells f(s, x) (Eq. 2.1) and their folds (Eq. 2.2): pure functions, explicit caches.

Each cell module (`rnn`, `gru`) is the cell's one face: name, gates, init_params,
check_params, step, step_backward, forward, backward, and the unchecked_* twins.
"""
from . import gru, rnn

CELLS = {"rnn": rnn, "gru": gru}


def get_cell(name):
    """The cell module for "rnn" or "gru"."""
    if name not in CELLS:
        raise ValueError(f"cell must be one of {sorted(CELLS)}, got {name!r}")
    return CELLS[name]


def check_cell(cell):
    """Return `cell` if it is one of the cell modules (sire_ref.cells.rnn or gru), else TypeError."""
    if not any(cell is module for module in CELLS.values()):
        raise TypeError(f"cell must be sire_ref.cells.rnn or sire_ref.cells.gru, got {cell!r}")
    return cell
