"""ModelNet40 loaders on the real 156-shape subset and on fabricated broken files (txt and h5), the
DeepSets preprocessing and augmentation, and the offline parametric-shape benchmark."""
import pathlib
import os
import shutil

import numpy as np
import pytest

from sire_ref.data import modelnet, shapes


def test_real_subset_loads(modelnet_dir):
    d = modelnet.load_txt(modelnet_dir, 100)
    (xtr, ytr), (xte, yte) = d["train"], d["test"]
    assert xtr.shape == (127, 100, 3) and xte.shape == (29, 100, 3) and xtr.dtype == np.float32
    assert len(d["classes"]) == 40 and d["classes"][0] == "airplane"
    assert "door" not in {d["classes"][i] for i in np.concatenate([ytr, yte])}     # the README: no door
    assert len(set(ytr) | set(yte)) == 39
    # the first listed training shape, read directly: its kept rows, x,y,z only
    first = open(os.path.join(modelnet_dir, "modelnet40_train.txt")).readline().strip()
    rows = np.loadtxt(os.path.join(modelnet_dir, first.rsplit("_", 1)[0], first + ".txt"), delimiter=",")
    assert np.array_equal(xtr[0], rows[modelnet.point_subset(100), :3].astype(np.float32))


def _fake_root(tmp_path, modelnet_dir, shapes_listed=("airplane_0126", "airplane_0703")):
    """A small layout: the real shape names, one real shape per split (train, test), copied."""
    root = tmp_path / "mn"
    (root / "airplane").mkdir(parents=True)
    shutil.copy(os.path.join(modelnet_dir, "modelnet40_shape_names.txt"), root)
    for name in shapes_listed:
        shutil.copy(os.path.join(modelnet_dir, "airplane", name + ".txt"), root / "airplane")
    for split, shape in zip(("train", "test"), shapes_listed):
        (root / f"modelnet40_{split}.txt").write_text(shape + "\n")
    return root


def test_txt_error_paths(tmp_path, modelnet_dir):
    root = _fake_root(tmp_path, modelnet_dir)
    assert modelnet.load_txt(str(root), 10)["train"][0].shape == (1, 10, 3)
    (root / "modelnet40_test.txt").write_text("unicorn_0001\n")
    with pytest.raises(modelnet.ModelNetError, match="class 'unicorn', which is not in modelnet40_shape_names"):
        modelnet.load_txt(str(root), 10)
    (root / "modelnet40_test.txt").write_text("airplane_9999\n")
    with pytest.raises(modelnet.ModelNetError, match=r"airplane_9999.txt not found \(listed in the split file\)"):
        modelnet.load_txt(str(root), 10)
    (root / "modelnet40_test.txt").write_text("\n")
    with pytest.raises(modelnet.ModelNetError, match="modelnet40_test.txt lists no shapes"):
        modelnet.load_txt(str(root), 10)
    (root / "modelnet40_test.txt").write_text("airplane_0703\n")
    cloud = root / "airplane" / "airplane_0703.txt"
    lines = cloud.read_text().splitlines()
    cloud.write_text("\n".join(lines[:-5]) + "\n")
    with pytest.raises(modelnet.ModelNetError, match=r"expected 10000 finite rows .* got shape \(9995, 6\)"):
        modelnet.load_txt(str(root), 10)
    cloud.write_text("\n".join(lines[:-1] + ["1,2,oops,4,5,6"]) + "\n")
    with pytest.raises(modelnet.ModelNetError, match="not rows of 6 comma-separated numbers"):
        modelnet.load_txt(str(root), 10)
    cloud.write_text("\n".join(lines[:-1] + ["1,2,nan,4,5,6"]) + "\n")
    with pytest.raises(modelnet.ModelNetError, match="non-finite"):
        modelnet.load_txt(str(root), 10)
    os.remove(root / "modelnet40_shape_names.txt")
    with pytest.raises(modelnet.ModelNetError, match="modelnet40_shape_names.txt not found"):
        modelnet.load_txt(str(root), 10)
    with pytest.raises(modelnet.ModelNetError, match="is not a folder"):
        modelnet.load_txt(str(tmp_path / "nowhere"), 10)
    with pytest.raises(ValueError, match="points must be a positive int dividing 10000"):
        modelnet.point_subset(300)


def _write_h5(path, n_train=4, n_test=3, labels=None, drop=None, points=10000, nan=False):
    h5py = pytest.importorskip("h5py", reason='the h5 path needs h5py (pip install -e ".[h5]")')
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as f:
        train = rng.normal(size=(n_train, points, 3))
        train[1] = np.nan if nan else train[1]
        data = {"tr_cloud": train, "tr_labels": np.arange(n_train) % 40,
                "test_cloud": rng.normal(size=(n_test, points, 3)),
                "test_labels": np.arange(n_test) % 40 if labels is None else labels}
        for key, value in data.items():
            if key != drop:
                f[key] = value
    return data


def test_h5_loads_and_refuses_bad_files(tmp_path):
    path = str(tmp_path / "ModelNet40_cloud.h5")
    data = _write_h5(path)
    d = modelnet.load_h5(path, 100, seed=3)
    keep = modelnet.point_subset(100, 3)
    assert np.array_equal(d["train"][0], data["tr_cloud"][:, keep].astype(np.float32))
    assert list(d["test"][1]) == [0, 1, 2]
    _write_h5(path, drop="test_labels")
    with pytest.raises(modelnet.ModelNetError, match="no dataset 'test_labels'"):
        modelnet.load_h5(path, 100)
    _write_h5(path, points=500)
    with pytest.raises(modelnet.ModelNetError, match=r"shape \(4, 500, 3\).* expected \(N, 10000, 3\)"):
        modelnet.load_h5(path, 100)
    _write_h5(path, labels=np.array([0, 41, 2]))
    with pytest.raises(modelnet.ModelNetError, match="labels must be in 0..39"):
        modelnet.load_h5(path, 100)
    _write_h5(path, labels=np.array([0.0, 2.7, 1.0]))                     # issue 28: 2.7 was read as 2
    with pytest.raises(modelnet.ModelNetError, match=r"test_labels must be whole numbers .* \[2.7\]"):
        modelnet.load_h5(path, 100)
    _write_h5(path, nan=True)
    with pytest.raises(modelnet.ModelNetError, match="tr_cloud holds NaN or inf"):
        modelnet.load_h5(path, 100)
    (tmp_path / "junk.h5").write_bytes(b"not hdf5")
    with pytest.raises(modelnet.ModelNetError, match="not a readable HDF5 file"):
        modelnet.load_h5(str(tmp_path / "junk.h5"), 100)


def test_a_degenerate_cloud_is_named_not_turned_into_nan():
    clouds = np.random.default_rng(2).normal(size=(3, 20, 3)).astype(np.float32)
    clouds[1] = 0.5                                              # every point at one place: std 0
    with pytest.raises(modelnet.ModelNetError, match=r"clouds \[1\] \(of 3\) have every coordinate equal"):
        modelnet.standardize(clouds)


def test_standardize_and_augment():
    rng = np.random.default_rng(1)
    clouds = (rng.normal(size=(3, 50, 3)) * 5 + 2).astype(np.float32)
    clouds[0, 0, 0] = 1e6                                       # an outlier: clipped to 100 x mean |x|
    z = modelnet.standardize(clouds)
    assert np.allclose(z.mean(axis=(1, 2)), 0, atol=1e-5) and np.allclose(z.std(axis=(1, 2)), 1, atol=1e-5)
    clip = 100 * np.abs(clouds[0]).mean()
    clipped = np.clip(clouds[0], -clip, clip)
    assert np.allclose(z[0], (clipped - clipped.mean()) / clipped.std(), atol=1e-5)
    a = modelnet.augment(np.random.default_rng(2), z)
    # z only scaled; the xy radius changes only by the per-axis scales (0.8..1.25), never by rotation
    ratio_z = a[..., 2] / z[..., 2]
    assert np.allclose(ratio_z, ratio_z[:, :1], rtol=1e-4) and (0.8 <= ratio_z).all() and (ratio_z <= 1.25).all()
    # x, y: a_x = s_x (cos t x - sin t y), a_y = s_y (sin t x + cos t y); recover s_x, s_y, t per
    # cloud by least squares and check one angle within 0.1 pi and scales within 0.8..1.25
    for k in range(3):
        xy = z[k, :, :2].astype(np.float64)
        (p, q), (u, v) = (np.linalg.lstsq(xy, a[k, :, i], rcond=None)[0] for i in (0, 1))
        t_x, t_y = np.arctan2(-q, p), np.arctan2(u, v)
        assert abs(t_x - t_y) < 1e-4 and abs(t_x) <= 0.1 * np.pi + 1e-6
        assert 0.8 <= np.hypot(p, q) <= 1.25 and 0.8 <= np.hypot(u, v) <= 1.25


def test_synthetic_shapes_are_seeded_balanced_and_on_their_surfaces():
    d = shapes.make_shapes(0, 12, 6, 200)
    assert d["train"][0].shape == (12, 200, 3) and list(d["train"][1]) == list(np.arange(12) % 6)
    again = shapes.make_shapes(0, 12, 6, 200)
    assert np.array_equal(d["train"][0], again["train"][0])
    assert not np.array_equal(d["train"][0], shapes.make_shapes(1, 12, 6, 200)["train"][0])
    rng = np.random.default_rng(0)
    assert np.allclose(np.linalg.norm(shapes.sphere(rng, 100), axis=1), 1)
    assert np.allclose(np.abs(shapes.box(rng, 100)).max(axis=1), 1)
    t = shapes.torus(rng, 2000)
    tube = np.hypot(np.hypot(t[:, 0], t[:, 1]) - 1.0, t[:, 2])
    assert np.allclose(tube, 0.35)
    # uniform by area: the outer half of the torus (cos phi > 0) has more area than the inner
    outer = (np.hypot(t[:, 0], t[:, 1]) > 1.0).mean()
    assert 0.55 < outer < 0.67          # exact share: 1/2 + 0.35 / (pi * 1.0) = 0.611
    c = shapes.cylinder(rng, 4000)
    on_caps = (np.abs(np.abs(c[:, 2]) - 1.0) < 1e-12).mean()
    assert abs(on_caps - 2 * np.pi / (2 * np.pi + 4 * np.pi)) < 0.03     # caps: 2 pi r^2 of 6 pi total


def _copy_subset(modelnet_dir, dest, n_train=6, n_test=3):
    """A small copy of the real subset: the class list and the first shapes of each split."""
    src = pathlib.Path(modelnet_dir)
    dest.mkdir()
    shutil.copy(src / "modelnet40_shape_names.txt", dest)
    for split, n in (("train", n_train), ("test", n_test)):
        ids = (src / f"modelnet40_{split}.txt").read_text().split()[:n]
        (dest / f"modelnet40_{split}.txt").write_text("\n".join(ids) + "\n")
        for i in ids:
            cls = i.rsplit("_", 1)[0]
            (dest / cls).mkdir(exist_ok=True)
            shutil.copy(src / cls / f"{i}.txt", dest / cls)
    return dest


def test_a_shape_listed_twice_or_in_both_splits_is_refused(modelnet_dir, tmp_path):
    root = _copy_subset(modelnet_dir, tmp_path / "m")
    train = (root / "modelnet40_train.txt").read_text().split()
    test = (root / "modelnet40_test.txt").read_text().split()
    (root / "modelnet40_train.txt").write_text("\n".join(train + train[:1]) + "\n")
    with pytest.raises(modelnet.ModelNetError, match=rf"shape '{train[0]}' is listed twice in it"):
        modelnet.load_txt(str(root), 10)
    (root / "modelnet40_train.txt").write_text("\n".join(train) + "\n")
    (root / "modelnet40_test.txt").write_text("\n".join(test + train[:1]) + "\n")
    with pytest.raises(modelnet.ModelNetError, match="is listed in modelnet40_train.txt too"):
        modelnet.load_txt(str(root), 10)


def test_a_run_made_from_other_split_lists_is_not_reused(modelnet_dir, tmp_path, capsys):
    """Issue 28: only the split lists differ; the runs must train again, not report old results."""
    from sire_ref.experiments import point_cloud
    root = _copy_subset(modelnet_dir, tmp_path / "m")
    tiny = ["--data", "modelnet-txt", str(root), "--points", "100", "--width", "4", "--epochs", "1", "--seeds", "1",
            "--methods", "deepsets", "--n-val", "1", "--out", str(tmp_path / "out")]
    assert point_cloud.main(tiny) == 0
    assert point_cloud.main(tiny) == 0
    assert "1 of 1 runs already done" in capsys.readouterr().out
    train = (root / "modelnet40_train.txt").read_text().split()
    (root / "modelnet40_train.txt").write_text("\n".join(train[:-1]) + "\n")     # one shape fewer
    assert point_cloud.main(tiny) == 0
    assert "0 of 1 runs already done" in capsys.readouterr().out


def test_an_explicit_n_val_too_large_is_an_error(modelnet_dir, tmp_path, capsys):
    from sire_ref.experiments import point_cloud
    root = _copy_subset(modelnet_dir, tmp_path / "m")
    assert point_cloud.main(["--data", "modelnet-txt", str(root), "--points", "100", "--n-val", "500",
                             "--out", str(tmp_path / "out")]) == 2
    assert "--n-val 500 is more than a fifth of the 6 training shapes" in capsys.readouterr().err
