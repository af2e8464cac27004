"""Whole-data-set augmentation on the device and test-time augmentation, for the 94 % recipe (chapter 13).

* :func:`epoch_flips` -- which images are mirrored in a given epoch: fresh coin flips every epoch
  (``"random"``), or airbench's *alternating* flips: coin flips in epoch 0, then every image's flip
  toggled each epoch, so that over any two consecutive epochs every image is seen both ways.
* :func:`epoch_images` -- one epoch's training images: flipped as above and shifted by up to
  ``pad`` pixels (reflection padding), all at once as one tensor operation.
* :func:`tta_logits` -- logits averaged over mirrored and one-pixel-shifted views of each image.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from helpers.training.devices import eval_batch_size
from helpers.training.inputs import flip_and_crop

__all__ = ["FLIP_MODES", "epoch_flips", "epoch_images", "TTA_LEVELS", "tta_logits"]

FLIP_MODES = ("alternating", "random", "none")
TTA_LEVELS = {0: "none", 1: "mirror", 2: "mirror + 1-pixel shifts"}


def epoch_flips(n: int, epoch: int, mode: str, generator: torch.Generator, first: torch.Tensor | None = None,
                device: torch.device | str = "cpu") -> torch.Tensor:
    """Bool ``(n,)``: which of ``n`` images to mirror in ``epoch``.

    Args:
        n: number of images.
        epoch: 0, 1, 2, ...
        mode: one of :data:`FLIP_MODES`.
        generator: draws the coin flips (on ``device``).
        first: for ``"alternating"``, epoch 0's flips (draw them once with ``epoch=0`` and pass them
            back for every later epoch).
    """
    if mode not in FLIP_MODES:
        raise ValueError(f"mode must be one of {FLIP_MODES}; got {mode!r}")
    if mode == "none":
        return torch.zeros(n, dtype=torch.bool, device=device)
    if mode == "random" or epoch == 0:
        return torch.rand(n, generator=generator, device=device) < 0.5
    if first is None or first.shape != (n,):
        raise ValueError("alternating flips need `first`, epoch 0's flips of shape (n,)")
    return first ^ bool(epoch % 2)  # toggled every epoch


def epoch_images(x: torch.Tensor, flips: torch.Tensor, pad: int, generator: torch.Generator) -> torch.Tensor:
    """One epoch's augmented copy of the whole training set.

    Args:
        x: float ``(N, C, H, W)``, already normalised.
        flips: bool ``(N,)`` from :func:`epoch_flips`.
        pad: largest shift in pixels (0 = no translation).
        generator: draws the shifts (on ``x``'s device).

    Returns:
        ``(N, C, H, W)``: each image mirrored if chosen, then shifted by a random ``(dy, dx)`` in
        ``-pad..pad``, the uncovered border filled by reflection.
    """
    if pad < 0:
        raise ValueError(f"pad must be >= 0; got {pad}")
    if pad == 0:
        return torch.where(flips[:, None, None, None], x.flip(3), x)
    out = torch.empty_like(x)
    for part in torch.arange(len(x), device=x.device).split(5000):  # bounds the memory of the gather
        dy, dx = (torch.randint(0, 2 * pad + 1, (len(part),), generator=generator, device=x.device) for _ in range(2))
        out[part] = flip_and_crop(x[part], flips[part], dy, dx, pad)
    return out


def _mirror(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return 0.5 * model(x) + 0.5 * model(x.flip(3))


@torch.no_grad()
def tta_logits(model: nn.Module, x: torch.Tensor, level: int = 2, batch_size: int | None = None) -> torch.Tensor:
    """Logits ``(N, K)`` of ``model`` (in eval mode) averaged over augmented views of ``x``.

    Args:
        model: the trained network (call ``model.eval()`` first).
        x: float ``(N, C, H, W)``, normalised as in training.
        level: 0 = the images only; 1 = the mean of each image and its mirror image;
            2 = half of level 1, plus half of level 1 applied to the image shifted one pixel up-left
            and one pixel down-right (averaged): six views per image, as in airbench94.
        batch_size: images per forward pass (default: ``eval_batch_size`` of ``x``'s device).
    """
    if level not in TTA_LEVELS:
        raise ValueError(f"level must be one of {sorted(TTA_LEVELS)}; got {level!r}")
    outs = []
    for xb in x.split(eval_batch_size(x.device) if batch_size is None else batch_size):
        if level == 0:
            outs.append(model(xb).float())
            continue
        logits = _mirror(model, xb).float()
        if level == 2:
            padded = F.pad(xb, (1, 1, 1, 1), mode="reflect")  # (B, C, H+2, W+2)
            h, w = xb.shape[2:]
            shifted = [padded[:, :, :h, :w], padded[:, :, 2:, 2:]]  # contents moved 1 pixel down-right, up-left
            logits = 0.5 * logits + 0.25 * sum(_mirror(model, s).float() for s in shifted)
        outs.append(logits)
    return torch.cat(outs)
