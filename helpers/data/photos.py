"""Real photos that ship with installed packages, so the book never downloads an image.

* ``"grace_hopper"``: matplotlib's sample portrait of Grace Hopper (600x512 pixels, RGB);
* ``"china"`` and ``"flower"``: scikit-learn's sample photos (427x640, RGB).
"""

from __future__ import annotations

import numpy as np

__all__ = ["PHOTOS", "to_gray", "sample_photo"]


PHOTOS = ("grace_hopper", "china", "flower")


def to_gray(image: np.ndarray) -> np.ndarray:
    """RGB ``ndarray[H, W, 3]`` (uint8) to grayscale ``ndarray[H, W]`` (uint8), ITU-R 601 weights."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"image must be RGB with shape (H, W, 3); got shape {image.shape}")
    gray = image[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    return np.clip(np.rint(gray), 0, 255).astype(np.uint8)


def sample_photo(name: str = "grace_hopper", *, gray: bool = False) -> np.ndarray:
    """Load a photo that ships with matplotlib or scikit-learn.

    Args:
        name: one of ``PHOTOS``.
        gray: convert to one channel.

    Returns:
        uint8 ``ndarray[H, W, 3]`` (or ``ndarray[H, W]`` with ``gray=True``), values 0-255.
    """
    if name == "grace_hopper":
        import matplotlib.cbook
        import matplotlib.image

        with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
            image = matplotlib.image.imread(f, format="jpg")
    elif name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        image = load_sample_image(f"{name}.jpg")
    else:
        raise ValueError(f"name must be one of {PHOTOS}; got {name!r}")
    image = np.asarray(image, dtype=np.uint8)
    return to_gray(image) if gray else image
