"""`python -m sire_ref <command> [options]`: the library's commands (the experiments run as
`python -m sire_ref.experiments.<name>`). `python -m sire_ref <command> --help` shows each one's options."""
import importlib
import sys

COMMANDS = {
    "gradcheck": ("sire_ref.tools.gradcheck", "check the cells' and regularizers' gradients against an oracle"),
    "bench": ("sire_ref.tools.bench", "time the kernels, or every experiment's training step against PyTorch"),
    "diagnose": ("sire_ref.tools.diagnose", "how invariant the models of a finished run are"),
    "gpucheck": ("sire_ref.tools.gpucheck", "check the CuPy path against NumPy on a GPU"),
    "ledger": ("sire_ref.experiments.runner.ledger", "regenerate (or --check) the reproduction ledger"),
    "notes": ("sire_ref.tools.notes", "build the annotated notes: the source as pages, prose beside code"),
}


def usage():
    width = max(map(len, COMMANDS))
    rows = "\n".join(f"  {name:<{width}}  {what}" for name, (_, what) in COMMANDS.items())
    return f"usage: python -m sire_ref <command> [options]\n\ncommands:\n{rows}\n"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    if argv[0] not in COMMANDS:
        print(f"python -m sire_ref: unknown command {argv[0]!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[argv[0]][0])
    return module.main(argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
