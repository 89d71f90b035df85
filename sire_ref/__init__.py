"""sire_ref: a readable, exact reference implementation of
"Regularizing Towards Permutation Invariance in Recurrent Models" (Cohen-Karlik, Ben David, Globerson).

The folders are floors; a module imports only its own floor and those below (tests/layout):
    core/         the ground: the paper's math (cells Eq. 2.1-2.2, samplers, R_SUB Eq. 4.1,
                  R_SIRE Eq. 4.4, the parity construction Eq. 3.2, invariance checks)
    models/       DeepSets (Eq. 1.1), the recurrent set model, point-set models, the CNN
    training/     the loop (loss + lambda R), checkpoints, diagnostics of a trained model
    experiments/  the paper's Section 6, one command each; runner/ what they share
    tools/        gradcheck, bench, diagnose, gpucheck, interop, crosscheck
    base/, nn/, data/, kernels/   below the ground: plumbing, layers, data sets, numba kernels
`python -m sire_ref <command>` runs the tools (python -m sire_ref --help).
"""
__version__ = "0.10.0"
