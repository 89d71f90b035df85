"""The four standard MNIST IDX files (LeCun et al. 1998), read and checked; an optional download.

    load_mnist(data_dir=None) -> {"train_images": (60000, 28, 28) uint8, "train_labels": (60000,) uint8,
                                  "test_images": (10000, 28, 28) uint8, "test_labels": (10000,) uint8}

data_dir: the folder holding train-images-idx3-ubyte, train-labels-idx1-ubyte,
t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each raw or gzipped (".gz"); None reads the
environment variable SIRE_REF_MNIST (ENV). IDX layout (big-endian): a magic number (2051 images,
2049 labels), the count, then rows and columns for images, then one unsigned byte per pixel or
label. Every file is checked: magic number, dimensions (28 x 28), the count the split must have,
the exact byte length, and labels in 0..9; a missing, truncated or corrupt file raises
MnistFileError naming the file and what is wrong.

download(data_dir) fetches the gzipped files from public mirrors (for users with internet),
checks each against the official MD5, shows progress, and writes each file atomically.
"""
import gzip
import hashlib
import os
import struct
import urllib.error
import urllib.request
import zlib

import numpy as np

from ..base.io import write_bytes

ENV = "SIRE_REF_MNIST"
FILES = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
         "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}
COUNTS = {"train": 60000, "test": 10000}
IMAGE_MAGIC, LABEL_MAGIC, SIDE = 2051, 2049, 28
# The official gzipped files' MD5 digests (what every public mirror serves).
MD5 = {"train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
       "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
       "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
       "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"}
MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
           "https://storage.googleapis.com/cvdf-datasets/mnist/")
WHERE = (f"put the four MNIST files (raw or .gz: {', '.join(FILES.values())}) in one folder and pass "
         f"it with --data-dir, or set {ENV}")


class MnistFileError(ValueError):
    """An MNIST file that is missing, truncated or not what its name says; names the file."""


def resolve_dir(data_dir=None):
    """data_dir, else $SIRE_REF_MNIST; a clear error when neither names an existing folder."""
    chosen = data_dir if data_dir is not None else os.environ.get(ENV)
    if not chosen:
        raise MnistFileError(f"no MNIST folder given: {WHERE}")
    if not os.path.isdir(chosen):
        source = "data_dir" if data_dir is not None else f"${ENV}"
        raise MnistFileError(f"{source} = {chosen!r} is not a folder: {WHERE}")
    return chosen


def _find(data_dir, stem):
    """The raw file, else the .gz; both present with different content is an error naming both
    (one would silently shadow the other)."""
    raw, packed = (os.path.join(data_dir, name) for name in (stem, stem + ".gz"))
    found = [p for p in (raw, packed) if os.path.exists(p)]
    if not found:
        raise MnistFileError(f"{raw}[.gz] not found: {WHERE}")
    if len(found) == 2 and _read_bytes(raw) != _read_bytes(packed):
        raise MnistFileError(f"{raw} and {packed} both exist and hold different data: remove the one "
                             f"that is not MNIST's, so that it is clear which one the runs read")
    return found[0]


def files(data_dir=None):
    """The four files load_mnist reads, in FILES order (for a digest of the data a run reads)."""
    data_dir = resolve_dir(data_dir)
    return [_find(data_dir, stem) for stem in FILES.values()]


def _read_bytes(path):
    try:
        with open(path, "rb") as f:
            raw = f.read()
        return gzip.decompress(raw) if path.endswith(".gz") else raw
    except (OSError, EOFError, zlib.error) as err:
        raise MnistFileError(f"{path}: not a readable gzip file (truncated or corrupt: {err})") from err


def read_idx(path, magic, count):
    """The array in one IDX file: (count, 28, 28) for images (magic 2051), (count,) for labels
    (magic 2049); every header field and the byte length checked against what is expected."""
    data = _read_bytes(path)
    dims = 3 if magic == IMAGE_MAGIC else 1
    header = 4 + 4 * dims
    if len(data) < header:
        raise MnistFileError(f"{path}: {len(data)} bytes, shorter than the {header}-byte IDX header "
                             f"(truncated or not an IDX file)")
    found_magic, *shape = struct.unpack(f">{1 + dims}I", data[:header])
    kind = "images" if magic == IMAGE_MAGIC else "labels"
    if found_magic != magic:
        raise MnistFileError(f"{path}: magic number {found_magic}, expected {magic} for an IDX file of "
                             f"{kind} (wrong file, or damaged)")
    expected = [count, SIDE, SIDE][:dims]
    if shape != expected:
        raise MnistFileError(f"{path}: header says shape {tuple(shape)}, expected {tuple(expected)}")
    size = int(np.prod(expected))
    if len(data) != header + size:
        raise MnistFileError(f"{path}: {len(data) - header} bytes of {kind} after the header, expected "
                             f"{size} (truncated or padded)")
    array = np.frombuffer(data, dtype=np.uint8, offset=header).reshape(expected)
    if magic == LABEL_MAGIC and array.max(initial=0) > 9:
        bad = int(np.argmax(array > 9))
        raise MnistFileError(f"{path}: label {int(array[bad])} at index {bad}; labels must be 0..9")
    return array


def load_mnist(data_dir=None):
    """The four arrays of MNIST, checked (module docstring)."""
    data_dir = resolve_dir(data_dir)
    out = {}
    for key, stem in FILES.items():
        magic = IMAGE_MAGIC if key.endswith("images") else LABEL_MAGIC
        out[key] = read_idx(_find(data_dir, stem), magic, COUNTS[key.split("_")[0]])
    return out


def _fetch(url, path, expected_md5, log):
    """Download url to path atomically, checking the MD5; progress every 10 %."""
    md5, chunks, shown = hashlib.md5(), [], -1
    with urllib.request.urlopen(url, timeout=30) as response:
        total = int(response.headers.get("Content-Length") or 0)
        while True:
            chunk = response.read(1 << 16)
            if not chunk:
                break
            md5.update(chunk)
            chunks.append(chunk)
            done = sum(map(len, chunks))
            if total and done * 10 // total > shown:
                shown = done * 10 // total
                log(f"  {os.path.basename(path)}: {done / 1e6:.1f} of {total / 1e6:.1f} MB")
    if md5.hexdigest() != expected_md5:
        raise MnistFileError(f"{url}: MD5 {md5.hexdigest()}, expected {expected_md5} (a damaged or "
                             f"different file); nothing was written")
    write_bytes(path, b"".join(chunks))


def download(data_dir, mirrors=MIRRORS, log=print):
    """Fetch the four gzipped files into data_dir (skipping those present), MD5-checked and
    written atomically; tries each mirror in turn. Without network: MnistFileError saying where
    to put files obtained another way."""
    os.makedirs(data_dir, exist_ok=True)
    for name, expected in MD5.items():
        path = os.path.join(data_dir, name)
        if os.path.exists(path) or os.path.exists(path[:-3]):
            continue
        errors = []
        for mirror in mirrors:
            try:
                log(f"downloading {mirror}{name}")
                _fetch(mirror + name, path, expected, log)
                break
            except (urllib.error.URLError, OSError, MnistFileError) as err:
                errors.append(f"{mirror}{name}: {err}")
        else:
            raise MnistFileError("could not download MNIST (" + "; ".join(errors) + f"). Without network: "
                                 f"{WHERE} (data_dir here: {data_dir})")
    return data_dir

