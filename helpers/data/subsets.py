"""Source and target tasks for transfer learning (Part VIII), cut out of one labelled data set.

* :func:`select_classes` keeps some classes of a ``Dataset`` and numbers them ``0..K-1`` (CIFAR-10's
  six animals as the source task, its four vehicles as the target task);
* :func:`write_image_folder` writes a ``Dataset`` as ``folder/<class>/<n>.png|jpg`` files, the
  layout ``helpers.data.folders.image_folder`` reads (so a reader's own folder, e.g. of plant-disease
  photos, goes through exactly the same code path).

Typical use::

    cifar = load_dataset("cifar10")
    source = select_classes(cifar, ["bird", "cat", "deer", "dog", "frog", "horse"])
    target = select_classes(cifar, ["airplane", "automobile", "ship", "truck"]).subset(400)
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Sequence
import torch
from helpers.data.core import Dataset

__all__ = ["select_classes", "write_image_folder"]


_FORMATS = ("png", "jpg")


def select_classes(data: Dataset, classes: Sequence[str]) -> Dataset:
    """The examples of ``classes`` only, relabelled ``0..K-1`` in the order ``classes`` lists them.

    Args:
        data: a ``helpers.data.core.Dataset`` (``images: uint8[N, C, H, W]``, ``labels: int64[N]``).
        classes: names from ``data.classes``, each once, at least one.

    Returns:
        A ``Dataset`` with ``images: uint8[M, C, H, W]`` (the examples of those classes, in their
        original order), ``labels: int64[M]`` with ``labels == k`` for ``classes[k]``,
        ``classes`` as given, and a ``source`` that says which classes were kept.

    Raises:
        TypeError: ``data`` is not a Dataset, or ``classes`` is not a list of str.
        ValueError: ``classes`` is empty, repeats a name, or names a class ``data`` lacks.
    """
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a helpers.data.core.Dataset; got {type(data).__name__}")
    if isinstance(classes, str) or not isinstance(classes, (list, tuple)) or not all(
            isinstance(c, str) for c in classes):
        raise TypeError(f"classes must be a list of class names (str); got {classes!r}")
    classes = list(classes)
    if not classes:
        raise ValueError("classes must name at least one class; got an empty list")
    repeated = sorted({c for c in classes if classes.count(c) > 1})
    if repeated:
        raise ValueError(f"classes must name each class once; {repeated} appear more than once")
    unknown = [c for c in classes if c not in data.classes]
    if unknown:
        raise ValueError(f"classes {unknown} are not in the data set, whose classes are "
                         f"{', '.join(data.classes)}")
    old = torch.tensor([data.classes.index(c) for c in classes])  # (K,) old label of new label k
    new_of_old = torch.full((len(data.classes),), -1, dtype=torch.int64)
    new_of_old[old] = torch.arange(len(classes))
    relabelled = new_of_old[data.labels]  # (N,) -1 for the classes left out
    keep = relabelled >= 0
    return Dataset(data.images[keep], relabelled[keep], classes,
                   f"{data.source} | classes: {', '.join(classes)} ({int(keep.sum()):,} images)")


def write_image_folder(data: Dataset, folder: str | os.PathLike, *, fmt: str = "png") -> Path:
    """Write every image as ``folder/<class>/<index>.<fmt>``: the layout ``image_folder`` reads.

    Args:
        data: a ``Dataset`` with 1- or 3-channel images.
        folder: created if missing; it must not already hold any of the class sub-folders.
        fmt: ``"png"`` (lossless: reading the folder back gives the same pixels) or ``"jpg"``
            (quality 90, like most photo collections).

    Returns:
        The folder, as a ``Path``.

    Raises:
        TypeError / ValueError: a bad ``data`` or ``fmt``; FileExistsError: a class folder exists.
    """
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a helpers.data.core.Dataset; got {type(data).__name__}")
    if fmt not in _FORMATS:
        raise ValueError(f"fmt must be one of {_FORMATS}; got {fmt!r}")
    if data.images.shape[1] not in (1, 3):
        raise ValueError(f"images must have 1 or 3 channels to be written as {fmt}; "
                         f"got {data.images.shape[1]}")
    folder = Path(folder).expanduser()
    taken = [str(folder / c) for c in data.classes if (folder / c).exists()]
    if taken:
        raise FileExistsError(f"class folders already exist: {', '.join(taken)}; write into an "
                              "empty folder, or delete them first")
    from torchvision.io import write_jpeg, write_png

    for name in data.classes:
        (folder / name).mkdir(parents=True)
    with warnings.catch_warnings():  # torchvision 0.29+ warns that its encoders are deprecated
        warnings.filterwarnings("ignore", "The image decoding and encoding capabilities",
                                DeprecationWarning)
        for i, (image, label) in enumerate(zip(data.images, data.labels.tolist())):
            path = folder / data.classes[label] / f"{i:05d}.{fmt}"
            if fmt == "png":
                write_png(image.contiguous(), str(path))  # (C, H, W) uint8
            else:
                write_jpeg(image.contiguous(), str(path), quality=90)
    return folder
