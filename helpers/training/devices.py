"""Where training runs: the device, the seed, the number of CPU threads, the mixed precision.
"""

from __future__ import annotations

import os
import random
import numpy as np
import torch

__all__ = ["pick_device", "set_seed", "cpu_threads", "amp_dtype", "mixed_dtype", "eval_batch_size"]


def pick_device() -> torch.device:
    """CUDA if present, then Apple's MPS, else the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (all devices) so a run can be repeated."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def cpu_threads() -> int:
    """Threads for CPU training: ``OMP_NUM_THREADS`` when set (say, by a test runner sharing the
    cores), else every core this process may use -- never more, which would oversubscribe."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    wanted = os.environ.get("OMP_NUM_THREADS", "")
    return min(int(wanted), cores) if wanted.isdigit() and int(wanted) > 0 else cores


def amp_dtype(device: torch.device | str) -> torch.dtype | None:
    """The autocast dtype :func:`helpers.training.loop.fit` trains with on ``device``, or ``None``
    for plain float32.

    * CUDA with compute capability 8.0 or more (A100, H100, RTX 30xx/40xx, L4): ``bfloat16``, which
      these GPUs compute natively and which needs no loss scaling;
    * older CUDA GPUs (T4, V100, P100): ``float16`` -- ``fit`` pairs it with a gradient scaler.
      bfloat16 would run there only by emulation (``torch.cuda.is_bf16_supported()`` is true on a
      T4 all the same), slower than float32;
    * the CPU, Apple's MPS and anything else: ``None`` (float32). On a CPU with AMX, bfloat16 can
      be faster, but that is a choice to measure (``fit(..., amp=True)``), not a default.
    """
    device = torch.device(device)
    if device.type != "cuda":
        return None
    try:
        major, _ = torch.cuda.get_device_capability(device)
        native_bf16 = major >= 8
    except (AssertionError, RuntimeError):  # no usable CUDA here: ask torch without emulation
        try:
            native_bf16 = torch.cuda.is_bf16_supported(including_emulation=False)
        except TypeError:  # torch before 2.3 has no including_emulation
            native_bf16 = torch.cuda.is_bf16_supported()
    return torch.bfloat16 if native_bf16 else torch.float16


def mixed_dtype(device: torch.device | str) -> torch.dtype:
    """The autocast dtype of mixed precision asked for explicitly (``fit(..., amp=True)``,
    ``step_throughput(..., mixed_precision=True)``): :func:`amp_dtype` where it names one (CUDA),
    bfloat16 elsewhere (a CPU's, measured before it is chosen)."""
    return amp_dtype(device) or torch.bfloat16


def eval_batch_size(device: torch.device | str) -> int:
    """Images per forward pass when evaluating (``evaluate``, ``predict``, test-time augmentation):
    128 on a CPU (the training batch of chapters 06-08), 1,000 on a GPU.

    A GPU needs large batches to keep its cores busy. A CPU does not, and at 1,000 images the
    activations of one layer (1,000 x 32 channels x 32 x 32 floats: 131 MB for chapter 07's CNN)
    no longer fit in its caches, so the ReLUs and poolings wait on memory. On a 2-core AMD EPYC
    (2026-12-08, ``benchmarks/eval_batch.py``, two runs each on one thread and on two) batches of
    1,000 took 2.3x as long as batches of 128 for chapter 07's CNN, 2.0-2.6x for chapter 08's
    ResNet, 1.4-1.5x for LeNet-5, and 0.7-0.9x for chapter 07's MLP, whose large matrix products
    gain from large batches (batches of 256: 1.7x, 1.6x, 1.3x and 0.9-1.0x). The results are the
    same up to float rounding: evaluation runs in eval mode, where nothing depends on the batch.
    """
    return 128 if torch.device(device).type == "cpu" else 1000
