"""What goes into the network: uint8 images scaled to [-1, 1], and batch augmentation on the device.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["AUGMENTATIONS", "to_input", "flip_and_crop", "augment_batch"]


AUGMENTATIONS = ("flip", "crop")


def to_input(images: torch.Tensor) -> torch.Tensor:
    """uint8 images ``(N, C, H, W)`` in 0..255 -> float ``(x / 255 - 0.5) / 0.25`` (about -2..2).

    One fixed scaling for every data set, so a model needs no stored statistics.
    """
    if images.dtype != torch.uint8:
        raise TypeError(f"images must be uint8 (0-255); got {images.dtype}")
    # the same three operations as ``(x / 255 - 0.5) / 0.25``, so bit-identical, but in place on the
    # one float copy: no temporary batches (the copy keeps the images' memory format)
    return images.float().div_(255).sub_(0.5).div_(0.25)


def flip_and_crop(x: torch.Tensor, flip: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor,
                  pad: int = 4) -> torch.Tensor:
    """Flip chosen images left-right, then shift each by reflect-padding and cropping, batch-wise.

    Args:
        x: float images ``(N, C, H, W)``.
        flip: bool ``(N,)``: which images to mirror.
        dy, dx: int ``(N,)`` in ``0..2*pad``: the top-left corner of each crop in the padded image
            (``pad`` = no shift).
        pad: pixels of reflection padding on each side.

    Returns:
        ``(N, C, H, W)``: image ``i`` is ``x[i]`` (mirrored if ``flip[i]``) moved by
        ``(pad - dy[i], pad - dx[i])`` pixels, the border filled by reflection.
    """
    n = x.shape[0]
    for name, v in (("flip", flip), ("dy", dy), ("dx", dx)):
        if v.shape != (n,):
            raise ValueError(f"{name} must have shape ({n},), one value per image; got {tuple(v.shape)}")
    if int(dy.min()) < 0 or int(dx.min()) < 0 or int(dy.max()) > 2 * pad or int(dx.max()) > 2 * pad:
        raise ValueError(f"dy and dx must lie in 0..{2 * pad} (2 * pad)")
    return _flip_and_crop(x, flip, dy, dx, pad)


def _flip_and_crop(x: torch.Tensor, flip: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor,
                   pad: int) -> torch.Tensor:
    """:func:`flip_and_crop` without its checks: those read ``dy`` and ``dx`` back to the host
    (``int(tensor)``, four synchronisations with a GPU per batch), needless when
    :func:`augment_batch` has drawn them in range itself."""
    n, c, h, w = x.shape
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    padded = F.pad(x, (pad, pad, pad, pad), mode="reflect")  # (N, C, H+2p, W+2p)
    rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]  # (N, 1, H, 1)
    cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]  # (N, 1, 1, W)
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    chans = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[batch, chans, rows, cols]  # (N, C, H, W)


def augment_batch(x: torch.Tensor, augment: tuple[str, ...], generator: torch.Generator) -> torch.Tensor:
    """Random horizontal flip and 4-pixel pad-and-crop, on a whole float batch at once.

    Everything stays on ``x``'s device: nothing is read back to the host, so on a GPU the batch's
    augmentation does not wait for the previous step."""
    n, pad = x.shape[0], 4
    flip = (torch.rand(n, generator=generator, device=x.device) < 0.5 if "flip" in augment
            else torch.zeros(n, dtype=torch.bool, device=x.device))
    if "crop" not in augment:
        return torch.where(flip[:, None, None, None], x.flip(3), x)
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=generator, device=x.device)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=generator, device=x.device)
    return _flip_and_crop(x, flip, dy, dx, pad)  # in range by construction: no checks, no sync
