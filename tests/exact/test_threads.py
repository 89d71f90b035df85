"""BLAS thread pinning reaches the library numba's kernels call, in a fresh process."""
import json
import subprocess
import sys

import pytest

# A fresh interpreter: nothing loaded yet, as when a user starts a run. Inside the pinned
# block, run a jitted kernel, then report every BLAS pool's thread count.
PROBE = """
import json, numpy as np
from threadpoolctl import threadpool_info
from sire_ref.base.threads import blas_threads
from sire_ref.core.cells import gru
with blas_threads(1):
    rng = np.random.default_rng(0)
    p = gru.init_params(3, 8, rng)
    gru.forward(p, rng.normal(size=(4, 5, 3)), backend="numba")
    print(json.dumps([(i["filepath"], i["num_threads"]) for i in threadpool_info()
                      if i["user_api"] == "blas"]))
"""


@pytest.mark.slow
def test_every_blas_pool_is_pinned_inside_a_jitted_call():
    env = {k: v for k, v in __import__("os").environ.items() if not k.endswith("_NUM_THREADS")}
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    pools = json.loads(done.stdout.strip().splitlines()[-1])
    assert any("scipy" in path for path, _ in pools), f"numba's BLAS (SciPy's) was not loaded: {pools}"
    assert all(n == 1 for _, n in pools), f"a BLAS pool is not pinned to 1 thread: {pools}"


def test_bad_thread_count_is_refused():
    from sire_ref.base.threads import blas_threads
    with pytest.raises(ValueError, match="threads"):
        with blas_threads(0):
            pass
