"""The command line every experiment shares: presets, seeds, compute backend, output folder.

    parse_args(module, doc, presets, argv, add_arguments, positive) -> argparse.Namespace

An experiment declares its presets ({"quick": {...}, "paper": {...}}) and adds its own
options with add_arguments(parser, shown), where shown(key) is the help text of a
value that comes from the preset ("quick: 3, paper: 10"). Options left unset take the
chosen preset's value; the names in `positive` must be >= 1.
"""
import argparse
import math

BACKENDS = ("numpy", "numba", "auto")


def parse_args(module, doc, presets, argv, add_arguments=None, positive=()):
    parser = argparse.ArgumentParser(prog=f"python -m sire_ref.experiments.{module}",
                                     description=doc.split("\n\n")[0])

    def shown(key):
        return "default from --preset: " + ", ".join(f"{name} {p[key]}" for name, p in presets.items())

    parser.add_argument("--preset", choices=sorted(presets), default="quick",
                        help="quick (default: minutes on 2 cores) or paper (the paper's sizes)")
    parser.add_argument("--seeds", type=int, default=None, help=f"model seeds 0..N-1 ({shown('seeds')})")
    parser.add_argument("--backend", choices=BACKENDS, default=None,
                        help=f"compute backend: numpy (the plain reference), numba (jitted kernels and "
                             f"the models' fast path) or auto (the fastest here) ({shown('backend')})")
    if add_arguments is not None:
        add_arguments(parser, shown)
    parser.add_argument("--out", default="figures", help="output folder (default figures/)")
    args = parser.parse_args(argv)
    for key, value in presets[args.preset].items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    for key in ("seeds",) + tuple(positive):
        if getattr(args, key) is not None and getattr(args, key) < 1:
            parser.error(f"--{key.replace('_', '-')} must be >= 1, got {getattr(args, key)}")
    for key in ("lr", "deepsets_lr"):
        value = getattr(args, key, None)
        if value is not None and not (math.isfinite(value) and value > 0):
            parser.error(f"--{key.replace('_', '-')} must be a finite number > 0, got {value}")
    if not args.out.strip():
        parser.error("--out must name a folder (an empty value would write into the file system root)")
    return args
