"""helpers.data.photos: the sample photos that ship with matplotlib."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.data.photos import PHOTOS, sample_photo, to_gray


@pytest.mark.parametrize("name", PHOTOS)
def test_sample_photos_ship_with_packages(name):
    rgb = sample_photo(name)
    assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[-1] == 3 and rgb.std() > 10
    gray = sample_photo(name, gray=True)
    assert gray.shape == rgb.shape[:2]
    np.testing.assert_allclose(gray, to_gray(rgb))


def test_photo_errors():
    with pytest.raises(ValueError, match="name must be one of"):
        sample_photo("lena")
    with pytest.raises(ValueError, match=r"shape \(H, W, 3\); got shape \(4, 4\)"):
        to_gray(np.zeros((4, 4)))
