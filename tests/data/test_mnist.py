"""The MNIST loader on the real IDX files (../shared/data/mnist) and on fabricated broken ones:
every error names the file and what is wrong."""
import gzip
import hashlib
import os
import shutil
import struct
import urllib.error

import numpy as np
import pytest

from sire_ref.data import mnist


def test_real_files_load_with_the_known_first_labels(mnist_dir):
    """Shapes and counts of the official files, and their first labels as every MNIST user knows
    them (train 5 0 4 1 9 ..., test 7 2 1 0 4 ...; LeCun et al.'s order)."""
    d = mnist.load_mnist(mnist_dir)
    assert d["train_images"].shape == (60000, 28, 28) and d["test_images"].shape == (10000, 28, 28)
    assert d["train_images"].dtype == np.uint8
    assert list(d["train_labels"][:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert list(d["test_labels"][:10]) == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.array_equal(np.bincount(d["test_labels"]),
                          [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])   # the published counts
    assert d["train_images"].max() == 255 and d["train_images"][0, 0, 0] == 0


def test_environment_variable_names_the_folder(mnist_dir, monkeypatch):
    monkeypatch.setenv(mnist.ENV, mnist_dir)
    assert mnist.resolve_dir(None) == mnist_dir
    monkeypatch.delenv(mnist.ENV)
    with pytest.raises(mnist.MnistFileError, match="--data-dir, or set SIRE_REF_MNIST"):
        mnist.resolve_dir(None)
    monkeypatch.setenv(mnist.ENV, "/no/such/folder")
    with pytest.raises(mnist.MnistFileError, match=r"\$SIRE_REF_MNIST = '/no/such/folder' is not a folder"):
        mnist.load_mnist()


def _labels(count, values=None, magic=2049):
    values = np.arange(count) % 10 if values is None else values
    return struct.pack(">II", magic, count) + bytes(np.asarray(values, np.uint8))


def _images(count, rows=28, cols=28, magic=2051, extra=0):
    return struct.pack(">IIII", magic, count, rows, cols) + bytes(count * rows * cols + extra)


@pytest.mark.parametrize("content,match", [
    (b"", "shorter than the 8-byte IDX header"),
    (_labels(5, magic=2051), "magic number 2051, expected 2049"),
    (_labels(4), r"header says shape \(4,\), expected \(5,\)"),
    (_labels(5)[:-1], "4 bytes of labels after the header, expected 5"),
    (_labels(5) + b"\0", "6 bytes of labels after the header, expected 5"),
    (_labels(5, [0, 1, 12, 3, 4]), "label 12 at index 2"),
])
def test_broken_label_files(tmp_path, content, match):
    path = tmp_path / "train-labels-idx1-ubyte"
    path.write_bytes(content)
    with pytest.raises(mnist.MnistFileError, match=match) as err:
        mnist.read_idx(str(path), mnist.LABEL_MAGIC, 5)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("content,match", [
    (_images(3, rows=27), r"header says shape \(3, 27, 28\), expected \(3, 28, 28\)"),
    (_images(3, magic=2049), "magic number 2049, expected 2051"),
    (_images(3)[:-100], "2252 bytes of images after the header, expected 2352"),
])
def test_broken_image_files(tmp_path, content, match):
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(content)
    with pytest.raises(mnist.MnistFileError, match=match):
        mnist.read_idx(str(path), mnist.IMAGE_MAGIC, 3)


def test_gzip_truncated_or_garbage(tmp_path):
    good = gzip.compress(_labels(5))
    for name, content in (("cut.gz", good[: len(good) // 2]), ("junk.gz", b"not gzip at all")):
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(mnist.MnistFileError, match=f"{name}: not a readable gzip file"):
            mnist.read_idx(str(path), mnist.LABEL_MAGIC, 5)
    (tmp_path / "ok.gz").write_bytes(good)
    assert list(mnist.read_idx(str(tmp_path / "ok.gz"), mnist.LABEL_MAGIC, 5)) == [0, 1, 2, 3, 4]


def test_missing_file_says_where_to_put_them(tmp_path, mnist_dir):
    for name in os.listdir(mnist_dir):
        if not name.startswith("t10k-labels"):
            os.symlink(os.path.join(mnist_dir, name), tmp_path / name)
    with pytest.raises(mnist.MnistFileError, match=r"t10k-labels-idx1-ubyte\[.gz\] not found: put the four"):
        mnist.load_mnist(str(tmp_path))


def test_raw_and_gzipped_files_read_the_same(tmp_path, mnist_dir):
    raw = gzip.decompress((open(os.path.join(mnist_dir, "t10k-labels-idx1-ubyte.gz"), "rb").read()))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(raw)
    a = mnist.read_idx(str(tmp_path / "t10k-labels-idx1-ubyte"), mnist.LABEL_MAGIC, 10000)
    b = mnist.read_idx(os.path.join(mnist_dir, "t10k-labels-idx1-ubyte.gz"), mnist.LABEL_MAGIC, 10000)
    assert np.array_equal(a, b)


def _mirror(folder, files):
    """A file:// mirror serving `files` {name: bytes}."""
    folder.mkdir(parents=True)
    for name, content in files.items():
        (folder / name).write_bytes(content)
    return folder.as_uri() + "/"


def test_download_checks_md5_and_writes_nothing_bad(tmp_path, monkeypatch):
    """A local file:// mirror serving wrong bytes: MD5 refused, nothing written; a second mirror
    with the right bytes (MD5 patched to them) is then used, and files present are skipped."""
    good = {name: f"content of {name}".encode() for name in mnist.MD5}
    bad_mirror = _mirror(tmp_path / "a", {name: b"tampered" for name in mnist.MD5})
    good_mirror = _mirror(tmp_path / "b", good)
    monkeypatch.setattr(mnist, "MD5", {n: hashlib.md5(c).hexdigest() for n, c in good.items()})
    dest = tmp_path / "data"
    with pytest.raises(mnist.MnistFileError, match="MD5 .*, expected .*nothing was written"):
        mnist.download(str(dest), mirrors=(bad_mirror,), log=lambda _: None)
    assert os.listdir(dest) == []
    lines = []
    mnist.download(str(dest), mirrors=(bad_mirror, good_mirror), log=lines.append)
    assert sorted(os.listdir(dest)) == sorted(good)
    assert all((dest / n).read_bytes() == c for n, c in good.items())
    lines.clear()
    mnist.download(str(dest), mirrors=(bad_mirror,), log=lines.append)      # all present: nothing fetched
    assert lines == []


def test_download_without_network_says_where_to_put_files(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")
    monkeypatch.setattr(mnist.urllib.request, "urlopen", offline)
    with pytest.raises(mnist.MnistFileError, match="could not download MNIST.*no network.*Without network: "
                                                   "put the four MNIST files"):
        mnist.download(str(tmp_path / "d"), log=lambda _: None)


def test_a_raw_file_that_differs_from_its_gz_is_refused(mnist_dir, tmp_path):
    """Issue 28: a raw file silently shadowed a different .gz of the same name."""
    for name in os.listdir(mnist_dir):
        shutil.copy(os.path.join(mnist_dir, name), tmp_path / name)
    labels = gzip.decompress((tmp_path / "t10k-labels-idx1-ubyte.gz").read_bytes())
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(labels)              # the same data raw: fine
    assert mnist.load_mnist(str(tmp_path))["test_labels"][0] == labels[8]
    changed = bytearray(labels)
    changed[8] = (changed[8] + 1) % 10
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(bytes(changed))
    with pytest.raises(mnist.MnistFileError, match=r"t10k-labels-idx1-ubyte and .*\.gz both exist and hold "
                                                   r"different data"):
        mnist.load_mnist(str(tmp_path))


@pytest.mark.slow
def test_a_run_made_from_other_data_is_not_reused(mnist_dir, tmp_path, capsys):
    """Issue 28: the same command on a folder whose test labels differ trains again."""
    from sire_ref.experiments import perturbed_mnist
    data = tmp_path / "data"
    shutil.copytree(mnist_dir, data)
    tiny = ["--n-train", "64", "--n-val", "32", "--n-test", "32", "--cnn-epochs", "1", "--channels", "2", "3",
            "--cnn-hidden", "8", "--methods", "cnn", "--data-dir", str(data), "--out", str(tmp_path / "out")]
    assert perturbed_mnist.main(tiny) == 0
    labels = bytearray(gzip.decompress((data / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    labels[8:] = bytes((b + 1) % 10 for b in labels[8:])
    (data / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(labels)))
    capsys.readouterr()
    assert perturbed_mnist.main(tiny) == 0
    assert "0 of 1 runs already done" in capsys.readouterr().out
