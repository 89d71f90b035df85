"""`python -m sire_ref.gradcheck` runs sire_ref.tools.gradcheck (the tools live in sire_ref/tools/)."""
if __name__ == "__main__":
    from .tools.gradcheck import main
    raise SystemExit(main())
