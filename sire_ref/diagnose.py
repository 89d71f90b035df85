"""`python -m sire_ref.diagnose PATH` runs sire_ref.tools.diagnose (the tools live in sire_ref/tools/)."""
if __name__ == "__main__":
    from .tools.diagnose import main
    raise SystemExit(main())
