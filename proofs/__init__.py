"""Numerical checks of the paper's theorems: `python -m proofs` runs them all.

Each check module exposes `run(report)`; a check that fails raises ProofFailure.
"""


class ProofFailure(AssertionError):
    """A numerical check of a theorem did not hold."""


def check(condition, message):
    """Raise ProofFailure(message) unless condition holds."""
    if not condition:
        raise ProofFailure(message)
