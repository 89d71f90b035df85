"""The command line every experiment shares: presets, seeds, compute backend, output folder.

    parse_args(module, doc, presets, argv, add_arguments) -> argparse.Namespace

An experiment declares its presets ({"quick": {...}, "paper": {...}}) and adds its own
options with add_arguments(parser, shown), where shown(key) is the help text of a
value that comes from the preset ("quick: 3, paper: 10"). Options left unset take the
chosen preset's value. Every numeric option is typed with one of the checkers below, so a
bad value stops the parser with a message naming the option, before anything runs.
"""
import argparse
import math
import os
import sys
import tempfile
from collections import Counter

from ...base import backend
from ...base.io import write_json
from ...training.loop import epoch_seconds
from .report import provenance
from .status import print_status
from .sweep import SCHEDULER_ENV, SweepFailed, run_sweep

DEFAULT_OUT = "results"     # not tracked by git: a user's runs never touch the committed figures/


def _checked(convert, ok, expected):
    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {expected}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"must be {expected}, got {text!r}")
        return value
    parse.__name__ = expected          # argparse names the type in some messages
    return parse


positive_int = _checked(int, lambda v: v >= 1, "an integer >= 1")
nonnegative_int = _checked(int, lambda v: v >= 0, "an integer >= 0")
positive_float = _checked(float, lambda v: math.isfinite(v) and v > 0, "a finite number > 0")
nonnegative_float = _checked(float, lambda v: math.isfinite(v) and v >= 0, "a finite number >= 0")
MAX_WIDTH = 1 << 16      # far above the paper's widths (512), far below what would exhaust memory at init
width = _checked(int, lambda v: 1 <= v <= MAX_WIDTH, f"a layer width in 1..{MAX_WIDTH}")


def _folder(text):
    if not text.strip():
        raise argparse.ArgumentTypeError("must name a folder (an empty value would write into the "
                                         "file system root)")
    return text


def parse_args(module, doc, presets, argv, add_arguments=None):
    parser = argparse.ArgumentParser(prog=f"python -m sire_ref.experiments.{module}",
                                     description=doc.split("\n\n")[0])

    def shown(key):
        return "default from --preset: " + ", ".join(f"{name} {p[key]}" for name, p in presets.items())

    parser.add_argument("--preset", choices=sorted(presets), default="quick",
                        help="quick (default: minutes on 2 cores) or paper (the paper's sizes)")
    parser.add_argument("--seeds", type=positive_int, default=None,
                        help=f"model seeds 0..N-1 ({shown('seeds')})")
    parser.add_argument("--backend", choices=backend.HOST, default=None,
                        help=f"compute backend: numpy (the plain reference), numba (jitted kernels and "
                             f"the models' fast path) or auto (the fastest here) ({shown('backend')})")
    if add_arguments is not None:
        add_arguments(parser, shown)
    parser.add_argument("--out", type=_folder, default=DEFAULT_OUT,
                        help=f"output folder (default {DEFAULT_OUT}/; figures/ holds the committed ones)")
    parser.add_argument("--jobs", type=positive_int, default=1,
                        help="runs at a time on this machine: 1 (default) runs them in this process, "
                             "N > 1 on an embedded Dask cluster of N worker processes")
    parser.add_argument("--scheduler", default=None,
                        help=f"address of a running Dask scheduler (tcp://host:8786) to run on instead "
                             f"(default ${SCHEDULER_ENV} if set; README: cluster recipe)")
    parser.add_argument("--checkpoint-dir", type=_folder, default=None,
                        help="where runs checkpoint (default <out>/runs/<experiment>/checkpoints; "
                             "with --scheduler each worker's temp dir unless this names shared storage)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the number of runs, their cost measured by a short timing probe "
                             "here, and the total CPU-hours; train nothing")
    parser.add_argument("--status", action="store_true",
                        help="print where each run of this command stands (finished, resumable from "
                             "its checkpoint at epoch E, not started), read from --out and the "
                             "checkpoints; train nothing")
    args = parser.parse_args(argv)
    for key, value in presets[args.preset].items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    cores = os.cpu_count() or 1
    if args.jobs > cores and args.scheduler is None:
        parser.error(f"argument --jobs: {args.jobs} worker processes on this machine's {cores} cores would only "
                     f"slow every run down; give --jobs {cores} or less (or --scheduler for a cluster)")
    for option in ("out", "checkpoint_dir"):          # --dry-run writes its price into --out too
        problem = unwritable(getattr(args, option))
        if problem:
            parser.error(f"argument --{option.replace('_', '-')}: {problem}")
    return args


def unwritable(folder):
    """None if `folder` is (or can be made) a folder this process can write files into, else why not."""
    if folder is None:
        return None
    if os.path.exists(folder) and not os.path.isdir(folder):
        return f"{folder!r} is a file, not a folder: give a folder for the results"
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
    except OSError as err:
        return (f"cannot write into {folder!r} ({err.strerror or err}): give a folder you can write to "
                f"(results and figures are written there)")
    return None


def sweep(args, runner, specs, out_dir, estimate):
    """Run `specs` as the command line asks: returns {name: result}, or None after a --dry-run or --status.

    estimate(specs) -> [(label, seconds per run, count)] prices the runs (--dry-run). A failed
    run exits with status 1 (after the others finished), an unreachable scheduler with 2."""
    if args.status:
        print_status(specs, out_dir, args.checkpoint_dir, args.scheduler)
        return None
    if args.dry_run:
        priced = estimate(specs)
        print_plan(specs, priced)
        path = os.path.join(args.out, f"dry_run_{os.path.basename(os.path.normpath(out_dir))}.json")
        write_json(path, {"args": vars(args), "runs": len(specs), "provenance": provenance(),
                          "kinds": [{"label": label, "seconds_per_run": seconds, "count": count}
                                    for label, seconds, count in priced],
                          "cpu_hours": sum(seconds * count for _, seconds, count in priced) / 3600})
        print(f"wrote {path}")
        return None
    try:
        return run_sweep(runner, specs, out_dir, args.jobs, args.scheduler, args.checkpoint_dir)
    except KeyboardInterrupt:         # run_sweep has said what is kept and how to resume
        raise SystemExit(130) from None
    except SweepFailed as err:
        print(f"\n{err}", file=sys.stderr)
        raise SystemExit(1) from None
    except ConnectionError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None


def print_plan(specs, priced):
    """The --dry-run report: runs per kind, their measured cost, and the total in CPU-hours."""
    print(f"dry run: {len(specs)} runs (upper bounds: every run trains all its epochs; runs stop "
          f"earlier at a plateau)")
    total = 0.0
    for label, seconds, count in priced:
        total += seconds * count
        print(f"  {count:>5} x {label}: at most {seconds / 60:.1f} min each")
    print(f"total: at most {total / 3600:.1f} CPU-hours on cores like this machine's (one core per run)")


def price(specs, kind, setup, label):
    """--dry-run pricing: [(label(spec), seconds per run at most, count)] with one timing probe
    (train.epoch_seconds on setup(spec) -> (data, model, TrainConfig)) per kind(spec) of run,
    in first-seen order; a run costs at most its epochs times the probed epoch."""
    counts = Counter(kind(s) for s in specs)
    first = {}
    for s in specs:
        first.setdefault(kind(s), s)
    priced = []
    for k, count in counts.items():
        spec = first[k]
        data, model, config = setup(spec)
        priced.append((label(spec), epoch_seconds(model, data, config) * spec.epochs, count))
    return priced
