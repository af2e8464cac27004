"""Small labelled data sets the training tests make: linearly separable, so any working loop learns them."""

import torch


def halves(n: int = 256, seed: int = 0):
    """Images bright in the top half (class 1) or the bottom half (class 0): linearly separable."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 2, (n,), generator=g)
    images = torch.randint(0, 40, (n, 1, 28, 28), generator=g, dtype=torch.uint8)
    images[labels == 1, :, :14] += 150
    images[labels == 0, :, 14:] += 150
    return images, labels
