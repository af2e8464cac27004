"""Image folders (``class_name/image.png|jpg``) read into one uint8 tensor, decoded once and cached under ``<data folder>/cache/``.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path
from typing import Sequence
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm
from helpers.config import data_root, display_path
from helpers.data.core import DataError, DataNotFoundError, Dataset

__all__ = ["IMAGE_EXTENSIONS", "image_folder"]


IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")


_CACHE_VERSION = 1


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
    source = f"image folder {display_path(folder)} ({len(files):,} {kinds} images, {n_classes})"
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
