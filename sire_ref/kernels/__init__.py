r"""numba twins of the hot loops (the CPU fast path, `backend="numba"`): the cells' sequence passes
(`rnn.py`, `gru.py`, with `layout.py` and `mathfn.py`), the CNN's conv blocks (`conv.py`), the point-set
max and tanh backward (`setpool.py`), Adam's update (`adam.py`).

The reference in `sire_ref/core/cells/` (and `nn/`) is the readable truth; these kernels run the same
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
input side and the weight gradients are a few large products, or gathers for tokens. A batch of
unequal lengths runs longest first (`layout.kernel_batch`; outputs come back in the caller's row
order), so each step's product and gate loops cover only the rows still live (`layout.live_rows`):
the regularizers' folds over random subsets are about half padding, which the kernels no longer step. numba's pip
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
through the one GEMM to the fused bias, relu and max-pool. The backward of a block with 4 or more
input channels (the second layer) routes each live pooled gradient straight into dW and dx: after
relu and max-pool only the winner of a live window carries a gradient, at most one conv output in
four, so the sums over those winners are at most a quarter of the dense products' FLOPs and need no
columns, no dy and no col2im. The first layer (one channel: a window row is 5 numbers) keeps the dense
way, recomputing each chunk's columns instead of storing k^2 copies of the input (20 MB at the quick
preset, which made the step memory-bound). The FLOP limit printed for the CNN counts the dense
products, so its fraction can exceed what the routed backward needs.

```bash
python -m sire_ref bench --experiments   # every experiment's full training step vs PyTorch, about 1 minute
python -m sire_ref bench                 # the cells alone on every backend, about 6 minutes; --quick: 30 s
```

`--experiments` times what users run: a FULL training step (forward, loss, backward, lambda R with a
fresh draw, clipping where the experiment clips, the Adam update) of each experiment's own model,
against the same model, regularizer and optimizer written as PyTorch code usually is
(`tools/torch_twins.py`: nn.GRU / nn.RNN with our parameters, SIRE "subset" by folding the gathered
subsets, "prefix" from the forward's outputs, SUB as one batch; subsets of unequal sizes as packed
sequences since the kernels skip ended rows, before that padded). Each framework runs in a
process of its own, as a training run does, and the two take turns call by call (one command; BLAS
and PyTorch on one thread, float32); `--together` times both in one process instead, as when sire_ref
is a gradient oracle inside a PyTorch program. Why (0.10): in one process, PyTorch's steps between ours
leave glibc's heap so that it hands our step's ~4 MB of buffers back to the OS at the end of every step
and faults them in again at the next: about 1,000 page faults a step, measured on the integer GRU (n = 10,
`resource.getrusage`), against none in a process of its own, and +30-40% on our step's time (3.4-3.8 ms
alone, 4.8-5.1 ms between PyTorch's steps, on the CPU clock under load). The earlier tables (0.9, 0.10
up to `figures/bench/cpu_clock_0.10/`) were timed together, so they understate our side on the
short recurrent rows. A test holds each twin to our objective and
gradients in float64 (relative error < 1e-12 and < 1e-9), so both sides compute the same thing.
"limit" is the physical floor of the step's matrix products (`tools.bench_experiments.matmul_flops`:
every weight's three products, forward, dW and dx, over the rows it multiplies, the recurrence and the
regularizer's folds included) at this machine's single-thread matmul peak; "reached" is limit / time,
for us and for PyTorch. Elementwise work and memory traffic are not in the limit. Since the kernels
step live rows only (after 0.10) the limit counts live row-steps, the regularizers' subsets at their
drawn sizes; the tables below, older, counted every padded row-step, so their "subset" and SUB limits
are higher (n = 10 at a 78.3 GFLOP/s peak: 4.22 and 5.73 ms then, 3.57 and 4.43 ms now).

One idle run (0.10 at 6caab17, `figures/bench/idle_0.10_6caab17/`: `apart.json` has every row but the
12-minute one, which `apart_sire_n1000_w256.json` timed right after it; each framework in a process of its
own; single-thread float32 matmul peak 143.5 and 153.1 GFLOP/s in the two, from a 512x512 product; times
vary by about 20% between runs here, each ratio comes from one run). "0.9" is the row's ratio in 0.9's idle
run (`figures/bench/experiments_0.9.json`: before the 0.10 work, both frameworks in one process):

| row (float32, 1 thread) | sire_ref ms | PyTorch ms | faster by | limit ms | reached (PyTorch) | regularizer adds, ours (PyTorch) | 0.9: faster by |
|---|---|---|---|---|---|---|---|
| parity rnn H=20 | 0.39 | 1.27 | 3.24x | 0.01 | 1% (0%) | - | 2.78x |
| parity deepsets 100/100 | 0.85 | 1.59 | 1.87x | 0.15 | 18% (9%) | - | 1.77x |
| integer gru n=5 none | 2.23 | 4.23 | 1.90x | 0.56 | 25% (13%) | - | 1.70x |
| integer gru n=5 sire-subset | 5.56 | 9.83 | 1.77x | 1.28 | 23% (13%) | 155% (119%) | 1.66x |
| integer gru n=5 sire-prefix | 4.44 | 6.94 | 1.56x | 0.97 | 22% (14%) | 113% (74%) | 1.59x |
| integer gru n=5 sub | 6.66 | 11.90 | 1.79x | 1.58 | 24% (13%) | 188% (155%) | 1.54x |
| integer gru n=10 none | 3.64 | 6.83 | 1.88x | 1.07 | 29% (16%) | - | 1.57x |
| integer gru n=10 sire-subset | 8.42 | 14.87 | 1.77x | 2.30 | 27% (15%) | 152% (121%) | 1.73x |
| integer gru n=10 sire-prefix | 6.28 | 10.07 | 1.60x | 1.48 | 24% (15%) | 90% (56%) | 1.57x |
| integer gru n=10 sub | 10.38 | 18.67 | 1.80x | 3.13 | 30% (17%) | 211% (183%) | 1.71x |
| integer gru n=30 none | 10.37 | 20.30 | 1.96x | 3.13 | 30% (15%) | - | 1.69x |
| integer gru n=30 sire-subset | 20.36 | 41.36 | 2.03x | 6.42 | 32% (16%) | 134% (111%) | 1.89x |
| integer gru n=30 sire-prefix | 14.45 | 25.77 | 1.78x | 3.54 | 24% (14%) | 56% (28%) | 1.77x |
| integer gru n=30 sub | 30.15 | 58.64 | 1.94x | 9.29 | 31% (16%) | 220% (177%) | 1.76x |
| integer deepsets n=10 none | 0.78 | 1.51 | 1.93x | 0.02 | 2% (1%) | - | 1.83x |
| mnist gru H=32 pixel | 41.03 | 212.66 | 5.18x | 6.65 | 16% (3%) | - | 5.41x |
| mnist gru H=32 pixel sire-prefix | 44.59 | 227.51 | 5.10x | 6.68 | 15% (3%) | 13% (8%) | 5.37x |
| mnist cnn 16/32/128 | 23.77 | 21.87 | 0.92x | 8.09 | 34% (37%) | - | 0.88x |
| mnist gru H=128 pixel | 227.56 | 1206.63 | 5.30x | 103.94 | 46% (9%) | - | 2.62x |
| mnist gru H=128 pixel sire-prefix | 318.84 | 1342.24 | 4.21x | 104.48 | 33% (8%) | 44% (14%) | 2.22x |
| mnist cnn 32/64/1024 | 68.31 | 75.82 | 1.11x | 37.16 | 54% (49%) | - | 0.83x |
| points deepsets n=100 w=32 | 2.67 | 4.25 | 1.59x | 0.58 | 22% (14%) | - | 1.14x |
| points sire n=100 w=32 | 34.81 | 50.82 | 1.46x | 7.16 | 21% (14%) | 12% (8%) | 1.13x |
| points deepsets n=1000 w=32 | 35.22 | 44.24 | 1.26x | 5.74 | 16% (13%) | - | 0.86x |
| points sire n=1000 w=32 | 334.09 | 1151.19 | 3.45x | 69.54 | 21% (6%) | 12% (13%) | 2.37x |
| points deepsets n=100 w=256 | 55.50 | 64.91 | 1.17x | 35.49 | 64% (55%) | - | 1.02x |
| points sire n=100 w=256 | 660.25 | 733.55 | 1.11x | 452.93 | 69% (62%) | -6% (-4%) | 0.95x |
| points deepsets n=1000 w=256 | 900.70 | 1040.45 | 1.16x | 353.06 | 39% (34%) | - | 0.76x |
| points sire n=1000 w=256 | 15,306 | 51,432 | 3.36x | 4128.27 | 27% (8%) | 81% (34%) | - |

The quick rows with both frameworks in one process (`--together`, as 0.9's were timed; `together_quick.json`,
right after): parity RNN 2.70x, the integer GRU steps at n = 10 1.64-1.83x and its epochs 1.91-2.05x, the
CNN 0.96x, point-cloud DeepSets 1.61x (100 points) and 1.30x (1,000), the SIRE-GRU 1.38x and 2.85x.

What changed in 0.10, each measured alone (A/B on the CPU clock under load; the quick rows before, at
483a641, and after, at 4c72d71, are in `figures/bench/apart_0.10_loaded/`; the same numbers bit for bit
unless said): the GRU and RNN kernels write each step's gates and state straight into the saved arrays (forward
10-16% faster); Adam as one jitted pass per array (`kernels/adam.py`: 0.22 -> 0.10 ms on the integer GRU,
0.70 -> 0.24 ms on the CNN); `train()` keeps freed memory (`base/memory.py`: 1,500-4,700 page faults a
point-cloud DeepSets step before, 6.4 -> 3.8 ms at 100 points); one encoder backward a step (the loss's
and lambda R's gradients on the encoded inputs summed first, to round-off: point-cloud SIRE-GRU 47 -> 40
ms); tanh's backward and the equivariant layer's set sum in one pass (`kernels.setpool`: DeepSets 3.5 ->
2.85 ms at 100 points). Below the issue's targets (1.5x on every row, 2x on the integer GRU) in the idle run:

- The CNN: 0.92x at the quick preset, 1.11x at the paper's widths in this table. Its layer-2 products
  were most of the step, and OpenBLAS runs them at 75-95 GFLOP/s where PyTorch's oneDNN is faster on the
  same shapes: (12544 x 400) x (400 x 32) 4.3 ms against 3.6, the dW product 4.1 against 2.4, the dx
  product 3.4 against 4.1 (one process, loaded). After 0.10 the layer-2 backward is routed (above), and
  two idle before/after pairs on a later machine of this kind (a slower one: matmul peak 65-81 GFLOP/s;
  before at 7f8e71f; `figures/bench/cnn_routed_idle/`) give the quick CNN 1.18x / 1.19x -> 1.44x /
  1.45x and the paper's widths 1.40x / 1.37x -> 1.65x / 1.62x (our step 41.4 / 39.6 -> 32.4 / 32.7 ms
  and 117 / 108 -> 98 / 109 ms). That machine's ratios before the change are above this table's, so
  read the gain (x1.22 quick, x1.18 paper), not the level: on this table's machine it would put the
  quick CNN near 1.1x and the paper's near 1.3x.
- The integer GRU: 2 of its 12 step rows reach 2x (n = 30, SIRE subset 2.03x; the plain step at n = 30
  1.96x), the rest 1.56-1.94x; its epochs 1.91-2.05x (together). "prefix" SIRE is the lowest (1.56-1.78x):
  its swapped pairs are two GRU steps of 2N = 256 rows forward and back, as much kernel work per row-step
  as the model's own, so the regularizer adds 56-113% of the step on our side where the rest of our step
  is already 1.9x shorter than PyTorch's. Where a step's time goes (n = 10, CPU time of the kernel calls
  inside 300 steps, no profiler, under load): the plain step 3.58 ms, of which the GRU kernels 2.50 and
  the rest (the head, the loss, the embedding's fold, Adam's calls, the batching) 1.08; SIRE prefix 5.97
  = 3.66 + 2.31, subset 7.98 = 5.65 + 2.33, SUB 10.39 = 7.86 + 2.53. So each regularizer adds 1.2-1.5 ms
  outside the kernels (the draw, its checks, the gathers, the zero-filled gradient dicts: about 570 more
  function calls a step, 1,280 in all for prefix), the same at every n: that fixed cost is why the prefix
  ratio rises with n (1.56x, 1.60x, 1.78x at n = 5, 10, 30). The kernels run their recurrent products
  at 35-45% of the matmul peak (per-step products of 128-256 rows at H = 80, the gate math between them).
  Inside the kernels (after 0.10, the AVX2 machine below, CPU clock, fastest of 7 x 100 calls, B = 128,
  H = 80, T = 10, tokens): the forward 1.04 ms = its ten recurrent products 0.60 (each at the BLAS peak:
  (128 x 80) x (80 x 240) alone 60 us, 81 GFLOP/s) + the gate loops and activations 0.27 + 0.17 that
  does not scale with the batch (0.18 ms at B = 4); the backward 2.05 ms = ds W_hh 0.60 + dW_hh 0.69 (one
  product over the 10 steps) + the gate loops 0.25 + the token scatter 0.04 + about 0.45 not itemized.
  So the products run at the peak and what keeps the rows from their limit is the work between them.
- Point clouds at width 32: DeepSets at 1,000 points 1.26x (its skinny products, K = 64,000 by 32 x 32,
  run at about 80 GFLOP/s on OpenBLAS) and the SIRE-GRU at 100 points 1.46x.
- Point clouds at the paper's width 256: 1.11-1.17x. At 100 points these rows are products: we reach 64%
  (DeepSets) and 69% (SIRE-GRU) of the matmul limit, PyTorch 55% and 62%. A ratio r needs r times
  PyTorch's fraction of the limit, so 1.5x on the SIRE-GRU would need 93% of the machine's matmul peak for
  the whole step, more than its largest products reach alone (the GRU's per-step (64 x 256) x (256 x 768)
  and (64 x 768) x (768 x 256) products: 75-77% of the peak, 100 in a row in one jitted call, under load):
  for these rows the target is out of reach on this library stack. DeepSets at 1,000 points (39% of the
  limit, PyTorch 34%) is not bound by its products but by the passes over its (64, 1000, 256)
  activations, 65 MB each. Tried for these rows and not kept (each the same numbers bit for bit,
  measured on the CPU clock under load): each equivariant layer's product, correction, tanh and max
  a few sets at a time, so that a 2 MB chunk stays in cache (`nn.equivariant`), 1.7x faster for a
  lone layer at (64, 1000, 32), but that gain came from writing in place, not from the chunks (one
  chunk of all 64 sets as fast), and in the model's step 2 MB chunks were slower than one (30.6
  against 29.1 ms); tanh written over the layer's output (`activations.forward` in place), 1.8 ms
  less in DeepSets' forward at 1,000 points (11.6 -> 9.9 ms in one process), within the bench's noise
  on the whole step (35.8 / 38.4 -> 34.2 / 35.9 ms in two before/after pairs), and the SIRE-GRU with
  the same encoder at 1,000 points, width 32, slower in both pairs (365 / 389 -> 509 / 473 ms),
  unexplained (perhaps the heap's reuse of the freed output; not traced).

The ratios depend on the machine. A later machine of this kind (2 vCPU AMD EPYC with AVX2 but no
AVX-512: OpenBLAS picks its Haswell kernels, matmul peak 77 GFLOP/s against 150; NumPy's tanh is then
scalar, 5.7 ms on a (64, 1000, 32) float32 array where the kernels' rational tanh takes 1.1), idle, after
the routed CNN backward (`figures/bench/idle_after0.10_688b479/apart.json`, every row but the
point-cloud SIRE-GRU at 1,000 points and width 256): below the targets there are the integer GRU's
"prefix" rows (1.75x, 1.61x, 1.91x at n = 5, 10, 30) and its SUB rows (1.94x, 1.88x, 1.97x), while
its plain and "subset" rows reach 2.04-2.36x; the quick CNN 1.44x (the paper's widths 1.69x); the
pixel GRU at width 128 without a regularizer 1.19x (with SIRE 1.60x: the plain step, 764 ms, timed
slower than the one that does more work, 577 ms; rerun alone, idle, the two rows gave 497 ms, 1.63x,
and 814 ms, 1.23x, `apart_mnist_h128_rerun.json`: at width 128 these rows swing by half between runs
on this machine, not traced); point clouds at width 256 and 100
points 1.16x (DeepSets) and 1.22x (the SIRE-GRU). Every other row is at or above its target:
parity 2.46x and 1.79x, the pixel GRU at width 32 3.67x and 4.30x, point clouds at width 32
1.55-1.98x, DeepSets at 1,000 points and width 256 1.67x.

The full bench again, idle, after the kernels came to step live rows only and to share their batch
layout (`figures/bench/idle_ae64d26/`: `apart.json` every row, one run, matmul peak 63.2 GFLOP/s, so
every time above this machine's earlier run; then, right after, the last row again and the integer rows at
n = 30 with DeepSets, `apart_sire_n1000_w256_rerun.json`, `apart_integer_rerun.json`). Every row was
faster than PyTorch but one: the point-cloud SIRE-GRU at 1,000 points and width 256, timed on this kind of
machine for the first time, 0.96x and 1.01x in the two runs (ours 19.7 and 18.0 s a step, PyTorch's
18.9 and 18.3 s). The 3.36x of the table above came from the AVX-512 machine, where PyTorch's backward
slowed on subnormal gradients (51.4 s); here it does not, and both sides are bound by the same BLAS
products (51-53% of the limit on either side). Our step without the regularizer took 13.3 and 12.8 s in
the same runs, so the row said the regularizer adds 41-48% on our side, far more than its work (two GRU
steps for 200 pairs beside a 1,000-step GRU). Traced: every step faulted in its arrays above glibc's
32 MB mmap maximum (the GRU's saved gates alone are 1 GB at this row), mapped anew each step, and a
step that followed a pause spent seconds more in the kernel (system time) on the same faults; the bench's
turns pause each process while the other side's steps run (about 35 s at this row), our regularized
step comes right after that pause, and this machine runs DAMON's "pageout" scheme on memory idle for
60 s (`/sys/kernel/mm/damon/admin/kdamonds/0`). Since `base.memory.keep_freed_memory` turns glibc's
mappings and trimming off, a step faults nothing in, and the same rows, idle, right after
(`figures/bench/nommap_a7bb6b2/apart.json`, one run, matmul peak 83.8 GFLOP/s: a faster spell of the
machine, so compare ratios) give this row 1.21x (ours 12.2 s, PyTorch's 14.8 s; PyTorch gains from the
setting too) and the regularizer's share 4% (PyTorch's 7%); the other rows at width 256 1.16x (100
points, SIRE-GRU), 1.45x and 1.50x (DeepSets), the pixel GRU at width 128 1.59x and 1.33x (with SIRE),
and the quick rows (`apart_quick.json`, right after) 1.37-3.80x, their epochs 1.59-2.16x, all within
the swings of the runs before. Rows move between runs by up to a third (the integer GRU at n = 30
without a regularizer 1.41x in the full run, 1.80x right after, 2.10x in the run above), so compare one
row's ratios across runs, not its times. The full run's ratios by kind: parity 2.46x (RNN) and 1.85x
(DeepSets), the integer GRU 1.41-2.20x (its "prefix" rows 1.81-1.99x), integer DeepSets 1.56x, the pixel
GRU 1.50-4.02x, the CNN 1.51x (quick) and 1.73x (the paper's widths), the point clouds at width 32
1.47-1.81x and at width 256 1.18-1.64x besides the row above; the integer GRU's epochs 1.91-2.28x. The
CNN at the paper's widths "reached 101%" of its limit: the peak is probed once, at the start, and this
machine's speed drifts within a run.

Where the time goes (profiles of these steps on one core, float32):

- CNN (quick preset), after 0.10: where the routed step's 32 ms go (cProfile of the bench's step,
  idle, 50 steps): the routed layer-2 backward 10.9 ms (about 10 GFLOP/s of useful work: ten short
  loops of 80 values per live window; FMA contraction and a two-pass order, dW then dx, measured no
  faster), the forward's GEMMs 7.5, im2col 6.2 (the forward's chunks and the first layer's backward),
  the first layer's dense backward 1.6 and its pool backward 1.4. Before:
- CNN (quick preset): the step went from 41 ms to 28 ms when its conv blocks moved to
  `kernels/conv.py`; PyTorch (oneDNN) takes 24-27 ms. What is left: the second layer's three products
  (about 9.5 ms at 100 GFLOP/s, 2/3 of the peak), im2col in the forward and again in the backward
  (6 ms: recomputing is cheaper than storing 25 copies of the input), col2im (1.2 ms). A direct numba
  convolution of the first layer (one input channel) measured no faster than im2col and one GEMM
  (3.5 ms against 2.6-3.1 ms), so it is not used. 0.10: with fewer than 4 channels im2col copies each
  window row as k C contiguous values (`kernels.conv._window_rows`): the first layer's im2col and its
  adjoint 2-4x faster on a chunk of 13 digits (0.4-1.2 ms -> 0.18-0.22 ms, under load); the whole
  step gains little: 0.98x -> 1.02x and 0.91x -> 0.93x against PyTorch in two before/after pairs of the
  quick bench on the CPU clock under load (`--clock cpu`, `figures/bench/cpu_clock_0.10/`).
- Recurrent rows at the experiments' small widths (H = 32-80): each time step is one small BLAS product
  at near-peak speed ((200 x 32) x (32 x 96): 9 us, 140 GFLOP/s) plus fixed work around it: the gate
  activations (7 us for 3 x 6,400 elements), the elementwise loops, and writing the five saved (T, B, H)
  arrays the backward reads (128 MB per forward at T = 1000, B = 200: first touching that memory is 23 of
  the forward's 83 ms, the time-major copy of x another 8). numba vectorizes a loop only when it writes
  one array: splitting the gate loops so (0.9) took the pre-activations from 11 to 2.7 us a step and the
  backward down 10-15%. So these rows are bound by memory traffic and per-step work, not FLOPs: the
  integer GRU reaches 22-32% of its matmul limit, the pixel GRU 15-16%, and 2x of the limit is out of
  reach without storing less per step (recomputing the gates in the backward would trade the 128 MB
  for another product per step; not done).
- Point clouds at the paper's width 256: the products dominate (the GRU kernel runs at about 58% of the
  peak, the encoder's 2-D products near it), both sides reach 55-69% of the limit at 100 points, and
  both call a BLAS (OpenBLAS here, MKL/oneDNN in PyTorch), so the ratio sits near 1. At 1000 points,
  on the AVX-512 machine of the table, PyTorch's backward slowed on subnormal gradients, which the
  kernels flush (below), and we were 3x faster; on the AVX2 machine it does not, and the ratio is
  near 1 there too (0.96x and 1.01x, `figures/bench/idle_ae64d26/`, 1.21x once no step faults its
  memory in, `figures/bench/nommap_a7bb6b2/`, above).
- Point-cloud DeepSets (0.10): after its products, the step's largest cost was NumPy's argmax along the
  points' axis (66 ms for one (64, 1000, 256) layer, a strided walk; the max alone takes 13), four
  times a step. `kernels/setpool.py` finds the max and its first winner in one pass over the memory
  in order (6.6 ms; the same values and winners bit for bit, so `backend="numba"` and `"auto"` change
  no number). The equivariant layer computes (x_n - m) W^T as x_n W^T - m W^T (`nn/equivariant.py`),
  so no copy of x - m is made or kept, and a first layer reading the data computes no dx. Measured
  under load (the #24 runs on both cores; `figures/bench/points_0.10_loaded/`, two before/after pairs
  and a third run of the after side, PyTorch in the same process, ratios only): DeepSets at 1000 points
  0.83-0.99x -> 1.15-1.22x (width 256) and 0.97-1.06x -> 1.17-1.32x (width 32), at 100 points and width
  256 0.84-1.32x -> 1.15-1.39x; the SIRE-GRU with the equivariant encoder at width 256, 100 points,
  0.82-0.90x -> 0.93-1.00x (its GRU dominates). On the CPU clock (`--clock cpu`, which the time a call
  waits for a busy core does not inflate; `figures/bench/cpu_clock_0.10/`, the quick rows, two pairs):
  DeepSets at 1000 points, width 32, 1.04x / 0.94x -> 1.35x / 1.38x, at 100 points 1.29x -> 1.85x / 1.50x.

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
