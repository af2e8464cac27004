"""Small image files written by tests of image folders (``helpers.data.folders`` and the data sets)."""

from pathlib import Path

import numpy as np
from PIL import Image


def smooth_image(h: int, w: int, colour: tuple[int, int, int]) -> np.ndarray:
    """A gentle gradient (survives JPEG almost unchanged): uint8 array [H, W, 3]."""
    ramp = np.linspace(0, 40, w)[None, :, None]
    return np.clip(np.array(colour)[None, None, :] + ramp + np.zeros((h, 1, 1)), 0, 255).astype(np.uint8)


def save(path: Path, array: np.ndarray, **kwargs) -> None:
    """Write ``array`` (uint8 [H, W, 3]) as an image file, making its folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, **kwargs)
