import pytest
import torch

from helpers.data.core import Dataset
from helpers.data.jpeg import reencode_jpeg


def smooth_images(n: int, channels: int) -> Dataset:
    """Smooth colour gradients plus a little texture: what JPEG keeps well at high quality."""
    yy, xx = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    g = torch.Generator().manual_seed(0)
    images = []
    for k in range(n):
        base = torch.stack([yy * 4 + 20 * c + k for c in range(channels)])  # (C, 32, 32)
        images.append((base + 10 * torch.rand(channels, 32, 32, generator=g)).clamp(0, 255))
    return Dataset(torch.stack(images).to(torch.uint8), torch.arange(n) % 2, ["a", "b"], "test images")


@pytest.mark.parametrize("channels", [1, 3])
def test_reencoding_keeps_shape_labels_and_says_so(channels):
    data = smooth_images(4, channels)
    out = reencode_jpeg(data, 90, 0)
    assert out.images.shape == data.images.shape and out.images.dtype == torch.uint8
    assert torch.equal(out.labels, data.labels) and out.classes == data.classes
    assert out.source.startswith("test images | re-encoded as JPEG (quality 90")
    assert ("4:4:4" in out.source) == (channels == 3)


def test_lower_quality_and_subsampling_change_the_pixels_more():
    data = smooth_images(6, 3)
    change = lambda d: (d.images.float() - data.images.float()).abs().mean().item()
    high, low = change(reencode_jpeg(data, 95, 0)), change(reencode_jpeg(data, 20, 2))
    assert 0 < high < 3 < low  # a high-quality copy is close; a low-quality, subsampled one is not
    # re-encoding is Pillow's JPEG round trip, nothing else
    import io

    import numpy as np
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(data.images[0].permute(1, 2, 0).numpy()).save(buffer, "JPEG", quality=20, subsampling=2)
    expected = torch.from_numpy(np.array(Image.open(buffer).convert("RGB"))).permute(2, 0, 1)
    assert torch.equal(reencode_jpeg(data, 20, 2).images[0], expected)


@pytest.mark.parametrize("kwargs, message", [(dict(quality=0), "quality must be an int from 1 to 95"),
                                             (dict(quality=96), "quality must be"),
                                             (dict(quality=50, subsampling=5), "subsampling must be one of")])
def test_bad_settings_are_refused_with_the_fix(kwargs, message):
    with pytest.raises(ValueError, match=message):
        reencode_jpeg(smooth_images(1, 3), **kwargs)
