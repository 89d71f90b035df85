"""Shared fixtures (the two cells, seeded random problems with every quantity nonzero) and the
test tiers: every test is marked with its folder's tier, so `pytest -m exact` runs one tier.

    exact        finite differences, PyTorch oracles, reference vs numba, input checks
    properties   Hypothesis property tests and the numerical proofs
    experiments  the training loop and seconds-long smoke runs of the experiment commands
    tools        gradcheck, bench, gpucheck commands
    layout       the package's import floors
`slow` marks the tests that start subprocesses or train (pytest -m "not slow" skips them).
"""
import pathlib

import numpy as np
import pytest

from sire_ref.cells import gru, rnn
from sire_ref.tools.testing import random_problem


@pytest.fixture(params=[rnn, gru], ids=["rnn", "gru"])
def cell(request):
    return request.param


@pytest.fixture
def problem(cell):
    """(params, x, lengths, dstates) in float64: nonzero biases and s0, lengths include 1 and T."""
    return random_problem(cell, np.random.default_rng(1234), batch=5, seq_len=6, input_size=3,
                          hidden_size=4)


TIERS = ("exact", "properties", "experiments", "tools", "layout")


def pytest_collection_modifyitems(config, items):
    for item in items:
        tier = pathlib.Path(str(item.fspath)).parent.name
        if tier in TIERS:
            item.add_marker(getattr(pytest.mark, tier))
