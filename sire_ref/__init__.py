"""sire_ref: a readable, exact reference implementation of
"Regularizing Towards Permutation Invariance in Recurrent Models" (Cohen-Karlik, Ben David, Globerson).

Reading order, following the paper (Section 2 -> 4 -> 6):
    cells/           f(s, x) and its fold (Eq. 2.1-2.2): rnn, gru, recurrence; kernels/ the numba twins
    samples, regularizers   draws and R_SUB (Eq. 4.1), R_SIRE (Eq. 4.4) with exact gradients
    constructions    the 3-neuron parity RNN (Eq. 3.2, Theorem 4)
    nn/, models      layers; DeepSets (Eq. 1.1) and the recurrent set model
    data/, train     the tasks of Section 6; loss + lambda R; checkpoint
    experiments/     Section 6, one command each
    invariance, diagnostics   exhaustive gaps and bounds; how invariant a trained model is
    tools/, interop/ gradcheck, bench, gpucheck, diagnose, testing; PyTorch, JAX/Flax, Keras maps
                     and oracles; crosscheck: check your own implementation
"""
__version__ = "0.7.0"
