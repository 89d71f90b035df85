"""The basement: what every floor stands on and a reader of the math can skip.

`backend` (where arrays live: NumPy, CuPy, or NumPy with the numba kernels), `validate` (argument
checks that name the argument and what was expected), `io` (atomic writes, digests, checked reads),
`threads` (BLAS thread pinning), `memory` (keeping freed memory in the process).
"""
