"""The paper's experiments, each runnable as `python -m sire_ref.experiments.<name>`."""
