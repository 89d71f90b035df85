"""`python -m sire_ref diagnose PATH` on a real (tiny) parity sweep: tables, JSON, figure; and the
refusals: a checkpoint of another run, a missing checkpoint, an experiment it does not know."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from sire_ref.base.io import write_record
from sire_ref.experiments import parity
from sire_ref.tools.diagnose import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("parity")
    assert parity.main(["--seeds", "1", "--rnn-epochs", "2", "--deepsets-epochs", "2", "--out", str(out)]) == 0
    return out / "runs" / "parity"


def test_diagnose_a_sweep(sweep, capsys):
    assert main([str(sweep), "--orders", "3", "--sire-samples", "50"]) == 0
    text = capsys.readouterr().out
    assert "parity rnn seed 0" in text and "parity deepsets seed 0" in text
    saved = json.loads((sweep / "diagnostics" / "diagnose.json").read_text())
    runs = {r["label"]: r for r in saved["runs"]}
    assert len(runs["parity rnn seed 0"]["groups"]) == 10               # the ten test buckets
    for row in runs["parity deepsets seed 0"]["groups"].values():
        assert row["order_max"] <= 1e-12 and row["changed"] == 0.0
    rnn = runs["parity rnn seed 0"]["groups"]
    assert all(row["order_mean"] > 0 for row in rnn.values())
    assert rnn["10"]["bound_holds"] is True
    assert (sweep / "diagnostics" / "diagnose.png").exists()


def test_diagnose_one_record_from_the_command_line(sweep, tmp_path):
    record = next(p for p in (sweep / "results").glob("rnn-*.json"))
    done = subprocess.run([sys.executable, "-m", "sire_ref", "diagnose", str(record), "--orders", "2",
                           "--sire-samples", "20", "--out", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert len(json.loads((tmp_path / "diagnose.json").read_text())["runs"]) == 1


def test_refusals_name_the_problem(sweep, tmp_path, capsys):
    copy = tmp_path / "parity"
    shutil.copytree(sweep, copy)
    rnn = next((copy / "results").glob("rnn-*.json")).stem
    ds = next((copy / "results").glob("deepsets-*.json")).stem
    ckpt = copy / "checkpoints"
    shutil.copy(ckpt / f"{ds}.ckpt.npz", ckpt / f"{rnn}.ckpt.npz")     # another run's checkpoint
    assert main([str(copy / "results" / f"{rnn}.json")]) == 2
    err = capsys.readouterr().err
    assert "was not written by this finished run" in err and "its model and training configuration differ" in err
    os.remove(ckpt / f"{rnn}.ckpt.npz")
    assert main([str(copy / "results" / f"{rnn}.json")]) == 2
    err = capsys.readouterr().err
    assert "no checkpoint" in err and "--checkpoint-dir" in err
    foreign = tmp_path / "foreign.json"
    write_record(foreign, {"name": "x", "spec": {"method": "cnn", "points": 100}})
    assert main([str(foreign)]) == 2
    assert "from another experiment" in capsys.readouterr().err
    assert main([str(tmp_path / "empty")]) == 2
    assert "holds no run records" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([str(copy), "--orders", "0"])
    assert "--orders: must be an integer >= 1" in capsys.readouterr().err


def test_diagnose_float32_integer_task_runs_with_unlabelled_data(tmp_path, capsys):
    """Integer-task runs train in float32 (their checkpoints' identity is of the cast data) and
    semi-supervised runs carry an unlabelled split: both are rebuilt exactly and diagnosed."""
    from sire_ref.experiments import semi_supervised
    assert semi_supervised.main(["--seeds", "1", "--epochs", "1", "--n-train", "40", "--n-val", "40", "--n-test",
                                 "300", "--unlabelled", "50", "--lambdas", "0.1", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main([str(tmp_path / "runs" / "semi_supervised"), "--orders", "2", "--sire-samples", "50"]) == 0
    runs = json.loads((tmp_path / "runs" / "semi_supervised" / "diagnostics" / "diagnose.json").read_text())["runs"]
    assert sorted(r["label"] for r in runs) == ["sum n=10 gru lambda=0 seed 0",
                                                "sum n=10 sire lambda=0.1 on 50 unlabelled seed 0",
                                                "sum n=10 sire lambda=0.1 seed 0"]
    assert all(r["groups"]["10"]["n"] == 300 and r["groups"]["10"]["order_mean"] > 0 for r in runs)  # all of test


def test_diagnose_point_cloud_runs(tmp_path, capsys):
    """The point-cloud DeepSets (max pooling) is exactly order-free; the recurrent set model is not."""
    from sire_ref.experiments import point_cloud
    assert point_cloud.main(["--points", "100", "--seeds", "1", "--width", "6", "--epochs", "1", "--n-train", "24",
                             "--n-val", "6", "--n-test", "12", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main([str(tmp_path / "runs" / "point_cloud"), "--orders", "3", "--sire-samples", "20"]) == 0
    runs = {r["label"].split()[5]: r["groups"]["100"]
            for r in json.loads((tmp_path / "runs" / "point_cloud" / "diagnostics" / "diagnose.json").read_text())["runs"]}
    assert runs["deepsets"]["order_max"] == 0.0 and runs["deepsets"]["changed"] == 0.0
    assert runs["sire"]["order_mean"] > 0 and runs["sire"]["sire"] > 0


def test_mnist_runs_are_refused_with_the_reason(tmp_path, capsys):
    record = tmp_path / "mnist.json"
    write_record(record, {"name": "m", "spec": {"method": "gru", "reading": "pixel", "lam": 0.0}})
    assert main([str(record)]) == 2
    assert "is not an invariance of that task" in capsys.readouterr().err
