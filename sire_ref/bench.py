"""`python -m sire_ref.bench` runs sire_ref.tools.bench (the tools live in sire_ref/tools/)."""
if __name__ == "__main__":
    from .tools.bench import main
    raise SystemExit(main())
