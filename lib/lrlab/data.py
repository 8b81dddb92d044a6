"""Datasets as tensors, their checksums, and clear errors when data is missing.

- :func:`shapes`: eight procedural binary shapes on a 28×28 canvas (fluctuations chapter; Pareek et al. 2025
  name an eight-shape synthetic dataset but not its shapes, so these are ours: see the chapter).
- :func:`digits`: scikit-learn's bundled 8×8 digits (EoS chapter).
- :func:`fashion_mnist`: Fashion-MNIST from IDX files (Debian package ``dataset-fashion-mnist``; scale-invariant
  chapters).
- :func:`cifar10`: CIFAR-10 from the official python pickles, for scale ``paper`` (not downloadable here).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import struct
from pathlib import Path

import numpy as np
from matplotlib.path import Path as Polygon

SHAPE_NAMES: tuple[str, ...] = ("disk", "ring", "square", "triangle", "hexagon", "rhombus", "cross", "star")
CANVAS = 28


def sha256(array: np.ndarray) -> str:
    """Checksum of an array's bytes, shape and dtype (recorded in provenance)."""
    h = hashlib.sha256()
    h.update(str((array.shape, str(array.dtype))).encode())
    h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()[:16]


def _regular(n: int, r: float, phase: float = 0.0) -> np.ndarray:
    a = phase + 2 * np.pi * np.arange(n) / n
    return np.stack([r * np.cos(a), r * np.sin(a)], axis=1)


def _outline(name: str, r: float) -> np.ndarray | None:
    """Vertices of a polygonal shape of size ``r`` centred at 0 (``None`` for the round ones)."""
    if name == "square":
        return _regular(4, r, np.pi / 4)
    if name == "triangle":
        return _regular(3, r, np.pi / 2)
    if name == "hexagon":
        return _regular(6, r)
    if name == "rhombus":
        return np.array([[r, 0], [0, 0.55 * r], [-r, 0], [0, -0.55 * r]])
    if name == "cross":
        w = 0.33 * r
        return np.array(
            [[w, w], [w, r], [-w, r], [-w, w], [-r, w], [-r, -w], [-w, -w], [-w, -r], [w, -r], [w, -w], [r, -w], [r, w]]
        )
    if name == "star":
        outer = _regular(5, r, np.pi / 2)
        inner = _regular(5, 0.42 * r, np.pi / 2 + np.pi / 5)
        return np.stack([outer, inner], axis=1).reshape(10, 2)
    return None


def draw(name: str, radius: float, angle: float, centre: tuple[float, float], size: int = CANVAS) -> np.ndarray:
    """Rasterise one shape (pixel centres inside it are 1, the rest 0) on a ``size × size`` canvas."""
    if name not in SHAPE_NAMES:
        raise ValueError(f"shape {name!r} is not allowed: it must be one of {', '.join(SHAPE_NAMES)}")
    ys, xs = np.mgrid[0:size, 0:size] + 0.5
    px = np.stack([xs.ravel() - centre[0], ys.ravel() - centre[1]], axis=1)
    if name in ("disk", "ring"):
        d = np.hypot(px[:, 0], px[:, 1])
        inside = d <= radius if name == "disk" else (d <= radius) & (d >= 0.55 * radius)
    else:
        c, s = np.cos(angle), np.sin(angle)
        verts = _outline(name, radius) @ np.array([[c, s], [-s, c]])
        inside = Polygon(verts).contains_points(px)
    return inside.reshape(size, size).astype(np.float32)


def shapes(per_class: int, seed: int, jitter: float = 3.0, radius: tuple[float, float] = (6.0, 10.0)):
    """``per_class`` images of each of the eight shapes, flattened to 784, and their labels.

    Each image: centre jittered by U(±``jitter``) px around the canvas centre, size U(``radius``) px, rotation
    U(0, 2π); pixels in {0, 1}. Deterministic in ``seed``. Returns ``(x, labels)`` as float32 / int64 arrays.
    """
    if per_class < 1:
        raise ValueError(f"per_class = {per_class!r} is not allowed: it must be an integer >= 1")
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for label, name in enumerate(SHAPE_NAMES):
        for _ in range(per_class):
            centre = tuple(CANVAS / 2 + rng.uniform(-jitter, jitter, size=2))
            images.append(draw(name, rng.uniform(*radius), rng.uniform(0, 2 * np.pi), centre).ravel())
            labels.append(label)
    return np.stack(images), np.array(labels, dtype=np.int64)


def digits(n: int | None = None, standardize: bool = True):
    """scikit-learn's bundled digits (1797 × 64, no download): features (standardised per column) and labels."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = d.data.astype(np.float64)
    if standardize:
        x = (x - x.mean(0)) / np.where(x.std(0) > 0, x.std(0), 1.0)
    if n is not None:
        if not 1 <= n <= len(x):
            raise ValueError(f"n = {n!r} is not allowed: it must be an integer in [1, {len(x)}]")
        x, y = x[:n], d.target[:n]
    else:
        y = d.target
    return x.astype(np.float32), y.astype(np.int64)


# ---- IDX (MNIST / Fashion-MNIST) -------------------------------------------------------------------------

FASHION_DIRS = ("/usr/share/datasets/fashion-mnist", "/usr/share/fashion-mnist")
FASHION_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (optionally gzipped), the format of MNIST and Fashion-MNIST."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic number {raw[:4].hex()})")
    ndim = raw[3]
    dims = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.dtype(_IDX_DTYPES[raw[2]]), offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: header says {dims} but the file holds {data.size} values")
    return data.reshape(dims)


def _find(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def fashion_mnist(split: str = "train", folder: str | Path | None = None, n: int | None = None):
    """Fashion-MNIST images (N × 784, float32 in [0, 1]) and labels, from IDX files: the first ``n`` of the split
    (all of them when ``n`` is None or larger than the split, as ``x[:n]`` would).

    Only the images returned are converted to float: the chapters train on the first few hundred or thousand, and
    converting all 60 000 (188 MB of new memory, twice) cost the sphere and periodic chapters 2–6 s each at scale
    ``book`` on a VM whose page faults are slow. Looked for in ``folder``, ``$LRLAB_FASHION_MNIST``, then Debian's
    ``dataset-fashion-mnist`` locations.
    """
    if split not in FASHION_FILES:
        raise ValueError(f"split = {split!r} is not allowed: it must be 'train' or 'test'")
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1):
        raise ValueError(f"n = {n!r} is not allowed: it must be an integer >= 1 (or None for the whole split)")
    candidates = [Path(p) for p in (folder, os.environ.get("LRLAB_FASHION_MNIST"), *FASHION_DIRS) if p]
    img_stem, lab_stem = FASHION_FILES[split]
    for c in candidates:
        img, lab = _find(c, img_stem), _find(c, lab_stem)
        if img and lab:
            pixels = read_idx(img).reshape(-1, 28 * 28)[:n]
            x = np.divide(pixels, np.float32(255), dtype=np.float32)  # = pixels.astype(float32) / 255, one pass
            return x, read_idx(lab)[:n].astype(np.int64)
    raise FileNotFoundError(
        "Fashion-MNIST not found (looked in " + ", ".join(str(c) for c in candidates) + "). "
        "Install it with `sudo apt-get install dataset-fashion-mnist` (what `make data` does), "
        "or set LRLAB_FASHION_MNIST to a folder holding the four IDX files."
    )


# ---- CIFAR-10 (scale `paper`) -------------------------------------------------------------------------------

CIFAR_MEAN = np.array([0.4914, 0.4822, 0.4465], dtype=np.float32)
CIFAR_STD = np.array([0.2023, 0.1994, 0.2010], dtype=np.float32)


def cifar10(split: str = "train", folder: str | Path | None = None, normalize: bool = True):
    """CIFAR-10 from the official python pickles (``cifar-10-batches-py``): images N × 3 × 32 × 32, labels.

    Normalised with the per-channel mean and std of Lobacheva et al.'s code. The data cannot be downloaded on the
    book's build machines: fetch ``cifar-10-python.tar.gz`` from https://www.cs.toronto.edu/~kriz/cifar.html,
    unpack it, and pass ``folder`` or set ``$LRLAB_CIFAR10``.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split = {split!r} is not allowed: it must be 'train' or 'test'")
    root = folder or os.environ.get("LRLAB_CIFAR10")
    names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    if root is None or not all((Path(root) / n).is_file() for n in names):
        raise FileNotFoundError(
            f"CIFAR-10 ({split}) not found in {root!r}. Download cifar-10-python.tar.gz from "
            "https://www.cs.toronto.edu/~kriz/cifar.html, unpack it, and set LRLAB_CIFAR10 to the "
            "cifar-10-batches-py folder."
        )
    xs, ys = [], []
    for n in names:
        with open(Path(root) / n, "rb") as f:
            batch = pickle.load(f, encoding="bytes")
        xs.append(np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
        ys.append(np.asarray(batch[b"labels"], dtype=np.int64))
    x = np.concatenate(xs).astype(np.float32) / 255.0
    if normalize:
        x = (x - CIFAR_MEAN[None, :, None, None]) / CIFAR_STD[None, :, None, None]
    return x, np.concatenate(ys)
