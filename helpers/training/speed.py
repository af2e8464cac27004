"""Measuring what makes training fast (Part VI): steps per second and input-pipeline cost.

Two measurements, used by chapter 07 and by ``benchmarks/cifar_speed.py``:

* :func:`step_throughput` -- images per second of full training steps (forward, backward,
  optimiser) on a fixed random batch, for one setting of batch size, memory layout and precision;
* :func:`pipeline_seconds` -- seconds to produce every mini-batch of one epoch, either the way
  PyTorch's tutorials do (a ``DataLoader`` decoding and transforming one image at a time) or the way
  :func:`helpers.training.loop.fit` does (one uint8 tensor on the device, indexed by a permutation and
  augmented as a whole batch).

Both time wall-clock seconds with ``time.perf_counter`` (synchronising CUDA), after warm-up.
"""

from __future__ import annotations

import time
from typing import Callable
import torch
import torch.nn.functional as F
from torch import nn
from helpers.training.devices import pick_device
from helpers.training.inputs import augment_batch, to_input

__all__ = ["step_throughput", "tutorial_loader", "pipeline_seconds"]


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
        mixed_precision: run the forward pass under ``torch.autocast`` (bfloat16 on CUDA when
            supported, else float16; bfloat16 on CPU).
        device: default :func:`helpers.training.devices.pick_device`.
        seconds: how long to time, after ``warmup`` untimed steps.

    Returns:
        images per second (float).
    """
    if not (isinstance(input_shape, tuple) and len(input_shape) == 3 and all(int(s) > 0 for s in input_shape)):
        raise ValueError(f"input_shape must be (C, H, W) with positive sizes; got {input_shape!r}")
    if batch_size < 1 or seconds <= 0:
        raise ValueError(f"batch_size must be >= 1 and seconds > 0; got {batch_size}, {seconds}")
    device = torch.device(device) if device is not None else pick_device()
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = build().to(device).to(memory_format=fmt)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(batch_size, *input_shape, generator=g).to(device).contiguous(memory_format=fmt)
    y = torch.randint(0, num_classes, (batch_size,), generator=g).to(device)
    if device.type == "cuda":
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    else:
        dtype = torch.bfloat16

    def step() -> None:
        with torch.autocast(device.type, dtype=dtype, enabled=mixed_precision):
            loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(warmup):
        step()
    _sync(device)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        steps += 1
    _sync(device)
    return steps * batch_size / (time.perf_counter() - start)


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
