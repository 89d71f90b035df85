"""Shared fixtures: the two cells and seeded random problems with every quantity nonzero."""
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
