"""The networks Part VI trains: the lectures' MLPs, LeNet-5 for 28x28 digits, and the CIFAR-10 CNN.

Every model takes images scaled by :func:`helpers.training.inputs.to_input` (float, about -2..2) in
``(N, C, H, W)`` and returns logits ``(N, num_classes)``.
"""

from __future__ import annotations

from typing import Sequence
import torch
from torch import nn
from helpers.models.mlp import mlp

__all__ = ["MLP", "LeNet5", "CifarCNN"]


class MLP(nn.Module):
    """Flatten the image, then ``Linear -> ReLU -> ... -> Linear``.

    Args:
        sizes: ``[n_in, hidden..., n_out]``; ``n_in`` must equal ``C*H*W`` of the images
            (784 for MNIST, 3072 for CIFAR-10).
    """

    def __init__(self, sizes: Sequence[int]):
        super().__init__()
        self.sizes = list(sizes)
        self.net = mlp(self.sizes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.flatten(1)  # (N, C*H*W)
        if flat.shape[1] != self.sizes[0]:
            raise ValueError(
                f"MLP expects {self.sizes[0]} inputs per image; got images of shape "
                f"{tuple(x.shape[1:])} ({flat.shape[1]} values)"
            )
        return self.net(flat)  # (N, n_out)


def _check_image(x: torch.Tensor, shape: tuple[int, int, int], model: str) -> None:
    if x.ndim != 4 or tuple(x.shape[1:]) != shape:
        raise ValueError(
            f"{model} expects images of shape (N, {shape[0]}, {shape[1]}, {shape[2]}); "
            f"got {tuple(x.shape)}"
        )


class LeNet5(nn.Module):
    """LeNet-5 simplified for 28x28 digits (no padding), as in the lecture: 44,426 parameters.

    conv 5x5 (1->6) -> ReLU -> max-pool 2 -> conv 5x5 (6->16) -> ReLU -> max-pool 2 ->
    flatten 16*4*4 = 256 -> 120 -> 84 -> num_classes.
    """

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),  # (N, 6, 12, 12)
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),  # (N, 16, 4, 4)
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_image(x, (1, 28, 28), "LeNet5")
        return self.classifier(self.features(x))


class CifarCNN(nn.Module):
    """The lecture's CIFAR-10 CNN: 545,098 parameters with the defaults.

    conv 3x3 same (3->32) -> ReLU -> max-pool 2 -> conv 3x3 same (32->64) -> ReLU -> max-pool 2
    -> flatten 64*8*8 = 4096 -> 128 -> ReLU -> num_classes.

    Args:
        num_classes: outputs.
        batchnorm: add BatchNorm after each conv (for the chapter's ablation; adds parameters).
        dropout: dropout probability before the last layer (0 = none).
    """

    def __init__(self, num_classes: int = 10, *, batchnorm: bool = False, dropout: float = 0.0):
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1); got {dropout}")

        def block(c_in: int, c_out: int) -> list[nn.Module]:
            layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 3, padding=1)]
            if batchnorm:
                layers.append(nn.BatchNorm2d(c_out))
            return layers + [nn.ReLU(), nn.MaxPool2d(2)]

        self.features = nn.Sequential(*block(3, 32), *block(32, 64))  # (N, 64, 8, 8)
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(4096, 128), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(128, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_image(x, (3, 32, 32), "CifarCNN")
        return self.classifier(self.features(x))
