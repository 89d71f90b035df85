r"""Hand-built networks from the paper.

parity_rnn (Theorem 4, Eq. 3.2):

\[ s_{t+1} = W_1^\top \operatorname{relu}(W_2 x_t + W_3 s_t + B), \qquad W_1 = (1, -1, -1),\;
   W_2 = W_3 = (2, 2, 2),\; B = (0, -1, -3),\; s_0 = 0. \]

With \( a = 2 x_t + 2 s_t \) this is \( \operatorname{relu}(a) - \operatorname{relu}(a - 1) - \operatorname{relu}(a - 3) \),
i.e. XOR on {0, 1}: 3 hidden neurons, 12 parameters.
"""
import numpy as np

PARITY_W1 = np.array([1.0, -1.0, -1.0])
PARITY_W2 = np.array([2.0, 2.0, 2.0])
PARITY_W3 = np.array([2.0, 2.0, 2.0])
PARITY_B = np.array([0.0, -1.0, -3.0])


def parity_step(s, x_t, W1=PARITY_W1, W2=PARITY_W2, W3=PARITY_W3, B=PARITY_B):
    """One update of Eq. 3.2 for a batch: s (N,), x_t (N,) -> (N,)."""
    return np.maximum(W2 * x_t[:, None] + W3 * s[:, None] + B, 0) @ W1


def parity_rnn(x, lengths=None, **weights):
    """Final states of Eq. 3.2 from s_0 = 0: x (N, T) or (N, T, 1) bits, lengths (N,) or None -> (N,).

    Exact in float64 (all intermediate values are small integers). Past its length a
    sequence's state is carried unchanged, as in the cells.
    """
    x = np.asarray(x, dtype=np.float64).reshape(x.shape[0], x.shape[1])
    lengths = np.full(x.shape[0], x.shape[1]) if lengths is None else np.asarray(lengths)
    s = np.zeros(x.shape[0])
    for t in range(x.shape[1]):
        s = np.where(t < lengths, parity_step(s, x[:, t], **weights), s)
    return s
