"""`python -m sire_ref.gpucheck` runs sire_ref.tools.gpucheck (the tools live in sire_ref/tools/)."""
if __name__ == "__main__":
    from .tools.gpucheck import main
    raise SystemExit(main())
