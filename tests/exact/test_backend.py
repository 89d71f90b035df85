"""The array-module switch; the CuPy checks run only where CuPy and a GPU exist."""
import numpy as np
import pytest

from sire_ref.base import backend
from sire_ref.tools.testing import random_problem, relative_error


def test_numpy_is_the_default_module():
    assert backend.array_module(np.zeros(2)) is np
    assert backend.get_module("numpy") is np
    a = np.arange(3.0)
    assert backend.to_numpy(a) is a


def test_unknown_backend_is_rejected():
    with pytest.raises(ValueError, match="backend must be 'numpy' or 'cupy', got 'jax'"):
        backend.get_module("jax")


@pytest.mark.skipif(backend.cupy_available(), reason="a GPU is present: the error path cannot run")
def test_cupy_request_without_gpu_says_why():
    with pytest.raises(RuntimeError, match="CuPy or a CUDA device is missing"):
        backend.get_module("cupy")


@pytest.mark.skipif(not backend.cupy_available(), reason="CuPy or a CUDA GPU is not available")
def test_cells_on_cupy_match_numpy(cell):
    cp = backend.get_module("cupy")
    params, x, lengths, dstates = random_problem(cell, np.random.default_rng(0))
    states, cache = cell.forward(params, x, lengths)
    grads, dx = cell.backward(params, cache, dstates)
    g_params = backend.to_module(params, cp)
    g_states, g_cache = cell.forward(g_params, cp.asarray(x), lengths)
    g_grads, g_dx = cell.backward(g_params, g_cache, cp.asarray(dstates))
    assert isinstance(g_states, cp.ndarray) and isinstance(g_dx, cp.ndarray)
    assert relative_error(backend.to_numpy(g_states), states) < 1e-12
    assert relative_error(backend.to_numpy(g_dx), dx) < 1e-12
    for k in grads:
        assert relative_error(backend.to_numpy(g_grads[k]), grads[k]) < 1e-12, k


@pytest.mark.skipif(backend.cupy_available(), reason="a GPU is present: the no-GPU path cannot run")
def test_gpucheck_says_why_it_cannot_run(capsys):
    from sire_ref.tools import gpucheck
    assert gpucheck.main([]) == 2
    assert "CuPy or a CUDA device is missing" in capsys.readouterr().err


@pytest.mark.skipif(not backend.cupy_available(), reason="CuPy or a CUDA GPU is not available")
def test_gpucheck_passes_on_a_gpu():
    from sire_ref.tools import gpucheck
    assert gpucheck.main(["--config", "2,8,4,5"]) == 0
