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
    """Return `cell` if it is one of the cell modules (sire_ref.core.cells.rnn or gru), else TypeError."""
    if not any(cell is module for module in CELLS.values()):
        raise TypeError(f"cell must be sire_ref.core.cells.rnn or sire_ref.core.cells.gru, got {cell!r}")
    return cell


def kind_of(params):
    """'rnn' or 'gru' for a params dict, from the row count of weight_ih (H or 3H rows)."""
    if not isinstance(params, dict) or "weight_ih" not in params or "s0" not in params:
        raise TypeError("params must be a dict with at least 'weight_ih' and 's0'")
    rows, H = params["weight_ih"].shape[0], params["s0"].shape[0]
    kinds = {H: "rnn", 3 * H: "gru"}
    if rows not in kinds:
        raise ValueError(f"params['weight_ih'] must have H={H} rows (rnn) or 3H={3 * H} rows (gru), "
                         f"got {rows}")
    return kinds[rows]
