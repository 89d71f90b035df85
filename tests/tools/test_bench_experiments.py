"""The experiment bench compares like with like: the PyTorch twin of every experiment's model
computes the same objective and gradients as sire_ref's training step (float64)."""
import dataclasses

import numpy as np
import pytest

from sire_ref.tools.interop.torch import INSTALL as TORCH_INSTALL

torch = pytest.importorskip("torch", reason=f"the PyTorch twins need torch ({TORCH_INSTALL})")

from sire_ref.tools import bench_experiments, torch_twins  # noqa: E402
from sire_ref.tools.testing import relative_error  # noqa: E402
from sire_ref.training.loop import _batch_loss  # noqa: E402

CONFIGS = bench_experiments.experiment_configs(quick=True)


@pytest.mark.parametrize("name, factory, config, data_factory", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_torch_twin_computes_our_objective_and_gradients(name, factory, config, data_factory):
    config = dataclasses.replace(config, augment=None, permute_inputs=False)   # the twin reads the batch as given
    model, params, split, _ = bench_experiments._setup(factory, config, data_factory, "float64")
    if getattr(model, "dropout_rate", 0) > 0:        # torch draws its own masks: compare without
        model.dropout_rate = 0.0
    if hasattr(model, "head"):
        model.head = dataclasses.replace(model.head, input_dropout=0.0, dropout=0.0)
    for k in params:                       # nonzero s0: zeros hide bugs
        if k.endswith("s0"):
            params[k] = np.random.default_rng(5).uniform(-0.5, 0.5, params[k].shape)
    idx = np.arange(config.batch_size)
    value, grads, _ = _batch_loss(model, params, split, idx, config, np.random.default_rng(9))
    module = torch_twins.twin(model, params)
    draw = bench_experiments._draw_for(config, np.random.default_rng(9), split.lengths)
    loss = torch_twins.objective(module, torch.as_tensor(split.x), split.lengths, torch.as_tensor(split.y),
                                 config, draw)
    loss.backward()
    assert relative_error(value, float(loss.detach())) < 1e-12
    for k in params:
        p = getattr(module, k.replace(".", "_"))
        if k in model.frozen:
            assert p.grad is None and not np.any(grads[k])
        else:
            assert relative_error(grads[k], p.grad.numpy()) < 1e-9, k


def test_matmul_flops_count_every_product_of_the_step():
    """Integer GRU + SIRE subset: the recurrence runs B T live row-steps for the model (equal
    lengths), 4N more for SIRE's pairs and the sizes of its subsets for their fold (one draw, seed 0:
    about N (T - 2) / 2, as the sizes are uniform in 0..T-2); SUB twice its subsets' sizes (uniform
    in 2..T); the tokens gather (no input product); the head's two layers run B rows; each product
    three times. The CNN: each conv over its pixels, fc per image."""
    from sire_ref.core.samples import sample_sire, sample_sub
    head = 3 * 2 * 128 * (80 * 100 + 100 * 1)
    for suffix in ("sire-subset", "sub"):
        name, factory, config, data_factory = next(c for c in CONFIGS if c[0].endswith(f"n=10 {suffix}"))
        model, params, split, _ = bench_experiments._setup(factory, config, data_factory, "float32")
        B, T, H, N = 128, int(split.lengths.max()), 80, 128
        assert np.all(split.lengths == T)
        if suffix == "sub":
            fold = 2 * sample_sub(np.random.default_rng(0), split.lengths, N)["size"].sum()
            assert abs(fold - N * (T + 2)) < 0.2 * N * (T + 2)
        else:
            fold = 4 * N + sample_sire(np.random.default_rng(0), split.lengths, N, "subset")["size"].sum()
            assert abs(fold - 4 * N - N * (T - 2) / 2) < 0.2 * N * (T - 2) / 2
        expected = 3 * 2 * 3 * H * H * (B * T + fold) + head
        assert bench_experiments.matmul_flops(model, params, config, split.lengths) == expected, suffix
    name, factory, config, data_factory = next(c for c in CONFIGS if c[0].startswith("mnist cnn"))
    model, params, split, _ = bench_experiments._setup(factory, config, data_factory, "float32")
    B = config.batch_size
    conv = 3 * 2 * B * (28 * 28 * 16 * 1 * 25 + 14 * 14 * 32 * 16 * 25)
    assert bench_experiments.matmul_flops(model, params, config, split.lengths) == \
        conv + 3 * 2 * B * (1568 * 128 + 128 * 10)
