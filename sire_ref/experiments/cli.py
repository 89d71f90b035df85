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

BACKENDS = ("numpy", "numba", "auto")
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
    parser.add_argument("--backend", choices=BACKENDS, default=None,
                        help=f"compute backend: numpy (the plain reference), numba (jitted kernels and "
                             f"the models' fast path) or auto (the fastest here) ({shown('backend')})")
    if add_arguments is not None:
        add_arguments(parser, shown)
    parser.add_argument("--out", type=_folder, default=DEFAULT_OUT,
                        help=f"output folder (default {DEFAULT_OUT}/; figures/ holds the committed ones)")
    args = parser.parse_args(argv)
    for key, value in presets[args.preset].items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    return args
