"""Many independent training runs (seeds x lengths x lambdas x methods), resumable and parallel.

A run is a spec: a dataclass with a unique, file-safe `name` property plus whatever its runner
needs (integer_tasks.RunSpec). The runner is a module-level function runner(spec, out_dir) ->
dict (so worker processes can import it); the spec's fields are saved beside its result. Each finished run's result is written atomically to <out>/results/<name>.json;
a spec whose file exists is skipped, so an interrupted sweep resumes where it stopped.
With jobs > 1 the runs are spread over worker processes (train() keeps each one's BLAS on
one thread, so two workers use the two cores without fighting).
"""
import concurrent.futures
import dataclasses
import os
import re
import time

from ..io import read_json, write_json


def result_path(out_dir, name):
    return os.path.join(out_dir, "results", f"{name}.json")


def _execute(runner, spec, out_dir):
    start = time.perf_counter()
    result = dict(runner(spec, out_dir), spec=dataclasses.asdict(spec), name=spec.name)
    result["seconds"] = time.perf_counter() - start
    write_json(result_path(out_dir, spec.name), result)
    return spec.name, result


def _print(text):
    print(text, flush=True)


def run_sweep(runner, specs, out_dir, jobs=1, log=_print):
    """Run every spec not finished yet; return {name: result} for all specs, in spec order."""
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError("spec names must be unique")
    bad = [n for n in names if not re.fullmatch(r"[A-Za-z0-9_.=-]+", n)]
    if bad:
        raise ValueError(f"spec names must be file-safe ([A-Za-z0-9_.=-]), got {bad[:3]}")
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    pending = [s for s in specs if not os.path.exists(result_path(out_dir, s.name))]
    log(f"{len(specs) - len(pending)} of {len(specs)} runs already done; {len(pending)} to run "
        f"on {jobs} worker{'s' if jobs > 1 else ''} (results in {os.path.join(out_dir, 'results')})")
    start = time.perf_counter()

    def report(done, name, result):
        log(f"[{done}/{len(pending)}] {name}: {result.get('summary', '')} ({result['seconds']:.0f} s; "
            f"{time.perf_counter() - start:.0f} s elapsed)")

    if jobs == 1:
        for i, spec in enumerate(pending, 1):
            report(i, *_execute(runner, spec, out_dir))
    else:
        with concurrent.futures.ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(_execute, runner, spec, out_dir) for spec in pending]
            for i, future in enumerate(concurrent.futures.as_completed(futures), 1):
                report(i, *future.result())
    return {s.name: read_json(result_path(out_dir, s.name)) for s in specs}
