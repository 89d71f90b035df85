r"""Tools around the math, never imported by it: gradient checks (`gradcheck`), the benchmarks
(`bench`: kernels; `bench_experiments`: every experiment's full training step against its
PyTorch twin from `torch_twins`; `timing`: round-robin medians), the GPU check (`gpucheck`),
how invariant a finished run's models are (`diagnose`), the annotated notes (`notes`: the source as
pages, prose beside code), the framework maps and oracles (`interop`), your own implementation
checked against ours (`crosscheck`), and what tests share (`testing`). Each command runs as
`python -m sire_ref <command>`.

## Cross-checking another framework (PyTorch, JAX/Flax, Keras)

A main use of this reference is checking someone else's SIRE. Install the framework's extra
(`pip install -e ".[jax]"` for JAX + Flax, `".[keras]"` for Keras 3 on JAX; PyTorch: `pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu`), then:
(Keras 3 picks its backend once, at `import keras`, from `$KERAS_BACKEND`, and defaults to TensorFlow,
which the `[keras]` extra does not install: a plain `import keras` in that environment fails until you
`export KERAS_BACKEND=jax`. `sire_ref.tools.interop.keras` sets it to jax, else torch, when it is unset and
Keras is not imported yet, so our commands work either way.)

```bash
python -m sire_ref gradcheck --oracle jax --cell gru --regularizer sire     # fd | torch | jax | keras
python -m sire_ref gradcheck --oracle keras --cell rnn --regularizer sire --estimator prefix
```

One line per array (its value, max abs and relative error), exit status 1 above the tolerance
(1e-9 for the frameworks, 1e-7 for finite differences), 2 when the framework is missing. Measured
here: every oracle agrees with every cell, regularizer and estimator to 1e-15 relative.

Weight maps (our names are PyTorch's: `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`, GRU gates r, z, n;
s0 is always passed separately, as the frameworks' initial state / carry):

| framework | classes | `sire_ref.tools.interop.*` | what differs |
|---|---|---|---|
| PyTorch | nn.RNN, nn.GRU, nn.RNNCell, nn.GRUCell | `torch.params_from_torch`, `params_to_torch` | nothing |
| Flax linen | SimpleCell, GRUCell | `jax.params_from_flax`, `params_to_flax(params, "linen")` | one bias in SimpleCell, no b_hr, b_hz in GRUCell: ours are summed into the input biases (the same function); from Flax they come back as 0 |
| Flax nnx | SimpleCell, GRUCell | `jax.params_from_flax(cell)`, `params_to_flax(params, "nnx")` | as linen, and nnx's GRUCell has no b_hn at all (its docstring shows one, its code has none): params with b_hn != 0 are refused |
| Keras 3 | SimpleRNN(Cell), GRU(Cell) with reset_after=True | `keras.params_from_keras(layer)`, `params_to_keras(params)` | Keras's gate order is z, r, h (reordered); `reset_after=False` (reset gate before the recurrent matrix) is a different function and is refused with that reason |

Float64 in Keras: Keras 3.15 computes `tanh` and `sigmoid` in float32 on JAX even for float64
tensors, so a stock float64 Keras RNN does not run there; `params_to_keras` builds float64 layers with
JAX's own `tanh` and `sigmoid` (the rest is Keras's code), and the Keras oracle needs the JAX backend
(on torch, Keras computes some float64 operations in float32; measured 1e-8 relative errors).
Tests (`tests/exact/test_interop_jax.py`, `test_interop_keras.py`): a Flax (linen and nnx) and a Keras
cell with nonzero biases load into sire_ref and give the same states and gradients in float64 to 1e-9.

**Bring your own** (`sire_ref.tools.crosscheck`): write your function in PyTorch or JAX, taking our parameter
names, x (B, T, I), lengths (B,) and our explicit draw as int64 arrays of your framework; `check`
runs it on random problems (nonzero biases and s0, lengths 0, 1, 2 and T), differentiates it with
your framework's autodiff, and compares the value and every gradient with ours. Here, a short
PyTorch SIRE written the way the authors' released code does it ("prefix" draws: one pass gives every
prefix state, then the pair t, t+1 in both orders):

```python
# needs: torch
import torch
from sire_ref.tools import crosscheck

def gru_step(p, s, x):
    # PyTorch's GRU equations: gate blocks r, z, n of weight_ih / weight_hh
    i_r, i_z, i_n = (x @ p["weight_ih"].T + p["bias_ih"]).chunk(3, dim=-1)
    h_r, h_z, h_n = (s @ p["weight_hh"].T + p["bias_hh"]).chunk(3, dim=-1)
    r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
    return (1 - z) * torch.tanh(i_n + r * h_n) + z * s

def user_sire(params, x, lengths, draw, stop_at_state=False):
    s = params["s0"].expand(x.shape[0], -1)
    states = [s]
    for t in range(x.shape[1]):
        s = gru_step(params, s, x[:, t])
        states.append(s)
    b = draw["seq"]
    s = torch.stack(states, dim=1)[b, draw["size"]]         # the state after x[b, :t]
    s = s.detach() if stop_at_state else s
    xa, xc = x[b, draw["a"]], x[b, draw["c"]]
    diff = gru_step(params, gru_step(params, s, xa), xc) - gru_step(params, gru_step(params, s, xc), xa)
    return (diff ** 2).sum(dim=1).mean()

result = crosscheck.check(user_sire, "torch", kind="sire", cell="gru", estimator="prefix")
assert result.ok                          # value and every gradient within 1e-9, on 3 problems
```

It prints one line per problem and `crosscheck PASS: 3 problems, every value and gradient within 1e-09`.
Plant a bug, the gradient stopped at s (a common slip: `s.detach()`):

```python
# needs: torch
buggy = crosscheck.check(lambda p, x, L, d: user_sire(p, x, L, d, stop_at_state=True), "torch",
                         kind="sire", cell="gru", estimator="prefix")
assert not buggy.ok and buggy.first_failure[1] == "weight_ih"
print(buggy)      # crosscheck FAIL: problem 0: weight_ih disagrees, relative error 1.694e-02 ...
```

The value still agrees (the bug is invisible in the loss); the first gradient that disagrees is
named, and `buggy.reports[0]["s0"]["rel"]` is 1.0 (s0 gets no gradient at all). The same works for
JAX (`framework="jax"`, differentiated by `jax.grad` under x64), for R_SUB (`kind="sub"`: draws with
`subset`, `size`, `p`, `q`) and for a cell alone (`kind="states"`: `fn(params, x, lengths)` returns the
states, each carried past its sequence's length):

```python
# needs: jax
import jax.numpy as jnp
from sire_ref.tools import crosscheck

def user_sire_jax(params, x, lengths, draw):
    # a tanh RNN's R_SIRE for any draw ("subset" too): fold S, then the pair both ways
    step = lambda s, xt: jnp.tanh(xt @ params["weight_ih"].T + params["bias_ih"]
                                  + s @ params["weight_hh"].T + params["bias_hh"])
    terms = []
    for n in range(draw["seq"].shape[0]):
        b, m = int(draw["seq"][n]), int(draw["size"][n])
        s = params["s0"]
        for t in draw["subset"][n, :m].tolist():
            s = step(s, x[b, t])
        xa, xc = x[b, int(draw["a"][n])], x[b, int(draw["c"][n])]
        terms.append(jnp.sum((step(step(s, xa), xc) - step(step(s, xc), xa)) ** 2))
    return jnp.mean(jnp.stack(terms))

assert crosscheck.check(user_sire_jax, "jax", kind="sire", cell="rnn", problems=crosscheck.Problems(count=2)).ok
```
"""
