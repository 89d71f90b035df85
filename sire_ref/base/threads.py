"""Pin the BLAS thread pools of every library that does our matrix products, numba's included.

numba's jitted np.dot calls SciPy's BLAS (scipy.linalg.cython_blas), a second OpenBLAS
beside NumPy's. threadpoolctl limits only the libraries already loaded when the limit is
applied, so SciPy's BLAS is loaded first here; otherwise the first jitted product runs on
every core with spin-waiting threads (measured: a 23 ms step became 37-750 ms on a loaded
2-core machine). OpenMP pools (PyTorch's CPU ops) are limited too.
"""
import contextlib


def load_blas_libraries():
    """Load every BLAS the compute paths use (NumPy's, and SciPy's for numba) without running it."""
    import numpy  # noqa: F401
    try:
        import scipy.linalg.cython_blas  # noqa: F401  (what numba's np.dot binds to)
    except ImportError:  # pragma: no cover - scipy is a dependency; numba then has no BLAS either
        pass


@contextlib.contextmanager
def blas_threads(n):
    """Within the block, every loaded BLAS and OpenMP pool uses at most n threads."""
    from threadpoolctl import ThreadpoolController
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n (threads) must be a positive int, got {n!r}")
    load_blas_libraries()
    with ThreadpoolController().limit(limits=n):
        yield
