r"""numba twins of the cells' sequence passes (the CPU fast path, `backend="numba"`).

The reference in `sire_ref/core/cells/` is the readable truth; these kernels run the same
math (Eq. 2.1-2.2 and its backward) as jitted loops, held equal to it by the tests.
Importing numba takes seconds, so the cells import a kernel only on first use.

## Fast paths: numba kernels, folded embeddings, float32, and the benchmarks

The reference cells are the readable truth; `backend="numba"` runs the same math as jitted CPU kernels
(`sire_ref/kernels/`), held equal to the reference by the tests (float64 relative error < 1e-12 on states
and every gradient, float32 < 1e-5):

```python
import numpy as np
from sire_ref.core.cells import gru
from sire_ref.models.recurrent import RecurrentSetModel

rng = np.random.default_rng(0)
params, x = gru.init_params(3, 8, rng), rng.normal(size=(4, 10, 3))

states, cache = gru.forward(params, x, [10, 3, 7, 1], backend="numba")   # backward follows the cache
model = RecurrentSetModel(1, 20, 1, cell="gru", backend="auto")       # or for a whole model
```

Backends: `None` or `"numpy"` run the plain reference (CuPy arrays run it on the GPU); `"numba"` the
kernels; `"auto"` the fastest for the arrays (numba on the CPU, CuPy on a GPU). A model on a fast
backend (`models.py`) also takes three shortcuts, each the same math to round-off and each held
equal to the plain path by `tests/exact/test_fast_path.py` and to finite differences:

- Integer tokens are one-hot rows (`nn/inputs.py`): x_t W^T is column x_t of W, a gather, and dW a
  scatter-add. An `Embedding` is folded into the layer after it (`Embedding.fold`: E[x] W^T = e_x (W E^T)^T),
  so the GRU of the integer tasks reads tokens with no input product at all, and DeepSets' phi likewise.
- SIRE's "prefix" estimator reads its reached states from the forward pass (`regularizers.sire_from_states`:
  f(s_0, x_0..x_{t-1}) is states[:, t-1]) and hands the gradient back to the model's own backward.
- The swapped pairs of both SIRE estimators run as one two-step fold of 2N rows, each from its own
  initial state (`cell.unchecked_forward(..., initial=)`), on the kernels.

Inside a kernel only the recurrence runs step by step (BLAS through `np.dot` in the jitted code); the
input side and the weight gradients are a few large products, or gathers for tokens. numba's pip
build has no SVML, so `np.tanh` in a jitted loop is a scalar libm call: `kernels/mathfn.py` has a
float64-accurate tanh and sigmoid built from arithmetic and exponent bits, and for float32 a rational
tanh (x P(x^2) / Q(x^2), fitted here, absolute error < 4e-7) that runs in float32 SIMD lanes at about
0.4 ns per element, 8x less than the float64 version. The experiments train in float32 on `"auto"`;
float64 stays the reference precision of the cells, the regularizers and every gradient check.

Threads: numba's `np.dot` calls SciPy's OpenBLAS, not NumPy's; `sire_ref.base.threads.blas_threads(n)` loads
it before limiting every BLAS and OpenMP pool, so that `train()`, the sweep workers and the benchmarks
run on one thread from the first product on (a test checks the pools inside a jitted call in a fresh
process). Before, the first jitted products of every process ran on spinning extra threads.

CuPy: pass CuPy arrays (`sire_ref.base.backend.to_module(params, cupy)`) and the same reference code runs on
the GPU, regularizers and training loop included (`Split` data as CuPy arrays keeps the loop on the
device). `python -m sire_ref gpucheck` compares CuPy with NumPy (states, gradients, one SIRE value) and
times both; it has not been run on a GPU yet (no GPU was available to this project so far), and the
CuPy tests skip without one. Without a GPU the device path still runs, on a CPU stand-in for CuPy
(`sire_ref.tools.fake_cupy`, `tests/exact/test_cupy_standin.py`): its arrays refuse every silent
crossing between host and device (an `np.` call on a device array, a host operand, index or assigned
value, an implicit conversion) and count each read back to the host. A full training step of every
experiment's model with each regularizer (backend "auto", which on device arrays runs the reference)
equals the NumPy step in float64 and reads nothing back; an epoch reads back its two means, and the
evaluation its outputs. So the training loop keeps the step's loss and the gradient norm on the device
(`train_step` returns 0-d arrays; `clip_grad_norm` scales by a device-side factor), and the steps run
`base.validate.trusted()`: the data are checked once, the per-call scans for NaN and out-of-range
tokens (each a synchronization on a GPU) are skipped inside the loop. What the stand-in cannot reach:
`cupyx.scatter_add` is imitated by `np.add.at`, and CuPy's own kernels (none written here: no
`RawKernel` or `ElementwiseKernel`) and GPU timings need a GPU.

The CNN baseline has a CPU fast path too (`kernels/conv.py`, `ConvNet(..., backend="auto")`): the conv
blocks run channels-last, in chunks of a few images whose im2col columns stay in cache from the copy
through the one GEMM to the fused bias, relu and max-pool; the backward recomputes each chunk's
columns instead of storing k^2 copies of the input (20 MB at the quick preset, which made the step
memory-bound). The step at the quick preset went from 41 ms to 28 ms, about PyTorch's (oneDNN) time
on one thread; the layer-2 products alone run at about 100 GFLOP/s, 2/3 of the matmul peak, and are
half the step.

```bash
python -m sire_ref bench --experiments   # every experiment's full training step vs PyTorch, about 1 minute
python -m sire_ref bench                 # the cells alone on every backend, about 6 minutes; --quick: 30 s
```

`--experiments` times what users run: a FULL training step (forward, loss, backward, lambda R with a
fresh draw, clipping where the experiment clips, the Adam update) of each experiment's own model,
against the same model, regularizer and optimizer written as PyTorch code usually is
(`tools/torch_twins.py`: nn.GRU / nn.RNN with our parameters, SIRE "subset" by folding the gathered
subsets, "prefix" from the forward's outputs, SUB as one padded batch). Both take turns call by call
in one process, BLAS and PyTorch on one thread, float32. A test holds each twin to our objective and
gradients in float64 (relative error < 1e-12 and < 1e-9), so both sides compute the same thing.
"limit" is the physical floor: the recurrent matrix products' FLOPs at this machine's matmul peak.

One run on an idle machine (152.3 GFLOP/s float32 peak from a 512x512 product; times vary by
about 20% between runs here, the ratios come from one run):

| experiment configuration (float32) | sire_ref ms | PyTorch ms | sire_ref faster by | regularizer adds, ours (PyTorch) | limit ms |
|---|---|---|---|---|---|
| parity: tanh RNN, H = 20, B = 32 | 0.52 | 1.35 | 2.59x | - | 0.01 |
| parity: DeepSets 100/100 | 1.02 | 1.49 | 1.47x | - | - |
| integer GRU, n = 5 | 2.34 | 3.59 | 1.53x | - | 0.48 |
| integer GRU, n = 5, SIRE subset | 5.24 | 7.65 | 1.46x | 119% (110%) | 1.16 |
| integer GRU, n = 5, SIRE prefix | 4.46 | 5.93 | 1.33x | 92% (66%) | 0.87 |
| integer GRU, n = 5, SUB | 7.49 | 9.55 | 1.28x | 206% (155%) | 1.45 |
| integer GRU, n = 10 | 3.78 | 5.96 | 1.58x | - | 0.97 |
| integer GRU, n = 10, SIRE subset | 9.79 | 13.74 | 1.40x | 84% (105%) | 2.13 |
| integer GRU, n = 10, SIRE prefix | 7.59 | 9.31 | 1.23x | 47% (40%) | 1.36 |
| integer GRU, n = 10, SUB | 13.77 | 18.27 | 1.33x | 237% (180%) | 2.90 |
| integer GRU, n = 30 | 10.68 | 16.81 | 1.57x | - | 2.90 |
| integer GRU, n = 30, SIRE subset | 22.12 | 35.16 | 1.59x | 81% (111%) | 6.00 |
| integer GRU, n = 30, SIRE prefix | 13.00 | 19.03 | 1.46x | 30% (18%) | 3.29 |
| integer GRU, n = 30, SUB | 30.38 | 47.78 | 1.57x | 186% (179%) | 8.71 |
| integer DeepSets, n = 10 | 0.92 | 1.30 | 1.42x | - | - |
| epoch of 50 steps + evaluation, GRU n = 10 | 194 | 319 | 1.64x | - | - |
| the same, SIRE subset | 412 | 664 | 1.61x | - | - |
| the same, SUB | 510 | 832 | 1.63x | - | - |

Before this work the experiments ran float64 on the kernels with a dense input product and a second
fold for every SIRE draw: 26.1 ms a step at n = 10 with SIRE (issue measurement); now 9.8 ms, and
every configuration is faster than PyTorch. Where the targets we set ourselves are missed, and why
(profile of the n = 10 GRU step, 3.6 ms on an idle core: kernel forward 1.0 ms, kernel backward
1.6 ms, Adam 0.2 ms, the rest 0.8 ms of Python-level work: input checks, the embedding fold, gradient
dicts):

- 2x faster than PyTorch: reached for the parity RNN only (2.6x); the GRU steps are 1.2-1.6x, whole
  epochs 1.6x, DeepSets 1.4-1.5x. The GRU step is three products of 2 x 3H x H per row and step (s W_hh^T, ds W_hh, dW_hh),
  the same work PyTorch does; at B = 128, H = 80 those small products run at about 70 GFLOP/s, half
  the 512x512 peak, which alone is 2.1 ms of the 3.6. What remains to cut is the Python-level 0.8 ms
  (a fused Adam, one check per step instead of per call) and the elementwise work; DeepSets is all
  small NumPy calls.
- SIRE "prefix" adds 47-92% at n = 5-10, 30% at n = 30 (target 15%): its new work, the swapped pairs, is
  2 steps for 2N rows, 4N row-steps against the model's B n, so with N = B = 128 it is 40% of the
  recurrence at n = 10 and 13% at n = 30 before any overhead.
- SIRE "subset" adds 81-119% (target 60%; PyTorch's adds 105-111%): the fold over the drawn subsets runs N rows to the longest
  subset (n - 2 steps), as many row-steps as the model at n = 10, plus the pairs.
- SUB adds 186-237% (target 60%): both orders of each subset, 2N rows of up to n steps, twice the
  model's recurrence with N = B; PyTorch's SUB costs the same share. Below these floors only a
  smaller N, or folds that skip the padded steps of short rows, would go.

The numba path is faster than the reference in every experiment configuration; in the kernel table
below it loses only at T = 1000, H = 256, where `"auto"` therefore runs the reference.

The kernel table times a full training step (forward + backward, all gradients and dx) for every backend present and
PyTorch CPU (nn.RNN / nn.GRU) in one process, one thread by default (`--threads`), float32 and float64,
after warm-up; the backends take turns call by call so that a drifting machine slows them alike. It
prints ms, GFLOP/s, the ratios, the share of one SIRE evaluation, and the machine's matmul peak, and
writes `bench.json`.

One run on this machine, idle (2 vCPU Zen 4, 1 thread, numba 0.68, PyTorch 2.13 CPU; matmul peak
150.6 GFLOP/s float32, 69.5 float64 as probed by a 512x512 product). Times vary by about 20%
between runs on this shared machine; the ratios come from the same run:

| cell | (I, H, B, T) | dtype | numpy ms | numba ms | torch ms | numba vs torch | numba vs numpy | numba % of peak |
|---|---|---|---|---|---|---|---|---|
| rnn | (1, 20, 128, 10) | float32 | 0.77 | 0.30 | 0.92 | 3.08x | 2.59x | 7% |
| rnn | (1, 20, 128, 10) | float64 | 0.92 | 0.41 | 1.03 | 2.48x | 2.21x | 11% |
| rnn | (1, 20, 128, 100) | float32 | 6.86 | 2.26 | 6.04 | 2.68x | 3.04x | 9% |
| rnn | (1, 20, 128, 100) | float64 | 8.63 | 3.93 | 9.22 | 2.35x | 2.20x | 12% |
| rnn | (16, 128, 64, 30) | float32 | 5.21 | 3.10 | 4.22 | 1.36x | 1.68x | 45% |
| rnn | (16, 128, 64, 30) | float64 | 8.69 | 6.84 | 8.03 | 1.17x | 1.27x | 45% |
| rnn | (3, 256, 64, 100) | float32 | 42.88 | 33.14 | 31.63 | 0.95x | 1.29x | 51% |
| rnn | (3, 256, 64, 100) | float64 | 85.94 | 68.11 | 74.77 | 1.10x | 1.26x | 54% |
| rnn | (3, 256, 64, 1000) | float32 | 447.66 | 458.58 | 415.42 | 0.91x | 0.98x | 37% |
| rnn | (3, 256, 64, 1000) | float64 | 844.50 | 713.85 | 894.57 | 1.25x | 1.18x | 51% |
| rnn | (1, 128, 64, 784) | float32 | 151.13 | 85.98 | 100.61 | 1.17x | 1.76x | 38% |
| rnn | (1, 128, 64, 784) | float64 | 242.97 | 196.67 | 242.82 | 1.23x | 1.24x | 36% |
| gru | (1, 20, 128, 10) | float32 | 2.12 | 0.69 | 2.25 | 3.26x | 3.07x | 9% |
| gru | (1, 20, 128, 10) | float64 | 2.69 | 1.13 | 2.65 | 2.33x | 2.37x | 12% |
| gru | (1, 20, 128, 100) | float32 | 20.51 | 7.89 | 21.15 | 2.68x | 2.60x | 8% |
| gru | (1, 20, 128, 100) | float64 | 28.14 | 13.80 | 26.10 | 1.89x | 2.04x | 10% |
| gru | (16, 128, 64, 30) | float32 | 18.98 | 11.30 | 13.97 | 1.24x | 1.68x | 37% |
| gru | (16, 128, 64, 30) | float64 | 33.76 | 22.98 | 25.80 | 1.12x | 1.47x | 40% |
| gru | (3, 256, 64, 100) | float32 | 157.29 | 112.59 | 113.71 | 1.01x | 1.40x | 45% |
| gru | (3, 256, 64, 100) | float64 | 278.60 | 218.51 | 243.47 | 1.11x | 1.27x | 50% |
| gru | (3, 256, 64, 1000) | float32 | 1552.00 | 1293.21 | 1237.05 | 0.96x | 1.20x | 39% |
| gru | (3, 256, 64, 1000) | float64 | 2857.03 | 3001.62 | 2801.09 | 0.93x | 0.95x | 37% |
| gru | (1, 128, 64, 784) | float32 | 459.08 | 238.19 | 318.67 | 1.34x | 1.93x | 42% |
| gru | (1, 128, 64, 784) | float64 | 786.86 | 526.42 | 581.18 | 1.10x | 1.49x | 41% |

Where the numba path falls short: at small H it is 2.4-3.3x faster than PyTorch, but at H = 256 it is
about as fast (0.9-1.1x), and at T = 1000, H = 256 the saved activations (5 x T x B x H for the GRU)
make it memory-bound: there the kernel lost in two of the four rows (GRU float64 0.95x, RNN float32
0.98x) and won the other two by 1.2x, all within this machine's run-to-run noise. These rows time
random dstates at every step. In training, where the loss sits at the last step, the state gradient
shrinks through hundreds of steps into subnormal floats, which x86 computes 10-100x slower; the
kernels flush a running gradient below tiny/eps to zero (`kernels.mathfn.flush_floor`), the
reference does not. Measured in float32: the pixel GRU's backward (64, 784, 32) 116 ms -> 29 ms, and
a whole SIRE training step of the point-cloud GRU (200 clouds of 1000 points, width 256) 62 s on the
reference vs 17 s on the kernels. So `backend="auto"` (0.5) runs the kernels at every size on the
CPU (0.4 sent states above 10^7 elements to the reference). The SIRE share in this table is one
"subset" evaluation with B samples on these (I, H, B, T), not an experiment's step (see the table above).
"""


def kernel_for(cell_name):
    """The kernel module (forward, backward) of the cell named "rnn" or "gru"."""
    if cell_name == "rnn":
        from . import rnn as kernel
    elif cell_name == "gru":
        from . import gru as kernel
    else:
        raise ValueError(f"no numba kernel for cell {cell_name!r}; expected 'rnn' or 'gru'")
    return kernel
