"""base.memory.keep_freed_memory: after it, a step that allocates and frees a dozen 800 KB arrays
(a point-cloud layer's size), or a few arrays above glibc's largest mmap threshold (32 MB: the GRU's
saved gates at 1,000 points), no longer faults their pages in again each time; train() calls it
unless told not to. Each check runs in a fresh process: the setting is the process's."""
import subprocess
import sys

import pytest

STEP_FAULTS = """
import resource
import sys
import numpy as np
from sire_ref.base.memory import keep_freed_memory

applied = keep_freed_memory() if sys.argv[1] == "keep" else None      # at the start, as train() runs it
count, size = int(sys.argv[2]), int(sys.argv[3])

def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

def step():
    kept = [np.ones(size, np.float32) for _ in range(count)]     # a step's temporaries
    return float(sum(a[-1] for a in kept))

def per_step():
    for _ in range(3):
        step()
    before = faults()
    for _ in range(10):
        step()
    return (faults() - before) / 10

print(applied, per_step())
"""


# floor: the fewest faults a step of the default allocator can take; NumPy asks for huge pages above
# 4 MB, and where the kernel grants them 3 x 48 MB is 72 faults of 2 MB
@pytest.mark.parametrize("count, size, floor", [(12, 200_000, 1000), (3, 12_000_000, 50)],
                         ids=["800 KB", "48 MB"])
def test_kept_memory_stops_the_page_faults_of_every_step(count, size, floor):
    import ctypes
    if not hasattr(ctypes.CDLL(None), "gnu_get_libc_version"):
        pytest.skip("keep_freed_memory sets glibc's malloc; this C library is not glibc")
    def run(mode):
        out = subprocess.run([sys.executable, "-c", STEP_FAULTS, mode, str(count), str(size)], capture_output=True,
                             text=True, check=True)
        applied, faults = out.stdout.split()
        return applied, float(faults)
    assert run("default")[1] > floor, "the default allocator should fault each step's arrays in again"
    applied, faults = run("keep")
    assert applied == "True" and faults < 10


@pytest.mark.parametrize("keep", [True, False])
def test_train_keeps_freed_memory_unless_told_not_to(keep, monkeypatch):
    import numpy as np

    from sire_ref.data import parity
    from sire_ref.models.recurrent import RecurrentSetModel
    from sire_ref.training import loop
    calls = []
    monkeypatch.setattr(loop, "keep_freed_memory", lambda: calls.append(1))
    rng = np.random.default_rng(0)
    data = {"train": parity.make_split(rng, 8, 2, 4), "val": parity.make_split(rng, 8, 2, 4)}
    loop.train(RecurrentSetModel(1, 3, 1), data, loop.TrainConfig(batch_size=8, loss="bce", epochs=1),
               options=loop.RunOptions(keep_freed_memory=keep), log=lambda *a: None)
    assert calls == ([1] if keep else [])
