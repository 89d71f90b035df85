r"""The ground floor: the paper's math, in the order the paper gives it.

`cells` (f(s, x) and its fold, Eq. 2.1-2.2), `constructions` (the 3-neuron parity RNN, Eq. 3.2,
Theorem 4), `samples` (the explicit SUB and SIRE draws), `regularizers` (R_SUB, Eq. 4.1, and R_SIRE,
Eq. 4.4, with exact gradients), `invariance` (exhaustive swap gaps and the bounds of Theorem 5 / Lemma 6).
Only the basement (`base`), the layers the cells share (`nn.inputs`, `nn.activations`) and, on request,
the numba kernels lie below.

## The cells

`sire_ref.core.cells.rnn` and `sire_ref.core.cells.gru` are pure functions with explicit parameters and caches:

```python
import numpy as np
from sire_ref.core.cells import gru

rng = np.random.default_rng(0)
params = gru.init_params(input_size=3, hidden_size=8, rng=rng)      # dict of float64 arrays
x = rng.normal(size=(4, 10, 3))                                     # (B, T, I)
states, cache = gru.forward(params, x, lengths=[10, 3, 7, 1])       # (B, T, H)
grads, dx = gru.backward(params, cache, np.ones_like(states))       # dL/dparams, dL/dx
s1, c = gru.step(params, states[:, 0], x[:, 1])                     # one application of f (Eq. 2.1)
```

- Parameter names and shapes are PyTorch's (`weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`; GRU gate
  order r, z, n) plus `s0`, the learned initial state s_0 of Eq. 2.1.
- `lengths` (0..T): past its length a sequence's state is carried unchanged, so `states[:, -1]` holds
  every sequence's final state f(s_0, x_1..x_n) (Eq. 2.2); a length-0 sequence stays at s_0; inputs
  past the length get no gradient.
- float64 is the reference precision; float32 works and results keep the input dtype.
- x may also be integer tokens (B, T) in 0..I-1, read as one-hot rows: the same f with x_t W_ih^T a
  column gather; tokens get no dx (`None`). The regularizers accept tokens too.
- Wrong shapes, dtypes, lengths or NaN/inf raise a ValueError/TypeError naming the argument;
  masked arrays are refused (mark padding with `lengths`).
- `backward` checks that params and x are, value for value, those of its `forward` (which keeps
  copies): other params, params of another size, or arrays changed in place in between are
  refused, not turned into wrong gradients. The same holds for the models' backward. The
  `unchecked_*` twins trust their caller.
- `sire_ref.tools.interop.torch`: `params_from_torch(module, s0=None)` and `params_to_torch(params, cell=False)`
  for nn.RNN, nn.GRU, nn.RNNCell, nn.GRUCell (single layer, unidirectional, tanh), and `oracle(...)`,
  PyTorch autograd's states and gradients under our length semantics.
- `sire_ref.base.backend`: cells are written against the array module of their inputs, so CuPy arrays run
  the same code on a GPU (`pip install -e ".[gpu]"`).

## The regularizers (Section 4)

`sire_ref.core.regularizers` computes R_SIRE (Eq. 4.4) and R_SUB (Eq. 4.1) on the cell's states, with exact
gradients for every parameter (s0 included) and optionally the input, on an explicit draw that any
other framework can replay:

```python
from sire_ref.core.samples import sample_sire, sample_sub
from sire_ref.core.regularizers import sire, sub

lengths = [10, 3, 7, 1]
draw = sample_sire(rng, lengths, n_samples=32, estimator="subset")  # or "prefix"
value, grads, _ = sire(gru, params, x, draw, lengths)      # through_state=False stops the gradient at s
value, grads, dx = sub(gru, params, x, sample_sub(rng, lengths, 32), lengths, with_dx=True)
```

A draw carries the `lengths` it was made for, and a call with other lengths is refused (positions
past a sequence's length would read its padding). A SIRE draw is plain int arrays: `seq` (which sequence), `subset`/`size` (the ordered positions S whose
fold gives the reachable state s = f(s_0, x_S)), and `a`, `c` (two positions outside S); the term is
||f(s, x_a, x_c) - f(s, x_c, x_a)||^2. "subset" follows the paper's text (random subset, random order);
"prefix" the authors' code (S = first t positions, a = t, c = t + 1). Sequences shorter than 2 are never
drawn; a batch with nothing to draw gives an empty draw with a RuntimeWarning, and value 0 with zero
gradients. `sire_ref.tools.interop.torch.regularizer_oracle` is a deliberately naive PyTorch version of both.
"""
