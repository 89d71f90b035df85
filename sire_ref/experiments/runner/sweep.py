"""Many independent training runs (seeds x lengths x lambdas x methods), resumable, on Dask.

A run is a spec: a dataclass with a unique, file-safe `name` property plus whatever its runner
needs (integer_tasks.RunSpec, parity.ParitySpec). The runner is a module-level function
runner(spec, checkpoint_dir) -> dict of JSON-able results, importable on every worker.

Where runs execute (`run_sweep`):
- jobs = 1 and no scheduler: one after another in this process;
- jobs > 1: an embedded Dask `LocalCluster` of `jobs` worker processes, one thread each, BLAS
  pinned to one thread (train() pins it too), so a user who never heard of Dask types the
  same command as before;
- scheduler = "tcp://host:8786" (or $SIRE_REF_SCHEDULER): an existing Dask cluster
  (`dask scheduler` + `dask worker` on each machine, or dask-jobqueue's SLURMCluster); an
  unreachable address fails within CONNECT_TIMEOUT seconds with a clear error.

Results travel back to this process, which writes each run's record atomically (spec, result
FORMAT, checksum; io.write_record) to <out>/results/<name>.json, so workers need no shared file
system; a spec whose record exists is skipped, so a sweep resumes where it stopped. A damaged
or foreign record stops the sweep naming the file. Training checkpoints go to checkpoint_dir
(default <out>/checkpoints on this machine; with a scheduler, a folder in each worker's temp
dir unless the user names shared storage), so a run resubmitted after a lost worker resumes or
restarts, with the same numbers either way (same seed).

Faults: a run that raises is reported with its traceback and spec and the sweep goes on; at
the end SweepFailed lists the failed runs (the experiments then exit with status 1). A worker
killed mid-run makes Dask run that task again elsewhere. Ctrl-C keeps every finished record,
stops the embedded cluster's workers and says how to resume; if this process is killed
outright, the embedded workers lose their scheduler and exit.
"""
import contextlib
import dataclasses
import importlib.util
import os
import re
import tempfile
import time
import traceback

from ...base.io import CorruptFileError, digest, read_record, write_record

FORMAT = 2              # 2: records with spec, format and checksum
CONNECT_TIMEOUT = 5     # seconds to reach an external scheduler
SCHEDULER_ENV = "SIRE_REF_SCHEDULER"
# Dask's nanny waits this long for an embedded worker process to start, and a worker that lost its
# scheduler closes after it. Generous: a loaded machine took over 5 s to start one (imports). When
# this process dies its workers exit at once anyway (distributed's parent-alive pipe).
WORKER_DEATH_TIMEOUT = 60


class SweepFailed(RuntimeError):
    """Some runs raised; `failures` maps their names to "traceback + spec" texts. Every other run
    finished and its record is kept; rerunning the command retries only the failed ones."""

    def __init__(self, failures, total):
        self.failures = failures
        super().__init__(f"{len(failures)} of {total} runs failed: {', '.join(sorted(failures))}; the "
                         f"other runs' results are kept, and rerunning the same command retries only "
                         f"the failed ones")


def result_path(out_dir, name):
    return os.path.join(out_dir, "results", f"{name}.json")


def _print(text):
    print(text, flush=True)


def execute(runner, spec, checkpoint_dir):
    """What a worker runs for one spec: the runner's result plus its spec, format and seconds."""
    if checkpoint_dir is None:                  # a remote worker without shared storage
        checkpoint_dir = os.path.join(tempfile.gettempdir(), "sire_ref-checkpoints")
    _print(f"[start] {spec.name}")
    start = time.perf_counter()
    result = dict(runner(spec, checkpoint_dir), spec=dataclasses.asdict(spec), name=spec.name,
                  format=FORMAT)
    result["seconds"] = time.perf_counter() - start
    return result


def where_runs_go(out_dir, scheduler=None, checkpoint_dir=None):
    """(scheduler, checkpoint_dir) a sweep uses: the scheduler given, else $SIRE_REF_SCHEDULER, else
    None (this machine); the checkpoint folder given, else <out>/checkpoints on this machine, else None
    (each remote worker's temp dir)."""
    scheduler = scheduler or os.environ.get(SCHEDULER_ENV) or None
    if checkpoint_dir is None and scheduler is None:
        checkpoint_dir = os.path.join(out_dir, "checkpoints")
    return scheduler, checkpoint_dir


def finished_record(out_dir, spec):
    """The spec's record if it exists and is this spec's, None if it does not exist."""
    path = result_path(out_dir, spec.name)
    if not os.path.exists(path):
        return None
    record = read_record(path)
    if record.get("format") != FORMAT:
        raise CorruptFileError(path, f"a result of format {record.get('format')}, this version "
                                     f"writes format {FORMAT}", "use another output folder")
    if record.get("spec") != dataclasses.asdict(spec):
        raise CorruptFileError(path, "a result of another spec under this run's name")
    return record


def _check_specs(specs, jobs):
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError("spec names must be unique")
    bad = [n for n in names if not re.fullmatch(r"[A-Za-z0-9_.=-]+", n)]
    if bad:
        raise ValueError(f"spec names must be file-safe ([A-Za-z0-9_.=-]), got {bad[:3]}")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an int >= 1, got {jobs!r}")


class _Progress:
    """Runs finished / total, failures, elapsed and estimated time left, one line per event."""

    def __init__(self, total, log):
        self.total, self.log, self.done, self.failed = total, log, 0, 0
        self.start = time.perf_counter()

    def line(self, name, text):
        count = self.done + self.failed
        elapsed = time.perf_counter() - self.start
        left = elapsed / count * (self.total - count) if count else float("nan")
        self.log(f"[{count}/{self.total}] {name}: {text} ({_clock(elapsed)} elapsed, about "
                 f"{_clock(left)} left; {self.failed} failed)")


def _clock(seconds):
    if seconds != seconds:
        return "?"
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def run_sweep(runner, specs, out_dir, jobs=1, scheduler=None, checkpoint_dir=None, log=_print):
    """Run every spec not finished yet; return {name: result} for all specs, in spec order.

    scheduler: a Dask scheduler address (None: $SIRE_REF_SCHEDULER, else this machine).
    checkpoint_dir: where runs checkpoint (None: <out>/checkpoints here, or each worker's temp
    dir with a scheduler). Raises SweepFailed after the others finished if any run raised."""
    _check_specs(specs, jobs)
    scheduler, checkpoint_dir = where_runs_go(out_dir, scheduler, checkpoint_dir)
    results = {s.name: finished_record(out_dir, s) for s in specs}     # damaged records stop us here
    pending = [s for s in specs if results[s.name] is None]
    where = (f"on the Dask scheduler at {scheduler}" if scheduler else
             "in this process" if jobs == 1 else f"on a local Dask cluster of {jobs} worker processes")
    log(f"{len(specs) - len(pending)} of {len(specs)} runs already done; {len(pending)} to run "
        f"{where} (results in {os.path.join(out_dir, 'results')})")
    progress, failures = _Progress(len(pending), log), {}

    def finished(spec, result):
        write_record(result_path(out_dir, spec.name), result)
        results[spec.name] = result
        progress.done += 1
        progress.line(spec.name, f"{result.get('summary', '')} (run {_clock(result['seconds'])})")

    def failed(spec, error, tb):
        failures[spec.name] = (f"{type(error).__name__}: {error}\n{''.join(traceback.format_tb(tb))}"
                               f"spec: {dataclasses.asdict(spec)}")
        progress.failed += 1
        progress.line(spec.name, f"FAILED\n{failures[spec.name]}")

    try:
        if pending and jobs == 1 and scheduler is None:
            for spec in pending:
                try:
                    result = execute(runner, spec, checkpoint_dir)
                except Exception as err:     # reported with its spec; the sweep goes on
                    failed(spec, err, err.__traceback__)
                else:
                    finished(spec, result)
        elif pending:
            _run_on_dask(runner, pending, checkpoint_dir, jobs, scheduler, finished, failed, log)
    except KeyboardInterrupt:
        done = sum(r is not None for r in results.values())
        log(f"\ninterrupted: {done} of {len(specs)} runs are finished and kept in "
            f"{os.path.join(out_dir, 'results')}; run the same command again to resume (unfinished "
            f"runs continue from their last checkpoint)")
        raise
    if failures:
        raise SweepFailed(failures, len(specs))
    return results


def _run_on_dask(runner, pending, checkpoint_dir, jobs, scheduler, finished, failed, log):
    from distributed import as_completed
    with _dask_client(jobs, scheduler) as client:
        if _has_dashboard():
            log(f"Dask dashboard: {client.dashboard_link}")
        by_key = {f"sire_ref-{digest(spec.name)}-{spec.name}": spec for spec in pending}
        futures = client.map(execute, [runner] * len(pending), pending, [checkpoint_dir] * len(pending),
                             key=list(by_key))
        for future in as_completed(futures):
            spec = by_key[future.key]
            if future.status == "error":
                failed(spec, future.exception(), future.traceback())
            else:
                finished(spec, future.result())
            future.release()


@contextlib.contextmanager
def _dask_client(jobs, scheduler):
    """A Dask Client on `scheduler`, or on an embedded LocalCluster of `jobs` workers; both closed
    on the way out (Ctrl-C included), which stops the embedded workers."""
    from distributed import Client, LocalCluster
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT}s")
        except (OSError, TimeoutError, ValueError) as err:
            raise ConnectionError(
                f"could not reach a Dask scheduler at {scheduler!r} within {CONNECT_TIMEOUT} s "
                f"({type(err).__name__}: {err}); start one with `dask scheduler` and `dask worker "
                f"<address>`, or leave out --scheduler (and ${SCHEDULER_ENV}) to run on this "
                f"machine") from None
        with client:
            yield client
        return
    one_thread = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                   "NUMBA_NUM_THREADS")}
    with LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=":0",
                      env=one_thread, death_timeout=WORKER_DEATH_TIMEOUT) as cluster, Client(cluster) as client:
        yield client


def _has_dashboard():
    """Dask's dashboard needs bokeh, which is optional."""
    return importlib.util.find_spec("bokeh") is not None
