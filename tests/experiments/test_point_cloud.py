"""The point_cloud command: synthetic and real-subset smoke runs at tiny sizes, its argument and
data errors."""
import json

import numpy as np
import pytest

from sire_ref.data import modelnet
from sire_ref.experiments import point_cloud

TINY = ["--points", "100", "--seeds", "1", "--width", "6", "--epochs", "1"]


@pytest.mark.slow
def test_synthetic_tiny_run(tmp_path, capsys):
    out = tmp_path / "out"
    assert point_cloud.main(TINY + ["--n-train", "24", "--n-val", "6", "--n-test", "12", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "0.825" in text and "0.835" in text                 # Table 1 beside ours
    record = json.loads((out / "point_cloud_synthetic.json").read_text())
    assert sorted(r["spec"]["method"] for r in record["runs"].values()) == ["deepsets", "sire"]
    assert (out / "point_cloud_synthetic.png").stat().st_size > 1000


@pytest.mark.slow
def test_real_subset_smoke_run_says_it_is_too_small(tmp_path, modelnet_dir, capsys):
    assert point_cloud.main(TINY + ["--data", "modelnet-txt", modelnet_dir, "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    listed = {line.strip().rsplit("_", 1)[0] for line in open(f"{modelnet_dir}/modelnet40_train.txt") if line.strip()}
    names = [line.strip() for line in open(f"{modelnet_dir}/modelnet40_shape_names.txt") if line.strip()]
    absent = ", ".join(sorted(set(names) - listed))            # door has no shapes; a few only test ones
    assert f"127 training and 29 test shapes, {len(listed)} of 40 classes in training (none of: {absent})" in text
    assert "far too few to reproduce" in text


def test_bad_data_arguments(tmp_path, capsys):
    for bad in (["--data", "modelnet-h5"], ["--data", "synthetic", "x"], ["--data", "mnist"]):
        with pytest.raises(SystemExit, match="--data must be"):
            point_cloud.parse(bad)
    assert point_cloud.main(["--data", "modelnet-txt", str(tmp_path / "none"), "--out", str(tmp_path)]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_paper_preset_widths_and_truncation():
    args = point_cloud.parse(["--preset", "paper"])
    specs = point_cloud.specs_for(args)
    assert len(specs) == 3 * 3 * 2
    spec = next(s for s in specs if s.points == 5000 and s.method == "sire")
    model, config = point_cloud.build(spec, 40)
    assert model.hidden_size == 512 and model.tbptt == 1000 and config.lam == 0.1 and config.batch_size == 200
    assert config.estimator == "prefix" and config.augment is modelnet.augment and config.permute_inputs
    small = next(s for s in specs if s.points == 1000 and s.method == "deepsets")
    model, config = point_cloud.build(small, 40)
    assert model.width == 256 and config.weight_decay == 1e-7 and config.eps == 1e-3 and config.clip == 5.0
    assert config.augment is None                       # the authors' code augments at 5000 points only


def test_the_sire_model_reads_the_set_through_deepsets_phi_and_rho():
    """The authors' model: the equivariant phi of DeepSets (x - max over the set) before the GRU,
    rho = dropout 0.5, Linear, tanh, dropout 0.5, Linear; the points reshuffled every step."""
    from sire_ref.nn.encoders import Equivariant
    args = point_cloud.parse(["--width", "8"])
    spec = next(s for s in point_cloud.specs_for(args) if s.method == "sire" and s.points == 100)
    model, config = point_cloud.build(spec, 6)
    assert model.encoder == Equivariant((3, 8, 8, 8), "tanh") and model.head_sizes == [8, 8, 6]
    assert (model.head.input_dropout, model.head.dropout) == (0.5, 0.5)
    assert config.permute_inputs and config.augment is None
    fixed = point_cloud.build(point_cloud.specs_for(point_cloud.parse(["--no-reshuffle"]))[0], 6)[1]
    assert not fixed.permute_inputs
    # phi sees the set: moving one point changes the GRU input of another point
    params = model.init(np.random.default_rng(0))
    x = np.random.default_rng(1).normal(size=(1, 5, 3))
    moved = x.copy()
    moved[0, 4] += 3.0
    e, e_moved = model.encode(params, x), model.encode(params, moved)
    assert not np.allclose(e[0, 0], e_moved[0, 0])
    # ... and is equivariant: permuting the points permutes the inputs the same way
    perm = [3, 0, 4, 1, 2]
    assert np.allclose(model.encode(params, x[:, perm]), e[:, perm], atol=1e-14)


def test_lambda_grid_and_method_choice():
    args = point_cloud.parse(["--lambdas", "0", "0.1", "--methods", "sire", "--seeds", "2", "--points", "100"])
    specs = point_cloud.specs_for(args)
    assert sorted((s.lam, s.seed) for s in specs) == [(0.0, 0), (0.0, 1), (0.1, 0), (0.1, 1)]
    assert point_cloud.build(next(s for s in specs if s.lam == 0), 6)[1].reg == "none"
