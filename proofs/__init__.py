r"""Numerical checks of the paper's theorems: `python -m proofs` runs them all.

Each check module exposes `run(report)`; a check that fails raises ProofFailure.

## Numerical proofs

```bash
python -m proofs        # Theorem 4 and Theorem 5 / Lemma 6 / Corollary 7; exits 1 if a check fails
```

- Theorem 4: the 3-neuron parity RNN of Eq. 3.2 is exact on every binary sequence up to length 14 and on
  random ones up to 10,000. DeepSets: exact linear-piece counts of 1-D ReLU nets show that rho needs >= n
  pieces for parity on 0..n; that the r^L piece bound quoted in the proof is exceeded (one layer of r units
  already gives r + 1 pieces) while (r + 1)^L holds, which still gives >= K units for n = 2^K; and that a
  width-2, depth-K sawtooth rho computes parity on 0..2^K. It prints the RNN vs DeepSets size table.
- Theorem 5: commuting updates (additive, max, parity RNN) have zero swap gaps and are invariant on every
  order of every subset; a model that commutes only on the states reachable from D is invariant on D
  but has a nonzero swap gap at an unreachable state (why Eq. 4.4 samples s from S_{D,Theta}); random
  tanh RNNs and GRUs are not invariant; and a quantitative bound (ours, `sire_ref.core.invariance`):
  permutation gap <= sum over bubble-sort swaps of L^(steps after the swap) * swap gap, L the state
  Lipschitz constant.
"""


class ProofFailure(AssertionError):
    """A numerical check of a theorem did not hold."""


def check(condition, message):
    """Raise ProofFailure(message) unless condition holds."""
    if not condition:
        raise ProofFailure(message)
