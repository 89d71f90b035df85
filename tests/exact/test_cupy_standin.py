"""The CuPy path without a GPU: every experiment's model, regularizer, batching and evaluation on
the CPU stand-in for CuPy (sire_ref.tools.fake_cupy), whose arrays refuse silent host/device mixing
and count every read back to the host. Each step must equal the NumPy step and read nothing back."""
import dataclasses

import numpy as np
import pytest

from sire_ref.base import backend
from sire_ref.data import modelnet
from sire_ref.data.split import Split
from sire_ref.nn import optim
from sire_ref.tools import fake_cupy
from sire_ref.tools.bench_experiments import _setup, experiment_configs
from sire_ref.tools.testing import relative_error
from sire_ref.training.loop import evaluate, train_epoch, train_step

CONFIGS = {name: rest for name, *rest in experiment_configs(quick=True)}
B = 6


@pytest.fixture
def cp(monkeypatch):
    return fake_cupy.install(monkeypatch)


def test_the_stand_in_refuses_what_a_gpu_would_not_do_silently(cp):
    """Its arrays are not NumPy's: no implicit conversion, no np. call, no host operand or index;
    reads back to the host work and are counted."""
    d, host = cp.asarray(np.arange(6.0)), np.arange(6.0)
    assert backend.array_module(d) is cp and backend.resolve("auto", d) == "cupy"
    for mixing in (lambda: np.asarray(d), lambda: np.sum(d), lambda: d + host, lambda: d[np.array([0, 1])], lambda: host[cp.asarray([0, 1])], lambda: np.exp(d),
                   lambda: cp.maximum(d, host), lambda: d.__setitem__(slice(0, 2), host[:2])):
        with pytest.raises(fake_cupy.HostDeviceMixing):
            mixing()
    cp.syncs = 0
    assert float(d.sum()) == 15.0 and cp.syncs == 1
    assert np.array_equal(cp.asnumpy(d[cp.asarray([1, 2])] * 2), [2.0, 4.0]) and cp.syncs == 2


def _step_on(module, name, dtype=np.float64):
    """(params after one train_step, value, task) of config `name` on arrays of `module`."""
    factory, config, data_factory = CONFIGS[name]
    config = dataclasses.replace(config, batch_size=B)
    model, params, split, _ = _setup(factory, config, data_factory, dtype)
    if module is not np:
        split = Split(x=module.asarray(split.x), lengths=split.lengths, y=module.asarray(split.y))
        params = backend.to_module(params, module)
    opt = optim.OPTIMIZERS[config.optimizer][0](params)
    value, task = train_step(model, params, opt, split, np.arange(B), config, np.random.default_rng(1), config.lr)
    return params, value, task, model, split, config


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_a_training_step_on_the_stand_in_equals_numpy_and_reads_nothing_back(cp, name):
    """Forward, loss, backward, lambda R (a fresh draw), clipping and Adam of each experiment's
    model (backend "auto": the reference on the device), against the same step on NumPy; float64."""
    host_params, host_value, host_task = _step_on(np, name)[:3]
    cp.syncs = 0
    params, value, task = _step_on(cp, name)[:3]
    assert cp.syncs == 0, f"{cp.syncs} reads back to the host inside one step"
    assert isinstance(value, fake_cupy.DeviceArray)
    assert relative_error(cp.asnumpy(value), host_value) < 1e-12
    assert relative_error(cp.asnumpy(task), host_task) < 1e-12
    for k in host_params:
        assert isinstance(params[k], fake_cupy.DeviceArray), k
        assert relative_error(cp.asnumpy(params[k]), host_params[k]) < 1e-12, k


@pytest.mark.parametrize("name", ["integer gru n=10 sire-subset", "mnist cnn 16/32/128", "points sire n=100 w=32"])
def test_an_epoch_and_the_evaluation_on_the_stand_in(cp, name):
    """The data batching of a whole epoch (shuffled minibatches gathered on the device) reads two
    numbers back, its means; evaluation reads the outputs back once per batch of 512."""
    factory, config, data_factory = CONFIGS[name]
    config = dataclasses.replace(config, batch_size=B)
    results = []
    for module in (np, cp):
        model, params, split, _ = _setup(factory, config, data_factory, np.float64, batches=3)
        if module is cp:
            split = Split(x=cp.asarray(split.x), lengths=split.lengths, y=cp.asarray(split.y))
            params = backend.to_module(params, cp)
            cp.syncs = 0
        state = {"params": params, "epoch": 0, "lr_scale": 1.0, "opt": optim.OPTIMIZERS[config.optimizer][0](params)}
        means = train_epoch(model, split, config, state, np.random.default_rng(2))
        if module is cp:
            assert cp.syncs == 2, "an epoch reads back only its two means"
        scores = evaluate(model, state["params"], split, config)
        results.append((means, scores))
    (host_means, host_scores), (dev_means, dev_scores) = results
    assert np.allclose(host_means, dev_means, rtol=1e-12)
    assert np.isclose(host_scores["loss"], dev_scores["loss"], rtol=1e-12)
    assert host_scores["metric"] == dev_scores["metric"]


def test_point_cloud_augmentation_stays_on_the_device(cp):
    """The augmentation the point-cloud experiment hands the loop: host draws moved explicitly."""
    clouds = np.random.default_rng(0).normal(size=(3, 5, 3))
    host = modelnet.augment(np.random.default_rng(1), clouds)
    dev = modelnet.augment(np.random.default_rng(1), cp.asarray(clouds))
    assert isinstance(dev, fake_cupy.DeviceArray) and np.allclose(cp.asnumpy(dev), host, rtol=1e-14)
