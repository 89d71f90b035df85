"""A sweep's --status (runner/status.py): each run's state read from its record and checkpoint,
and nothing trained."""
import os

import numpy as np
import pytest

from sire_ref.training import checkpoint

ARGS = ["--task", "sum", "--lengths", "3", "--seeds", "1", "--lambdas", "0.1", "1", "--epochs", "2",
        "--n-train", "40", "--n-val", "40", "--n-test", "100"]


def _files(folder):
    return {p: os.path.getmtime(os.path.join(folder, p)) for p in sorted(os.listdir(folder))}


@pytest.mark.slow
def test_status_tells_each_runs_state_and_trains_nothing(tmp_path, capsys):
    from sire_ref.experiments import arithmetic
    args = ARGS + ["--out", str(tmp_path)]
    assert arithmetic.main(args) == 0                     # 5 runs: gru, sire x 2, deepsets, pisgd
    runs = tmp_path / "runs" / "arithmetic_sum"
    name = {"".join(p.name.split("-")[3:5]): p.name[:-len(".json")]
            for p in (runs / "results").glob("*.json")}   # sum-n3-seed0-gru-lam0-<digest>: "grulam0"
    results, ckpts = runs / "results", runs / "checkpoints"
    # the GRU: record lost, its finished checkpoint kept -> trained
    os.remove(results / f"{name['grulam0']}.json")
    # SIRE lambda 0.1: back to an unfinished checkpoint at epoch 1 -> resumable
    os.remove(results / f"{name['sirelam0.1']}.json")
    path = checkpoint.paths(str(ckpts), name["sirelam0.1"])[0]
    state = checkpoint.load(path, np)
    state.update(epoch=1, done=False, stopped=None, best={"metric": 0.25, "loss": 3.0, "epoch": 1},
                 epoch_seconds=state["epoch_seconds"][:1])
    checkpoint.save(path, state)
    # DeepSets: record and checkpoint gone -> not started; pi-SGD: damaged checkpoint, no record
    os.remove(results / f"{name['deepsetslam0']}.json")
    os.remove(checkpoint.paths(str(ckpts), name["deepsetslam0"])[0])
    os.remove(results / f"{name['pisgdlam0']}.json")
    with open(checkpoint.paths(str(ckpts), name["pisgdlam0"])[0], "wb") as f:
        f.write(b"not a checkpoint")
    before = (_files(results), _files(ckpts))
    capsys.readouterr()

    assert arithmetic.main(args + ["--status"]) == 0
    out = capsys.readouterr().out
    assert "status of 5 runs" in out and "1 finished, 1 trained, 1 resumable, 1 not started, 1 damaged" in out
    lines = {line.split()[-1] if ":" not in line else line.split(":")[0].split()[-1]: line
             for line in out.splitlines()[1:]}
    assert lines[name["sirelam1"]].lstrip().startswith("finished") and "epochs (stopped:" in lines[name["sirelam1"]]
    assert lines[name["grulam0"]].lstrip().startswith("trained") and "writes its record" in lines[name["grulam0"]]
    resumable = lines[name["sirelam0.1"]]
    assert resumable.lstrip().startswith("resumable") and "epoch 1 of at most 2" in resumable
    assert "best validation accuracy 0.25 at epoch 1" in resumable
    assert lines[name["deepsetslam0"]].lstrip().startswith("not started")
    assert lines[name["pisgdlam0"]].lstrip().startswith("damaged") and "not a readable checkpoint" in out
    assert (_files(results), _files(ckpts)) == before                       # nothing trained or written

    # Another checkpoint folder holds none of them; with a scheduler and none named, none are read.
    assert arithmetic.main(args + ["--status", "--checkpoint-dir", str(tmp_path / "elsewhere")]) == 0
    assert "1 finished, 4 not started" in capsys.readouterr().out
    assert arithmetic.main(args + ["--status", "--scheduler", "tcp://127.0.0.1:1"]) == 0
    out = capsys.readouterr().out
    assert "1 finished, 4 not started" in out and "not read here; give --checkpoint-dir" in out
