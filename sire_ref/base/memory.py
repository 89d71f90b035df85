"""Keep freed memory in the process: glibc's malloc otherwise hands a training step's temporaries
back to the OS at the end of each step and faults them in again at the next.

glibc serves an allocation above its mmap threshold (128 KB at first, raised to the largest block
freed so far) with a fresh mapping, and returns the top of its heap to the OS whenever more than
its trim threshold (twice the mmap threshold) lies free there, as it does when a step's arrays are
freed. The next step then touches new pages: each a page fault and a page of zeros. Measured
(`resource.getrusage`, one step of the point-cloud DeepSets, 64 clouds, width 32, float32, on the CPU
clock): 1,508 page faults a step at 100 points and 4,687 at 1,000, and the step 6.4 -> 3.8 ms and
53 -> 38 ms once the freed memory is kept; PyTorch's step of the same model gains alike (8.0 -> 5.2
ms at 100 points), so this speeds up training, not one side of a comparison.

keep_freed_memory() turns glibc's mappings off (M_MMAP_MAX 0: every allocation comes from the heap)
and its trimming off (M_TRIM_THRESHOLD -1), so that the process keeps all the memory it frees for its
next allocations. Mappings had to go too: glibc's mmap threshold stops at 32 MB, and above it each array
got a mapping of its own, returned when freed and faulted in again at the next step; a finite trim
threshold stops at 2 GB (mallopt takes an int), below what one point-cloud step frees at its top. Measured
in the bench's row of the point-cloud SIRE-GRU at 1,000 points and width 256 (the GRU's saved gates alone
are 1 GB a step): 0.96x and 1.01x PyTorch before (`figures/bench/idle_ae64d26/`), 1.21x after
(`figures/bench/nommap_a7bb6b2/`; the kernels' docs). Numbers are unchanged. The cost: the process's
resident memory stays at its peak until it exits. `training.train()` calls it (RunOptions:
keep_freed_memory=False leaves a long-lived process's allocator alone); other C libraries (musl, macOS)
have no mallopt, and it does nothing there.
"""
import ctypes

M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4                # glibc's malloc.h
NEVER_TRIM, NO_MAPPINGS = -1, 0                      # mallopt(3): -1 turns trimming off; 0 mappings


def keep_freed_memory():
    """Set glibc's malloc to keep what it frees (module docstring) for this process; True if set,
    False where the C library is not glibc."""
    libc = ctypes.CDLL(None)
    if not hasattr(libc, "gnu_get_libc_version") or not hasattr(libc, "mallopt"):
        return False
    libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    ok = libc.mallopt(M_MMAP_MAX, NO_MAPPINGS) == 1 and libc.mallopt(M_TRIM_THRESHOLD, NEVER_TRIM) == 1
    if not ok:
        raise RuntimeError("glibc refused the malloc settings (mallopt returned 0)")
    return True
