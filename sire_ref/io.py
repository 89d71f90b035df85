"""Atomic file writes (a result, checkpoint or figure is either the old file or the complete new
one), and the digest that names a run's files after everything that defines the run."""
import hashlib
import json
import os
import tempfile

import numpy as np


def _atomic(path, write):
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)      # mkstemp's 0600 would surprise: use the usual mode
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def write_json(path, obj):
    """Write obj as indented JSON, atomically."""
    _atomic(path, lambda f: f.write((json.dumps(obj, indent=2, sort_keys=True) + "\n").encode()))


def write_npz(path, arrays):
    """np.savez of a dict of arrays, atomically."""
    _atomic(path, lambda f: np.savez(f, **arrays))


def save_figure(fig, path, dpi=120):
    """fig.savefig to a PNG, atomically."""
    _atomic(path, lambda f: fig.savefig(f, format="png", dpi=dpi))


def read_json(path):
    with open(path) as f:
        return json.load(f)


def digest(obj, length=10):
    """A short fingerprint of a JSON-able object (sorted keys): equal definitions, equal digests."""
    return hashlib.sha1(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:length]
