import gzip
import pickle
import struct

import numpy as np
import pytest

from lrlab import data


def test_shapes_are_deterministic_binary_and_distinct():
    x, y = data.shapes(5, seed=1)
    x2, _ = data.shapes(5, seed=1)
    assert x.shape == (40, 784) and np.array_equal(x, x2)
    assert set(np.unique(x)) <= {0.0, 1.0}
    assert np.bincount(y).tolist() == [5] * 8
    means = np.stack([x[y == k].reshape(-1, 28, 28).sum((1, 2)).mean() for k in range(8)])
    assert (means > 20).all()  # every shape covers a visible area
    assert not np.array_equal(data.shapes(5, seed=2)[0], x)


def test_draw_geometry():
    disk = data.draw("disk", 5.0, 0.0, (14.0, 14.0))
    assert abs(disk.sum() - np.pi * 25) < 8
    ring = data.draw("ring", 8.0, 0.0, (14.0, 14.0))
    assert ring[14, 14] == 0 and ring[14, 14 + 7] == 1
    square = data.draw("square", 6.0, 0.0, (14.0, 14.0))
    assert abs(square.sum() - 2 * 36) < 10  # a square of circumradius r has area 2 r²
    with pytest.raises(ValueError, match="shape 'oval' is not allowed"):
        data.draw("oval", 5.0, 0.0, (14.0, 14.0))
    with pytest.raises(ValueError, match="per_class = 0"):
        data.shapes(0, seed=0)


def _write_idx(path, array, dtype_code=0x08, compress=False):
    header = bytes([0, 0, dtype_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    raw = header + array.astype(">u1" if dtype_code == 0x08 else ">i4").tobytes()
    (gzip.open if compress else open)(path, "wb").write(raw)


def test_read_idx_plain_and_gzip(tmp_path):
    imgs = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    _write_idx(tmp_path / "a", imgs)
    _write_idx(tmp_path / "b.gz", imgs, compress=True)
    assert np.array_equal(data.read_idx(tmp_path / "a"), imgs)
    assert np.array_equal(data.read_idx(tmp_path / "b.gz"), imgs)
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="not an IDX file"):
        data.read_idx(tmp_path / "bad")


def test_fashion_mnist_from_a_folder_and_missing_message(tmp_path, monkeypatch):
    imgs = np.random.default_rng(0).integers(0, 256, (6, 28, 28)).astype(np.uint8)
    labels = np.array([0, 1, 2, 3, 4, 5], dtype=np.uint8)
    _write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", imgs, compress=True)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", labels, compress=True)
    x, y = data.fashion_mnist("test", folder=tmp_path)
    assert x.shape == (6, 784) and x.max() <= 1.0 and y.tolist() == labels.tolist()
    np.testing.assert_allclose(x[0] * 255, imgs[0].ravel())
    monkeypatch.setattr(data, "FASHION_DIRS", ())
    monkeypatch.delenv("LRLAB_FASHION_MNIST", raising=False)
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        data.fashion_mnist("train", folder=tmp_path / "nowhere")
    with pytest.raises(ValueError, match="split = 'val'"):
        data.fashion_mnist("val")


def test_fashion_mnist_first_n_converts_only_those(tmp_path):
    imgs = np.random.default_rng(1).integers(0, 256, (6, 28, 28)).astype(np.uint8)
    labels = np.arange(6, dtype=np.uint8)
    _write_idx(tmp_path / "t10k-images-idx3-ubyte", imgs)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte", labels)
    whole, _ = data.fashion_mnist("test", folder=tmp_path)
    x, y = data.fashion_mnist("test", folder=tmp_path, n=4)
    assert x.shape == (4, 784) and x.dtype == np.float32 and y.tolist() == [0, 1, 2, 3]
    assert np.array_equal(x, whole[:4])
    assert np.array_equal(whole, imgs.reshape(6, -1).astype(np.float32) / 255.0)  # the same numbers as before `n`
    assert len(data.fashion_mnist("test", folder=tmp_path, n=100)[0]) == 6  # as x[:n]: the whole split
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match=f"n = {bad!r} is not allowed"):
            data.fashion_mnist("test", folder=tmp_path, n=bad)


def test_cifar10_reader_on_generated_pickles(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 256, (4, 3072)).astype(np.uint8), b"labels": list(range(4))}
        with open(tmp_path / name, "wb") as f:
            pickle.dump(batch, f)
    x, y = data.cifar10("train", folder=tmp_path, normalize=False)
    assert x.shape == (20, 3, 32, 32) and y.shape == (20,) and x.min() >= 0 and x.max() <= 1
    xt, _ = data.cifar10("test", folder=tmp_path)
    assert xt.shape == (4, 3, 32, 32)
    monkeypatch.delenv("LRLAB_CIFAR10", raising=False)
    with pytest.raises(FileNotFoundError, match="cs.toronto.edu"):
        data.cifar10("train")


def test_sha256_depends_on_content_shape_and_dtype():
    a = np.zeros((2, 3), dtype=np.float32)
    assert data.sha256(a) == data.sha256(a.copy())
    assert data.sha256(a) != data.sha256(a.reshape(3, 2))
    assert data.sha256(a) != data.sha256(a.astype(np.float64))


def test_digits_standardised():
    x, y = data.digits(100)
    assert x.shape == (100, 64) and y.shape == (100,)
    with pytest.raises(ValueError, match="n = 0"):
        data.digits(0)
