"""sire_ref: a readable, exact reference implementation of
"Regularizing Towards Permutation Invariance in Recurrent Models" (Cohen-Karlik, Ben David, Globerson)."""
__version__ = "0.1.0"
