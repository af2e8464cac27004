"""The 94 % CIFAR-10 speed recipe (chapter 13): its settings, its training loop and its evaluation.

The hyper-parameters are those published for airbench94 (Jordan 2024, arXiv 2404.00498): batch
1,024, 9.9 epochs, Nesterov SGD with momentum 0.85, a learning rate that warms up linearly from
0.2x to its peak over the first 23 % of the steps and then decays linearly to 0.07x, label
smoothing 0.2, decoupled weight decay, a 64x larger learning rate for the BatchNorm shifts, the
whitening layer's bias trained for 3 epochs only, alternating flips and 2-pixel translations, a
look-ahead average of the weights every 5 steps, and six-view test-time augmentation. Every idea
has a switch in :class:`SpeedRecipe`, so an ablation is ``replace(recipe, switch=off)``.

The learning rate and weight decay are given "per 1,024 examples", decoupled as in airbench: the
summed loss is scaled by ``1 / (1024 * (1 + 1 / (1 - momentum)))``, so that changing the batch
size or the momentum leaves the size of the average update unchanged.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
import torch
import torch.nn.functional as F
from torch import nn
from helpers.data.core import Dataset
from helpers.models.speedrun import SpeedrunNet
from helpers.training.devices import pick_device
from helpers.training.speedaug import epoch_flips, epoch_images, tta_logits
from helpers.training.whitening import init_whitening

__all__ = ["SpeedRecipe", "lr_factor", "Lookahead", "channel_stats", "normalize", "SpeedrunResult",
           "train_speedrun", "evaluate_speedrun"]


@dataclass(frozen=True)
class SpeedRecipe:
    """Every setting of the recipe; the defaults are airbench94's.

    ``batchnorm``, ``nesterov``, ``schedule``, ``whiten``, ``lookahead`` switch an idea off when
    False; ``label_smoothing=0``, ``flip="random"|"none"``, ``translate=0``, ``tta=0|1`` likewise;
    ``amp`` is the autocast dtype name (``"bfloat16"``, ``"float16"``) or ``None`` for float32.
    """
    epochs: float = 9.9
    batch_size: int = 1024
    lr: float = 11.5             # per 1,024 examples
    momentum: float = 0.85
    weight_decay: float = 0.0153  # per 1,024 examples, decoupled from the learning rate
    bias_scaler: float = 64.0    # learning-rate multiplier of the BatchNorm shifts
    label_smoothing: float = 0.2
    whiten_bias_epochs: int = 3
    widths: tuple[int, int, int] = (64, 256, 256)
    batchnorm: bool = True
    nesterov: bool = True
    schedule: bool = True         # warm-up and decay; False = the peak rate throughout
    whiten: bool = True           # False = a trainable first layer with PyTorch's random init
    flip: str = "alternating"
    translate: int = 2
    lookahead: bool = True
    tta: int = 2
    amp: str | None = "bfloat16"
    channels_last: bool = True

    def changes(self) -> dict:
        """The settings that differ from the defaults."""
        default = asdict(SpeedRecipe())
        return {k: v for k, v in asdict(self).items() if default[k] != v}


def lr_factor(step: int, total: int, warmup: float = 0.23) -> float:
    """Multiplier of the peak rate at ``step`` of ``total``: 0.2 -> 1 linearly over the first
    ``warmup`` fraction of the steps, then 1 -> 0.07 linearly to the end."""
    up = int(total * warmup)
    if step < up:
        return 0.2 + 0.8 * step / up
    return 1.0 - 0.93 * (step - up) / max(total - up, 1)


class Lookahead:
    """Look-ahead weight averaging: every few steps, the slow copy moves toward the network's
    weights, ``slow <- slow + (1 - decay) * (fast - slow)``, and the network restarts from it.

    ``decay`` follows ``0.95**5 * (step / total)**3``: near 0 early (the slow copy simply follows),
    close to 0.77 at the end (a long average). Float buffers (BatchNorm statistics) are averaged too.
    """

    def __init__(self, model: nn.Module):
        self.slow = {k: v.detach().clone() for k, v in model.state_dict().items() if v.is_floating_point()}

    @torch.no_grad()
    def update(self, model: nn.Module, decay: float) -> None:
        for k, v in model.state_dict().items():
            if k in self.slow:
                self.slow[k].lerp_(v, 1 - decay)
                v.copy_(self.slow[k])


def channel_stats(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and standard deviation ``(C,)`` of uint8 images ``(N, C, H, W)``, in 0..1 units."""
    x = images.float() / 255
    return x.mean((0, 2, 3)), x.std((0, 2, 3))


def normalize(images: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """uint8 ``(N, C, H, W)`` -> float ``(x / 255 - mean) / std`` per channel."""
    if images.dtype != torch.uint8:
        raise TypeError(f"images must be uint8 (0-255); got {images.dtype}")
    return (images.float() / 255 - mean.view(1, -1, 1, 1)) / std.view(1, -1, 1, 1)


@dataclass
class SpeedrunResult:
    """What :func:`train_speedrun` returns: the trained model (eval mode), the normalisation it
    expects, the wall-clock training seconds (whitening included), the steps, and the recipe."""
    model: nn.Module
    mean: torch.Tensor
    std: torch.Tensor
    seconds: float
    steps: int
    recipe: SpeedRecipe
    device: str


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _optimizer(model: nn.Module, r: SpeedRecipe) -> torch.optim.SGD:
    scale = 1024 * (1 + 1 / (1 - r.momentum))  # Nesterov's steady-state step, per 1,024 examples
    lr, wd = r.lr / scale, r.weight_decay * r.batch_size / scale
    norm = [p for n, p in model.named_parameters() if ".norm" in n and p.requires_grad]
    rest = [p for n, p in model.named_parameters() if ".norm" not in n and p.requires_grad]
    groups = [dict(params=rest, lr=lr, weight_decay=wd / lr)]
    if norm:
        groups.append(dict(params=norm, lr=lr * r.bias_scaler, weight_decay=wd / (lr * r.bias_scaler)))
    for g in groups:
        g["initial_lr"] = g["lr"]
    return torch.optim.SGD(groups, lr=lr, momentum=r.momentum, nesterov=r.nesterov)


def train_speedrun(data: Dataset, recipe: SpeedRecipe = SpeedRecipe(), *, seed: int = 0,
                   device: torch.device | str | None = None) -> SpeedrunResult:
    """Train a :class:`~helpers.models.speedrun.SpeedrunNet` on ``data`` with ``recipe``.

    The whole training set lives on ``device`` as one float tensor; each epoch's flips and shifts
    are made for all images at once; batches are slices of a random permutation (the last,
    incomplete one is dropped). Training stops after ``ceil(epochs * (N // batch_size))`` steps.

    Args:
        data: the training images (uint8) and labels.
        recipe: the settings.
        seed: seeds the initialisation, the order and the augmentation.
        device: default :func:`helpers.training.devices.pick_device`.
    """
    device = torch.device(device) if device is not None else pick_device()
    r = recipe
    if len(data) < r.batch_size:
        raise ValueError(f"data has {len(data)} images, fewer than one batch ({r.batch_size})")
    torch.manual_seed(seed)
    gen = torch.Generator(device=device).manual_seed(seed)
    fmt = torch.channels_last if r.channels_last else torch.contiguous_format
    amp = getattr(torch, r.amp) if r.amp else None
    _sync(device)
    start = time.perf_counter()
    mean, std = channel_stats(data.images)
    x = normalize(data.images.to(device), mean.to(device), std.to(device))  # (N, 3, 32, 32)
    y = data.labels.to(device)
    model = SpeedrunNet(r.widths, batchnorm=r.batchnorm).to(device)
    if r.whiten:
        init_whitening(model.whiten, x[:5000])
    else:
        model.whiten.weight.requires_grad_(True)
    model = model.to(memory_format=fmt)
    opt = _optimizer(model, r)
    per_epoch = len(x) // r.batch_size
    total = math.ceil(r.epochs * per_epoch)
    slow = Lookahead(model) if r.lookahead else None
    first = epoch_flips(len(x), 0, r.flip, gen, device=device)
    step = 0
    model.train()
    for epoch in range(math.ceil(r.epochs)):
        model.whiten.bias.requires_grad_(epoch < r.whiten_bias_epochs)
        flips = first if epoch == 0 else epoch_flips(len(x), epoch, r.flip, gen, first=first, device=device)
        xe = epoch_images(x, flips, r.translate, gen).contiguous(memory_format=fmt)
        order = torch.randperm(len(x), generator=gen, device=device)
        for b in range(per_epoch):
            if step >= total:
                break
            idx = order[b * r.batch_size:(b + 1) * r.batch_size]
            factor = lr_factor(step, total) if r.schedule else 1.0
            for g in opt.param_groups:
                g["lr"] = g["initial_lr"] * factor
            with torch.autocast(device.type, dtype=amp, enabled=amp is not None):
                logits = model(xe[idx])
            loss = F.cross_entropy(logits.float(), y[idx], label_smoothing=r.label_smoothing, reduction="sum")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            if slow is not None and step % 5 == 0:
                slow.update(model, 0.95 ** 5 * (step / total) ** 3)
    if slow is not None:
        slow.update(model, 1.0)  # the network takes the slow weights
    model.eval()
    _sync(device)
    return SpeedrunResult(model, mean, std, time.perf_counter() - start, step, r, str(device))


def evaluate_speedrun(result: SpeedrunResult, data: Dataset, tta: int | None = None) -> dict:
    """Accuracy of a trained recipe on ``data``, with ``tta`` views (default: the recipe's level).

    Returns:
        ``{"accuracy": float, "seconds": float, "tta": level, "n": len(data)}``.
    """
    level = result.recipe.tta if tta is None else tta
    device = torch.device(result.device)
    amp = getattr(torch, result.recipe.amp) if result.recipe.amp else None
    fmt = torch.channels_last if result.recipe.channels_last else torch.contiguous_format
    _sync(device)
    start = time.perf_counter()
    x = normalize(data.images.to(device), result.mean.to(device), result.std.to(device)).contiguous(memory_format=fmt)
    result.model.eval()
    with torch.autocast(device.type, dtype=amp, enabled=amp is not None):
        logits = tta_logits(result.model, x, level)
    acc = (logits.argmax(1).cpu() == data.labels).float().mean().item()
    _sync(device)
    return {"accuracy": acc, "seconds": time.perf_counter() - start, "tta": level, "n": len(data)}
