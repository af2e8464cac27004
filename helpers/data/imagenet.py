"""ImageNet's side of a pre-trained network: its 1,000 category names and its input preprocessing.

* :func:`imagenet_categories`: the class names in the networks' output order (``"tabby"``,
  ``"tiger cat"``, ...), from torchvision's weights metadata (no download);
* :func:`imagenet_transform`: torchvision's own preprocessing of those weights (resize the shorter
  side to 256, centre-crop 224, scale to [0, 1], normalise with ImageNet's mean and std);
* the same in two steps, so a figure can show exactly the pixels the network sees:
  :func:`imagenet_crop` (uint8 in, uint8 out) then :func:`normalize_imagenet`;
* :func:`imagenet_input`: a whole batch of small images (CIFAR-10, Fashion-MNIST) resized, not
  cropped, to ``size`` and normalised -- grayscale becomes three equal channels.
"""

from __future__ import annotations

from typing import Any
import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "imagenet_categories", "imagenet_transform", "imagenet_crop",
           "normalize_imagenet", "imagenet_input"]


IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _weights(name: str):
    import torchvision.models as tvm

    if not isinstance(name, str):
        raise TypeError(f"name must be a str such as 'squeezenet1_1'; got {type(name).__name__}")
    try:
        return tvm.get_model_weights(name).DEFAULT
    except (ValueError, KeyError):
        raise ValueError(f"name must be a torchvision classification model such as 'squeezenet1_1'; "
                         f"got {name!r}") from None


def imagenet_categories(name: str = "squeezenet1_1") -> list[str]:
    """The 1,000 ImageNet class names in the output order of torchvision's model ``name``."""
    return list(_weights(name).meta["categories"])


def imagenet_transform(name: str = "squeezenet1_1"):
    """torchvision's preprocessing for the weights of ``name`` (``weights.transforms()``): takes a
    PIL image or a uint8 tensor ``(3, H, W)``, returns float ``(3, 224, 224)`` normalised."""
    return _weights(name).transforms()


def _chw_uint8(image: Any) -> torch.Tensor:
    """A photo as uint8 ``(3, H, W)``: from ``(H, W, 3)``, ``(H, W)`` (gray) or ``(C, H, W)``."""
    t = torch.as_tensor(np.array(image.detach().cpu() if hasattr(image, "detach") else image))  # a copy
    if t.dtype != torch.uint8:
        raise TypeError(f"image must be uint8 (0-255); got {t.dtype}")
    if t.ndim == 2:
        t = t[None]
    elif t.ndim == 3 and t.shape[-1] in (1, 3) and t.shape[0] not in (1, 3):
        t = t.permute(2, 0, 1)
    if t.ndim != 3 or t.shape[0] not in (1, 3):
        raise ValueError(f"image must be (H, W, 3), (H, W) or (3, H, W); got shape {tuple(t.shape)}")
    return t.expand(3, -1, -1).contiguous()


def imagenet_crop(image: Any, *, resize: int = 256, crop: int = 224) -> torch.Tensor:
    """The pixels an ImageNet network sees: shorter side resized to ``resize`` (bilinear,
    antialiased), then the centre ``crop x crop`` square; uint8 ``(3, crop, crop)``.

    Args:
        image: uint8 photo ``(H, W, 3)``, ``(H, W)`` or ``(3, H, W)`` (array or tensor).
    """
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms import functional as TF

    t = TF.resize(_chw_uint8(image), [resize], interpolation=InterpolationMode.BILINEAR, antialias=True)
    return TF.center_crop(t, [crop, crop])


def normalize_imagenet(images: torch.Tensor) -> torch.Tensor:
    """uint8 ``(N, 3, H, W)`` (or one image ``(3, H, W)``) -> float, ``(x / 255 - mean) / std``."""
    if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8 or images.ndim not in (3, 4):
        got = f"{images.dtype} {tuple(images.shape)}" if isinstance(images, torch.Tensor) else type(images).__name__
        raise TypeError(f"images must be a uint8 tensor (N, 3, H, W) or (3, H, W); got {got}")
    if images.shape[-3] != 3:
        raise ValueError(f"images must have 3 channels; got {images.shape[-3]}")
    mean = torch.tensor(IMAGENET_MEAN, device=images.device)[:, None, None]
    std = torch.tensor(IMAGENET_STD, device=images.device)[:, None, None]
    return (images.float() / 255 - mean) / std


def imagenet_input(images: torch.Tensor, size: int) -> torch.Tensor:
    """A batch of small images as an ImageNet network takes them: float ``(N, 3, size, size)``.

    Each whole image is resized (bilinear, antialiased; no crop) to ``size x size``, one channel
    repeated to three, then normalised with ImageNet's mean and std (:func:`normalize_imagenet`).

    Args:
        images: uint8 ``(N, C, H, W)`` with ``C`` 1 or 3 (a ``helpers.data`` Dataset's ``images``).
        size: the side of the output, e.g. 112.
    """
    if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8 or images.ndim != 4:
        got = f"{images.dtype} {tuple(images.shape)}" if isinstance(images, torch.Tensor) else type(images).__name__
        raise TypeError(f"images must be a uint8 tensor (N, C, H, W); got {got}")
    if images.shape[1] not in (1, 3):
        raise ValueError(f"images must have 1 or 3 channels; got {images.shape[1]}")
    if isinstance(size, bool) or not isinstance(size, int) or size < 8:
        raise ValueError(f"size must be an int of at least 8 pixels; got {size!r}")
    out = []
    for start in range(0, len(images), 256):  # in chunks: 256 images of 3x224x224 floats = 150 MB
        x = images[start:start + 256].float() / 255
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False,
                          antialias=True).clamp(0, 1)
        x = x.expand(-1, 3, -1, -1)
        mean = torch.tensor(IMAGENET_MEAN)[:, None, None]
        std = torch.tensor(IMAGENET_STD)[:, None, None]
        out.append(((x - mean) / std).contiguous())
    return torch.cat(out) if out else torch.empty(0, 3, size, size)
