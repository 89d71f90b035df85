"""The regularizers' and draws' input checks, edge paths and backend switch, each exactly (written
for the mutants that survived a first mutation run: off-by-one bounds, unnamed messages, an
ignored backend, the empty prefix draw)."""
import numpy as np
import pytest

from sire_ref.core.regularizers import sire, sire_from_states, sub
from sire_ref.core.samples import sample_sire, sample_sub
from sire_ref.tools.testing import random_problem


@pytest.fixture
def case(cell):
    params, x, _, _ = random_problem(cell, np.random.default_rng(0), batch=3, seq_len=5, input_size=2,
                                     hidden_size=3)
    lengths = np.array([5, 3, 4])
    return cell, params, x, lengths


def _points_at_a_caller(warning):
    """The warning names the code that called the sampler: neither sire_ref/core/samples.py itself nor
    pytest's machinery above the test (mutmut's trampoline may stand in for the test's frame)."""
    return not warning.filename.endswith("samples.py") and "_pytest" not in warning.filename \
        and "pluggy" not in warning.filename


def _sire_draw(lengths, n=6, estimator="subset"):
    return sample_sire(np.random.default_rng(1), lengths, n, estimator)


def test_a_draw_must_index_the_batch_exactly(case):
    cell, params, x, lengths = case
    draw = _sire_draw(lengths)
    with pytest.raises(ValueError, match=r"samples\['seq'\] must index the batch 0..2"):
        sire(cell, params, x, dict(draw, seq=np.full_like(draw["seq"], 3)), lengths)     # = B
    with pytest.raises(ValueError, match=r"samples\['seq'\] must index the batch"):
        sire(cell, params, x, dict(draw, seq=np.full_like(draw["seq"], -1)), lengths)


def test_sizes_outside_their_range_are_refused(case):
    cell, params, x, lengths = case
    draw = _sire_draw(lengths)
    K = draw["subset"].shape[1]
    with pytest.raises(ValueError, match=rf"samples\['size'\] must lie in 0..{K}"):
        sire(cell, params, x, dict(draw, size=np.full_like(draw["size"], K + 1)), lengths)   # only too big
    sub_draw = sample_sub(np.random.default_rng(2), lengths, 6)
    small = sub_draw["size"].copy()
    small[0] = 1                                                                         # only too small
    with pytest.raises(ValueError, match=r"samples\['size'\] must lie in 2\.\."):
        sub(cell, params, x, dict(sub_draw, size=small), lengths)


@pytest.mark.parametrize("key", ["subset", "a", "c"])
def test_a_position_at_the_sequence_length_is_refused_and_named(case, key):
    """Position L (the first padding position, still < T) is outside the sequence."""
    cell, params, x, lengths = case
    draw = _sire_draw(np.array([5, 3, 4]), n=40)
    row = int(np.flatnonzero((draw["seq"] == 1) & (draw["size"] >= 1))[0])
    bad = {k: v.copy() for k, v in draw.items()}
    if key == "subset":
        bad["subset"][row, 0] = 3
    else:
        bad[key][row] = 3
    with pytest.raises(ValueError, match=rf"samples\['{key}'\] must hold positions inside each row's sequence"):
        sire(cell, params, x, bad, lengths)


def test_a_or_c_inside_the_subset_is_refused(case):
    cell, params, x, lengths = case
    draw = _sire_draw(lengths, n=40)
    row = int(np.flatnonzero(draw["size"] >= 1)[0])
    bad = {k: v.copy() for k, v in draw.items()}
    bad["a"][row] = bad["subset"][row, 0]
    with pytest.raises(ValueError, match=r"the positions of a row \(subset, and a, c for SIRE\) must be distinct"):
        sire(cell, params, x, bad, lengths)


def test_malformed_draws_are_named(case):
    cell, params, x, lengths = case
    with pytest.raises(TypeError, match=r"samples must be a dict with keys .*, got list"):
        sire(cell, params, x, [1, 2], lengths)
    with pytest.raises(TypeError, match=r"samples must be a dict with keys .*, got \['a', 'seq'\]"):
        sire(cell, params, x, {"seq": np.zeros(1, int), "a": np.zeros(1, int)}, lengths)
    draw = _sire_draw(lengths)
    with pytest.raises(TypeError, match=r"samples\['a'\] must be an integer array, got float64"):
        sire(cell, params, x, dict(draw, a=draw["a"].astype(float)), lengths)
    with pytest.raises(ValueError, match=r"samples\['c'\] must have shape \(6,\)"):
        sire(cell, params, x, dict(draw, c=draw["c"][:3]), lengths)
    with pytest.raises(ValueError, match=r"samples\['lengths'\] must be >= 0"):
        sire(cell, params, x, dict(draw, lengths=np.array([5, -3, 4])), lengths)


def test_x_is_checked_by_name_and_dtype(case):
    cell, params, x, lengths = case
    draw = _sire_draw(lengths)
    with pytest.raises(TypeError, match="x has dtype float32 but the parameters are float64"):
        sire(cell, params, x.astype(np.float32), draw, lengths)
    with pytest.raises(ValueError, match=r"x must have shape \(B, T, 2\)"):
        sub(cell, params, x[:, :, :1], sample_sub(np.random.default_rng(0), lengths, 3), lengths)


def test_sire_from_states_checks_states_and_both_prefix_conditions(case):
    cell, params, x, lengths = case
    states, _ = cell.forward(params, x, lengths)
    draw = _sire_draw(lengths, n=20, estimator="prefix")
    with pytest.raises(ValueError, match=r"states must have shape \(3, 5, 3\)"):
        sire_from_states(cell, params, x, states[:, :4], draw, lengths)
    with pytest.raises(TypeError, match="states has dtype float32"):
        sire_from_states(cell, params, x, states.astype(np.float32), draw, lengths)
    shifted_pair = dict(draw, a=draw["c"], c=draw["a"])             # S is a prefix, (a, c) swapped
    with pytest.raises(ValueError, match='must be a "prefix" draw'):
        sire_from_states(cell, params, x, states, shifted_pair, lengths)
    room = draw["size"] + 2 < lengths[draw["seq"]]                    # only c moves: a = t still
    assert room.any()
    c_only = dict(draw, c=np.where(room, draw["size"] + 2, draw["c"]))
    with pytest.raises(ValueError, match='must be a "prefix" draw'):
        sire_from_states(cell, params, x, states, c_only, lengths)


def test_an_empty_prefix_draw_gives_zeros(case):
    cell, params, x, _ = case
    lengths = np.array([1, 0, 1])
    states, _ = cell.forward(params, x, lengths)
    with pytest.warns(RuntimeWarning, match="sample_sire: no sequence has length >= 2") as seen:
        draw = sample_sire(np.random.default_rng(0), lengths, 4, "prefix")
    assert _points_at_a_caller(seen[0])
    out = sire_from_states(cell, params, x, states, draw, lengths, with_dx=True)
    assert out.value == 0 and out.value.dtype == np.float64 and out.dx.shape == x.shape
    assert not np.any(out.dx) and not np.any(out.dstates) and out.dstates.shape == states.shape
    assert all(not np.any(g) and g.shape == params[k].shape for k, g in out.grads.items())


def test_empty_draws_keep_the_parameters_dtype(case):
    cell, params, x, _ = case
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    x32, lengths = x.astype(np.float32), np.array([1, 0, 1])
    with pytest.warns(RuntimeWarning):
        sire_draw = sample_sire(np.random.default_rng(0), lengths, 3, "prefix")
        sub_draw = sample_sub(np.random.default_rng(0), lengths, 3)
    states, _ = cell.forward(p32, x32, lengths)
    for value in (sire(cell, p32, x32, sire_draw, lengths).value, sub(cell, p32, x32, sub_draw, lengths).value,
                  sire_from_states(cell, p32, x32, states, sire_draw, lengths).value):
        assert value == 0 and value.dtype == np.float32


@pytest.mark.parametrize("kind", ["sire", "sub"])
def test_the_backend_argument_runs_the_kernels(case, kind, monkeypatch):
    """backend="numba" must reach the kernels (the values alone cannot tell: they agree to 1e-12)."""
    from sire_ref import kernels
    cell, params, x, lengths = case
    calls = []
    original = kernels.kernel_for

    def counting(name):
        calls.append(name)
        return original(name)

    monkeypatch.setattr(kernels, "kernel_for", counting)
    draw = _sire_draw(lengths) if kind == "sire" else sample_sub(np.random.default_rng(0), lengths, 6)
    (sire if kind == "sire" else sub)(cell, params, x, draw, lengths, backend="numba")
    assert calls.count(cell.name) >= (4 if kind == "sire" else 2)     # every fold, both passes
    calls.clear()
    (sire if kind == "sire" else sub)(cell, params, x, draw, lengths)
    assert calls == []
    if kind == "sire":                                               # the swaps of the prefix path
        states, _ = cell.forward(params, x, lengths)
        sire_from_states(cell, params, x, states, _sire_draw(lengths, estimator="prefix"), lengths,
                         backend="numba")
        assert calls.count(cell.name) >= 2


def test_samplers_name_their_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="n_samples must be >= 1, got 0"):
        sample_sire(rng, [3, 2], 0)
    with pytest.raises(ValueError, match="n_samples must be >= 1, got 0"):
        sample_sub(rng, [3, 2], 0)
    with pytest.raises(ValueError, match=r"estimator must be one of \('subset', 'prefix'\), got 'middle'"):
        sample_sire(rng, [3, 2], 2, "middle")
    with pytest.warns(RuntimeWarning, match="sample_sub: no sequence has length >= 2") as seen:
        sample_sub(rng, [1], 2)
    assert _points_at_a_caller(seen[0])


def test_dx_is_returned_only_when_asked(case):
    cell, params, x, lengths = case
    states, _ = cell.forward(params, x, lengths)
    prefix = _sire_draw(lengths, estimator="prefix")
    assert sire(cell, params, x, _sire_draw(lengths), lengths).dx is None
    assert sub(cell, params, x, sample_sub(np.random.default_rng(0), lengths, 3), lengths).dx is None
    assert sire_from_states(cell, params, x, states, prefix, lengths).dx is None
    assert sire_from_states(cell, params, x, states, prefix, lengths, with_dx=True).dx.shape == x.shape
