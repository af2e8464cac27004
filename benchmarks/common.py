"""What every benchmark prints first: the machine it ran on, and the real data set it needs."""

from __future__ import annotations

import os
import platform

import torch

from helpers.data.datasets import load_dataset

FOLDERS = {"mnist": "MNIST/raw", "fashion_mnist": "FashionMNIST/raw", "cifar10": "cifar10/"}


def machine_line(device: torch.device | None = None) -> str:
    """One line naming the processor (or GPU), the cores, torch and its threads."""
    cuda = device is not None and device.type == "cuda"
    name = torch.cuda.get_device_name(device) if cuda else platform.processor() or platform.machine()
    where = f" ({device})" if device is not None else ""
    return (f"machine: {name}{where}, {os.cpu_count()} cores, torch {torch.__version__}, "
            f"{torch.get_num_threads()} threads")


def load_line() -> str:
    """The load average over 1, 5 and 15 minutes (processes wanting a core), to print beside times
    measured on a shared machine."""
    try:
        one, five, fifteen = os.getloadavg()
    except (AttributeError, OSError):  # Windows
        return "load average: unknown"
    return f"load average: {one:.2f}, {five:.2f}, {fifteen:.2f} ({os.cpu_count()} cores)"


def real_data(name: str):
    """The train and test splits of data set ``name``; exits with a clear message on a stand-in."""
    train, test = load_dataset(name, train=True), load_dataset(name, train=False)
    if "stand-in" in train.source:
        raise SystemExit(f"this benchmark needs the real {name}: set CNN_BOOK_DATA to a folder with "
                         f"{FOLDERS.get(name, name)}")
    return train, test
