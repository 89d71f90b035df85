"""The user-facing command `python -m sire_ref gradcheck`: passes on our cells, fails on a broken one."""
import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from sire_ref.tools import gradcheck
from sire_ref.tools.interop.torch import INSTALL as TORCH_INSTALL
from sire_ref.tools.testing import relative_error, require_framework


def test_relative_error_definition():
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error([1.0, 2.0], [1.0, 2.2]) == pytest.approx(0.2 / 2.2)
    for bad in ([0.0, np.nan], [np.inf, 1.0]):            # non-finite never compares small
        assert relative_error(np.zeros(2), bad) == np.inf and relative_error(bad, bad) == np.inf
    with pytest.raises(ValueError, match="cannot compare shapes"):
        relative_error(np.zeros(2), np.zeros(3))


@pytest.mark.parametrize("cell_name", ["rnn", "gru"])
def test_fd_oracle_passes(cell_name, capsys):
    assert gradcheck.main(["--cell", cell_name, "--oracle", "fd", "--batch", "3", "--seq-len", "4"]) == 0
    out = capsys.readouterr().out
    assert "PASS" in out and "weight_hh" in out and "s0" in out


def test_a_check_that_compares_nothing_fails(capsys):
    """Issue 28: --seq-len 1 with a regularizer printed PASS over all-zero arrays."""
    for kind in ("sire", "sub"):
        with pytest.raises(SystemExit) as stop:
            gradcheck.main(["--regularizer", kind, "--oracle", "fd", "--seq-len", "1"])
        assert stop.value.code == 2
        assert "needs --seq-len >= 2, got 1" in capsys.readouterr().err
    for tol in ("nan", "0", "-1", "inf"):
        with pytest.raises(SystemExit):
            gradcheck.main(["--oracle", "fd", "--tol", tol])
        assert "--tol: must be a finite number > 0" in capsys.readouterr().err


def test_all_zero_arrays_fail(monkeypatch, capsys):
    monkeypatch.setattr(gradcheck, "compare", lambda a, b: {k: {"value": 0.0, "max_abs": 0.0, "rel": 0.0}
                                                            for k in a})
    assert gradcheck.main(["--cell", "rnn", "--oracle", "fd", "--batch", "2", "--seq-len", "3"]) == 1
    assert "every array is exactly zero" in capsys.readouterr().out


def test_broken_backward_makes_the_command_fail(monkeypatch, capsys):
    from sire_ref.core.cells import rnn
    original = rnn.backward

    def broken(params, cache, dstates):
        grads, dx = original(params, cache, dstates)
        return dict(grads, bias_hh=grads["bias_hh"] * 1.01), dx

    monkeypatch.setattr(rnn, "backward", broken)
    assert gradcheck.main(["--cell", "rnn", "--oracle", "fd", "--batch", "2", "--seq-len", "3"]) == 1
    assert "FAIL" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.parametrize("cell_name", ["rnn", "gru"])
def test_torch_oracle_command_exits_zero(cell_name):
    pytest.importorskip("torch", reason=f"torch not installed: {TORCH_INSTALL}")
    done = subprocess.run([sys.executable, "-m", "sire_ref", "gradcheck", "--cell", cell_name,
                           "--oracle", "torch"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASS" in done.stdout and "states" in done.stdout


@pytest.mark.parametrize("oracle", ["fd", "torch", "jax", "keras"])
@pytest.mark.parametrize("regularizer", ["sire", "sub"])
def test_regularizers_against_every_oracle(oracle, regularizer, capsys):
    if oracle != "fd":
        require_framework(oracle)
    assert gradcheck.main(["--cell", "gru", "--oracle", oracle, "--regularizer", regularizer, "--batch", "3",
                           "--seq-len", "4", "--samples", "4"]) == 0
    out = capsys.readouterr().out
    assert f"R_{regularizer.upper()} on a draw of 4" in out and f"vs {oracle}, float64" in out
    assert "value" in out and "PASS" in out


def test_a_wrong_regularizer_gradient_fails_against_the_oracle(monkeypatch, capsys):
    require_framework("jax")
    from sire_ref.tools import gradcheck as module
    original = module.sire

    def broken(*args, **kwargs):
        out = original(*args, **kwargs)
        return dataclasses.replace(out, grads=dict(out.grads, weight_hh=out.grads["weight_hh"] * 1.001))

    monkeypatch.setattr(module, "sire", broken)
    assert gradcheck.main(["--cell", "rnn", "--oracle", "jax", "--regularizer", "sire"]) == 1
    assert "weight_hh" in capsys.readouterr().out


def test_help_lists_every_option():
    done = subprocess.run([sys.executable, "-m", "sire_ref", "gradcheck", "--help"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0
    for flag in ("--cell", "--oracle", "--regularizer", "--estimator", "--samples", "--seed", "--batch",
                 "--seq-len", "--tol", "jax", "keras"):
        assert flag in done.stdout


def test_missing_torch_gives_a_clear_error(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    from sire_ref.tools.interop import torch as interop
    with pytest.raises(ImportError, match="needs PyTorch: pip install"):
        interop.params_to_torch({})
    assert gradcheck.main(["--cell", "gru", "--oracle", "torch"]) == 2
    assert "needs PyTorch" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("command", ["gradcheck", "bench", "diagnose", "gpucheck", "ledger"])
def test_each_command_runs_from_the_one_entry(command):
    """`python -m sire_ref <command>` is the one entry to the library's commands."""
    done = subprocess.run([sys.executable, "-m", "sire_ref", command, "--help"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and f"python -m sire_ref {command}" in done.stdout, done.stdout + done.stderr


def test_the_entry_lists_its_commands_and_refuses_others(capsys):
    from sire_ref.__main__ import COMMANDS, main
    assert main([]) == 0
    listed = capsys.readouterr().out
    assert all(f"  {name}  " in listed for name in COMMANDS), listed
    assert main(["gradchek"]) == 2
    assert "unknown command 'gradchek'" in capsys.readouterr().err
