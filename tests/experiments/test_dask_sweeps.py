"""Issue 13: sweeps on Dask give the same results as a plain loop, survive a killed worker, report
a failing run, refuse an unreachable scheduler quickly, and price a preset with --dry-run."""
import json
import os
import shutil
import signal
import subprocess
import threading
import time

import pytest

from sire_ref.experiments.integer_tasks import RunSpec, run_one
from sire_ref.experiments.runner.sweep import SweepFailed, run_sweep
from sire_ref.tools.testing import wait_for

pytestmark = pytest.mark.slow
COMPARED = ("val", "test", "train", "best_epoch", "epochs_run", "stopped", "curve", "val_curve", "spec")


def _specs(epochs=2, n_train=40):
    return [RunSpec(task="sum", length=3, seed=seed, data_seed=1000 + seed, method=method, lam=lam,
                    n_train=n_train, n_val=20, n_test=20, max_value=9, hidden=6, epochs=epochs,
                    batch_size=8, lr=1e-2) for seed in (0, 1) for method, lam in (("gru", 0.0), ("sire", 0.1))]


def _numbers(results):
    return {name: {k: r[k] for k in COMPARED} for name, r in results.items()}


@pytest.fixture(scope="module")
def loop_results(tmp_path_factory):
    """The reference: every spec in this process, one after another."""
    return _numbers(run_sweep(run_one, _specs(), str(tmp_path_factory.mktemp("loop")), log=lambda _: None))


def test_local_cluster_gives_the_loops_results(tmp_path, loop_results):
    lines = []
    results = run_sweep(run_one, _specs(), str(tmp_path), jobs=2, log=lines.append)
    assert "on a local Dask cluster of 2 worker processes" in lines[0]
    assert _numbers(results) == loop_results
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == sorted(f"{n}.json" for n in loop_results)
    assert any("about" in line and "left; 0 failed" in line for line in lines)        # progress lines


def test_a_failing_run_on_the_cluster_is_reported_and_the_rest_finish(tmp_path):
    bad = RunSpec(task="no-such-task", length=3, seed=0, data_seed=0, method="gru", lam=0.0, n_train=40,
                  n_val=20, n_test=20, max_value=9, hidden=6, epochs=1, batch_size=8, lr=1e-2)
    with pytest.raises(SweepFailed, match=rf"1 of 3 runs failed: {bad.name}") as err:
        run_sweep(run_one, _specs()[:2] + [bad], str(tmp_path), jobs=2, log=lambda _: None)
    assert "no-such-task" in err.value.failures[bad.name] and "'task': 'no-such-task'" in err.value.failures[bad.name]
    assert len(list((tmp_path / "results").iterdir())) == 2


def test_an_unreachable_scheduler_fails_fast_and_clearly(tmp_path):
    start = time.monotonic()
    with pytest.raises(ConnectionError, match=r"could not reach a Dask scheduler at 'tcp://127.0.0.1:9'"):
        run_sweep(run_one, _specs()[:1], str(tmp_path), scheduler="tcp://127.0.0.1:9", log=lambda _: None)
    assert time.monotonic() - start < 15


def test_the_command_line_exits_2_on_an_unreachable_scheduler_and_1_on_a_failed_run(tmp_path, capsys,
                                                                                   monkeypatch):
    from sire_ref.experiments import parity
    tiny = ["--seeds", "1", "--rnn-epochs", "1", "--deepsets-epochs", "1", "--out", str(tmp_path)]
    with pytest.raises(SystemExit) as stop:
        parity.main(tiny + ["--scheduler", "tcp://127.0.0.1:9"])
    assert stop.value.code == 2 and "could not reach a Dask scheduler" in capsys.readouterr().err

    def broken(spec, checkpoint_dir):
        raise RuntimeError("a broken run")

    monkeypatch.setattr(parity, "run_one", broken)
    with pytest.raises(SystemExit) as stop:
        parity.main(tiny)
    assert stop.value.code == 1 and "2 of 2 runs failed" in capsys.readouterr().err


def _start(args, log):
    return subprocess.Popen([shutil.which("dask")] + args, stdout=open(log, "w"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def test_external_scheduler_with_a_worker_killed_mid_run(tmp_path):
    """`dask scheduler` + two `dask worker` processes (no nanny, so a killed one stays dead): one is
    killed while it trains; Dask reruns its task on the other (resuming from the shared checkpoint
    folder), every run is recorded once, and the numbers equal the loop's."""
    if shutil.which("dask") is None:
        pytest.skip("the dask command is not on PATH")
    specs = _specs(epochs=25, n_train=160)          # runs of about a second: killed while training
    loop = _numbers(run_sweep(run_one, specs, str(tmp_path / "loop"), log=lambda _: None))
    address_file = tmp_path / "scheduler.json"
    procs = [_start(["scheduler", "--scheduler-file", str(address_file), "--port", "0", "--no-dashboard"],
                    tmp_path / "scheduler.log")]
    try:
        wait_for(lambda: address_file.exists() and address_file.stat().st_size > 0)
        address = json.loads(address_file.read_text())["address"]
        logs = [tmp_path / f"worker{i}.log" for i in range(2)]
        procs += [_start(["worker", address, "--nthreads", "1", "--no-nanny", "--death-timeout", "20"], log)
                  for log in logs]
        killed = []

        def kill_the_first_worker_that_starts_a_run():
            wait_for(lambda: any("[start]" in log.read_text() for log in logs))
            victim = next(i for i, log in enumerate(logs) if "[start]" in log.read_text())
            os.killpg(procs[1 + victim].pid, signal.SIGKILL)
            killed.append((victim, logs[victim].read_text().split("[start] ")[1].split()[0]))

        killer = threading.Thread(target=kill_the_first_worker_that_starts_a_run, daemon=True)
        killer.start()
        lines = []
        results = run_sweep(run_one, specs, str(tmp_path / "out"), scheduler=address,
                            checkpoint_dir=str(tmp_path / "checkpoints"), log=lines.append)
        killer.join(timeout=5)
        (victim, interrupted), = killed
        assert interrupted in logs[1 - victim].read_text()          # rerun by the other worker
        assert _numbers(results) == loop
        assert sum(line.startswith("[") and "/4]" in line for line in lines) == 4     # each once
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_dry_run_prices_the_runs_and_trains_nothing(tmp_path, capsys):
    from sire_ref.experiments import arithmetic
    assert arithmetic.main(["--task", "sum", "--lengths", "3", "4", "--seeds", "2", "--n-train", "64",
                            "--epochs", "7", "--dry-run", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    # 2 lengths x 2 seeds x (gru + 2 lambdas + deepsets + pisgd) = 20 runs, priced in 8 kinds.
    assert "dry run: 20 runs" in out and out.count(" x sum n=") == 8 and "CPU-hours" in out
    counts = [int(line.split(" x ")[0]) for line in out.splitlines() if " x sum n=" in line]
    assert sum(counts) == 20 and sorted(set(counts)) == [2, 4]       # 4: two lambdas x two seeds
    assert not (tmp_path / "runs").exists()
