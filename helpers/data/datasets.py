"""Data sets as plain tensors: MNIST, Fashion-MNIST, CIFAR-10, and a reader's own image folders.

``load_dataset(name, train=True, root=None)`` and ``image_folder(path)`` both return a ``Dataset``:
``images: uint8 tensor[N, C, H, W]``, ``labels: int64 tensor[N]``, ``classes: list[str]`` and
``source``, one line saying exactly where the data came from.

Where the files are looked for (``root``, else ``$CNN_BOOK_DATA``, else ``~/.cache/cnn-book``)::

    <root>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte          (torchvision's layout)
    <root>/FashionMNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte
    <root>/cifar-10-batches-py/{data_batch_1..5,test_batch,batches.meta}   (the original batches)
    <root>/cifar10/{train,test}/<class>/*.png|jpg|jpeg                     (or an image-folder copy)

Files that are missing are downloaded by torchvision (full mode only). With no files and no
network, full mode raises ``DataNotFoundError`` saying what is missing, where it looked and the
three ways out; quick mode (``CNN_BOOK_MODE=quick``) uses a small labelled stand-in
(``helpers.data.standins``) and prints a banner saying so. Files that are there but damaged raise
``DataError`` naming the file and the fix.

Decoded image folders are cached in ``<root>/cache/`` (one ``.pt`` file per folder, re-decoded
when a file is added, removed or modified), so the second load takes a second or two.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from types import MappingProxyType
from urllib.error import URLError
import torch
from helpers.data import standins
from helpers.config import data_root, display_path, is_quick
from helpers.data.folders import image_folder
from helpers.data.core import DataError, DataNotFoundError, Dataset

__all__ = ["DATASETS", "CIFAR10_CLASSES", "load_dataset"]


DATASETS = ("mnist", "fashion_mnist", "cifar10")


CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck")


_TITLES = MappingProxyType({"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"})


_DOWNLOAD_MB = MappingProxyType({"mnist": 11, "fashion_mnist": 30, "cifar10": 163})


_IDX_MAGIC = MappingProxyType({1: 0x00000801, 3: 0x00000803})  # ndim -> magic number of uint8 IDX files


def load_dataset(name: str, train: bool = True, root: str | os.PathLike | None = None) -> Dataset:
    """MNIST, Fashion-MNIST or CIFAR-10 as tensors, read with torchvision from the data folder.

    Files already in the folder are used as they are; missing ones are downloaded (full mode).
    CIFAR-10 is read from the original batches if present, else from an image-folder copy
    ``<root>/cifar10/{train,test}/<class>/``. In quick mode with no files, a small labelled
    stand-in is returned instead (see ``helpers.data.standins``) and a banner says so.

    Args:
        name: ``"mnist"``, ``"fashion_mnist"`` or ``"cifar10"``.
        train: the training split if True, else the test split.
        root: the data folder; default ``$CNN_BOOK_DATA``, else ``~/.cache/cnn-book``.

    Returns:
        A ``Dataset``: MNIST and Fashion-MNIST ``images: uint8[N, 1, 28, 28]``, CIFAR-10
        ``uint8[N, 3, 32, 32]``; ``labels: int64[N]``; 10 classes.

    Raises:
        DataNotFoundError: full mode, files missing and the download failed.
        DataError: the files are there but damaged (the message names the file and the fix).
    """
    key = _dataset_key(name)
    if not isinstance(train, bool):
        raise TypeError(f"train must be True or False; got {train!r}")
    folder = data_root(root)
    found = _load_local(key, folder, train)
    if found is not None:
        return found
    if is_quick():
        return _stand_in(key, folder, train)
    before = _folders(folder)
    try:
        _torchvision_class(key)(str(folder), train=train, download=True)
    except Exception as exc:  # URLError, torchvision's RuntimeError, OSError (folder not writable)
        _remove_new_empty_folders(folder, before)  # leave the data folder as we found it
        raise DataNotFoundError(_missing_message(key, folder, train, exc)) from exc
    found = _load_local(key, folder, train)
    if found is None:
        raise DataNotFoundError(_missing_message(key, folder, train, None))
    return found


def _folders(folder: Path) -> set[Path]:
    """Every folder under ``folder`` (and itself), if it exists."""
    if not folder.is_dir():
        return set()
    return {folder, *(p for p in folder.rglob("*") if p.is_dir())}


def _remove_new_empty_folders(folder: Path, before: set[Path]) -> None:
    """Remove the empty folders a failed download created (deepest first)."""
    for path in sorted(_folders(folder) - before, key=lambda p: len(p.parts), reverse=True):
        try:
            path.rmdir()  # only succeeds when empty
        except OSError:
            pass


def _dataset_key(name: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, one of {DATASETS}; got {type(name).__name__}")
    key = name.strip().lower().replace("-", "_")
    key = {"fashionmnist": "fashion_mnist", "cifar_10": "cifar10"}.get(key, key)
    if key not in DATASETS:
        raise ValueError(f"name must be one of {DATASETS}; got {name!r}. "
                         "For your own images, use image_folder(path).")
    return key


def _torchvision_class(key: str) -> type:
    import torchvision.datasets as tvd

    return {"mnist": tvd.MNIST, "fashion_mnist": tvd.FashionMNIST, "cifar10": tvd.CIFAR10}[key]


def _expected_files(key: str, folder: Path) -> list[Path]:
    """The files torchvision needs (its own lists, so they follow torchvision's version)."""
    cls = _torchvision_class(key)
    if key == "cifar10":
        names = [name for name, _ in cls.train_list + cls.test_list] + [cls.meta["filename"]]
        return [folder / cls.base_folder / name for name in names]
    raw = folder / cls.__name__ / "raw"
    return [raw / os.path.splitext(os.path.basename(url))[0] for url, _ in cls.resources]


def _load_local(key: str, folder: Path, train: bool) -> Dataset | None:
    """The data set from files already in ``folder``, or None when they are not all there."""
    split = "train" if train else "test"
    if all(f.is_file() for f in _expected_files(key, folder)):
        return _read_cifar_batches(folder, train) if key == "cifar10" else _read_idx(key, folder, train)
    copy = folder / "cifar10" / split
    if key == "cifar10" and copy.is_dir():
        data = image_folder(copy, cache_dir=folder / "cache")
        if data.classes != list(CIFAR10_CLASSES) or data.images.shape[1:] != (3, 32, 32):
            raise DataError(f"{copy} is not a CIFAR-10 image-folder copy: expected the class folders "
                            f"{', '.join(CIFAR10_CLASSES)} of 3x32x32 images; found {data.classes} "
                            f"of {tuple(data.images.shape[1:])}. Fix the folder, or move it away to download "
                            "the original CIFAR-10.")
        return Dataset(data.images, data.labels, data.classes,
                       f"CIFAR-10 {split}, copy in an {data.source}")
    return None


def _check_idx(path: Path, ndim: int) -> int:
    """Check an IDX file's magic number and length against its header; return its first dimension."""
    fix = f"Delete {path} and run again to download it afresh, or copy it again from a good copy."
    size = path.stat().st_size
    with open(path, "rb") as f:
        header = f.read(4 + 4 * ndim)
    if len(header) < 4 + 4 * ndim:
        raise DataError(f"{path} is truncated: {size} bytes, shorter than its {4 + 4 * ndim}-byte header. {fix}")
    magic = int.from_bytes(header[:4], "big")
    if magic != _IDX_MAGIC[ndim]:
        raise DataError(f"{path} is not an IDX {'image' if ndim == 3 else 'label'} file: its magic number is "
                        f"0x{magic:08x}, expected 0x{_IDX_MAGIC[ndim]:08x}. It is damaged or misnamed. {fix}")
    dims = [int.from_bytes(header[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    expected = len(header) + math.prod(dims)
    if size != expected:
        what = "truncated" if size < expected else "longer than its header says"
        raise DataError(f"{path} is {what}: its header promises {' x '.join(map(str, dims))} values "
                        f"({expected:,} bytes) but the file has {size:,} bytes. {fix}")
    return dims[0]


def _read_idx(key: str, folder: Path, train: bool) -> Dataset:
    cls, title, split = _torchvision_class(key), _TITLES[key], "train" if train else "test"
    raw = folder / cls.__name__ / "raw"
    prefix = "train" if train else "t10k"
    n_images = _check_idx(raw / f"{prefix}-images-idx3-ubyte", 3)
    n_labels = _check_idx(raw / f"{prefix}-labels-idx1-ubyte", 1)
    if n_images != n_labels:
        raise DataError(f"{raw}: {prefix}-images-idx3-ubyte holds {n_images:,} images but "
                        f"{prefix}-labels-idx1-ubyte holds {n_labels:,} labels; one of them is from another "
                        f"copy. Delete both and run again to download them, or copy them again.")
    try:
        ds = cls(str(folder), train=train, download=False)
    except Exception as exc:
        raise DataError(f"torchvision could not read {title} {split} from {raw}: {type(exc).__name__}: {exc}. "
                        f"Delete the files in {raw} and run again to download them afresh.") from exc
    images = ds.data.unsqueeze(1).contiguous()  # (N, 28, 28) -> (N, 1, 28, 28)
    classes = [str(d) for d in range(10)] if key == "mnist" else list(cls.classes)
    return Dataset(images, ds.targets.long(), classes,
                   f"{title} {split} ({len(images):,} images) from {display_path(raw)} via torchvision")


def _read_cifar_batches(folder: Path, train: bool) -> Dataset:
    from torchvision.datasets.utils import check_integrity

    cls, split = _torchvision_class("cifar10"), "train" if train else "test"
    batches = folder / cls.base_folder
    try:
        ds = cls(str(folder), train=train, download=False)
    except Exception as exc:
        checks = cls.train_list + cls.test_list + [[cls.meta["filename"], cls.meta["md5"]]]
        bad = [str(batches / name) for name, md5 in checks if not check_integrity(batches / name, md5)]
        fix = (f"Delete the folder {batches} and run again to download it afresh "
               f"({_DOWNLOAD_MB['cifar10']} MB), or copy it again from a good copy.")
        if bad:
            raise DataError(f"CIFAR-10 files are damaged (truncated or changed: their checksums differ from "
                            f"the published ones): {', '.join(bad)}. {fix}") from exc
        raise DataError(f"torchvision could not read the CIFAR-10 batches in {batches}: "
                        f"{type(exc).__name__}: {exc}. {fix}") from exc
    images = torch.from_numpy(ds.data).permute(0, 3, 1, 2).contiguous()  # (N, 32, 32, 3) -> (N, 3, 32, 32)
    return Dataset(images, torch.as_tensor(ds.targets, dtype=torch.int64), list(ds.classes),
                   f"CIFAR-10 {split} ({len(images):,} images) from {display_path(batches)} via torchvision")


def _missing_message(key: str, folder: Path, train: bool, exc: Exception | None) -> str:
    title, split = _TITLES[key], "train" if train else "test"
    files = _expected_files(key, folder)
    missing = [str(f) for f in files if not f.is_file()]
    lines = [f"{title} ({split}) is not on this machine and could not be downloaded."]
    if len(missing) == len(files):
        lines.append(f"  Looked for these files, none of them there: {', '.join(missing)}")
    else:
        lines += [f"  Looked for: {', '.join(str(f) for f in files)}", f"  Missing: {', '.join(missing)}"]
    if key == "cifar10":
        lines.append(f"  and for an image-folder copy at {folder / 'cifar10' / split} (not there either)")
    if exc is not None:
        reason = " ".join(str(exc).split())[:400]
        offline = isinstance(exc, URLError) or "urlopen error" in str(exc) or isinstance(exc.__cause__, URLError)
        lines.append(f"  The download failed{' (no network?)' if offline else ''}: {type(exc).__name__}: {reason}")
    cls = _torchvision_class(key)
    layout = (f"$CNN_BOOK_DATA/{cls.base_folder}/{{data_batch_1..5,test_batch,batches.meta}} (the python version), "
              f"or an image folder $CNN_BOOK_DATA/cifar10/{{train,test}}/<class>/*.png|jpg"
              if key == "cifar10" else
              f"$CNN_BOOK_DATA/{cls.__name__}/raw/{{train,t10k}}-{{images-idx3,labels-idx1}}-ubyte")
    lines += ["Three ways out:",
              f"  1. Connect to the internet and run again: torchvision downloads it by itself "
              f"(about {_DOWNLOAD_MB[key]} MB) into {folder}.",
              f"  2. Set CNN_BOOK_DATA to a folder that already has the files, laid out as {layout}.",
              "  3. Use quick mode, CNN_BOOK_MODE=quick: a small labelled stand-in replaces the real data."]
    return "\n".join(lines)


def _stand_in(key: str, folder: Path, train: bool) -> Dataset:
    title, split = _TITLES[key], "train" if train else "test"
    if key == "cifar10":
        images, labels = standins.shapes_32x32(train)
        classes, what = list(CIFAR10_CLASSES), "coloured shapes (one shape per class), 3x32x32"
    else:
        images, labels = standins.digits_28x28(train)
        classes = [str(d) for d in range(10)] if key == "mnist" else list(_torchvision_class(key).classes)
        what = "scikit-learn's 8x8 handwritten digits resized to 28x28" + (
            "" if key == "mnist" else ", digit k standing for class k")
    print(f"⚠ STAND-IN DATA: {title} {split} is not in {folder}, so quick mode uses {len(labels):,} "
          f"{what} instead. For the real data: connect to the internet or set CNN_BOOK_DATA, "
          "and run without CNN_BOOK_MODE=quick.")
    return Dataset(images, labels, classes,
                   f"stand-in: {what} ({len(labels):,} images) for {title} {split} (quick mode, not the real data)")
