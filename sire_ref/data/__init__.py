"""Data sets: generators for the synthetic tasks and loaders for the real ones."""
