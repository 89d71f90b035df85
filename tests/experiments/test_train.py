"""The training loop: learns, is reproducible, resumes after an interruption to the same numbers,
refuses a mismatched checkpoint, writes results atomically, and validates its config."""
import json
import os
import zipfile

import numpy as np
import pytest

from sire_ref.data.parity import make_split
from sire_ref.data.split import Split
from sire_ref.models.recurrent import DeepSets, Head, RecurrentSetModel
from sire_ref.training.loop import RunOptions, TrainConfig, train


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 5, 2))
    lengths = rng.integers(1, 6, size=96)
    for b, L in enumerate(lengths):
        x[b, L:] = 0
    y = (x.sum(axis=(1, 2)) > 0).astype(float)            # a learnable sign-of-sum task
    groups = lengths.copy()
    return {"train": Split(x[:64], lengths[:64], y[:64]), "val": Split(x[64:80], lengths[64:80], y[64:80]),
            "test": Split(x[80:], lengths[80:], y[80:], groups[80:])}


def _config(**kw):
    base = dict(epochs=6, batch_size=16, lr=0.02, reg="sire", lam=0.1, reg_samples=8, seed=3)
    return TrainConfig(**{**base, **kw})


EVERY_EPOCH = RunOptions(checkpoint_every=1, progress_seconds=0.0)


def _model():
    return RecurrentSetModel(2, 6, 1, cell="gru", head=Head(input_dropout=0.1))


def test_training_reduces_the_loss_and_reports_groups():
    result = train(_model(), _data(), _config(epochs=15), log=lambda s: None)
    losses = [h["train_loss"] for h in result["history"]]
    assert losses[-1] < 0.8 * losses[0]
    assert set(result["metrics"]) == {"train", "val", "test"}
    assert set(result["metrics"]["test"]["groups"]) <= {str(v) for v in range(1, 6)}


def test_same_seed_same_numbers_different_seed_different_numbers():
    a = train(_model(), _data(), _config(), log=lambda s: None)
    b = train(_model(), _data(), _config(), log=lambda s: None)
    c = train(_model(), _data(), _config(seed=4), log=lambda s: None)
    assert a["history"] == b["history"]
    assert a["history"] != c["history"]


def test_resume_after_interrupt_matches_an_uninterrupted_run(tmp_path):
    full = train(_model(), _data(), _config(), out_dir=tmp_path / "full", options=EVERY_EPOCH, log=lambda s: None)

    def interrupt(epoch):
        if epoch == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(_model(), _data(), _config(), out_dir=tmp_path / "cut", options=EVERY_EPOCH, on_epoch_end=interrupt,
              log=lambda s: None)
    assert not os.path.exists(tmp_path / "cut" / "run.json")          # no result yet, checkpoint kept
    lines = []
    resumed = train(_model(), _data(), _config(), out_dir=tmp_path / "cut", options=EVERY_EPOCH,
                    log=lines.append)
    assert any("resuming from epoch 3" in line for line in lines)
    assert resumed["history"] == full["history"]
    for k in full["params"]:
        np.testing.assert_array_equal(resumed["params"][k], full["params"][k])
    saved = json.loads((tmp_path / "cut" / "run.json").read_text())
    assert saved["metrics"] == full["metrics"]
    assert not [f for f in os.listdir(tmp_path / "cut") if f.startswith(".tmp-")]


def test_resume_with_other_run_options_continues_the_run(tmp_path):
    """Threads, checkpoint cadence and progress lines are how a run runs, not what it is."""
    full = train(_model(), _data(), _config(), options=EVERY_EPOCH, log=lambda s: None)

    def interrupt(epoch):
        if epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(_model(), _data(), _config(), out_dir=tmp_path, options=EVERY_EPOCH, on_epoch_end=interrupt,
              log=lambda s: None)
    lines = []
    other = RunOptions(threads=2, checkpoint_every=5, progress_seconds=1e9)
    resumed = train(_model(), _data(), _config(), out_dir=tmp_path, options=other, log=lines.append)
    assert any("resuming from epoch 2" in line for line in lines)
    assert resumed["history"] == full["history"]


def test_a_finished_run_is_not_retrained(tmp_path):
    train(_model(), _data(), _config(epochs=3), out_dir=tmp_path, log=lambda s: None)
    lines = []
    again = train(_model(), _data(), _config(epochs=3), out_dir=tmp_path, log=lines.append)
    assert len(again["history"]) == 3 and not any("epoch 3/3" in line for line in lines[1:])


def _other_data():
    data = _data()
    return dict(data, train=data["train"]._replace(y=1.0 - data["train"].y))


@pytest.mark.parametrize("change, match", [
    (dict(config=_config(epochs=2, lr=0.5)), r"another training configuration \(lr differ\)"),
    (dict(model=RecurrentSetModel(2, 7, 1, cell="gru", head=Head(input_dropout=0.1))),
     r"another model \(head_sizes, hidden_size differ\)"),
    (dict(model=RecurrentSetModel(2, 6, 1, cell="gru", head=Head(input_dropout=0.2))),
     r"another model \(head differ\)"),
    (dict(data=_other_data()), "another data set")])
def test_a_checkpoint_of_another_run_is_refused(tmp_path, change, match):
    """Issue 11.1: the same run name with another config, model or data never reuses the checkpoint."""
    train(_model(), _data(), _config(epochs=2), out_dir=tmp_path, log=lambda s: None)
    run = {**dict(model=_model(), data=_data(), config=_config(epochs=2)), **change}
    with pytest.raises(ValueError, match=match) as err:
        train(run["model"], run["data"], run["config"], out_dir=tmp_path, log=lambda s: None)
    assert "run.ckpt.npz" in str(err.value) and "move the file aside" in str(err.value)


def _damage(path, how):
    data = path.read_bytes()
    if how == "empty":
        path.write_bytes(b"")
    elif how == "truncated":
        path.write_bytes(data[:len(data) // 2])
    elif how == "garbage":
        path.write_bytes(np.random.default_rng(0).bytes(len(data)))
    else:      # one flipped bit in the middle of the file's largest stored content (an .npz member's
        # bytes, or the record's text); a flip in a zip header field nobody reads changes nothing
        middle = len(data) // 2
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                info = max(z.infolist(), key=lambda i: i.compress_size)
            head = info.header_offset            # local header: 30 bytes, then its name and extra field
            name_len, extra_len = (int.from_bytes(data[head + k:head + k + 2], "little") for k in (26, 28))
            middle = head + 30 + name_len + extra_len + info.compress_size // 2
        path.write_bytes(data[:middle] + bytes([data[middle] ^ 0x10]) + data[middle + 1:])


@pytest.mark.parametrize("how", ["empty", "truncated", "garbage", "bitflip"])
def test_a_damaged_checkpoint_names_the_file_and_the_remedy(tmp_path, how):
    """Issue 11.3: never a raw zipfile/numpy traceback; the error says which file and what to do."""
    from sire_ref.base.io import CorruptFileError
    train(_model(), _data(), _config(epochs=2), out_dir=tmp_path, options=EVERY_EPOCH, log=lambda s: None)
    _damage(tmp_path / "run.ckpt.npz", how)
    with pytest.raises(CorruptFileError, match=r"run.ckpt.npz: .*move it aside") as err:
        train(_model(), _data(), _config(epochs=2), out_dir=tmp_path, log=lambda s: None)
    assert err.value.path == str(tmp_path / "run.ckpt.npz")
    os.replace(tmp_path / "run.ckpt.npz", tmp_path / "run.ckpt.npz.bad")       # the remedy works
    fresh = train(_model(), _data(), _config(epochs=2), out_dir=tmp_path, log=lambda s: None)
    assert fresh["epochs_run"] == 2


@pytest.mark.parametrize("how", ["empty", "truncated", "garbage", "bitflip"])
def test_a_damaged_result_record_is_detected(tmp_path, how):
    from sire_ref.base.io import CorruptFileError
    from sire_ref.training.loop import load_result
    train(_model(), _data(), _config(epochs=2), out_dir=tmp_path, log=lambda s: None)
    assert load_result(tmp_path, "run")["epochs_run"] == 2
    _damage(tmp_path / "run.json", how)
    with pytest.raises(CorruptFileError, match=r"run.json: "):
        load_result(tmp_path, "run")


def test_a_checkpoint_of_another_format_is_refused(tmp_path):
    from sire_ref.base.io import CorruptFileError
    from sire_ref.training import checkpoint
    train(_model(), _data(), _config(epochs=2), out_dir=tmp_path, log=lambda s: None)
    path = str(tmp_path / "run.ckpt.npz")
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays["meta"]))
    arrays["meta"] = np.array(json.dumps(dict(meta, format=1)))
    np.savez(path, **arrays)
    with pytest.raises(CorruptFileError, match=rf"checkpoint format 1, this version reads format "
                                               rf"{checkpoint.FORMAT}"):
        train(_model(), _data(), _config(epochs=2), out_dir=tmp_path, log=lambda s: None)


def test_early_stopping_and_selection_on_validation():
    result = train(_model(), _data(), _config(epochs=200, patience=3, reg="none"), log=lambda s: None)
    assert result["epochs_run"] < 200
    best = result["best"]
    assert best["metric"] == max(h["val_metric"] for h in result["history"])
    assert result["metrics"]["val"]["metric"] == pytest.approx(best["metric"])


def test_plateau_decays_the_learning_rate_then_stops():
    """lr = 1e-300 leaves the params (hence the validation result) exactly unchanged: epoch 1
    sets the best, epochs 2-3 make a plateau (decay), epochs 4-5 the last one (stop)."""
    config = _config(optimizer="sgd", lr=1e-300, reg="none", epochs=50, plateau_patience=2,
                     plateau_decays=1, plateau_factor=0.5)
    result = train(_model(), _data(), config, log=lambda s: None)
    assert result["stopped"] == "plateau" and result["epochs_run"] == 5
    assert [h["lr_scale"] for h in result["history"]] == [1.0, 1.0, 0.5, 0.5, 0.5]
    full = train(_model(), _data(), _config(epochs=3), log=lambda s: None)
    assert full["stopped"] == "epochs"


def test_deepsets_trains_with_the_same_loop():
    model = DeepSets(2, [2, 8, 8], 1, activation="tanh", rho=Head((8,), "tanh"))
    result = train(model, _data(), _config(reg="none", epochs=10), log=lambda s: None)
    assert result["history"][-1]["train_loss"] < result["history"][0]["train_loss"]


@pytest.mark.parametrize("kw, match", [
    ({"loss": "hinge"}, "loss must be one of"), ({"reg": "l2"}, "reg must be one of"),
    ({"epochs": 0}, "epochs must be a positive int"), ({"lr": -1.0}, "lr must be > 0"),
    ({"estimator": "x"}, "estimator must be one of"), ({"plateau_factor": 1.0}, "plateau_factor"),
    ({"plateau_patience": 0}, "plateau_patience must be a positive int"), ({"dtype": "float16"}, "dtype")])
def test_bad_config_is_rejected(kw, match):
    with pytest.raises(ValueError, match=match):
        _config(**kw)


@pytest.mark.parametrize("kw", [{"threads": 0}, {"checkpoint_every": 0}, {"threads": 1.5}])
def test_bad_run_options_are_rejected(kw):
    with pytest.raises(ValueError, match="must be a positive int"):
        RunOptions(**kw)


def test_parity_split_labels_are_the_parity_of_the_bits():
    split = make_split(np.random.default_rng(0), 200, 2, 10)
    for x, L, y in zip(split.x, split.lengths, split.y):
        assert 2 <= L <= 10 and np.all(x[L:] == 0)
        assert y == sum(int(v) for v in x[:L, 0]) % 2


def _token_split(rng, n, T, lengths=None):
    lengths = rng.integers(2, T + 1, size=n) if lengths is None else lengths
    return Split(rng.integers(0, 10, size=(n, T)), lengths, rng.normal(size=n))


def test_regularizer_on_unlabelled_sequences_is_computed_on_them():
    """reg_on="unlabelled": the objective is the minibatch's task loss plus lambda R on len(idx)
    sequences drawn from data["unlabelled"] (recomputed here from a copy of the generator)."""
    from sire_ref.nn import losses
    from sire_ref.nn.encoders import Embedding
    from sire_ref.training.loop import _batch_loss
    rng = np.random.default_rng(0)
    model = RecurrentSetModel(1, 6, 1, cell="gru", encoder=Embedding(10, 4, frozen=True))
    params = model.init(rng)
    train_split, pool = _token_split(rng, 16, 5), _token_split(rng, 50, 7)
    config = TrainConfig(loss="l1", reg="sire", lam=0.7, reg_samples=9, reg_on="unlabelled")
    idx = np.arange(8)
    draws = np.random.default_rng(3)
    value, _, _ = _batch_loss(model, params, train_split, idx, config, np.random.default_rng(3), pool)
    L = train_split.lengths[idx]
    out, _ = model.forward(params, train_split.x[idx, :L.max()], L, train=True, rng=draws)
    task = losses.LOSSES["l1"](out[:, 0], train_split.y[idx])[0]
    pick = draws.integers(len(pool.lengths), size=len(idx))
    L_u = pool.lengths[pick]
    reg = model.regularizer(params, pool.x[pick, :L_u.max()], L_u, draws, "sire", 9, "subset")
    assert value == pytest.approx(float(task + 0.7 * reg.value), rel=1e-12)
    assert reg.value > 0


def test_unlabelled_training_runs_without_reading_its_labels():
    rng = np.random.default_rng(1)
    from sire_ref.nn.encoders import Embedding
    model = RecurrentSetModel(1, 6, 1, cell="gru", encoder=Embedding(10, 4, frozen=True))
    pool = _token_split(rng, 40, 6)
    data = {"train": _token_split(rng, 24, 5), "val": _token_split(rng, 8, 5),
            "unlabelled": pool._replace(y=np.full(40, np.nan))}        # any read of y would give NaN
    result = train(model, data, TrainConfig(epochs=2, loss="l1", metric="rmse", reg="sire", lam=0.5,
                                            reg_on="unlabelled"), log=lambda _: None)
    assert np.isfinite([h["train_loss"] for h in result["history"]]).all()
    assert "unlabelled" not in result["metrics"]
    with pytest.raises(ValueError, match="data must have an 'unlabelled' split"):
        train(model, {k: data[k] for k in ("train", "val")},
              TrainConfig(epochs=1, loss="l1", reg="sire", lam=0.5, reg_on="unlabelled"), log=lambda _: None)
