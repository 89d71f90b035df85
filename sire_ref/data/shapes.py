r"""An offline point-cloud benchmark: points sampled from parametric surfaces, seeded.

    make_shapes(seed, n_train, n_test, points) -> {"train": (clouds (N, points, 3) float32, labels (N,)),
                                                   "test": (...), "classes": CLASSES}

Six classes, each a closed surface sampled uniformly by area (so a cloud's density says nothing
about its class): sphere, box, cylinder, cone, torus, pyramid (square base). Each shape gets a
random per-axis scale U(0.6, 1.4), a rotation about z by U(0, 2 pi) and a tilt about x by
U(-0.3, 0.3), a random offset N(0, 0.1) and Gaussian noise of std 0.02 per coordinate, so the
classes overlap (a stretched sphere looks like a squashed cylinder from few points) and more
points help, as on ModelNet40. The same format as sire_ref.data.modelnet's loaders, so the point
cloud experiment runs on it unchanged, anywhere, with no download. Labels cycle through the
classes (balanced splits).
"""
import numpy as np

CLASSES = ("sphere", "box", "cylinder", "cone", "torus", "pyramid")


def _pick(rng, weights, n):
    """Which piece of a surface each of n points lands on, with probability proportional to area."""
    w = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(w), size=n, p=w / w.sum())


def _triangle(rng, a, b, c, n):
    """n points uniform on the triangle abc."""
    u, v = rng.random((2, n, 1))
    flip = (u + v) > 1
    u, v = np.where(flip, 1 - u, u), np.where(flip, 1 - v, v)
    return a + u * (b - a) + v * (c - a)


def sphere(rng, n):
    p = rng.normal(size=(n, 3))
    return p / np.linalg.norm(p, axis=1, keepdims=True)


def box(rng, n):
    face = rng.integers(0, 6, n)                 # six equal faces of the cube [-1, 1]^3
    p = rng.uniform(-1, 1, (n, 3))
    p[np.arange(n), face % 3] = np.where(face < 3, -1.0, 1.0)
    return p


def cylinder(rng, n, r=1.0, h=2.0):
    piece = _pick(rng, [2 * np.pi * r * h, np.pi * r * r, np.pi * r * r], n)
    theta = rng.uniform(0, 2 * np.pi, n)
    rad = np.where(piece == 0, r, r * np.sqrt(rng.random(n)))
    z = np.where(piece == 0, rng.uniform(-h / 2, h / 2, n), np.where(piece == 1, -h / 2, h / 2))
    return np.stack([rad * np.cos(theta), rad * np.sin(theta), z], axis=1)


def cone(rng, n, r=1.0, h=2.0):
    slant = np.hypot(r, h)
    piece = _pick(rng, [np.pi * r * slant, np.pi * r * r], n)
    theta = rng.uniform(0, 2 * np.pi, n)
    t = np.sqrt(rng.random(n))                   # uniform by area on the lateral surface and the disk
    rad = r * t
    z = np.where(piece == 0, h / 2 - h * t, -h / 2)
    return np.stack([rad * np.cos(theta), rad * np.sin(theta), z], axis=1)


def torus(rng, n, big=1.0, small=0.35):
    """Uniform by area: the tube angle phi is accepted with probability (big + small cos phi) / (big + small)."""
    out = np.empty((0, 3))
    while len(out) < n:
        theta, phi = rng.uniform(0, 2 * np.pi, (2, 2 * n))
        keep = rng.random(2 * n) < (big + small * np.cos(phi)) / (big + small)
        ring = big + small * np.cos(phi[keep])
        pts = np.stack([ring * np.cos(theta[keep]), ring * np.sin(theta[keep]), small * np.sin(phi[keep])], axis=1)
        out = np.concatenate([out, pts])
    return out[:n]


def pyramid(rng, n, h=2.0):
    base = np.array([[-1, -1, -h / 2], [1, -1, -h / 2], [1, 1, -h / 2], [-1, 1, -h / 2]], dtype=np.float64)
    apex = np.array([0.0, 0.0, h / 2])
    side = 0.5 * 2 * np.hypot(1, h)               # each side triangle: base 2, slant height hypot(1, h)
    piece = _pick(rng, [side] * 4 + [2.0, 2.0], n)
    out = np.empty((n, 3))
    for k in range(4):
        rows = piece == k
        out[rows] = _triangle(rng, base[k], base[(k + 1) % 4], apex, rows.sum())
    for k, (a, b, c) in enumerate(((0, 1, 2), (0, 2, 3))):
        rows = piece == 4 + k
        out[rows] = _triangle(rng, base[a], base[b], base[c], rows.sum())
    return out


SURFACES = (sphere, box, cylinder, cone, torus, pyramid)


def _pose(rng, p):
    scale = rng.uniform(0.6, 1.4, 3)
    a, tilt = rng.uniform(0, 2 * np.pi), rng.uniform(-0.3, 0.3)
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, np.cos(tilt), -np.sin(tilt)], [0, np.sin(tilt), np.cos(tilt)]])
    return (p * scale) @ (rx @ rz).T + rng.normal(0, 0.1, 3) + rng.normal(0, 0.02, p.shape)


def make_clouds(rng, n, points):
    """n clouds (n, points, 3) float32 and their labels (n,), the classes in turn."""
    labels = np.arange(n) % len(CLASSES)
    clouds = np.stack([_pose(rng, SURFACES[k](rng, points)) for k in labels]).astype(np.float32)
    return clouds, labels.astype(np.int64)


def make_shapes(seed, n_train, n_test, points):
    """Training and test clouds from independent seeded streams (module docstring)."""
    return {"train": make_clouds(np.random.default_rng([seed, 0]), n_train, points),
            "test": make_clouds(np.random.default_rng([seed, 1]), n_test, points),
            "classes": list(CLASSES)}
