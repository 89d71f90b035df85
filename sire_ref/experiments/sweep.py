"""Many independent training runs (seeds x lengths x lambdas x methods), resumable and parallel.

A run is a spec: a dataclass with a unique, file-safe `name` property plus whatever its runner
needs (integer_tasks.RunSpec). The runner is a module-level function runner(spec, out_dir) ->
dict (so worker processes can import it). Each finished run's result is a record (its spec, the
result FORMAT, a checksum; io.write_record) written atomically to <out>/results/<name>.json; a
spec whose record exists is skipped, so an interrupted sweep resumes where it stopped. A record
that is damaged, of another format or of another spec stops the sweep with a message naming
the file (never reused, never silently overwritten).

With jobs > 1 the runs are spread over worker processes (train() keeps each one's BLAS on
one thread, so two workers use the two cores without fighting). Ctrl-C stops the workers at
once, keeps every finished result and says how to resume; a worker whose parent dies (even by
SIGKILL) exits within a second instead of running on.
"""
import dataclasses
import multiprocessing
import os
import re
import threading
import time

from ..io import CorruptFileError, read_record, write_record

FORMAT = 2          # 2: records with spec, format and checksum


def result_path(out_dir, name):
    return os.path.join(out_dir, "results", f"{name}.json")


def _execute(runner, spec, out_dir, log=None):
    if log is not None:
        log(f"[start] {spec.name}")
    start = time.perf_counter()
    result = dict(runner(spec, out_dir), spec=dataclasses.asdict(spec), name=spec.name, format=FORMAT)
    result["seconds"] = time.perf_counter() - start
    write_record(result_path(out_dir, spec.name), result)
    return spec.name, result


def _print(text):
    print(text, flush=True)


def _worker_task(task):
    return _execute(*task, log=_print)


def _exit_with_parent(parent_pid):
    """Worker initializer: a daemon thread ends this worker once its parent is gone."""
    def watch():
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)
    threading.Thread(target=watch, daemon=True).start()


def _finished(out_dir, spec):
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


def run_sweep(runner, specs, out_dir, jobs=1, log=_print):
    """Run every spec not finished yet; return {name: result} for all specs, in spec order."""
    _check_specs(specs, jobs)
    results = {s.name: _finished(out_dir, s) for s in specs}     # damaged records stop us here
    pending = [s for s in specs if results[s.name] is None]
    log(f"{len(specs) - len(pending)} of {len(specs)} runs already done; {len(pending)} to run "
        f"on {jobs} worker{'s' if jobs > 1 else ''} (results in {os.path.join(out_dir, 'results')})")
    start = time.perf_counter()

    def report(done, name, result):
        results[name] = result
        log(f"[{done}/{len(pending)}] {name}: {result.get('summary', '')} ({result['seconds']:.0f} s; "
            f"{time.perf_counter() - start:.0f} s elapsed)")

    try:
        if jobs == 1:
            for i, spec in enumerate(pending, 1):
                report(i, *_execute(runner, spec, out_dir, log))
        else:
            _run_parallel(runner, pending, out_dir, jobs, report)
    except KeyboardInterrupt:
        done = sum(r is not None for r in results.values())
        log(f"\ninterrupted: {done} of {len(specs)} runs are finished and kept in "
            f"{os.path.join(out_dir, 'results')}; run the same command again to resume (unfinished "
            f"runs continue from their last checkpoint)")
        raise
    return results


def _run_parallel(runner, pending, out_dir, jobs, report):
    ctx = multiprocessing.get_context("spawn")      # no forked numba/BLAS state in the workers
    pool = ctx.Pool(jobs, initializer=_exit_with_parent, initargs=(os.getpid(),))
    try:
        tasks = [(runner, spec, out_dir) for spec in pending]
        for i, (name, result) in enumerate(pool.imap_unordered(_worker_task, tasks), 1):
            report(i, name, result)
        pool.close()
    except BaseException:
        pool.terminate()            # Ctrl-C or a failed run: stop the other runs now
        raise
    finally:
        pool.join()
