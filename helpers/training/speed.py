"""Measuring what makes training fast (Part VI): steps per second and input-pipeline cost.

Three measurements, used by chapters 07, 08 and by ``benchmarks/cifar_speed.py``:

* :func:`step_throughput` -- images per second of full training steps (forward, backward,
  optimiser) on a fixed random batch, for one setting of batch size, memory layout and precision;
* :func:`choose_precision` -- the same, in float32 and in mixed precision side by side, and the
  faster of the two for this model on this machine (a CPU without bfloat16 units, or a small
  network, may gain nothing: the choice is measured, never assumed);
* :func:`pipeline_seconds` -- seconds to produce every mini-batch of one epoch, either the way
  PyTorch's tutorials do (a ``DataLoader`` decoding and transforming one image at a time) or the way
  :func:`helpers.training.loop.fit` does (one uint8 tensor on the device, indexed by a permutation and
  augmented as a whole batch).

Both time wall-clock seconds with ``time.perf_counter`` (synchronising CUDA), after warm-up.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable
import torch
import torch.nn.functional as F
from torch import nn
from helpers.training.devices import mixed_dtype, pick_device
from helpers.training.inputs import augment_batch, to_input

__all__ = ["step_throughput", "choose_precision", "PrecisionChoice", "tutorial_loader", "pipeline_seconds"]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def step_throughput(
    build: Callable[[], nn.Module],
    input_shape: tuple[int, int, int],
    batch_size: int,
    *,
    channels_last: bool = False,
    mixed_precision: bool = False,
    device: torch.device | str | None = None,
    seconds: float = 2.0,
    warmup: int = 3,
    num_classes: int = 10,
) -> float:
    """Images per second of training steps of a fresh ``build()`` model on one random batch.

    Args:
        build: makes the model (called once).
        input_shape: ``(C, H, W)`` of one image.
        batch_size: images per step.
        channels_last: store the model and the batch channels-last (NHWC).
        mixed_precision: run the forward pass under ``torch.autocast`` in the dtype that
            ``fit(..., amp=True)`` uses, :func:`helpers.training.devices.mixed_dtype` (on CUDA
            bfloat16 where the GPU computes it natively, else float16; bfloat16 elsewhere).
        device: default :func:`helpers.training.devices.pick_device`.
        seconds: how long to time, after the untimed warm-up steps.
        warmup: untimed steps first (the first ones pay one-off costs: memory, kernels chosen);
            fewer when they have already taken ``seconds``, so that a short measurement
            of a slow step (bfloat16 on a CPU that only emulates it takes seconds a step) does not
            pay for it ``warmup`` times over.

    Returns:
        images per second (float).
    """
    if not (isinstance(input_shape, tuple) and len(input_shape) == 3 and all(int(s) > 0 for s in input_shape)):
        raise ValueError(f"input_shape must be (C, H, W) with positive sizes; got {input_shape!r}")
    if batch_size < 1 or seconds <= 0:
        raise ValueError(f"batch_size must be >= 1 and seconds > 0; got {batch_size}, {seconds}")
    if warmup < 0:
        raise ValueError(f"warmup must be >= 0 steps; got {warmup}")
    device = torch.device(device) if device is not None else pick_device()
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = build().to(device).to(memory_format=fmt)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(batch_size, *input_shape, generator=g).to(device).contiguous(memory_format=fmt)
    y = torch.randint(0, num_classes, (batch_size,), generator=g).to(device)
    dtype = mixed_dtype(device)

    def step() -> None:
        with torch.autocast(device.type, dtype=dtype, enabled=mixed_precision):
            loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    started = time.perf_counter()
    for _ in range(warmup):
        step()
        _sync(device)
        if time.perf_counter() - started >= seconds:
            break
    _sync(device)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        steps += 1
    _sync(device)
    return steps * batch_size / (time.perf_counter() - start)


@dataclass(frozen=True)
class PrecisionChoice:
    """What :func:`choose_precision` measured and chose. ``amp`` is what to pass to ``fit``."""

    device: str
    candidate: str  # the mixed-precision dtype measured, e.g. "bfloat16"
    float32: float  # images per second of training steps
    mixed: float
    min_gain: float

    @property
    def ratio(self) -> float:
        return self.mixed / self.float32

    @property
    def amp(self) -> bool:
        return self.ratio >= self.min_gain

    @property
    def dtype(self) -> str:
        return self.candidate if self.amp else "float32"

    def __str__(self) -> str:
        verdict = (f"{self.candidate} (at least {self.min_gain:g}x faster)" if self.amp else
                   f"float32 ({self.candidate} is not {self.min_gain:g}x faster here)")
        return (f"training steps on {self.device}: float32 {self.float32:,.0f} images/s, {self.candidate} "
                f"{self.mixed:,.0f} images/s ({self.ratio:.2f}x) -> {verdict}")


def choose_precision(
    build: Callable[[], nn.Module],
    input_shape: tuple[int, int, int],
    batch_size: int = 128,
    *,
    device: torch.device | str | None = None,
    seconds: float = 1.0,
    min_gain: float = 1.25,
) -> PrecisionChoice:
    """Time training steps of ``build()`` in float32 and in mixed precision, channels-last (as
    ``fit`` trains), and choose mixed precision only where it is at least ``min_gain`` times faster.

    This is the speed half of the choice. Whether the lower precision costs accuracy is the other
    half, and it is a question for the validation split (chapter 07 trains both ways over three
    seeds before it keeps the faster one).

    Returns:
        a :class:`PrecisionChoice`; pass its ``amp`` to ``fit``.
    """
    if not min_gain > 0:
        raise ValueError(f"min_gain must be a positive ratio (e.g. 1.25); got {min_gain!r}")
    device = torch.device(device) if device is not None else pick_device()
    rates = [step_throughput(build, input_shape, batch_size, channels_last=True, mixed_precision=mixed,
                             device=device, seconds=seconds) for mixed in (False, True)]
    return PrecisionChoice(device=str(device), candidate=str(mixed_dtype(device)).removeprefix("torch."),
                           float32=rates[0], mixed=rates[1], min_gain=float(min_gain))


def tutorial_loader(folder: str, batch_size: int = 64, num_workers: int = 0,
                    augment: bool = True) -> torch.utils.data.DataLoader:
    """The input pipeline of PyTorch's CIFAR-10 tutorials over an image folder ``class/xxx.jpg``.

    ``torchvision.datasets.ImageFolder`` decodes each image file on every epoch, then per image:
    (random crop with padding 4 and random horizontal flip, when ``augment``), ``ToTensor`` and
    ``Normalize``; a shuffling ``DataLoader`` collates batches.
    """
    from torchvision import datasets, transforms

    steps = [transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip()] if augment else []
    tf = transforms.Compose(steps + [transforms.ToTensor(), transforms.Normalize((0.5,) * 3, (0.25,) * 3)])
    data = datasets.ImageFolder(folder, transform=tf)
    return torch.utils.data.DataLoader(data, batch_size=batch_size, shuffle=True, num_workers=num_workers)


def pipeline_seconds(source, *, batch_size: int = 128, augment: tuple[str, ...] = ("flip", "crop"),
                     device: torch.device | str | None = None, limit: int | None = None) -> float:
    """Seconds to produce the mini-batches of one epoch (no model): the input pipeline's own cost.

    Args:
        source: a ``torch.utils.data.DataLoader`` (timed as it is, e.g. :func:`tutorial_loader`),
            or a ``helpers.data`` Dataset / uint8 ``(N, C, H, W)`` tensor, batched the way
            :func:`helpers.training.loop.fit` does it (moved to ``device`` once, before timing).
        batch_size, augment: for the tensor path only.
        limit: stop after this many images (both paths), to time part of an epoch.
    """
    if isinstance(source, torch.utils.data.DataLoader):
        seen, start = 0, time.perf_counter()
        for x, _ in source:
            seen += len(x)
            if limit is not None and seen >= limit:
                break
        return time.perf_counter() - start
    images = getattr(source, "images", source)
    if not (isinstance(images, torch.Tensor) and images.dtype == torch.uint8 and images.ndim == 4):
        raise TypeError("source must be a DataLoader, a helpers.data Dataset or a uint8 (N, C, H, W) "
                        f"tensor; got {type(source).__name__}")
    device = torch.device(device) if device is not None else pick_device()
    images = images.to(device)
    n = images.shape[0] if limit is None else min(limit, images.shape[0])
    g = torch.Generator(device=device).manual_seed(0)
    _sync(device)
    start = time.perf_counter()
    order = torch.randperm(images.shape[0], generator=g, device=device)[:n]
    for i in range(0, n, batch_size):
        x = to_input(images[order[i:i + batch_size]])
        if augment:
            x = augment_batch(x, tuple(augment), g)
    _sync(device)
    return time.perf_counter() - start
