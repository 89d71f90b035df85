"""Shared fixtures (the two cells, seeded random problems with every quantity nonzero) and the
test tiers: every test is marked with its folder's tier, so `pytest -m exact` runs one tier.

    exact        finite differences, PyTorch oracles, reference vs numba, input checks
    properties   Hypothesis property tests and the numerical proofs
    experiments  the training loop and seconds-long smoke runs of the experiment commands
    tools        gradcheck, bench, gpucheck commands
    layout       the import floors; the ledger, the README table and the pages' tables of runs against their records
    data         loaders on the real files in <repo root>/../shared/data, and on broken files
    docs         the annotated notes, built and checked in headless Chromium
`slow` marks the tests that start subprocesses or train (pytest -m "not slow" skips them).
"""
import os
import pathlib

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from sire_ref.core.cells import gru, rnn
from sire_ref.tools.testing import random_problem


@pytest.fixture(params=[rnn, gru], ids=["rnn", "gru"])
def cell(request):
    return request.param


@pytest.fixture
def problem(cell):
    """(params, x, lengths, dstates) in float64: nonzero biases and s0, lengths include 1 and T."""
    return random_problem(cell, np.random.default_rng(1234), batch=5, seq_len=6, input_size=3,
                          hidden_size=4)


# Hypothesis profiles (HYPOTHESIS_PROFILE=ci|thorough; ci by default, and in .ci/run):
#   ci        derandomized (the same examples on every run, so CI is reproducible) and large
#             enough that every property checks its conclusion on many examples;
#   thorough  random and ten times larger, for local runs before a release.
_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.register_profile("ci", derandomize=True, max_examples=60, **_COMMON)
settings.register_profile("thorough", max_examples=600, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

TIERS = ("exact", "properties", "experiments", "tools", "layout", "data", "docs")
SHARED_DATA = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def mnist_dir():
    """The real MNIST IDX files (<repo root>/../shared/data/mnist); skips, saying so, without them."""
    path = SHARED_DATA / "mnist"
    if not path.is_dir():
        pytest.skip(f"real MNIST files not found at {path} (a user's checkout has no shared/ folder)")
    return str(path)


def pytest_collection_modifyitems(config, items):
    for item in items:
        tier = pathlib.Path(str(item.fspath)).parent.name
        if tier in TIERS:
            item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture
def modelnet_dir():
    """The real 156-shape ModelNet40 subset (<repo root>/../shared/data/modelnet40_normal_resampled);
    skips, saying so, without it."""
    path = SHARED_DATA / "modelnet40_normal_resampled"
    if not path.is_dir():
        pytest.skip(f"real ModelNet40 subset not found at {path} (a user's checkout has no shared/ folder)")
    return str(path)
