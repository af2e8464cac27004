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
(``helpers.standins``) and prints a banner saying so. Files that are there but damaged raise
``DataError`` naming the file and the fix.

Decoded image folders are cached in ``<root>/cache/`` (one ``.pt`` file per folder, re-decoded
when a file is added, removed or modified), so the second load takes a second or two.
"""

from __future__ import annotations

import hashlib
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Sequence
from urllib.error import URLError

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from helpers import standins
from helpers.config import data_root, is_quick

__all__ = ["CIFAR10_CLASSES", "DATASETS", "IMAGE_EXTENSIONS", "DataError", "DataNotFoundError", "Dataset",
           "image_folder", "load_dataset"]

DATASETS = ("mnist", "fashion_mnist", "cifar10")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck")
_TITLES = MappingProxyType({"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"})
_DOWNLOAD_MB = MappingProxyType({"mnist": 11, "fashion_mnist": 30, "cifar10": 163})
_IDX_MAGIC = MappingProxyType({1: 0x00000801, 3: 0x00000803})  # ndim -> magic number of uint8 IDX files
_CACHE_VERSION = 1


class DataError(Exception):
    """A data set's files are there but cannot be read: truncated, corrupt, or laid out wrongly."""


class DataNotFoundError(DataError, FileNotFoundError):
    """A data set's files are missing and could not be downloaded."""


@dataclass(frozen=True, repr=False, eq=False)
class Dataset:
    """A labelled image data set held in memory.

    Attributes:
        images: ``uint8 tensor[N, C, H, W]`` (0-255).
        labels: ``int64 tensor[N]``, each in ``range(len(classes))``.
        classes: the class names; ``classes[k]`` names label ``k``.
        source: one line saying where the data came from (which copy, how many images).
    """

    images: torch.Tensor
    labels: torch.Tensor
    classes: list[str]
    source: str

    def __post_init__(self) -> None:
        x, y = self.images, self.labels
        if not isinstance(x, torch.Tensor) or x.dtype != torch.uint8 or x.ndim != 4:
            got = f"{x.dtype} tensor of shape {tuple(x.shape)}" if isinstance(x, torch.Tensor) else type(x).__name__
            raise TypeError(f"images must be a uint8 tensor [N, C, H, W]; got {got}")
        if not isinstance(y, torch.Tensor) or y.dtype != torch.int64 or y.ndim != 1:
            got = f"{y.dtype} tensor of shape {tuple(y.shape)}" if isinstance(y, torch.Tensor) else type(y).__name__
            raise TypeError(f"labels must be an int64 tensor [N]; got {got}")
        if len(x) != len(y):
            raise ValueError(f"images and labels must have the same length N; got {len(x)} images and {len(y)} labels")
        classes = list(self.classes)
        if not all(isinstance(c, str) for c in classes):
            raise TypeError(f"classes must be a list of str; got {classes!r}")
        if len(y) and (int(y.min()) < 0 or int(y.max()) >= len(classes)):
            raise ValueError(f"labels must lie in 0..{len(classes) - 1} (one per class); "
                             f"got labels from {int(y.min())} to {int(y.max())}")
        object.__setattr__(self, "classes", classes)  # a private copy

    def __len__(self) -> int:
        return len(self.labels)

    def __repr__(self) -> str:
        shape = "x".join(str(s) for s in self.images.shape)
        return f"Dataset({len(self):,} images uint8[{shape}], {len(self.classes)} classes; {self.source})"

    def subset(self, n: int, seed: int = 0) -> Dataset:
        """A class-balanced random subset of ``n`` examples, in their original order.

        Each class contributes ``n // K`` or one more (a class with too few examples gives all it
        has and the others make up the difference), drawn at random with ``seed``: the same
        ``(n, seed)`` always gives the same subset.

        Args:
            n: how many examples; ``n >= len(self)`` returns the data set itself.
            seed: the random seed.

        Returns:
            A ``Dataset`` with ``min(n, len(self))`` examples, whose ``source`` says it is a subset.
        """
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"n must be an int; got {type(n).__name__}")
        if n < 1:
            raise ValueError(f"n must be at least 1; got {n}")
        if n >= len(self):
            return self
        g = torch.Generator().manual_seed(seed)
        order = torch.randperm(len(self), generator=g)  # (N,) a random order
        sorted_labels, by_class = torch.sort(self.labels[order], stable=True)  # (N,) grouped by class
        counts = torch.bincount(sorted_labels, minlength=len(self.classes))
        first = torch.cumsum(counts, 0) - counts  # (K,) where each class starts
        rank = torch.empty(len(self), dtype=torch.int64)
        rank[by_class] = torch.arange(len(self)) - first[sorted_labels]  # rank within its class
        # Deal round-robin: every class's first pick, then every class's second, ...
        picks = order[torch.argsort(rank * len(self) + torch.arange(len(self)))[:n]].sort().values
        return Dataset(self.images[picks], self.labels[picks], self.classes,
                       f"{self.source} | subset: {n:,} of {len(self):,}, class-balanced, seed {seed}")


# ---------------------------------------------------------------- the named data sets

def load_dataset(name: str, train: bool = True, root: str | os.PathLike | None = None) -> Dataset:
    """MNIST, Fashion-MNIST or CIFAR-10 as tensors, read with torchvision from the data folder.

    Files already in the folder are used as they are; missing ones are downloaded (full mode).
    CIFAR-10 is read from the original batches if present, else from an image-folder copy
    ``<root>/cifar10/{train,test}/<class>/``. In quick mode with no files, a small labelled
    stand-in is returned instead (see ``helpers.standins``) and a banner says so.

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
                   f"{title} {split} ({len(images):,} images) from {raw} via torchvision")


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
                   f"CIFAR-10 {split} ({len(images):,} images) from {batches} via torchvision")


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


# ---------------------------------------------------------------- image folders

def image_folder(path: str | os.PathLike, size: int | Sequence[int] | None = None, *,
                 cache: bool = True, cache_dir: str | os.PathLike | None = None) -> Dataset:
    """Every ``path/<class>/**/*.png|jpg|jpeg`` image as one tensor, labelled by its class folder.

    Classes are the sub-folders, sorted alphabetically (as torchvision's ``ImageFolder`` does);
    hidden files and folders (``.ipynb_checkpoints``) and other file types are ignored. Images are
    decoded with ``torchvision.io`` (Pillow as a fallback); grayscale images give ``C = 1`` unless
    the folder also holds colour images (then all are RGB); alpha channels are dropped. All images
    must have the same size unless ``size`` is given, which resizes every image (bilinear,
    antialiased). The result is cached in ``cache_dir`` and reused until a file in the folder is
    added, removed or modified.

    Args:
        path: the folder with one sub-folder per class.
        size: ``(H, W)`` or one int for square images; None keeps the images' own (common) size.
        cache: whether to read and write the cache.
        cache_dir: where the cache lives; default ``data_root() / "cache"``.

    Returns:
        A ``Dataset``: ``images: uint8[N, C, H, W]``, ``labels: int64[N]``, ``classes`` the folder names.

    Raises:
        DataNotFoundError: ``path`` is not a folder.
        DataError: no class folders, an empty class folder, an undecodable image (named), or images of
            different sizes with ``size=None``.
    """
    folder = Path(path).expanduser().resolve()
    out_size = _check_size(size)
    if not folder.is_dir():
        raise DataNotFoundError(f"image folder {folder} does not exist (or is not a folder). Expected "
                                f"{folder}/<class name>/<image>.png|jpg|jpeg, one sub-folder per class.")
    classes, files, stamps = _scan(folder)
    key = hashlib.sha256(repr((_CACHE_VERSION, str(folder), out_size, stamps)).encode()).hexdigest()
    name = hashlib.sha256(repr((str(folder), out_size)).encode()).hexdigest()[:16]
    cache_file = Path(cache_dir if cache_dir is not None else data_root() / "cache") / f"image_folder-{name}.pt"
    n_classes = f"{len(classes)} class{'es' if len(classes) != 1 else ''}"
    kinds = "/".join(sorted({"PNG" if f.suffix.lower() == ".png" else "JPEG" for _, f in files}))
    source = f"image folder {folder} ({len(files):,} {kinds} images, {n_classes})"
    if cache:
        hit = _read_cache(cache_file, key)
        if hit is not None:
            return Dataset(hit["images"], hit["labels"], classes, source)
    images = _decode_all(files, folder, out_size)  # (N, C, H, W)
    labels = torch.tensor([label for label, _ in files], dtype=torch.int64)
    if cache:
        _write_cache(cache_file, {"version": _CACHE_VERSION, "key": key, "folder": str(folder),
                                  "images": images, "labels": labels})
    return Dataset(images, labels, classes, source)


def _check_size(size: int | Sequence[int] | None) -> tuple[int, int] | None:
    if size is None:
        return None
    if isinstance(size, int) and not isinstance(size, bool):
        size = (size, size)
    if not isinstance(size, (tuple, list)) or len(size) != 2 or not all(
            isinstance(s, int) and not isinstance(s, bool) for s in size):
        raise TypeError(f"size must be None, an int or a pair of ints (H, W); got {size!r}")
    if min(size) < 1:
        raise ValueError(f"size must be positive; got {tuple(size)}")
    return (size[0], size[1])


def _scan(folder: Path) -> tuple[list[str], list[tuple[int, Path]], list[tuple[str, int, int]]]:
    """Class names, ``(label, file)`` pairs in a fixed order, and every file's (name, size, mtime)."""
    with os.scandir(folder) as entries:
        classes = sorted(e.name for e in entries if e.is_dir() and not e.name.startswith("."))
    if not classes:
        loose = [p.name for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS]
        hint = f" It has {len(loose)} images directly inside it;" if loose else ""
        raise DataError(f"{folder} has no class folders.{hint} put the images in one sub-folder per class: "
                        f"{folder}/<class name>/<image>.png|jpg|jpeg.")
    files, stamps, empty = [], [], []
    for label, name in enumerate(classes):
        found = []
        for dirpath, dirnames, filenames in os.walk(folder / name, followlinks=True):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            found += [os.path.join(dirpath, f) for f in sorted(filenames)
                      if not f.startswith(".") and os.path.splitext(f)[1].lower() in IMAGE_EXTENSIONS]
        if not found:
            empty.append(str(folder / name))
        for f in found:
            st = os.stat(f)
            files.append((label, Path(f)))
            stamps.append((f[len(str(folder)) + 1:], st.st_size, st.st_mtime_ns))
    if empty:
        raise DataError(f"class folders with no .png/.jpg/.jpeg images: {', '.join(empty)}. "
                        "Put images in them, or remove them (each sub-folder of the image folder is a class).")
    return classes, files, stamps


def _decode_file(file: Path) -> torch.Tensor:
    """One image file as ``uint8 tensor[C, H, W]`` with C = 1 or 3."""
    try:  # torchvision's decoder is 3-5x faster than Pillow on small JPEGs
        from torchvision.io import ImageReadMode, decode_image
    except ImportError:  # deprecated since torchvision 0.29; Pillow takes over once it is gone
        img = _decode_with_pillow(file)
    else:
        try:
            img = decode_image(torch.frombuffer(bytearray(file.read_bytes()), dtype=torch.uint8),
                               mode=ImageReadMode.UNCHANGED)  # (C, H, W)
        except (RuntimeError, ValueError):
            img = _decode_with_pillow(file)  # a second opinion, which names the file if it fails too
    if img.dtype != torch.uint8:  # 16-bit PNG
        img = (img.to(torch.int32) // 257).to(torch.uint8)
    if img.shape[0] in (2, 4):  # drop the alpha channel
        img = img[:-1]
    return img


def _decode_with_pillow(file: Path) -> torch.Tensor:
    import numpy as np
    from PIL import Image

    try:
        with Image.open(file) as im:
            im.load()
            im = im.convert("L" if im.mode in ("1", "L", "LA", "I", "I;16", "F") else "RGB")
            array = np.array(im)
    except Exception as exc:
        raise DataError(f"cannot decode the image {file} ({type(exc).__name__}: {exc}): the file is damaged "
                        "(truncated?) or not really an image. Delete it, or copy it again from a good copy.") from exc
    tensor = torch.from_numpy(array)
    return tensor.unsqueeze(0) if tensor.ndim == 2 else tensor.permute(2, 0, 1).contiguous()  # (C, H, W)


def _decode_all(files: list[tuple[int, Path]], folder: Path,
                out_size: tuple[int, int] | None) -> torch.Tensor:
    """Decode every file into ``uint8 tensor[N, C, H, W]``, resizing each to ``out_size`` if given."""
    decoded, first = [], None
    with warnings.catch_warnings():  # torchvision 0.29+ warns on every call that its decoders are deprecated
        warnings.filterwarnings("ignore", "The image decoding and encoding capabilities", DeprecationWarning)
        for _, file in tqdm(files, desc=f"decoding {folder.name}", unit="img", leave=False,
                            disable=len(files) < 2000):
            img = _decode_file(file)  # (C, H, W)
            if out_size is not None and tuple(img.shape[1:]) != out_size:
                img = F.interpolate(img[None].float(), size=out_size, mode="bilinear", align_corners=False,
                                    antialias=True)[0].round().clamp(0, 255).to(torch.uint8)
            if first is None:
                first = (file, img.shape[1:])
            elif img.shape[1:] != first[1]:
                raise DataError(f"images in {folder} have different sizes: {first[0]} is "
                                f"{first[1][0]}x{first[1][1]} (HxW) but {file} is {img.shape[1]}x{img.shape[2]}. "
                                "Pass size=(H, W) to resize them all, e.g. image_folder(path, size=(32, 32)).")
            decoded.append(img)
    if any(img.shape[0] == 3 for img in decoded):
        decoded = [img.expand(3, -1, -1) for img in decoded]  # grayscale -> RGB
    return torch.stack(decoded)  # (N, C, H, W)


def _read_cache(cache_file: Path, key: str) -> dict | None:
    if not cache_file.is_file():
        return None
    try:
        hit = torch.load(cache_file, weights_only=True)
    except Exception:  # unreadable (e.g. an interrupted write by an older version): decode again
        return None
    if not isinstance(hit, dict) or hit.get("version") != _CACHE_VERSION or hit.get("key") != key:
        return None
    return hit


def _write_cache(cache_file: Path, payload: dict) -> None:
    tmp = cache_file.with_name(f"{cache_file.name}.{os.getpid()}.tmp")
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        torch.save(payload, tmp)
        os.replace(tmp, cache_file)  # atomic: a reader never sees half a file
    except OSError as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        warnings.warn(f"could not cache the decoded images in {cache_file} ({exc}); "
                      "the next load decodes them again.", stacklevel=3)
