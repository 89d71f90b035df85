r"""What every experiment shares: `cli` (the common command line), `sweep` (runs in parallel, on a local
Dask cluster or one you pass), `report` (tables, selection, paired differences, figures, provenance) and
`ledger` (the reproduction ledger `figures/README.md`, generated from the records) with `run_tables` (the
experiment pages' tables of every run a verdict rests on, generated from the same records), and `status`
(a sweep's `--status`: where each run stands).

## Sweeps on a cluster (Dask)

Every experiment is a sweep of independent runs (`sweep.py`), run by Dask distributed:

- `--jobs 1` (default): one run after another in the command's own process;
- `--jobs N`: an embedded Dask `LocalCluster` of N worker processes, one thread each with BLAS
  pinned to one thread; nothing else to set up;
- `--scheduler tcp://HOST:8786` (or `export SIRE_REF_SCHEDULER=tcp://HOST:8786`): an existing cluster.

Results travel back to the command, which writes each run's record, so workers need no shared file
system. Checkpoints go to `--checkpoint-dir` (point it at shared storage so that a run moved to
another worker after a failure resumes; otherwise each worker checkpoints in its temp folder and a
moved run restarts, with the same numbers either way). A run that raises is printed with its
traceback and spec, the others go on, and the command exits with status 1 listing the failed
runs (rerunning retries only them); a worker killed mid-run makes Dask run that task elsewhere. The
command prints runs finished / total, failures, elapsed and estimated time left, and the dashboard
address when bokeh is installed.

Two ways to start a cluster. By hand, on any machines that reach each other (each with this
package installed, `pip install -e .`):

```bash
dask scheduler                                   # on one machine; prints tcp://HOST:8786
dask worker tcp://HOST:8786 --nthreads 1 --nworkers 8     # on every machine: one process per core
python -m sire_ref.experiments.arithmetic --task sum --preset paper --scheduler tcp://HOST:8786 \
    --checkpoint-dir /shared/sire_ref-checkpoints
```

On SLURM, with dask-jobqueue (`pip install dask-jobqueue`), from a short Python script on the login
node that keeps the cluster up while the command runs:

```text
from dask_jobqueue import SLURMCluster
cluster = SLURMCluster(cores=1, processes=1, memory="4GB", walltime="24:00:00")
cluster.scale(jobs=64)                       # 64 single-core jobs
print(cluster.scheduler_address)             # pass it to --scheduler
input("press Enter to stop the cluster")
```

How big is each paper preset? `--dry-run` counts the runs, times a few training steps and one
validation pass of each kind of run on this machine, prices the sweep as if every run used all its
epochs (an upper bound: runs stop at a plateau), and writes the price to `<out>/dry_run_<experiment>.json`;
the ledger (`figures/README.md`) gives each claim we have not run with its price from those records.
Where does a long sweep stand? `--status` (`status.py`) lists each run as finished, resumable (the
epoch its checkpoint reached, its best validation metric, its training time so far) or not started,
from the records and checkpoints, and trains nothing.
"""
