"""Generated data beyond 2-D images: 1-D signals, DNA-like sequences, 3-D volumes, masks.

Every generator is seeded (the same arguments give the same tensors), needs no download, and
returns float inputs with integer labels, ready for :func:`helpers.training.loop.fit`:

* :func:`make_signals` -- noisy sine / square / sawtooth / chirp waves, ``(N, 1, L)``;
* :func:`make_motif_sequences` -- random DNA, one-hot ``(N, 4, L)``, positive when a motif is planted;
* :func:`make_volumes` -- a sphere, a cube or a cylinder in a noisy volume, ``(N, 1, D, H, W)``;
* :func:`make_segmentation` -- images ``(N, 1, H, W)`` with discs, squares and triangles, and the
  per-pixel class mask ``(N, H, W)`` to segment them.

:func:`plot_signals` and :func:`show_masks` draw them.
"""

from __future__ import annotations

import math
import numpy as np
import torch
from helpers.data.standins import shape_masks

__all__ = ["SIGNAL_CLASSES", "VOLUME_CLASSES", "SEGMENTATION_CLASSES", "DNA", "waveform", "make_signals", "make_motif_sequences", "make_volumes", "make_segmentation"]


SIGNAL_CLASSES = ("sine", "square", "sawtooth", "chirp")


VOLUME_CLASSES = ("sphere", "cube", "cylinder")


SEGMENTATION_CLASSES = ("background", "disc", "square", "triangle")


DNA = "ACGT"


_SHAPE_KINDS = (0, 1, 7)  # helpers.data.standins' disc, square and triangle


def _count(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int; got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}; got {value}")
    return int(value)


def _noise_level(noise) -> float:
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not 0 <= noise < math.inf:
        raise ValueError(f"noise must be a number >= 0 (the noise's standard deviation); got {noise!r}")
    return float(noise)


def _balanced_labels(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` labels in ``0..k-1``, each class ``n // k`` or one more times, shuffled."""
    return rng.permutation(np.arange(n) % k)


def waveform(name: str, t, freq, phase) -> np.ndarray:
    """One of :data:`SIGNAL_CLASSES` at times ``t`` with ``freq`` cycles per time unit and ``phase`` (radians).

    ``sine``: ``sin(2 pi f t + phase)``; ``square``: +1 for the first half of each period, -1 for
    the second (``scipy.signal.square``); ``sawtooth``: rises from -1 to 1 over each period
    (``scipy.signal.sawtooth``); ``chirp``: ``cos(2 pi f (t + t^2) + phase)``, whose frequency
    sweeps linearly from ``f`` at ``t = 0`` to ``3f`` at ``t = 1`` (``scipy.signal.chirp``).
    Arguments broadcast (e.g. ``t: (L,)`` with ``freq, phase: (N, 1)`` gives ``(N, L)``).
    """
    t, freq, phase = np.asarray(t, float), np.asarray(freq, float), np.asarray(phase, float)
    arg = 2 * np.pi * freq * t + phase
    frac = (arg / (2 * np.pi)) % 1.0  # position within the period, 0..1
    if name == "sine":
        return np.sin(arg)
    if name == "square":
        return np.where(frac < 0.5, 1.0, -1.0)
    if name == "sawtooth":
        return 2 * frac - 1
    if name == "chirp":
        return np.cos(2 * np.pi * freq * (t + t**2) + phase)
    raise ValueError(f"name must be one of {SIGNAL_CLASSES}; got {name!r}")


def make_signals(n: int, length: int = 256, noise: float = 0.5, seed: int = 0
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Noisy 1-D waves of four classes: :data:`SIGNAL_CLASSES` (sine, square, sawtooth, chirp).

    Each wave has a random frequency (2-8 cycles per window; the chirp sweeps from it to three
    times it), phase and amplitude (0.5-1.5), plus Gaussian noise of standard deviation ``noise``,
    so no single number (loudness, frequency) tells the classes apart: the *shape* of a period does.

    Returns:
        ``(x, y)``: ``x: float32 tensor[N, 1, length]`` and ``y: int64 tensor[N]`` (class index,
        balanced: each class ``n // 4`` or one more times).
    """
    n, length = _count(n, "n", 1), _count(length, "length", 16)
    noise = _noise_level(noise)
    rng = np.random.default_rng(seed)
    y = _balanced_labels(n, len(SIGNAL_CLASSES), rng)
    t = np.arange(length) / length  # (L,): one window = 1 time unit
    freq = rng.uniform(2, 8, (n, 1))  # (N, 1) cycles per window
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    amp = rng.uniform(0.5, 1.5, (n, 1))
    waves = np.stack([waveform(name, t, freq, phase) for name in SIGNAL_CLASSES])  # (4, N, L)
    x = amp * waves[y, np.arange(n)] + noise * rng.standard_normal((n, length))
    return torch.from_numpy(x[:, None].astype(np.float32)), torch.from_numpy(y.astype(np.int64))


def make_motif_sequences(n: int, length: int = 100, motif: str = "TATAAT", seed: int = 0
                         ) -> tuple[torch.Tensor, torch.Tensor]:
    """Random DNA, one-hot encoded; half the sequences have ``motif`` planted at a random place.

    Returns:
        ``(x, y)``: ``x: float32 tensor[N, 4, length]`` (channel ``c`` is 1 where the base is
        ``DNA[c]``, i.e. A, C, G, T) and ``y: int64 tensor[N]``, 1 where the motif was planted
        (0 otherwise; a random sequence may still contain it by chance, rarely).
    """
    n, length = _count(n, "n", 1), _count(length, "length", 1)
    if not isinstance(motif, str) or not motif or set(motif) - set(DNA):
        raise ValueError(f"motif must be a non-empty string of the letters {DNA}; got {motif!r}")
    if len(motif) > length:
        raise ValueError(f"motif ({len(motif)} bases) must fit in length ({length}); make length larger")
    rng = np.random.default_rng(seed)
    y = _balanced_labels(n, 2, rng)
    bases = rng.integers(0, 4, (n, length))  # (N, L) base indices
    starts = rng.integers(0, length - len(motif) + 1, n)
    codes = np.array([DNA.index(b) for b in motif])
    for i in np.flatnonzero(y):
        bases[i, starts[i]:starts[i] + len(motif)] = codes
    x = np.eye(4, dtype=np.float32)[bases].transpose(0, 2, 1)  # (N, 4, L)
    return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y.astype(np.int64))


def make_volumes(n: int, size: int = 16, noise: float = 0.3, seed: int = 0
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Noisy volumes each holding one solid: :data:`VOLUME_CLASSES` (sphere, cube, cylinder).

    The solid has a random centre (middle 40 % of each axis), size (radius 20-35 % of ``size``)
    and brightness (0.6-1.4) on a zero background, plus Gaussian noise; a cylinder's axis is
    along depth, height or width at random.

    Returns:
        ``(x, y)``: ``x: float32 tensor[N, 1, size, size, size]`` (depth, height, width) and
        ``y: int64 tensor[N]`` (balanced class index).
    """
    n, size = _count(n, "n", 1), _count(size, "size", 4)
    noise = _noise_level(noise)
    rng = np.random.default_rng(seed)
    y = _balanced_labels(n, len(VOLUME_CLASSES), rng)
    centre = rng.uniform(0.3 * size, 0.7 * size, (n, 3, 1, 1, 1)).astype(np.float32)
    r = rng.uniform(0.2 * size, 0.35 * size, (n, 1, 1, 1)).astype(np.float32)
    axis = rng.integers(0, 3, n)
    grid = np.stack(np.meshgrid(*[np.arange(size, dtype=np.float32) + 0.5] * 3, indexing="ij"))  # (3, D, H, W)
    d = grid[None] - centre  # (N, 3, D, H, W) offset from the centre along each axis
    sphere = (d**2).sum(1) < r**2
    cube = np.abs(d).max(1) < 0.8 * r
    along = d[np.arange(n), axis]  # (N, D, H, W) offset along the cylinder's axis
    radial2 = (d**2).sum(1) - along**2
    cylinder = (radial2 < (0.7 * r) ** 2) & (np.abs(along) < r)
    solid = np.stack([sphere, cube, cylinder])[y, np.arange(n)]  # (N, D, H, W)
    x = solid * rng.uniform(0.6, 1.4, (n, 1, 1, 1)) + noise * rng.standard_normal(solid.shape, np.float32)
    return torch.from_numpy(x[:, None].astype(np.float32)), torch.from_numpy(y.astype(np.int64))


def make_segmentation(n: int, size: int = 32, max_shapes: int = 3, noise: float = 0.3, seed: int = 0
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """Grey images with 1 to ``max_shapes`` discs, squares and triangles, and their class masks.

    All shapes have the same range of brightness (0.5-1.0), so only their outline tells them
    apart; a later shape covers an earlier one where they overlap. Classes are
    :data:`SEGMENTATION_CLASSES`: 0 background, 1 disc, 2 square, 3 triangle.

    Returns:
        ``(images, masks)``: ``images: float32 tensor[N, 1, size, size]`` and
        ``masks: int64 tensor[N, size, size]``, the class of every pixel.
    """
    n, size = _count(n, "n", 1), _count(size, "size", 8)
    max_shapes, noise = _count(max_shapes, "max_shapes", 1), _noise_level(noise)
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(size, dtype=torch.float32),
                            torch.arange(size, dtype=torch.float32), indexing="ij")  # (H, W) each
    images = torch.zeros(n, size, size)
    masks = torch.zeros(n, size, size, dtype=torch.int64)
    count = torch.randint(1, max_shapes + 1, (n,), generator=g)  # shapes per image
    kinds = torch.tensor(_SHAPE_KINDS)
    for slot in range(max_shapes):
        cls = torch.randint(0, len(_SHAPE_KINDS), (n,), generator=g)  # (N,) 0 disc, 1 square, 2 triangle
        centre = 0.15 * size + torch.rand(n, 2, generator=g) * 0.7 * size
        r = size * (0.12 + 0.1 * torch.rand(n, generator=g))
        dx, dy = xx - centre[:, 0, None, None], yy - centre[:, 1, None, None]  # (N, H, W)
        inside = shape_masks(kinds[cls], dx, dy, r, xx, yy) & (slot < count)[:, None, None]
        brightness = 0.5 + 0.5 * torch.rand(n, 1, 1, generator=g)
        images = torch.where(inside, brightness, images)
        masks = torch.where(inside, cls[:, None, None] + 1, masks)
    images = images + noise * torch.randn(images.shape, generator=g)
    return images[:, None], masks
