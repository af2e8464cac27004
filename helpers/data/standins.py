"""Small, deterministic stand-ins for the book's data sets, for quick mode without the real files.

They are *not* the real data and ``helpers.data.datasets.load_dataset`` says so (in ``source`` and in a
printed banner). They only have the right shapes, dtypes and number of classes, and something
a network can learn, so every notebook runs end to end offline:

* ``digits_28x28``: scikit-learn's bundled handwritten digits (1,797 images, 8×8, values 0–16)
  scaled into a 20×20 box centred on a 28×28 canvas, the way MNIST centres its digits;
* ``shapes_32x32``: coloured shapes on noisy backgrounds, one shape (and a typical colour) per
  class, ``3×32×32`` like CIFAR-10.

Both return plain tensors; ``helpers.data`` wraps them into a ``Dataset``.
"""

from __future__ import annotations

import math
import torch
import torch.nn.functional as F

__all__ = ["digits_28x28", "shapes_32x32", "shape_masks"]


# One typical colour per class (RGB, 0-255); each image jitters it, so colour alone is a hint,
# not the answer, and the shape has to be learnt too.
_CLASS_COLOURS = (
    (230, 60, 50),
    (240, 150, 40),
    (230, 220, 60),
    (80, 200, 70),
    (60, 200, 200),
    (60, 110, 230),
    (150, 80, 220),
    (230, 90, 180),
    (200, 200, 200),
    (130, 90, 60),
)


def digits_28x28(train: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's 8×8 handwritten digits, resized to MNIST's 28×28 ``uint8`` format.

    Every fifth image (index 0, 5, 10, ...) is the test split (360 images), the others the
    training split (1,437 images); no randomness is involved.

    Args:
        train: the training split if True, else the test split.

    Returns:
        ``(images, labels)``: ``images: uint8 tensor[N, 1, 28, 28]`` (0–255, white digit on
        black like MNIST) and ``labels: int64 tensor[N]`` (the digit, 0–9).
    """
    from sklearn.datasets import load_digits  # bundled with scikit-learn: no download

    digits = load_digits()
    x = torch.as_tensor(digits.images, dtype=torch.float32).unsqueeze(1)  # (1797, 1, 8, 8), 0-16
    y = torch.as_tensor(digits.target, dtype=torch.int64)  # (1797,)
    keep = (torch.arange(len(y)) % 5 != 0) if train else (torch.arange(len(y)) % 5 == 0)
    x, y = x[keep], y[keep]
    x = F.interpolate(x * (255.0 / 16.0), size=(20, 20), mode="bilinear", align_corners=False)
    x = F.pad(x, (4, 4, 4, 4))  # (N, 1, 28, 28): a 20x20 digit with a 4-pixel margin, like MNIST
    images = x.round().clamp(0, 255).to(torch.uint8)
    return images, y


def shape_masks(kind: torch.Tensor, dx: torch.Tensor, dy: torch.Tensor, r: torch.Tensor,
                 xx: torch.Tensor, yy: torch.Tensor) -> torch.Tensor:
    """Boolean masks ``[N, H, W]`` of shape ``kind[n]`` (0-9) centred at offsets ``dx, dy``."""
    r = r[:, None, None]  # (N, 1, 1)
    ax, ay = dx.abs(), dy.abs()
    box = torch.maximum(ax, ay) < r
    dist = torch.sqrt(dx**2 + dy**2)
    stripes_h = (torch.div(yy, 3, rounding_mode="floor") % 2 == 0) & box
    stripes_v = (torch.div(xx, 3, rounding_mode="floor") % 2 == 0) & box
    stripes_d = (torch.div(xx + yy, 4, rounding_mode="floor") % 2 == 0) & box
    checker = ((torch.div(xx, 4, rounding_mode="floor") + torch.div(yy, 4, rounding_mode="floor")) % 2 == 0) & box
    masks = torch.stack([
        dist < r,                                    # 0 disc
        torch.maximum(ax, ay) < 0.8 * r,             # 1 square
        (dist - 0.75 * r).abs() < 1.6,               # 2 ring
        stripes_h,                                   # 3 horizontal stripes
        stripes_v,                                   # 4 vertical stripes
        stripes_d,                                   # 5 diagonal stripes
        ((ax < 1.8) | (ay < 1.8)) & box,             # 6 cross
        (dy < 0.8 * r) & (ax < (dy + 0.8 * r) / 2),  # 7 triangle (apex up)
        checker,                                     # 8 checkerboard
        ax + ay < r,                                 # 9 diamond
    ])  # (10, N, H, W)
    return masks[kind, torch.arange(len(kind))]  # (N, H, W)


def shapes_32x32(train: bool = True, per_class: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Coloured shapes on noisy backgrounds, ten classes, ``3×32×32`` like CIFAR-10.

    Class ``k`` is one shape (disc, square, ring, horizontal/vertical/diagonal stripes, cross,
    triangle, checkerboard, diamond) in a jittered typical colour, at a random position and size,
    on a random dull background, plus Gaussian pixel noise. Deterministic: the training split uses
    seed 0, the test split seed 1.

    Args:
        train: the training split (500 per class) if True, else the test split (100 per class).
        per_class: images per class, overriding those defaults.

    Returns:
        ``(images, labels)``: ``images: uint8 tensor[N, 3, 32, 32]`` and ``labels: int64
        tensor[N]`` (0-9, shuffled, exactly ``per_class`` of each).
    """
    n_per = per_class if per_class is not None else (500 if train else 100)
    if isinstance(n_per, bool) or not isinstance(n_per, int) or n_per < 1:
        raise ValueError(f"per_class must be a positive int; got {per_class!r}")
    g = torch.Generator().manual_seed(0 if train else 1)
    n, size = 10 * n_per, 32
    labels = torch.arange(10).repeat_interleave(n_per)[torch.randperm(n, generator=g)]  # (N,)

    yy, xx = torch.meshgrid(torch.arange(size, dtype=torch.float32),
                            torch.arange(size, dtype=torch.float32), indexing="ij")  # (H, W) each
    centre = 16.0 + (torch.rand(n, 2, generator=g) - 0.5) * 10.0  # (N, 2): within 5 px of the middle
    r = 7.0 + torch.rand(n, generator=g) * 5.0  # (N,): 7-12 px
    dx = xx - centre[:, 0, None, None]  # (N, H, W)
    dy = yy - centre[:, 1, None, None]
    mask = shape_masks(labels, dx, dy, r, xx, yy).unsqueeze(1)  # (N, 1, H, W)

    palette = torch.tensor(_CLASS_COLOURS, dtype=torch.float32)  # (10, 3)
    fg = palette[labels] + torch.randn(n, 3, generator=g) * 35.0  # (N, 3)
    bg = 40.0 + torch.rand(n, 3, generator=g) * 110.0  # (N, 3): dull, never the class colour
    light = 1.0 + 0.15 * torch.sin(xx / 5.0 + torch.rand(n, 1, 1, generator=g) * 2 * math.pi)  # (N, H, W)
    x = torch.where(mask, fg[:, :, None, None], bg[:, :, None, None] * light.unsqueeze(1))  # (N, 3, H, W)
    x = x + torch.randn(x.shape, generator=g) * 12.0
    return x.round().clamp(0, 255).to(torch.uint8), labels
