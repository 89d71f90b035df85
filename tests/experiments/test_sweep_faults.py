"""Issues 11.4 and 13.3: a sweep's client (with its embedded Dask cluster) interrupted by Ctrl-C
(SIGINT) or killed (SIGKILL), in a real subprocess: workers stop promptly, finished results are
kept, and a rerun completes the rest."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from sire_ref.tools.testing import wait_for

pytestmark = pytest.mark.slow

SCRIPT = textwrap.dedent("""
    import dataclasses, os, sys, time
    from sire_ref.experiments.runner.sweep import run_sweep

    @dataclasses.dataclass(frozen=True)
    class Spec:
        name: str
        seconds: float

    def slow(spec, checkpoint_dir):
        started = os.path.join(os.path.dirname(checkpoint_dir), "started")   # <out>/started
        os.makedirs(started, exist_ok=True)
        with open(os.path.join(started, spec.name), "w") as f:
            f.write(str(os.getpid()))
        time.sleep(spec.seconds)
        return {"summary": "ok"}

    if __name__ == "__mp_main__":      # a Dask worker process starting: as slow as on a loaded machine
        time.sleep(float(os.environ.get("WORKER_START_DELAY", "0")))

    if __name__ == "__main__":
        out, seconds = sys.argv[1], float(sys.argv[2])
        specs = [Spec(f"run-{i}", 0.2 if i < 2 else seconds) for i in range(8)]
        run_sweep(slow, specs, out, jobs=2)
        print("sweep complete")
""")


def _default_sigint():
    """In the child before exec: a background job (CI) inherits SIGINT ignored, and Python then
    installs no KeyboardInterrupt handler; a terminal's Ctrl-C reaches a default handler."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(tmp_path, seconds, worker_start_delay=0.0):
    script = tmp_path / "sweep_script.py"
    script.write_text(SCRIPT)
    return subprocess.Popen([sys.executable, str(script), str(tmp_path / "out"), str(seconds)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=_default_sigint, start_new_session=True,
                            env=dict(os.environ, WORKER_START_DELAY=str(worker_start_delay)))


def _results(tmp_path):
    folder = tmp_path / "out" / "results"
    return sorted(p.name for p in folder.glob("run-*.json")) if folder.exists() else []


def _started(tmp_path):
    """{run name: the pid of the worker running it}, for every run started so far."""
    folder = tmp_path / "out" / "started"
    return {p.name: int(p.read_text() or 0) for p in folder.iterdir()} if folder.exists() else {}


def _long_runs_started(tmp_path):
    """Both short runs finished and both workers inside a long run."""
    return len(_results(tmp_path)) >= 2 and len(_started(tmp_path)) >= 4


def _wait_for_long_runs(tmp_path, proc):
    """Until both workers are inside a long run; fails with the sweep's output if it exits first.
    Generous: a loaded machine (CI beside other jobs) can take tens of seconds to start Dask."""
    wait_for(lambda: _long_runs_started(tmp_path) or proc.poll() is not None, timeout=180)
    if proc.poll() is not None:
        pytest.fail(f"the sweep exited ({proc.returncode}) before its long runs started:\n{proc.communicate()[0]}")


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"      # a zombie has exited
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to see the workers")
@pytest.mark.parametrize("to", ["parent", "group"])
def test_ctrl_c_stops_promptly_keeps_results_and_resumes(tmp_path, to):
    """SIGINT to the parent alone, or to the whole process group as a terminal's Ctrl-C does."""
    proc = _start(tmp_path, seconds=30)
    _wait_for_long_runs(tmp_path, proc)
    if to == "parent":
        proc.send_signal(signal.SIGINT)
    else:
        os.killpg(proc.pid, signal.SIGINT)
    start = time.monotonic()
    out, _ = proc.communicate(timeout=20)
    assert time.monotonic() - start < 10, "Ctrl-C did not stop the sweep promptly"
    assert proc.returncode != 0 and "sweep complete" not in out
    assert "interrupted: 2 of 8 runs are finished and kept" in out and "run the same command again" in out
    wait_for(lambda: not any(_alive(p) for p in _started(tmp_path).values()), timeout=5)
    assert _results(tmp_path) == ["run-0.json", "run-1.json"]
    # The rerun skips the two finished runs and completes the others (now short).
    rerun = _start(tmp_path, seconds=0.1)
    out, _ = rerun.communicate(timeout=120)
    assert rerun.returncode == 0 and "2 of 8 runs already done; 6 to run" in out, out
    assert len(_results(tmp_path)) == 8


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to see the workers")
def test_workers_exit_when_the_parent_is_killed(tmp_path):
    proc = _start(tmp_path, seconds=60)
    _wait_for_long_runs(tmp_path, proc)
    workers = set(_started(tmp_path).values())
    assert len(workers) == 2
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=10)
    wait_for(lambda: not any(_alive(p) for p in workers), timeout=20)
    assert _results(tmp_path) == ["run-0.json", "run-1.json"]
    # Resume after the client was killed: the finished runs are kept, the rest complete.
    rerun = _start(tmp_path, seconds=0.1)
    out, _ = rerun.communicate(timeout=120)
    assert rerun.returncode == 0 and "2 of 8 runs already done; 6 to run" in out, out
    assert len(_results(tmp_path)) == 8


def test_workers_slow_to_start_do_not_fail_the_sweep(tmp_path):
    """A loaded machine once took more than 5 s to start a worker process, and Dask's nanny, which
    waits at most its death_timeout for the start, failed the whole sweep (TimeoutError)."""
    proc = _start(tmp_path, seconds=0.1, worker_start_delay=8.0)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0 and "sweep complete" in out, out
    assert len(_results(tmp_path)) == 8
