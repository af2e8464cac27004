"""Real photos that ship with installed packages, so the book never downloads an image.

* ``"grace_hopper"``: matplotlib's sample portrait of Grace Hopper (600x512 pixels, RGB);
* ``"china"`` and ``"flower"``: scikit-learn's sample photos (427x640, RGB);
* scikit-image's ``skimage.data`` photos (public domain or CC0): ``"chelsea"`` (a cat, 300x451),
  ``"coffee"`` (a cup of coffee, 400x600), ``"rocket"`` (a rocket on its launch pad, 427x640),
  ``"motorcycle"`` (the left view of the stereo pair ``stereo_motorcycle``, 500x741),
  ``"astronaut"`` (Eileen Collins, 512x512) and ``"camera"`` (a photographer with a camera on
  a tripod, 512x512, grayscale: returned with three equal channels).

:data:`IMAGENET_PHOTOS` are the ones the book shows to an ImageNet network.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PHOTOS", "IMAGENET_PHOTOS", "to_gray", "sample_photo"]


_SKIMAGE = {"chelsea": "chelsea", "coffee": "coffee", "rocket": "rocket",
            "motorcycle": "stereo_motorcycle", "astronaut": "astronaut", "camera": "camera"}
PHOTOS = ("grace_hopper", "china", "flower") + tuple(_SKIMAGE)
IMAGENET_PHOTOS = ("chelsea", "coffee", "motorcycle", "rocket", "grace_hopper", "camera")


def to_gray(image: np.ndarray) -> np.ndarray:
    """RGB ``ndarray[H, W, 3]`` (uint8) to grayscale ``ndarray[H, W]`` (uint8), ITU-R 601 weights."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"image must be RGB with shape (H, W, 3); got shape {image.shape}")
    gray = image[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    return np.clip(np.rint(gray), 0, 255).astype(np.uint8)


def sample_photo(name: str = "grace_hopper", *, gray: bool = False) -> np.ndarray:
    """Load a photo that ships with matplotlib, scikit-learn or scikit-image.

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
    elif name in _SKIMAGE:
        import skimage.data

        image = getattr(skimage.data, _SKIMAGE[name])()
        if isinstance(image, tuple):  # stereo_motorcycle: (left, right, disparity)
            image = image[0]
    else:
        raise ValueError(f"name must be one of {PHOTOS}; got {name!r}")
    image = np.asarray(image, dtype=np.uint8)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    return to_gray(image) if gray else np.ascontiguousarray(image[..., :3])
