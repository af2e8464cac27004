"""helpers.data.imagenet: category names and preprocessing, offline (torchvision's metadata)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers.data.imagenet import (IMAGENET_MEAN, IMAGENET_STD, imagenet_categories, imagenet_crop, imagenet_input,
                                   imagenet_transform, normalize_imagenet)
from helpers.data.photos import IMAGENET_PHOTOS, PHOTOS, sample_photo


def test_categories_in_output_order():
    names = imagenet_categories()
    assert len(names) == 1000 and names[281:283] == ["tabby", "tiger cat"] and names[0] == "tench"
    assert imagenet_categories("resnet18") == names
    with pytest.raises(ValueError, match="torchvision classification model"):
        imagenet_categories("no_such_net")


@pytest.mark.parametrize("name", ["chelsea", "camera"])
def test_crop_then_normalise_is_torchvisions_preprocessing(name):
    photo = sample_photo(name)  # (H, W, 3) uint8; camera is grayscale made RGB
    crop = imagenet_crop(photo)
    assert crop.dtype == torch.uint8 and crop.shape == (3, 224, 224)
    reference = imagenet_transform()(torch.as_tensor(photo).permute(2, 0, 1).contiguous())
    torch.testing.assert_close(normalize_imagenet(crop), reference)
    torch.testing.assert_close(imagenet_crop(photo[:, :, 0]), imagenet_crop(np.repeat(photo[:, :, :1], 3, 2)))


def test_imagenet_input_resizes_and_normalises_a_batch():
    mean_colour = torch.tensor([round(255 * m) for m in IMAGENET_MEAN], dtype=torch.uint8)
    images = mean_colour[None, :, None, None].expand(5, 3, 32, 32).contiguous()
    x = imagenet_input(images, 112)
    assert x.shape == (5, 3, 112, 112) and x.dtype == torch.float32 and x.abs().max() < 0.01
    gray = torch.randint(0, 256, (3, 1, 28, 28), dtype=torch.uint8)
    g = imagenet_input(gray, 56)
    assert g.shape == (3, 3, 56, 56)
    std = torch.tensor(IMAGENET_STD)[:, None, None]
    mean = torch.tensor(IMAGENET_MEAN)[:, None, None]
    unnormalised = g * std + mean  # three equal channels once the normalisation is undone
    torch.testing.assert_close(unnormalised[:, 0], unnormalised[:, 2], atol=1e-5, rtol=0)
    with pytest.raises(TypeError, match="uint8"):
        imagenet_input(images.float(), 112)
    with pytest.raises(ValueError, match="size"):
        imagenet_input(images, 4)
    with pytest.raises(TypeError, match="uint8"):
        normalize_imagenet(torch.zeros(3, 4, 4))


def test_imagenet_photos_are_among_the_photos():
    assert set(IMAGENET_PHOTOS) <= set(PHOTOS) and len(IMAGENET_PHOTOS) >= 4
    assert sample_photo("motorcycle").shape == (500, 741, 3)
