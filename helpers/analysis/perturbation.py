"""Explanations by perturbing the input, several classes from one set of forward passes (Part X).

* :func:`superpixels`: scikit-image's SLIC super-pixels of a photo, LIME's interpretable features;
* :func:`occlusion_maps`: slide a square of the baseline over one image and record, for every
  requested class, how much its score drops -- the same forward passes serve every class (Captum's
  ``Occlusion`` computes the same map for one class per call);
* :func:`lime_maps`: LIME (Ribeiro et al. 2016) on super-pixels: switch random sets of segments to
  the baseline, weigh each sample by its closeness to the photo, fit a weighted ridge regression
  of each class's score on which segments were on, and paint each segment with its coefficient.

Scores are logits; the baseline is 0 in the model's input scale (ImageNet's mean colour for
ImageNet-normalised inputs). Maps are signed: positive = evidence for the class.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from helpers.analysis.gradcam import eval_mode

__all__ = ["superpixels", "occlusion_maps", "lime_maps"]


def superpixels(image, n_segments: int = 50, *, compactness: float = 10.0) -> np.ndarray:
    """SLIC super-pixels of a photo: int ``ndarray[H, W]`` with labels ``0..S-1``.

    Args:
        image: uint8 ``(H, W, 3)`` or ``(3, H, W)`` (array or tensor).
        n_segments: about how many segments SLIC aims for.
        compactness: SLIC's balance of colour against position (higher: squarer segments).
    """
    from skimage.segmentation import slic

    a = np.asarray(image.detach().cpu() if hasattr(image, "detach") else image)
    if a.ndim == 3 and a.shape[0] == 3 and a.shape[-1] != 3:
        a = a.transpose(1, 2, 0)
    if a.ndim != 3 or a.shape[-1] != 3:
        raise ValueError(f"image must be RGB (H, W, 3) or (3, H, W); got shape {a.shape}")
    labels = slic(a, n_segments=n_segments, compactness=compactness, start_label=0)
    _, dense = np.unique(labels, return_inverse=True)  # labels 0..S-1 with none missing
    return dense.reshape(labels.shape).astype(np.int64)


def _one_image(model: nn.Module, x: torch.Tensor, targets) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[0] != 1 or not x.is_floating_point():
        got = f"{x.dtype} {tuple(x.shape)}" if isinstance(x, torch.Tensor) else type(x).__name__
        raise TypeError(f"x must be one float image (1, C, H, W); got {got}")
    t = torch.as_tensor(targets).long().reshape(-1)
    if t.numel() == 0:
        raise ValueError("targets must name at least one class")
    return x.detach(), t


@torch.no_grad()
def _scores(model: nn.Module, batch: torch.Tensor, targets: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Logits of ``targets`` ``(B, T)`` for a batch of inputs, ``batch_size`` at a time."""
    out = [model(batch[i:i + batch_size])[:, targets.to(batch.device)].double().cpu()
           for i in range(0, len(batch), batch_size)]
    return torch.cat(out)


def occlusion_maps(model: nn.Module, x: torch.Tensor, targets, *, window: int = 56, stride: int = 28,
                   batch_size: int = 16) -> np.ndarray:
    """Occlusion sensitivity of one image for several classes: ``ndarray[T, H, W]``.

    For every position of a ``window x window`` square of zeros (moved by ``stride``, in all
    channels), the drop of each target's logit, ``score(x) - score(x occluded)``, is added to every
    pixel the square covers; each pixel's sum is divided by the number of squares that covered it
    (as Captum's ``Occlusion`` does). Positive: hiding that region lowers the score.

    Args:
        model: ``(N, C, H, W) -> logits (N, classes)``.
        x: one image ``(1, C, H, W)``; targets: class indices (an int or a list).
    """
    x, t = _one_image(model, x, targets)
    _, c, h, w = x.shape
    if not (isinstance(window, int) and isinstance(stride, int) and 1 <= window <= min(h, w) and stride >= 1):
        raise ValueError(f"window must be an int in 1..{min(h, w)} and stride a positive int; "
                         f"got {window!r}, {stride!r}")
    tops = list(range(0, h - window + 1, stride))
    lefts = list(range(0, w - window + 1, stride))
    masks = torch.ones(len(tops) * len(lefts), 1, h, w, device=x.device, dtype=x.dtype)
    for k, (i, j) in enumerate((i, j) for i in tops for j in lefts):
        masks[k, :, i:i + window, j:j + window] = 0
    with eval_mode(model):
        full = _scores(model, x, t, batch_size)[0]  # (T,)
        occluded = _scores(model, x * masks, t, batch_size)  # (K, T)
    drops = (full[None] - occluded).T  # (T, K)
    covered = (1 - masks[:, 0]).cpu().double()  # (K, H, W)
    summed = torch.einsum("tk,khw->thw", drops, covered)
    counts = covered.sum(0)
    return torch.where(counts > 0, summed / counts.clamp(min=1), torch.zeros_like(summed)).numpy()


def lime_maps(model: nn.Module, x: torch.Tensor, segments, targets, *, samples: int = 200,
              kernel_width: float = 0.25, ridge: float = 1.0, seed: int = 0,
              batch_size: int = 16) -> np.ndarray:
    """LIME on super-pixels for one image and several classes: ``ndarray[T, H, W]``.

    Sample 0 keeps every segment; each other sample keeps each segment with probability 1/2 and
    sets the others to 0. A sample ``z`` (which segments are on) weighs
    ``sqrt(exp(-d^2 / kernel_width^2))`` with ``d`` its cosine distance to all-on (LIME's image
    defaults). For each class, a ridge regression (penalty ``ridge``, intercept not penalised)
    fitted to the logits by weighted least squares gives one coefficient per segment; the map paints
    every pixel with its segment's coefficient.

    Args:
        x: one image ``(1, C, H, W)``; segments: int ``(H, W)`` labels ``0..S-1`` (:func:`superpixels`);
        targets: class indices; samples: perturbed images (forward passes) in all, shared by all targets.
    """
    x, t = _one_image(model, x, targets)
    seg = torch.as_tensor(np.asarray(segments), dtype=torch.int64)
    if seg.shape != x.shape[-2:]:
        raise ValueError(f"segments must be (H, W) = {tuple(x.shape[-2:])}; got {tuple(seg.shape)}")
    n_seg = int(seg.max()) + 1
    if not isinstance(samples, int) or samples < 2:
        raise ValueError(f"samples must be an int of at least 2; got {samples!r}")
    g = torch.Generator().manual_seed(seed)
    z = (torch.rand(samples, n_seg, generator=g) < 0.5).float()
    z[0] = 1.0
    with eval_mode(model):
        ys = []
        for start in range(0, samples, batch_size):
            keep = z[start:start + batch_size][:, seg].to(x.device)  # (B, H, W)
            ys.append(_scores(model, x * keep[:, None], t, batch_size))
    y = torch.cat(ys).double().numpy()  # (samples, T)
    zn = z.double().numpy()
    cos = zn.sum(1) / np.sqrt(np.maximum(zn.sum(1), 1e-12) * n_seg)
    weights = np.sqrt(np.exp(-((1 - cos) ** 2) / kernel_width**2))  # (samples,)
    design = np.hstack([zn, np.ones((samples, 1))])  # last column: the intercept
    penalty = ridge * np.eye(n_seg + 1)
    penalty[-1, -1] = 0.0
    lhs = design.T @ (weights[:, None] * design) + penalty
    coef = np.linalg.solve(lhs, design.T @ (weights[:, None] * y))[:-1]  # (S, T)
    return coef.T[:, seg.numpy()]  # (T, H, W)
