"""helpers.data.datasets and helpers.data.core: the real parsing code (torchvision's
MNIST/FashionMNIST/CIFAR10 and the CIFAR-10 image-folder copy) on files the tests write, offline
errors, stand-ins."""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import urllib.request
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from imagefiles import save, smooth_image
from torchvision.datasets import CIFAR10, MNIST, FashionMNIST

from helpers.data.core import DataError, DataNotFoundError, Dataset
from helpers.data.datasets import CIFAR10_CLASSES, load_dataset
from helpers.data.folders import image_folder


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """No network (every urlopen fails at once, and is recorded), full mode, and a private data root."""
    calls = []

    def no_network(request, *args, **kwargs):
        calls.append(getattr(request, "full_url", request))
        raise URLError("[Errno -3] Temporary failure in name resolution (no network in tests)")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    monkeypatch.setenv("CNN_BOOK_MODE", "full")
    monkeypatch.setenv("CNN_BOOK_DATA", str(tmp_path / "env-data-root"))
    return calls


def write_idx(path: Path, array: np.ndarray) -> None:
    """An uint8 IDX file (MNIST's format): magic 0x0000080<ndim>, big-endian dims, then the bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def write_mnist(root: Path, folder: str = "MNIST", n_train: int = 12, n_test: int = 7, seed: int = 0) -> dict:
    """The four raw files torchvision's MNIST/FashionMNIST need, with random content; returns the arrays."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        write_idx(root / folder / "raw" / f"{prefix}-images-idx3-ubyte", images)
        write_idx(root / folder / "raw" / f"{prefix}-labels-idx1-ubyte", labels)
        arrays[prefix] = (images, labels)
    return arrays


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def write_cifar_batches(root: Path, per_batch: int = 4, seed: int = 0) -> dict:
    """CIFAR-10's python batches (pickled dicts, rows of 3072 bytes in R, G, B planes) and batches.meta."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    arrays = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        rows = rng.integers(0, 256, size=(per_batch, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, size=per_batch)]
        batch = {"batch_label": name, "labels": labels, "data": rows,
                 "filenames": [f"img_{i}.png" for i in range(per_batch)]}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
        arrays[name] = (rows, labels)
    meta = {"num_cases_per_batch": per_batch, "label_names": list(CIFAR10_CLASSES), "num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return arrays


def trust_cifar_files(monkeypatch, root: Path) -> None:
    """Make torchvision's CIFAR10 expect the checksums of the files this test wrote.

    torchvision verifies the md5 of every batch against the published ones; files a test writes
    cannot match them, so the test replaces the expected checksums with those of its own files.
    torchvision's checking and parsing code still runs unchanged."""
    folder = root / "cifar-10-batches-py"
    monkeypatch.setattr(CIFAR10, "train_list", [[f"data_batch_{i}", md5(folder / f"data_batch_{i}")]
                                                for i in range(1, 6)])
    monkeypatch.setattr(CIFAR10, "test_list", [["test_batch", md5(folder / "test_batch")]])
    monkeypatch.setattr(CIFAR10, "meta", {"filename": "batches.meta", "key": "label_names",
                                          "md5": md5(folder / "batches.meta")})


def make_dataset(labels: list[int], n_classes: int) -> Dataset:
    """A data set whose image i has every pixel equal to i % 256 (so subsets can be traced)."""
    n = len(labels)
    images = (torch.arange(n) % 256).to(torch.uint8).view(n, 1, 1, 1).expand(n, 1, 2, 2).contiguous()
    return Dataset(images, torch.tensor(labels, dtype=torch.int64), [f"c{k}" for k in range(n_classes)], "test data")


def test_dataset_len_repr_and_classes_copy():
    classes = ["a", "b"]
    ds = Dataset(torch.zeros(3, 1, 4, 5, dtype=torch.uint8), torch.tensor([0, 1, 1]), classes, "made here")
    classes.append("c")
    assert len(ds) == 3
    assert ds.classes == ["a", "b"]
    assert repr(ds) == "Dataset(3 images uint8[3x1x4x5], 2 classes; made here)"
    with pytest.raises(AttributeError):
        ds.source = "elsewhere"  # frozen


@pytest.mark.parametrize("images, labels, classes, error, words", [
    (torch.zeros(2, 1, 4, 4), torch.tensor([0, 1]), ["a", "b"], TypeError, "images must be a uint8"),
    (torch.zeros(2, 4, 4, dtype=torch.uint8), torch.tensor([0, 1]), ["a", "b"], TypeError, "[N, C, H, W]"),
    (torch.zeros(2, 1, 4, 4, dtype=torch.uint8), torch.tensor([0, 1], dtype=torch.int32), ["a", "b"],
     TypeError, "labels must be an int64"),
    (torch.zeros(2, 1, 4, 4, dtype=torch.uint8), torch.tensor([0, 1, 1]), ["a", "b"], ValueError,
     "2 images and 3 labels"),
    (torch.zeros(2, 1, 4, 4, dtype=torch.uint8), torch.tensor([0, 2]), ["a", "b"], ValueError, "0..1"),
    (torch.zeros(2, 1, 4, 4, dtype=torch.uint8), torch.tensor([0, 1]), ["a", 1], TypeError, "list of str"),
])
def test_dataset_rejects_bad_fields(images, labels, classes, error, words):
    with pytest.raises(error, match=None) as info:
        Dataset(images, labels, classes, "x")
    assert words in str(info.value)


def test_subset_is_class_balanced_deterministic_and_in_order():
    ds = make_dataset([0] * 50 + [1] * 30 + [2] * 5, 3)
    sub = ds.subset(30, seed=3)
    counts = torch.bincount(sub.labels, minlength=3).tolist()
    assert sum(counts) == 30 and counts[2] == 5 and abs(counts[0] - counts[1]) <= 1  # class 2 gives all it has
    ids = sub.images[:, 0, 0, 0].long()
    assert torch.all(ids[1:] > ids[:-1])  # original order, no repeats
    assert torch.equal(ds.labels[ids], sub.labels)  # each image keeps its own label
    assert torch.equal(ds.subset(30, seed=3).images, sub.images)
    assert not torch.equal(ds.subset(30, seed=4).images, sub.images)
    assert "subset: 30 of 85, class-balanced, seed 3" in sub.source and sub.source.startswith("test data")
    even = make_dataset([k % 4 for k in range(100)], 4)
    assert torch.bincount(even.subset(20).labels).tolist() == [5, 5, 5, 5]


def test_subset_edge_cases():
    ds = make_dataset([0, 1, 0, 1], 2)
    assert ds.subset(4) is ds and ds.subset(100) is ds
    assert len(ds.subset(1)) == 1
    with pytest.raises(ValueError, match="n must be at least 1; got 0"):
        ds.subset(0)
    with pytest.raises(TypeError, match="n must be an int; got float"):
        ds.subset(2.0)


@pytest.mark.parametrize("name, error, words", [
    ("imagenet", ValueError, "name must be one of ('mnist', 'fashion_mnist', 'cifar10'); got 'imagenet'"),
    (10, TypeError, "name must be a str"),
])
def test_load_dataset_rejects_unknown_names(name, error, words):
    with pytest.raises(error) as info:
        load_dataset(name)
    assert words in str(info.value)


def test_load_dataset_rejects_non_bool_train():
    with pytest.raises(TypeError, match="train must be True or False; got 'test'"):
        load_dataset("mnist", train="test")


@pytest.mark.parametrize("name, folder, classes", [
    ("mnist", "MNIST", [str(d) for d in range(10)]),
    ("fashion_mnist", "FashionMNIST", FashionMNIST.classes),
    ("Fashion-MNIST", "FashionMNIST", FashionMNIST.classes),
])
def test_mnist_family_reads_idx_files_with_torchvision(tmp_path, offline, name, folder, classes):
    arrays = write_mnist(tmp_path, folder)
    for train, prefix in ((True, "train"), (False, "t10k")):
        ds = load_dataset(name, train=train, root=tmp_path)
        images, labels = arrays[prefix]
        assert ds.images.shape == (len(images), 1, 28, 28) and ds.images.dtype == torch.uint8
        assert np.array_equal(ds.images[:, 0].numpy(), images)
        assert np.array_equal(ds.labels.numpy(), labels) and ds.labels.dtype == torch.int64
        assert ds.classes == list(classes)
        split = "train" if train else "test"
        assert ds.source.endswith(f"{split} ({len(images)} images) from {tmp_path / folder / 'raw'} via torchvision")
    assert offline == []  # the files were there: no download attempted


def test_root_argument_wins_over_cnn_book_data(tmp_path, monkeypatch):
    write_mnist(tmp_path / "a", n_train=5)
    write_mnist(tmp_path / "b", n_train=9)
    monkeypatch.setenv("CNN_BOOK_DATA", str(tmp_path / "a"))
    assert len(load_dataset("mnist")) == 5
    assert len(load_dataset("mnist", root=tmp_path / "b")) == 9


@pytest.mark.parametrize("damage, words", [
    (lambda p: p.write_bytes(p.read_bytes()[:-100]), "is truncated: its header promises 12 x 28 x 28 values"),
    (lambda p: p.write_bytes(p.read_bytes() + b"\0"), "longer than its header says"),
    (lambda p: p.write_bytes(b"\0\0\x08"), "shorter than its 16-byte header"),
    (lambda p: p.write_bytes(b"\x1f\x8b\x08\x03" + p.read_bytes()[4:]), "magic number is 0x1f8b0803, expected 0x00000803"),
])
def test_damaged_idx_file_names_the_file_and_the_fix(tmp_path, damage, words):
    write_mnist(tmp_path)
    bad = tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte"
    damage(bad)
    with pytest.raises(DataError) as info:
        load_dataset("mnist", root=tmp_path)
    message = str(info.value)
    assert str(bad) in message and words in message
    assert f"Delete {bad} and run again to download it afresh" in message
    assert len(load_dataset("mnist", train=False, root=tmp_path)) == 7  # the test split is intact


def test_idx_images_and_labels_of_different_lengths(tmp_path):
    write_mnist(tmp_path)
    write_idx(tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte", np.zeros(3, dtype=np.uint8))
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte holds 7 images but t10k-labels-idx1-ubyte holds 3"):
        load_dataset("mnist", train=False, root=tmp_path)


def test_torchvision_failure_is_wrapped_with_context(tmp_path, monkeypatch):
    write_mnist(tmp_path)

    def broken(*args, **kwargs):
        raise AssertionError("parser failure")

    monkeypatch.setattr(MNIST, "_load_data", broken)
    with pytest.raises(DataError, match="torchvision could not read MNIST train from") as info:
        load_dataset("mnist", root=tmp_path)
    assert isinstance(info.value.__cause__, AssertionError)


class FakeResponse(io.BytesIO):
    """What urlopen returns, for a fake mirror: ``.url``, ``.length`` and ``.read``."""

    def __init__(self, url: str, payload: bytes):
        super().__init__(payload)
        self.url, self.length = url, len(payload)


def test_missing_files_are_downloaded_by_torchvision(tmp_path, monkeypatch):
    """The download path end to end, against a fake mirror that serves gzipped IDX files."""
    source = tmp_path / "mirror"
    arrays = write_mnist(source, "FashionMNIST")
    served = {f"{p.name}.gz": gzip.compress(p.read_bytes()) for p in (source / "FashionMNIST" / "raw").iterdir()}
    monkeypatch.setattr(FashionMNIST, "mirrors", ["https://mirror.invalid/"])
    monkeypatch.setattr(FashionMNIST, "resources", [(name, hashlib.md5(served[name]).hexdigest())
                                                    for name, _ in FashionMNIST.resources])
    requested = []

    def fake_urlopen(request, *args, **kwargs):
        url = getattr(request, "full_url", request)
        requested.append(url)
        return FakeResponse(url, served[url.rsplit("/", 1)[1]])

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    ds = load_dataset("fashion_mnist", root=tmp_path / "data")
    assert np.array_equal(ds.images[:, 0].numpy(), arrays["train"][0])
    assert any(url.endswith("train-images-idx3-ubyte.gz") for url in requested)
    assert (tmp_path / "data" / "FashionMNIST" / "raw" / "t10k-labels-idx1-ubyte").is_file()


@pytest.mark.parametrize("name, title, expected", [
    ("mnist", "MNIST", ["MNIST/raw/train-images-idx3-ubyte", "MNIST/raw/t10k-labels-idx1-ubyte"]),
    ("fashion_mnist", "Fashion-MNIST", ["FashionMNIST/raw/train-labels-idx1-ubyte"]),
    ("cifar10", "CIFAR-10", ["cifar-10-batches-py/data_batch_5", "cifar-10-batches-py/batches.meta",
                             "cifar10/train"]),
])
def test_missing_data_without_network_says_what_where_and_three_ways_out(tmp_path, offline, name, title, expected):
    root = tmp_path / "empty"
    with pytest.raises(DataNotFoundError) as info:
        load_dataset(name, root=root)
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert message.startswith(f"{title} (train) is not on this machine and could not be downloaded.")
    for path in expected:
        assert str(root / path) in message
    assert "The download failed (no network?)" in message and "Temporary failure in name resolution" in message
    assert "1. Connect to the internet" in message
    assert "2. Set CNN_BOOK_DATA to a folder that already has the files, laid out as $CNN_BOOK_DATA/" in message
    assert "3. Use quick mode, CNN_BOOK_MODE=quick" in message
    assert offline, "the download should have been tried (and failed) before giving up"
    # the failed download leaves no empty folders behind (torchvision makes <root>/<name>/raw)
    assert not root.exists() or not any(root.rglob("*")), sorted(root.rglob("*"))


def test_failed_download_keeps_what_was_there(tmp_path, offline):
    root = tmp_path / "data"
    (root / "mine").mkdir(parents=True)
    (root / "mine" / "notes.txt").write_text("a reader's own file")
    with pytest.raises(DataNotFoundError):
        load_dataset("fashion_mnist", root=root)
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == ["mine", "mine/notes.txt"]


def test_partly_missing_files_are_listed(tmp_path):
    write_mnist(tmp_path)
    gone = tmp_path / "MNIST" / "raw" / "t10k-images-idx3-ubyte"
    gone.unlink()
    with pytest.raises(DataNotFoundError) as info:
        load_dataset("mnist", root=tmp_path)
    assert f"Missing: {gone}\n" in str(info.value)


def test_cifar10_batches_are_read_with_torchvision(tmp_path, monkeypatch, offline):
    arrays = write_cifar_batches(tmp_path)
    trust_cifar_files(monkeypatch, tmp_path)
    train = load_dataset("cifar10", root=tmp_path)
    rows = np.concatenate([arrays[f"data_batch_{i}"][0] for i in range(1, 6)])  # (20, 3072)
    assert train.images.shape == (20, 3, 32, 32)
    assert np.array_equal(train.images.numpy(), rows.reshape(20, 3, 32, 32))  # R, G, B planes -> channels
    assert train.labels.tolist() == sum((arrays[f"data_batch_{i}"][1] for i in range(1, 6)), [])
    assert train.classes == list(CIFAR10_CLASSES)
    assert train.source == f"CIFAR-10 train (20 images) from {tmp_path / 'cifar-10-batches-py'} via torchvision"
    test = load_dataset("cifar10", train=False, root=tmp_path)
    assert np.array_equal(test.images.numpy(), arrays["test_batch"][0].reshape(4, 3, 32, 32))
    assert offline == []


def test_cifar10_files_that_are_not_the_published_ones_are_reported(tmp_path):
    write_cifar_batches(tmp_path)  # the real checksums: these made-up files cannot match them
    with pytest.raises(DataError) as info:
        load_dataset("cifar10", root=tmp_path)
    message = str(info.value)
    assert "their checksums differ from the published ones" in message
    assert str(tmp_path / "cifar-10-batches-py" / "data_batch_1") in message
    assert f"Delete the folder {tmp_path / 'cifar-10-batches-py'} and run again" in message


def test_truncated_cifar10_batch_is_named(tmp_path, monkeypatch):
    write_cifar_batches(tmp_path)
    trust_cifar_files(monkeypatch, tmp_path)
    bad = tmp_path / "cifar-10-batches-py" / "data_batch_3"
    bad.write_bytes(bad.read_bytes()[:5000])
    with pytest.raises(DataError) as info:
        load_dataset("cifar10", root=tmp_path)
    message = str(info.value)
    assert str(bad) in message and "data_batch_1" not in message


def test_unreadable_cifar10_pickle_is_wrapped(tmp_path, monkeypatch):
    write_cifar_batches(tmp_path)
    bad = tmp_path / "cifar-10-batches-py" / "test_batch"
    bad.write_bytes(bad.read_bytes()[:5000])
    trust_cifar_files(monkeypatch, tmp_path)  # checksums pass, so the unpickling itself fails
    with pytest.raises(DataError, match="torchvision could not read the CIFAR-10 batches in") as info:
        load_dataset("cifar10", train=False, root=tmp_path)
    assert isinstance(info.value.__cause__, (pickle.UnpicklingError, EOFError, ValueError))


def write_cifar_folder(root: Path, split: str, per_class: int = 2) -> dict:
    rng = np.random.default_rng(1)
    written = {}
    for k, name in enumerate(CIFAR10_CLASSES):
        for i in range(per_class):
            array = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
            save(root / "cifar10" / split / name / f"{i:04d}.png", array)
            written[(k, i)] = array
    return written


def test_cifar10_image_folder_copy(tmp_path):
    written = write_cifar_folder(tmp_path, "test")
    ds = load_dataset("cifar10", train=False, root=tmp_path)
    assert ds.images.shape == (20, 3, 32, 32) and ds.classes == list(CIFAR10_CLASSES)
    assert ds.labels.tolist() == [k for k in range(10) for _ in range(2)]
    assert np.array_equal(ds.images[3].permute(1, 2, 0).numpy(), written[(1, 1)])  # PNG: exact
    assert ds.source == (f"CIFAR-10 test, copy in an image folder {(tmp_path / 'cifar10' / 'test').resolve()} "
                         "(20 PNG images, 10 classes)")
    assert list((tmp_path / "cache").glob("image_folder-*.pt"))  # cached under the data root


def test_cifar10_image_folder_with_wrong_classes(tmp_path):
    save(tmp_path / "cifar10" / "train" / "cat" / "0.png", np.zeros((32, 32, 3), np.uint8))
    with pytest.raises(DataError, match="is not a CIFAR-10 image-folder copy"):
        load_dataset("cifar10", root=tmp_path)


def test_image_folder_sizes_must_agree_unless_size_is_given(tmp_path):
    save(tmp_path / "f" / "a" / "small.png", smooth_image(16, 16, (0, 0, 0)))
    save(tmp_path / "f" / "b" / "big.png", smooth_image(40, 30, (100, 0, 0)))
    with pytest.raises(DataError) as info:
        image_folder(tmp_path / "f", cache=False)
    message = str(info.value)
    assert "have different sizes" in message and "small.png is 16x16" in message and "big.png is 40x30" in message
    assert "Pass size=(H, W)" in message
    resized = image_folder(tmp_path / "f", size=(12, 10), cache=False)
    assert resized.images.shape == (2, 3, 12, 10)
    expected = F.interpolate(torch.from_numpy(smooth_image(40, 30, (100, 0, 0))).permute(2, 0, 1)[None].float(),
                             size=(12, 10), mode="bilinear", align_corners=False, antialias=True)
    assert torch.equal(resized.images[1], expected[0].round().to(torch.uint8))
    assert image_folder(tmp_path / "f", size=8, cache=False).images.shape == (2, 3, 8, 8)


@pytest.mark.parametrize("name, content", [
    ("cut.jpg", lambda good: good[: len(good) // 2]),
    ("fake.png", lambda good: b"this is not an image at all"),
    ("zero.jpeg", lambda good: b""),
])
def test_image_folder_undecodable_file_is_named(tmp_path, name, content):
    folder = tmp_path / "f"
    save(folder / "a" / "ok.jpg", smooth_image(16, 16, (50, 50, 50)))
    good = (folder / "a" / "ok.jpg").read_bytes()
    bad = folder / "b" / name
    bad.parent.mkdir()
    bad.write_bytes(content(good))
    with pytest.raises(DataError) as info:
        image_folder(folder, cache=False)
    message = str(info.value)
    assert f"cannot decode the image {bad.resolve()}" in message and "Delete it, or copy it again" in message


def test_image_folder_layout_errors(tmp_path):
    with pytest.raises(DataNotFoundError, match="does not exist"):
        image_folder(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="has no class folders"):
        image_folder(tmp_path / "empty")
    save(tmp_path / "loose" / "1.png", smooth_image(4, 4, (0, 0, 0)))
    with pytest.raises(DataError, match="It has 1 images directly inside it; put the images in one sub-folder"):
        image_folder(tmp_path / "loose")
    save(tmp_path / "f" / "a" / "1.png", smooth_image(4, 4, (0, 0, 0)))
    (tmp_path / "f" / "b").mkdir()
    (tmp_path / "f" / "b" / "readme.txt").write_text("no images here")
    with pytest.raises(DataError) as info:
        image_folder(tmp_path / "f")
    assert f"class folders with no .png/.jpg/.jpeg images: {(tmp_path / 'f' / 'b').resolve()}" in str(info.value)


@pytest.fixture
def quick(monkeypatch, tmp_path):
    monkeypatch.setenv("CNN_BOOK_MODE", "quick")
    return tmp_path / "no-data-here"


def test_mnist_stand_in(quick, capsys, offline):
    from sklearn.datasets import load_digits

    train = load_dataset("mnist", root=quick)
    banner = capsys.readouterr().out
    assert "STAND-IN DATA: MNIST train is not in" in banner and str(quick) in banner
    assert "set CNN_BOOK_DATA" in banner and "CNN_BOOK_MODE=quick" in banner
    assert train.images.shape == (1437, 1, 28, 28) and train.images.dtype == torch.uint8
    assert train.classes == [str(d) for d in range(10)]
    assert train.source.startswith("stand-in: scikit-learn's 8x8 handwritten digits resized to 28x28")
    assert train.source.endswith("(1,437 images) for MNIST train (quick mode, not the real data)")
    digits = load_digits()
    assert train.labels.tolist() == [int(t) for i, t in enumerate(digits.target) if i % 5]
    assert train.images[:, :, :4].max() == 0 and train.images[:, :, :, -4:].max() == 0  # MNIST-like margin
    assert train.images.max() >= 250  # scaled to 0-255
    test = load_dataset("mnist", train=False, root=quick)
    assert len(test) == 360 and torch.equal(load_dataset("mnist", train=False, root=quick).images, test.images)
    assert offline == []  # quick mode never tries the network


def test_fashion_mnist_stand_in_is_labelled(quick, capsys):
    ds = load_dataset("fashion_mnist", root=quick)
    assert "STAND-IN DATA: Fashion-MNIST train" in capsys.readouterr().out
    assert ds.classes == list(FashionMNIST.classes)
    assert "stand-in" in ds.source and "digit k standing for class k" in ds.source
    assert "for Fashion-MNIST train (quick mode, not the real data)" in ds.source


def test_cifar10_stand_in_is_deterministic_and_learnable(quick, capsys):
    train = load_dataset("cifar10", root=quick)
    test = load_dataset("cifar10", train=False, root=quick)
    assert "STAND-IN DATA: CIFAR-10 train" in capsys.readouterr().out
    assert train.images.shape == (5000, 3, 32, 32) and test.images.shape == (1000, 3, 32, 32)
    assert torch.bincount(train.labels).tolist() == [500] * 10 and torch.bincount(test.labels).tolist() == [100] * 10
    assert train.classes == list(CIFAR10_CLASSES) and "coloured shapes" in train.source and "stand-in" in train.source
    assert torch.equal(load_dataset("cifar10", root=quick).images, train.images)
    # Learnable: a nearest-class-mean classifier on 8x8 average-pooled images beats chance (0.1) by far.
    features = lambda d: F.avg_pool2d(d.images.float(), 4).flatten(1)  # (N, 192)
    means = torch.stack([features(train)[train.labels == k].mean(0) for k in range(10)])
    accuracy = (torch.cdist(features(test), means).argmin(1) == test.labels).float().mean().item()
    assert accuracy > 0.5


def test_quick_mode_uses_real_files_when_present(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CNN_BOOK_MODE", "quick")
    write_mnist(tmp_path)
    ds = load_dataset("mnist", root=tmp_path)
    assert len(ds) == 12 and "via torchvision" in ds.source
    assert "STAND-IN" not in capsys.readouterr().out


def test_select_takes_the_given_examples_in_order_and_says_so():
    from helpers.data.core import Dataset

    data = Dataset(torch.arange(6, dtype=torch.uint8).view(6, 1, 1, 1), torch.tensor([0, 1, 0, 1, 0, 1]),
                   ["a", "b"], "toy")
    part = data.select(torch.tensor([4, 1, 2]))
    assert part.images.flatten().tolist() == [4, 1, 2] and part.labels.tolist() == [0, 1, 0]
    assert part.source == "toy | selected: 3 of 6"
    assert data.select([0], note="first").source == "toy | first"
    with pytest.raises(IndexError, match="positions in 0..5"):
        data.select([6])
