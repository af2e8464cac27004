"""A first convolution that whitens image patches: its filters are the eigenvectors of the patches'
covariance, each scaled by one over the square root of its eigenvalue (chapter 13).

Neighbouring pixels are strongly correlated, so the raw patch values vary mostly along a few
directions (overall brightness, colour) and hardly along the others (fine edges). A layer whose
filters are ``e_k / sqrt(lambda_k + eps)`` maps a patch to coordinates of (nearly) equal variance in
every direction, so the next layers see all of them at the same scale from the first step. Each
filter is used twice, with both signs, so that a ReLU-like activation after it loses nothing.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["image_patches", "patch_covariance", "whitening_filters", "init_whitening"]


def image_patches(images: torch.Tensor, size: int) -> torch.Tensor:
    """Every ``size x size`` patch (stride 1, no padding) of every image.

    Args:
        images: float ``(N, C, H, W)``.
        size: the patch side.

    Returns:
        ``(N * (H - size + 1) * (W - size + 1), C, size, size)``.
    """
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or not images.is_floating_point():
        got = f"{images.dtype} {tuple(images.shape)}" if isinstance(images, torch.Tensor) else type(images).__name__
        raise TypeError(f"images must be a float tensor (N, C, H, W); got {got}")
    n, c, h, w = images.shape
    if not 1 <= size <= min(h, w):
        raise ValueError(f"size must lie in 1..{min(h, w)} (the image side); got {size}")
    p = images.unfold(2, size, 1).unfold(3, size, 1)  # (N, C, H', W', k, k)
    return p.permute(0, 2, 3, 1, 4, 5).reshape(-1, c, size, size)  # (N*H'*W', C, k, k)


def patch_covariance(patches: torch.Tensor) -> torch.Tensor:
    """Second-moment matrix of flattened patches, ``X^T X / P`` (not centred, as in airbench).

    Args:
        patches: ``(P, C, k, k)``.

    Returns:
        ``(D, D)`` with ``D = C * k * k``, in float64 for a stable eigendecomposition.
    """
    flat = patches.reshape(len(patches), -1).double()  # (P, D)
    return flat.T @ flat / len(flat)


def whitening_filters(patches: torch.Tensor, eps: float = 5e-4) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues and whitening filters of the patches' covariance, largest eigenvalue first.

    Args:
        patches: ``(P, C, k, k)``.
        eps: added to each eigenvalue before the square root (keeps tiny directions finite).

    Returns:
        ``(eigenvalues (D,), filters (D, C, k, k))`` with ``filters[j] = e_j / sqrt(lambda_j + eps)``;
        float32. A filter's sign is that of ``torch.linalg.eigh`` (arbitrary: each is used with both
        signs by :func:`init_whitening`).
    """
    if patches.ndim != 4:
        raise ValueError(f"patches must be (P, C, k, k); got shape {tuple(patches.shape)}")
    if eps < 0:
        raise ValueError(f"eps must be >= 0; got {eps}")
    _, c, kh, kw = patches.shape
    values, vectors = torch.linalg.eigh(patch_covariance(patches))  # ascending; columns are vectors
    values, vectors = values.flip(0), vectors.flip(1)  # largest first
    filters = (vectors / torch.sqrt(values.clamp_min(0) + eps)).T  # (D, D): row j = e_j / sqrt(l_j)
    return values.float(), filters.reshape(-1, c, kh, kw).float()


def init_whitening(conv: nn.Conv2d, images: torch.Tensor, eps: float = 5e-4) -> torch.Tensor:
    """Set ``conv``'s weights to the whitening filters of ``images``' patches and their negatives.

    Args:
        conv: a convolution with ``2 * C * k * k`` output channels and a ``k x k`` kernel.
        images: float ``(N, C, H, W)``, normalised as the network will see them (a few thousand
            images are plenty).
        eps: see :func:`whitening_filters`.

    Returns:
        the eigenvalues ``(C * k * k,)``, largest first.
    """
    k = conv.kernel_size[0]
    d = conv.in_channels * k * conv.kernel_size[1]
    if conv.out_channels != 2 * d:
        raise ValueError(f"conv must have 2 * C * k * k = {2 * d} output channels (each filter with "
                         f"both signs); got {conv.out_channels}")
    if images.shape[1] != conv.in_channels:
        raise ValueError(f"images have {images.shape[1]} channels; conv expects {conv.in_channels}")
    values, filters = whitening_filters(image_patches(images.float(), k), eps)
    with torch.no_grad():
        conv.weight.copy_(torch.cat([filters, -filters]).to(conv.weight))
    return values
