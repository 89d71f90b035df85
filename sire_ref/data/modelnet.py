r"""ModelNet40 point clouds (Section 6.3, Table 1) from the two layouts users have, checked.

    load_txt(root, points, seed=0)  the PointNet++ `modelnet40_normal_resampled` folder:
        <class>/<class>_<id>.txt (rows x,y,z,nx,ny,nz; the normals are not used),
        modelnet40_shape_names.txt (one class per line), modelnet40_train.txt / _test.txt (shape ids)
    load_h5(path, points, seed=0)   the DeepSets file ModelNet40_cloud.h5: tr_cloud (N, 10000, 3),
        tr_labels (N,), test_cloud, test_labels (needs h5py: pip install -e ".[h5]")
    -> {"train": (clouds (N, points, 3) float32, labels (N,) int64), "test": (...), "classes": [names]}

Every shape keeps the same fixed random subset of `points` of its points (the DeepSets code's
down-sampling: one permutation of the point indices drawn from `seed`, every k-th taken).
Missing files, bad rows, unknown or empty classes raise ModelNetError naming the file.

standardize(clouds): per cloud, clip to 100 x the mean |coordinate|, subtract the scalar mean,
divide by the scalar std. augment(rng, clouds): a rotation about z by U(-0.1 pi, 0.1 pi) and a
per-axis scale U(0.8, 1.25), per cloud (training batches only; the DeepSets setup).
"""
import os

import numpy as np

from ..base import backend
from .split import Split

RAW_POINTS = 10000


class ModelNetError(ValueError):
    """A ModelNet file or folder that is missing or malformed; the message names it."""


def point_subset(points, seed=0, available=RAW_POINTS):
    """The fixed indices every shape keeps: every (available // points)-th of one seeded permutation."""
    if not isinstance(points, int) or points < 1 or available % points:
        raise ValueError(f"points must be a positive int dividing {available}, got {points!r}")
    return np.sort(np.random.default_rng(seed).permutation(available)[::available // points])


def _read_lines(path):
    if not os.path.isfile(path):
        raise ModelNetError(f"{path} not found (expected the modelnet40_normal_resampled layout)")
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


def _read_cloud(path, keep):
    if not os.path.isfile(path):
        raise ModelNetError(f"{path} not found (listed in the split file)")
    try:
        rows = np.loadtxt(path, delimiter=",", dtype=np.float32, ndmin=2)
    except ValueError as err:
        raise ModelNetError(f"{path}: not rows of 6 comma-separated numbers ({err})") from err
    if rows.shape != (RAW_POINTS, 6) or not np.isfinite(rows).all():
        raise ModelNetError(f"{path}: expected {RAW_POINTS} finite rows of x,y,z,nx,ny,nz, got shape {rows.shape}"
                            + ("" if np.isfinite(rows).all() else " with non-finite values"))
    return rows[keep, :3]


def files_txt(root):
    """Every file load_txt reads: the class list, both split lists and each listed shape's file."""
    names = ["modelnet40_shape_names.txt", "modelnet40_train.txt", "modelnet40_test.txt"]
    listed = [f"{i.rsplit('_', 1)[0]}/{i}.txt" for split in names[1:] for i in _read_lines(os.path.join(root, split))]
    return [os.path.join(root, n) for n in names + listed]


def load_txt(root, points, seed=0):
    """The modelnet40_normal_resampled folder at `root` (module docstring)."""
    if not os.path.isdir(root):
        raise ModelNetError(f"{root} is not a folder (expected modelnet40_normal_resampled)")
    keep = point_subset(points, seed)
    classes = _read_lines(os.path.join(root, "modelnet40_shape_names.txt"))
    index = {name: i for i, name in enumerate(classes)}
    out, seen = {"classes": classes}, {}
    for split in ("train", "test"):
        listing = os.path.join(root, f"modelnet40_{split}.txt")
        ids = _read_lines(listing)
        if not ids:
            raise ModelNetError(f"{listing} lists no shapes")
        for shape_id in ids:         # each shape once, in one split: training and test never share a shape
            if shape_id in seen:
                where = "twice in it" if seen[shape_id] == split else f"in modelnet40_{seen[shape_id]}.txt too"
                raise ModelNetError(f"{listing}: shape {shape_id!r} is listed {where}; each shape belongs to "
                                    f"one split, once")
            seen[shape_id] = split
        clouds, labels = [], []
        for shape_id in ids:
            name = shape_id.rsplit("_", 1)[0]
            if name not in index:
                raise ModelNetError(f"{listing}: shape {shape_id!r} has class {name!r}, which is not in "
                                    f"modelnet40_shape_names.txt")
            clouds.append(_read_cloud(os.path.join(root, name, f"{shape_id}.txt"), keep))
            labels.append(index[name])
        out[split] = (np.stack(clouds), np.array(labels, dtype=np.int64))
    return out


def load_h5(path, points, seed=0):
    """The DeepSets ModelNet40_cloud.h5 at `path` (module docstring)."""
    try:
        import h5py
    except ImportError as err:
        raise ImportError('reading ModelNet40_cloud.h5 needs h5py: pip install -e ".[h5]"') from err
    if not os.path.isfile(path):
        raise ModelNetError(f"{path} not found (expected the DeepSets ModelNet40_cloud.h5)")
    keep = point_subset(points, seed)
    out = {}
    try:
        with h5py.File(path, "r") as f:
            for split, prefix in (("train", "tr"), ("test", "test")):
                for key in (f"{prefix}_cloud", f"{prefix}_labels"):
                    if key not in f:
                        raise ModelNetError(f"{path}: no dataset {key!r} (has {sorted(f.keys())})")
                cloud, labels = f[f"{prefix}_cloud"], np.asarray(f[f"{prefix}_labels"]).reshape(-1)
                if cloud.ndim != 3 or cloud.shape[1:] != (RAW_POINTS, 3) or len(labels) != cloud.shape[0]:
                    raise ModelNetError(f"{path}: {prefix}_cloud has shape {cloud.shape} and {prefix}_labels "
                                        f"{len(labels)} entries; expected (N, {RAW_POINTS}, 3) and N")
                points_kept = np.asarray(cloud[:, keep, :], dtype=np.float32)
                if not np.isfinite(points_kept).all():
                    raise ModelNetError(f"{path}: {prefix}_cloud holds NaN or inf coordinates")
                if not np.issubdtype(labels.dtype, np.number) or not np.all(labels == np.round(labels)):
                    raise ModelNetError(f"{path}: {prefix}_labels must be whole numbers (class indices 0..39), "
                                        f"got e.g. {labels[labels != np.round(labels)][:3].tolist()}")
                out[split] = (points_kept, labels.astype(np.int64))
    except OSError as err:
        raise ModelNetError(f"{path}: not a readable HDF5 file ({err})") from err
    n_classes = int(max(out["train"][1].max(), out["test"][1].max())) + 1
    if min(out["train"][1].min(), out["test"][1].min()) < 0 or n_classes > 40:
        raise ModelNetError(f"{path}: labels must be in 0..39")
    out["classes"] = [str(i) for i in range(40)]
    return out


def standardize(clouds):
    """Per cloud (N, P, 3): clip to 100 x mean |x|, then subtract the scalar mean, divide by the std.
    A cloud whose clipped coordinates all equal one value (std 0) has no scale: an error naming it."""
    if not np.isfinite(clouds).all():
        raise ModelNetError(f"clouds {sorted(set(np.argwhere(~np.isfinite(clouds))[:, 0].tolist()))[:5]} hold "
                            f"NaN or inf coordinates")
    clip = 100 * np.abs(clouds).mean(axis=(1, 2), keepdims=True)
    z = np.clip(clouds, -clip, clip)
    std = z.std(axis=(1, 2), keepdims=True)
    flat = np.flatnonzero(std.reshape(-1) == 0)
    if flat.size:
        raise ModelNetError(f"clouds {flat[:5].tolist()} (of {len(clouds)}) have every coordinate equal (std 0), "
                            f"so they cannot be standardized: remove or repair those shapes")
    return ((z - z.mean(axis=(1, 2), keepdims=True)) / std).astype(clouds.dtype)


def augment(rng, clouds):
    """Rotation about z by theta ~ U(-0.1 pi, 0.1 pi), then a per-axis scale ~ U(0.8, 1.25), per cloud.
    clouds (n, P, 3) on NumPy or CuPy; the draws come from the host Generator rng."""
    xp = backend.array_module(clouds)
    n = clouds.shape[0]
    theta = rng.uniform(-0.1 * np.pi, 0.1 * np.pi, size=(n, 1))
    c, s = xp.asarray(np.cos(theta), dtype=clouds.dtype), xp.asarray(np.sin(theta), dtype=clouds.dtype)
    x, y, z = clouds[..., 0], clouds[..., 1], clouds[..., 2]
    rotated = xp.stack([c * x - s * y, s * x + c * y, z], axis=-1)
    return rotated * xp.asarray(rng.uniform(0.8, 1.25, size=(n, 1, 3)), dtype=clouds.dtype)


def to_splits(data, n_val, seed=0):
    """{"train", "val", "test": Split} of standardized clouds: val is n_val training shapes held out
    (a seeded shuffle; ModelNet has no official validation split)."""
    clouds, labels = data["train"]
    if not 0 < n_val < len(labels):
        raise ValueError(f"n_val must be in 1..{len(labels) - 1} for {len(labels)} training shapes, got {n_val}")
    order = np.random.default_rng([seed, 3]).permutation(len(labels))
    parts = {"train": order[n_val:], "val": order[:n_val]}

    def split(x, y):
        return Split(x=standardize(x), lengths=np.full(len(y), x.shape[1]), y=y)
    out = {name: split(clouds[idx], labels[idx]) for name, idx in parts.items()}
    out["test"] = split(*data["test"])
    return out
