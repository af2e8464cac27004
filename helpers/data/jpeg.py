"""JPEG re-encoding of a whole data set, to measure what compression costs a model (chapter 13).

The book's offline CIFAR-10 is a JPEG copy (quality 75, 4:2:0 chroma subsampling). Training on the
original pixels is not possible offline, but re-encoding the copy once more, at a chosen quality,
shows how sensitive a recipe is to compression artefacts. Pillow does the encoding.
"""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image

from helpers.data.core import Dataset

__all__ = ["SUBSAMPLING", "reencode_jpeg"]

SUBSAMPLING = {0: "4:4:4", 1: "4:2:2", 2: "4:2:0"}  # Pillow's codes: colour at full, half-width, half-size


def reencode_jpeg(data: Dataset, quality: int, subsampling: int = 2) -> Dataset:
    """Every image of ``data`` encoded as JPEG and decoded again, as a new :class:`Dataset`.

    Args:
        data: RGB (3 channels) or grey (1 channel) uint8 images.
        quality: JPEG quality, 1 (smallest files) to 95 (Pillow's advice for the best).
        subsampling: chroma subsampling, a key of :data:`SUBSAMPLING` (ignored for grey images).

    Returns:
        The same labels and classes; ``source`` says how the images were re-encoded.
    """
    if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 95:
        raise ValueError(f"quality must be an int from 1 to 95; got {quality!r}")
    if subsampling not in SUBSAMPLING:
        raise ValueError(f"subsampling must be one of {SUBSAMPLING} (Pillow's codes); got {subsampling!r}")
    channels = data.images.shape[1]
    if channels not in (1, 3):
        raise ValueError(f"JPEG stores grey (1 channel) or RGB (3 channel) images; these have {channels}")
    out = torch.empty_like(data.images)
    for i, image in enumerate(data.images.permute(0, 2, 3, 1).numpy()):  # (H, W, C) each
        buffer = io.BytesIO()
        Image.fromarray(image[..., 0] if channels == 1 else image).save(
            buffer, "JPEG", quality=quality, subsampling=subsampling)
        decoded = np.array(Image.open(buffer).convert("L" if channels == 1 else "RGB"))  # a writable copy
        out[i] = torch.from_numpy(decoded.reshape(*decoded.shape[:2], channels)).permute(2, 0, 1)
    how = f"quality {quality}" + ("" if channels == 1 else f", {SUBSAMPLING[subsampling]}")
    return Dataset(out, data.labels.clone(), data.classes, f"{data.source} | re-encoded as JPEG ({how})")
