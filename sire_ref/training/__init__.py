r"""Training: `loop` (the task loss + lambda R, Adam or SGD, the plateau criterion, run identity,
resumable checkpoints), `checkpoint` (their checked files), `diagnostics` (how invariant a trained
model is: order sensitivity, the SIRE estimate and the bound of Lemma 6 on real states).

## Reliability: what is guaranteed

- **A run is everything that defines it.** A training run is named by the experiment after its
  readable fields plus a digest of all its settings (an integer-task `RunSpec`: task, length, seed,
  data seed, method, lambda, split sizes, epochs, batch, lr, convergence criterion, precision,
  backend, estimator; parity: cell, hidden units, data seed, backend). Its checkpoint also stores
  the whole `TrainConfig`, the model (class, settings, parameter shapes) and a digest of every
  array of its data, and `train()` refuses to resume a checkpoint made for anything else, naming
  the file and what differs. So another `--epochs`, `--n-train`, `--hidden` or `--data-seed` on an
  existing `--out` trains its own runs beside the old ones, never reusing them. Runs that read files
  (MNIST, ModelNet) carry a digest of the CONTENT of every file the loader reads (the four MNIST
  files; the ModelNet class list, both split lists and every listed shape) in their definition:
  the same command on a folder with other data, or other split lists, trains again.
- **Resume reproduces.** An interrupted run resumes from its last checkpoint (every 10 epochs for
  the integer tasks, 50 for parity, and at the end) and gives exactly the numbers of an
  uninterrupted run (tested: histories, best epoch and metrics equal). A finished run is not
  trained again (it says "already finished ... reusing its checkpoint").
- **A kill loses only unfinished work.** Checkpoints, result records and figures are written to a
  temporary file and renamed, so each is the old complete file or the new complete file. Ctrl-C
  on a sweep stops its embedded Dask workers at once, keeps every finished run's record, and prints
  how to resume; if the sweep's process is killed outright (SIGKILL), its embedded workers lose
  their scheduler and exit within seconds. Rerunning the same command skips finished runs and
  resumes the others from their checkpoints (tested in a subprocess with SIGINT and SIGKILL). On a
  cluster, a worker killed mid-run costs only that run's progress since its last checkpoint (tested
  with a real `dask scheduler` and two `dask worker` processes).
- **Damaged files are named, never half-read.** A checkpoint that is empty, truncated, garbage or
  has a flipped bit (the zip CRC of every array is checked) or a result record whose content does
  not match its checksum raises `sire_ref.base.io.CorruptFileError`: the message names the file, says
  what is wrong, and what to do (move it aside; that run is redone). Files from another format
  version are refused the same way. Nothing is loaded with pickle.
- **Bad input stops early.** Every command-line value is checked by the parser, with a message
  naming the option (`argument --lr: must be a finite number > 0, got 'nan'`), `--out` and
  `--checkpoint-dir` must be folders this process can write, and `--jobs` may not exceed the cores;
  the library's functions name the argument. NaN or inf in a model's inputs, a cloud with every
  point at one place, fractional labels, a raw MNIST file that differs from its `.gz`, a shape
  listed twice or in both splits: each is an error naming the array, the file or the shape.
- **Checks that cannot be fooled.** `crosscheck` and `gradcheck` FAIL, never pass, on NaN or inf
  anywhere (`testing.relative_error` is inf then), on zero problems, on a non-finite tolerance and
  on a comparison of all-zero arrays; a user function that breaks the contract (returns NumPy, a
  float, a detached tensor, the wrong shape, or is written for the other framework) is named with
  what it returned and what was expected.
- **The science is guarded by tests** (`tests/experiments/test_science_invariants.py`, each checked
  by planting the break): the best epoch and lambda are chosen on validation only (another test
  split changes neither); training, validation and test examples are disjoint (MNIST, point clouds,
  integer tasks); accuracy rounds to the nearest integer and variance reports MSE; pi-SGD predicts
  the majority of its orders. `backward` refuses params or inputs other than (or changed in place
  since) its forward's; a SIRE/SUB draw refuses lengths other than those it was made for.
"""
