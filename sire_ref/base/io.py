"""Atomic file writes (a result, checkpoint or figure is either the old file or the complete new
one), records that detect their own corruption, and the digests that name a run's files after
everything that defines the run.

A file this package reads back (a run's result record, a checkpoint) that is truncated, empty,
garbage or altered raises CorruptFileError, which names the file, says what is wrong and what
to do; nothing is ever loaded with pickle."""
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


def write_bytes(path, data):
    """Write bytes, atomically."""
    _atomic(path, lambda f: f.write(data))


def write_npz(path, arrays):
    """np.savez of a dict of arrays, atomically."""
    _atomic(path, lambda f: np.savez(f, **arrays))


def save_figure(fig, path, dpi=120):
    """fig.savefig to a PNG, atomically."""
    _atomic(path, lambda f: fig.savefig(f, format="png", dpi=dpi))


class CorruptFileError(ValueError):
    """A result or checkpoint file that cannot be trusted; the message names it and the remedy."""

    def __init__(self, path, problem, remedy=None):
        remedy = remedy or (f"move it aside (mv '{path}' '{path}.bad') and run the same command "
                            f"again: that run is redone")
        super().__init__(f"{path}: {problem}; {remedy}")
        self.path, self.problem = path, problem


def read_json(path):
    """The JSON object in `path`; CorruptFileError (naming the file) when it is not valid JSON."""
    try:
        with open(path, "rb") as f:
            return json.loads(f.read().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CorruptFileError(path, f"not a valid JSON file (truncated or damaged: {err})") from err


def write_record(path, obj):
    """write_json of obj plus "checksum", a digest of everything else, so that read_record can
    tell a damaged file (a flipped digit still parses as JSON) from a good one."""
    write_json(path, dict(obj, checksum=digest(obj, length=40)))


def read_record(path):
    """What write_record wrote, without its checksum; CorruptFileError if the file was damaged."""
    record = read_json(path)
    if not isinstance(record, dict) or "checksum" not in record:
        raise CorruptFileError(path, "not a result record (no checksum: damaged, or written by "
                                     "something else)")
    body = {k: v for k, v in record.items() if k != "checksum"}
    if digest(body, length=40) != record["checksum"]:
        raise CorruptFileError(path, "its content does not match its checksum (the file was "
                                     "altered or damaged after it was written)")
    return body


def digest(obj, length=10):
    """A short fingerprint of a JSON-able object (sorted keys): equal definitions, equal digests."""
    return hashlib.sha1(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:length]


def files_digest(paths, length=16):
    """A fingerprint of the CONTENT of files (every byte, in the given order; not their names or
    times): a run made from other data gets another digest, a copy of the same data the same."""
    h = hashlib.sha1()
    for path in paths:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        h.update(b"\0file\0")
    return h.hexdigest()[:length]


def array_digest(arrays, length=16):
    """A fingerprint of a dict of NumPy arrays: names, shapes, dtypes and every byte of data."""
    h = hashlib.sha1()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}:{a.shape}:{a.dtype.str};".encode())
        h.update(a.tobytes())
    return h.hexdigest()[:length]
