"""The numerical proofs: `python -m proofs` passes, and its checks can fail."""
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

from proofs import ProofFailure, theorem4, theorem5
from proofs.relu_pieces import evaluate, pieces, size


@pytest.mark.slow
def test_python_m_proofs_passes_and_prints_the_size_table():
    done = subprocess.run([sys.executable, "-m", "proofs"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "all checks passed" in done.stdout
    assert "RNN neurons/params" in done.stdout and "4096" in done.stdout


def test_piece_count_of_known_functions():
    absolute = [([[1], [-1]], [0, 0]), ([[1, 1]], [0])]                      # |z|
    assert [(p[2], p[3]) for p in pieces(absolute)] == [(-1, 0), (1, 0)]
    identity = [([[1], [-1]], [0, 0]), ([[1, -1]], [0])]                     # relu(z) - relu(-z) = z
    assert len(pieces(identity)) == 1
    tent = theorem4.tooth_rho(2, 1)
    assert [p[0] for p in pieces(tent)][1:] == [0, Fraction(1, 2)]          # 2 relu(y) - 4 relu(y - 1/2)
    assert size(tent) == (2, 7)


def test_piece_count_agrees_with_dense_sampling_on_random_nets():
    """Independent check: slopes read off a fine grid change exactly at the computed kinks."""
    rng = np.random.default_rng(0)
    for _ in range(20):
        net = theorem4.random_net(rng, 3, 2)
        pcs = pieces(net)
        inner = [p for p in pcs if p[0] is not None and p[1] is not None and p[1] - p[0] > 1e-3]
        for lo, hi, slope, icpt in inner:
            for z in np.linspace(lo, hi, 7)[1:-1]:
                assert evaluate(net, z) == pytest.approx(slope * z + icpt, rel=1e-9, abs=1e-9)


def test_sawtooth_computes_parity_and_a_broken_one_does_not():
    assert theorem4.computes_parity(theorem4.tooth_rho(2, 4, scale=16), 16)
    assert not theorem4.computes_parity(theorem4.tooth_rho(2, 3, scale=16), 16)


def test_a_wrong_parity_rnn_fails_the_check(monkeypatch):
    monkeypatch.setattr(theorem4, "B", np.array([0.0, -1.0, -2.0]))
    with pytest.raises(ProofFailure, match="parity RNN wrong"):
        theorem4.check_parity_rnn(lambda _: None, max_exhaustive=4, long_len=10)


def test_a_non_commuting_model_fails_check_a(monkeypatch):
    monkeypatch.setattr(theorem5, "max_update", lambda s, x: 0.5 * s + x)
    with pytest.raises(ProofFailure, match="commutes by construction"):
        theorem5.check_commuting_models(lambda _: None)
