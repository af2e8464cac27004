"""Where training runs: the device, the seed, the number of CPU threads.
"""

from __future__ import annotations

import os
import random
import numpy as np
import torch

__all__ = ["pick_device", "set_seed", "cpu_threads"]


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
