"""`python -m sire_ref bench` runs for a new user, with and without torch; no timing is asserted."""
import json
import sys

import pytest

from sire_ref.base.threads import blas_threads
from sire_ref.tools import bench, timing


@pytest.mark.slow
def test_bench_tiny_run_writes_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert bench.main(["--configs", "2,3,4,5", "--dtypes", "float64", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert {"numpy", "numba"} <= set(result["backends"]) and result["threads"] == 1
    row = result["rows"][0]
    assert (row["I"], row["H"], row["B"], row["T"]) == (2, 3, 4, 5) and result["clock"] == "wall"
    assert all(v > 0 for v in row["ms"].values()) and set(row["sire_ms"]) == {"numpy", "numba"}
    assert "peak" in capsys.readouterr().out


def test_bench_without_torch(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    assert "torch" not in bench.available_backends()
    out = tmp_path / "bench.json"
    assert bench.main(["--configs", "1,2,3,4", "--dtypes", "float32", "--out", str(out)]) == 0
    assert set(json.loads(out.read_text())["rows"][0]["ms"]) == {"numpy", "numba"}


def test_flop_count_and_bad_arguments():
    assert bench.step_flops("rnn", 3, 256, 64, 100) == 3 * 2 * 64 * 100 * 256 * 259
    assert bench.step_flops("gru", 1, 20, 128, 10) == 3 * 3 * 2 * 128 * 10 * 20 * 21
    for bad in (["--threads", "0"], ["--configs", "1,2,3"], ["--configs", "a,b,c,d"], ["--clock", "gpu"],
                ["--together"]):
        with pytest.raises(SystemExit):
            bench.main(bad)


def test_experiment_bench_without_torch_says_what_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)
    assert bench.main(["--experiments"]) == 2
    assert "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("together", [False, True])
def test_experiment_rows_can_be_chosen_by_name(tmp_path, together):
    pytest.importorskip("torch", reason="--experiments compares against PyTorch")
    out = tmp_path / "bench.json"
    assert bench.main(["--experiments", "--quick", "--only", "parity rnn", "--out", str(out)]
                      + (["--together"] if together else [])) == 0
    result = json.loads(out.read_text())["experiments"][0]
    assert [r["name"] for r in result["rows"]] == ["parity rnn H=20"]
    assert result["processes"] == result["rows"][0]["processes"] == ("one" if together else "apart")
    assert all(ms > 0 for ms in result["rows"][0]["ms"].values())


def test_the_cpu_clock_does_not_count_waiting_and_the_wall_clock_does():
    """A call that sleeps 30 ms (as a call waiting for a busy core) takes 30 ms of wall time and
    almost no CPU time; a call that computes takes both."""
    import time
    import numpy as np
    a = np.ones((200, 200))

    def compute():
        for _ in range(30):
            a @ a
    fns = {"sleep": lambda: time.sleep(0.03), "compute": compute}
    with blas_threads(1):            # as the bench: no BLAS thread spinning while the caller sleeps
        wall = timing.median_ms(fns, 3, 3, 0.0, clock="wall")
        cpu = timing.median_ms(fns, 3, 3, 0.0, clock="cpu")
    assert wall["sleep"] >= 30 and cpu["sleep"] < 3
    assert cpu["compute"] > 0.2 * wall["compute"] > 0
    with pytest.raises(ValueError, match="clock must be one of"):
        timing.median_ms(fns, clock="gpu")


def test_apart_runs_each_group_in_a_process_of_its_own():
    """Two builders that each mark the process they run in: in one process (median_ms) the first
    one's call finds the second's mark and takes 60 ms; apart (median_ms_apart) each finds its own
    and takes 10 ms. Errors in a child come back with their message; a name built twice is refused."""
    import apart_probe            # tests/tools/apart_probe.py: importable by the spawned processes
    together = {**apart_probe.marking_fns("a"), **apart_probe.marking_fns("b")}
    assert timing.median_ms(together, 1, 1, 0.0, clock="wall")["a"] >= 60
    groups = {label: (apart_probe.marking_fns, (label,)) for label in ("a", "b")}
    apart = timing.median_ms_apart(groups, 1, 1, 0.0, clock="wall")
    assert set(apart) == {"a", "b"} and all(10 <= ms < 50 for ms in apart.values()), apart
    with pytest.raises(RuntimeError, match="planted failure in a builder"):
        timing.median_ms_apart({"x": (apart_probe.failing_fns, ())}, 1, 1, 0.0)
    with pytest.raises(ValueError, match="built by two groups"):
        timing.median_ms_apart({"x": (apart_probe.marking_fns, ("a",)), "y": (apart_probe.marking_fns, ("a",))},
                               1, 1, 0.0)
    with pytest.raises(ValueError, match="clock must be one of"):
        timing.median_ms_apart(groups, clock="gpu")
