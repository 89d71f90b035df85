"""A sweep's `--status`: where each of its runs stands, read from its files; nothing is trained.

A run is
- finished: its record is in <out>/results (epochs, why it stopped, validation and test metric);
- trained: its checkpoint says training ended but no record was written (the process stopped in
  between); the same command writes the record from the checkpoint without training;
- resumable: a checkpoint in the checkpoint folder (default <out>/checkpoints): the epoch it reached
  of its limit, its best validation metric so far and at which epoch, the learning-rate scale (how
  many plateau decays it has had), and the training seconds of every sitting so far;
- not started: neither;
- damaged: its record or checkpoint cannot be read (the reason, and what to do, from io.CorruptFileError).
With an external scheduler and no --checkpoint-dir, checkpoints live on the workers: only records
are seen here, and the status says so.
"""
import os

from ...base.io import CorruptFileError
from ...training import checkpoint
from .report import run_seconds
from .sweep import finished_record, where_runs_go

STATES = ("finished", "trained", "resumable", "not started", "damaged")


def run_states(specs, out_dir, checkpoint_dir=None, scheduler=None):
    """([(name, state, detail)] in spec order, state one of STATES (module docstring), the checkpoint
    folder read or None); checkpoint_dir and scheduler as run_sweep takes them (None: its defaults)."""
    _, checkpoint_dir = where_runs_go(out_dir, scheduler, checkpoint_dir)
    rows = []
    for spec in specs:
        try:
            record = finished_record(out_dir, spec)
            if record is not None:
                rows.append((spec.name, "finished", _finished_text(record)))
                continue
            path = checkpoint.paths(checkpoint_dir, spec.name)[0] if checkpoint_dir else None
            if path is None or not os.path.exists(path):
                rows.append((spec.name, "not started", ""))
                continue
            meta = checkpoint.read_meta(path)
        except CorruptFileError as err:
            rows.append((spec.name, "damaged", str(err)))
            continue
        rows.append((spec.name, "trained" if meta["done"] else "resumable", _checkpoint_text(meta)))
    return rows, checkpoint_dir


def _finished_text(record):
    parts = [f"{record['epochs_run']} epochs (stopped: {record['stopped']})"] if "epochs_run" in record else []
    parts += [f"{k} {record[k]:.4g}" for k in ("val", "test") if isinstance(record.get(k), (int, float))]
    return ", ".join(parts + [f"{_minutes(record)} of training"])


def _minutes(run):
    """A record's or checkpoint's training time over every sitting (report.run_seconds)."""
    seconds = run_seconds(run)
    return f"{seconds / 60:.0f} min" if seconds >= 120 else f"{seconds:.0f} s"


def _checkpoint_text(meta):
    config, best = meta["config"], meta["best"] or {}
    text = f"epoch {meta['epoch']} of at most {config['epochs']}"
    if best:
        text += f", best validation {config['metric']} {best['metric']:.4g} at epoch {best['epoch']}"
    text += f", learning rate x{meta['lr_scale']:.3g} after {meta['decays']} plateau decay(s)"
    if meta["done"]:
        text += f", stopped: {meta['stopped']} (the same command writes its record without training)"
    return text + f", {_minutes(meta)} of training so far"


def print_status(specs, out_dir, checkpoint_dir=None, scheduler=None, log=print):
    """The --status report of run_states: a count per state, then one line per run."""
    rows, seen = run_states(specs, out_dir, checkpoint_dir, scheduler)
    counts = ", ".join(f"{n} {state}" for state in STATES if (n := sum(r[1] == state for r in rows)))
    log(f"status of {len(rows)} runs (results in {os.path.join(out_dir, 'results')}): {counts}")
    if seen is None:
        log("  (checkpoints are on the scheduler's workers, not read here; give --checkpoint-dir to see them)")
    for name, state, detail in rows:
        log(f"  {state:<11} {name}" + (f": {detail}" if detail else ""))
