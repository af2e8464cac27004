"""Is a heat map faithful to the model? Deletion and insertion curves (Petsiuk et al. 2018, RISE).

A map ranks the pixels. **Deletion** removes them in that order, most important first (sets them
to the baseline 0: ImageNet's mean colour for ImageNet-normalised inputs) and follows the model's
probability for the class: a faithful map makes it fall fast, so the area under the deletion curve
is *small*. **Insertion** starts from a blurred copy of the image and puts the pixels back in the
same order: a faithful map makes the probability rise fast, so the area under the insertion curve
is *large*. Ties in a map (a flat region, a super-pixel) are broken at random, with a fixed seed.

* :func:`pixel_order`: the ranking of a map's pixels;
* :func:`deletion_insertion`: both curves and both areas for one image, one map and one class;
* :func:`random_smooth_map`: a reference map with no information (random values on a coarse grid,
  upsampled), against which a method's areas are compared.
"""

from __future__ import annotations

from typing import NamedTuple
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from helpers.analysis.gradcam import eval_mode

__all__ = ["Curves", "pixel_order", "blurred", "deletion_insertion", "random_smooth_map"]


class Curves(NamedTuple):
    """Deletion and insertion curves of one map: ``fractions`` of pixels removed (inserted),
    ``ndarray[steps + 1]`` from 0 to 1; the class probability at each; the areas under both."""

    fractions: np.ndarray
    deletion: np.ndarray
    insertion: np.ndarray
    deletion_auc: float
    insertion_auc: float


def pixel_order(saliency, *, seed: int = 0) -> np.ndarray:
    """Flat pixel indices ``ndarray[H * W]``, most important first; ties in random order (``seed``)."""
    s = np.asarray(saliency, dtype=np.float64)
    if s.ndim != 2 or not np.isfinite(s).all():
        raise ValueError(f"saliency must be a finite (H, W) map; got shape {s.shape}")
    tie_break = np.random.default_rng(seed).permutation(s.size)
    return np.lexsort((tie_break, -s.ravel()))  # sorts by -s, then by the random key


def blurred(x: torch.Tensor, sigma: float = 5.0) -> torch.Tensor:
    """A Gaussian blur of ``x`` ``(N, C, H, W)`` (reflected borders): insertion's starting image."""
    radius = max(1, int(3 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-t**2 / (2 * sigma**2))
    k = k / k.sum()
    c = x.shape[1]
    y = F.pad(x, (radius, radius, radius, radius), mode="reflect")
    y = F.conv2d(y, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(y, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


@torch.no_grad()
def deletion_insertion(model: nn.Module, x: torch.Tensor, saliency, target: int, *, steps: int = 10,
                       sigma: float = 5.0, seed: int = 0, batch_size: int = 16) -> Curves:
    """Deletion and insertion curves of one map for one image and one class.

    Args:
        model: ``(N, C, H, W) -> logits (N, classes)``; the curves follow ``softmax(logits)[target]``.
        x: one image ``(1, C, H, W)`` as the model takes it.
        saliency: ``(H, W)`` map, larger = more important (its scale does not matter, only the order).
        target: the class.
        steps: the curve has ``steps + 1`` points, removing ``0, 1/steps, ..., 1`` of the pixels.
        sigma: the blur of insertion's starting image, in pixels.
        seed: breaks ties in the map.

    Returns:
        :class:`Curves`; the areas use the trapezoidal rule over fractions 0..1.
    """
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[0] != 1 or not x.is_floating_point():
        got = f"{x.dtype} {tuple(x.shape)}" if isinstance(x, torch.Tensor) else type(x).__name__
        raise TypeError(f"x must be one float image (1, C, H, W); got {got}")
    h, w = x.shape[-2:]
    order = pixel_order(saliency, seed=seed)
    if order.size != h * w:
        raise ValueError(f"saliency must be (H, W) = {(h, w)}, the image's size; got {np.shape(saliency)}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int; got {steps!r}")
    fractions = np.linspace(0.0, 1.0, steps + 1)
    rank = torch.empty(h * w, dtype=torch.long)
    rank[torch.as_tensor(order)] = torch.arange(h * w)
    rank = rank.view(1, 1, h, w).to(x.device)
    counts = torch.as_tensor(np.rint(fractions * h * w), dtype=torch.long, device=x.device)
    shown = (rank < counts.view(-1, 1, 1, 1)).to(x.dtype)  # (steps+1, 1, H, W): 1 = among the first k
    start = blurred(x, sigma)
    deleted = x * (1 - shown)  # removed pixels become 0
    inserted = start * (1 - shown) + x * shown
    with eval_mode(model):
        probs = [model(batch[i:i + batch_size]).float().softmax(1)[:, target].cpu()
                 for batch in (deleted, inserted) for i in range(0, len(batch), batch_size)]
    curve = torch.cat(probs).numpy().astype(np.float64)
    deletion, insertion = curve[:steps + 1], curve[steps + 1:]
    area = lambda y: float(np.sum((y[1:] + y[:-1]) / 2 * np.diff(fractions)))
    return Curves(fractions, deletion, insertion, area(deletion), area(insertion))


def random_smooth_map(height: int, width: int, *, cells: int = 7, seed: int = 0) -> np.ndarray:
    """Random values on a ``cells x cells`` grid, upsampled (bilinear) to ``(height, width)``: a map
    as coarse as Grad-CAM's that knows nothing about the image or the model."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 1, cells, cells, generator=g, dtype=torch.float64)
    return F.interpolate(coarse, size=(height, width), mode="bilinear", align_corners=False)[0, 0].numpy()
