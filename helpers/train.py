"""Fast, honest training: the whole data set as one tensor on the device, batches by permutation.

``fit`` keeps the training images (uint8) on the device once, draws each epoch's mini-batches by
indexing with a random permutation, and augments whole batches with tensor ops (random flip,
pad-and-crop) -- no ``DataLoader`` workers, no per-image Python. On CUDA it uses mixed precision
and channels-last; on the CPU it uses every core it may run on, in float32.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "History",
    "pick_device",
    "set_seed",
    "to_input",
    "flip_and_crop",
    "fit",
    "evaluate",
    "predict",
    "save_checkpoint",
    "load_checkpoint",
]

AUGMENTATIONS = ("flip", "crop")


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


def _cpu_threads() -> int:
    """Threads for CPU training: ``OMP_NUM_THREADS`` when set (say, by a test runner sharing the
    cores), else every core this process may use -- never more, which would oversubscribe."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    wanted = os.environ.get("OMP_NUM_THREADS", "")
    return min(int(wanted), cores) if wanted.isdigit() and int(wanted) > 0 else cores


def to_input(images: torch.Tensor) -> torch.Tensor:
    """uint8 images ``(N, C, H, W)`` in 0..255 -> float ``(x / 255 - 0.5) / 0.25`` (about -2..2).

    One fixed scaling for every data set, so a model needs no stored statistics.
    """
    if images.dtype != torch.uint8:
        raise TypeError(f"images must be uint8 (0-255); got {images.dtype}")
    return (images.float() / 255 - 0.5) / 0.25


def _tensors(data: Any, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Accept a helpers.data Dataset (``.images``, ``.labels``) or an ``(images, labels)`` pair."""
    if hasattr(data, "images") and hasattr(data, "labels"):
        images, labels = data.images, data.labels
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        images, labels = data
    else:
        raise TypeError(f"{name} must be a Dataset (with .images and .labels) or a pair "
                        f"(images, labels); got {type(data).__name__}")
    images, labels = torch.as_tensor(images), torch.as_tensor(labels)
    if images.ndim != 4 or images.dtype != torch.uint8:
        raise ValueError(f"{name} images must be a uint8 tensor (N, C, H, W); got "
                         f"{images.dtype} of shape {tuple(images.shape)}")
    if labels.shape != (images.shape[0],):
        raise ValueError(f"{name} needs one label per image: {images.shape[0]} images, "
                         f"labels of shape {tuple(labels.shape)}")
    return images, labels.long()


def flip_and_crop(x: torch.Tensor, flip: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor,
                  pad: int = 4) -> torch.Tensor:
    """Flip chosen images left-right, then shift each by reflect-padding and cropping, batch-wise.

    Args:
        x: float images ``(N, C, H, W)``.
        flip: bool ``(N,)``: which images to mirror.
        dy, dx: int ``(N,)`` in ``0..2*pad``: the top-left corner of each crop in the padded image
            (``pad`` = no shift).
        pad: pixels of reflection padding on each side.

    Returns:
        ``(N, C, H, W)``: image ``i`` is ``x[i]`` (mirrored if ``flip[i]``) moved by
        ``(pad - dy[i], pad - dx[i])`` pixels, the border filled by reflection.
    """
    n, c, h, w = x.shape
    for name, v in (("flip", flip), ("dy", dy), ("dx", dx)):
        if v.shape != (n,):
            raise ValueError(f"{name} must have shape ({n},), one value per image; got {tuple(v.shape)}")
    if int(dy.min()) < 0 or int(dx.min()) < 0 or int(dy.max()) > 2 * pad or int(dx.max()) > 2 * pad:
        raise ValueError(f"dy and dx must lie in 0..{2 * pad} (2 * pad)")
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    padded = F.pad(x, (pad, pad, pad, pad), mode="reflect")  # (N, C, H+2p, W+2p)
    rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]  # (N, 1, H, 1)
    cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]  # (N, 1, 1, W)
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    chans = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[batch, chans, rows, cols]  # (N, C, H, W)


def _augment(x: torch.Tensor, augment: tuple[str, ...], generator: torch.Generator) -> torch.Tensor:
    """Random horizontal flip and 4-pixel pad-and-crop, on a whole float batch at once."""
    n, pad = x.shape[0], 4
    flip = (torch.rand(n, generator=generator, device=x.device) < 0.5 if "flip" in augment
            else torch.zeros(n, dtype=torch.bool, device=x.device))
    if "crop" not in augment:
        return torch.where(flip[:, None, None, None], x.flip(3), x)
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=generator, device=x.device)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=generator, device=x.device)
    return flip_and_crop(x, flip, dy, dx, pad)


def _param_groups(model: nn.Module, param_groups: list[dict] | None, lr: float) -> list[dict]:
    """Optimiser groups ``[{"params": [...], "lr": ...}]`` from ``fit``'s ``param_groups``."""
    if param_groups is None:
        params = [p for p in model.parameters() if p.requires_grad]
        if not params:
            raise ValueError("the model has no parameter with requires_grad=True: nothing would train")
        return [{"params": params, "lr": lr}]
    if not isinstance(param_groups, (list, tuple)) or not all(
            isinstance(g, dict) and "params" in g for g in param_groups):
        raise TypeError("param_groups must be a list of dicts with a 'params' list (as "
                        "helpers.transfer.prepare returns them); got " + type(param_groups).__name__)
    own = {id(p) for p in model.parameters()}
    groups = []
    for g in param_groups:
        params = list(g["params"])
        if any(id(p) not in own for p in params):
            raise ValueError(f"param_groups group {g.get('name', len(groups))!r} holds parameters "
                             "that are not the model's: prepare the same model you train")
        factor = float(g.get("lr_factor", 1.0))
        if params:
            groups.append({"params": params, "lr": lr * factor})
    if not groups:
        raise ValueError("param_groups holds no parameters: nothing would train")
    return groups


@dataclass
class History:
    """Per-epoch results of :func:`fit` (``seconds`` is the elapsed training time so far)."""

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    settings: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        lines = ["epoch  train loss  train acc  val loss  val acc  seconds"]
        for i, e in enumerate(self.epoch):
            vl = f"{self.val_loss[i]:8.4f}" if self.val_loss else "       -"
            va = f"{self.val_acc[i]:7.2%}" if self.val_acc else "      -"
            lines.append(f"{e:5d}  {self.train_loss[i]:10.4f}  {self.train_acc[i]:9.2%}  {vl}  {va}  "
                         f"{self.seconds[i]:7.1f}")
        return "\n".join(lines)


def fit(
    model: nn.Module,
    train_data,
    val_data=None,
    *,
    epochs: int,
    batch_size: int = 128,
    lr: float = 2e-3,
    weight_decay: float = 0.0,
    optimizer: str = "adamw",
    schedule: str = "onecycle",
    augment: tuple[str, ...] | list[str] = (),
    label_smoothing: float = 0.0,
    param_groups: list[dict] | None = None,
    device: torch.device | str | None = None,
    seed: int = 0,
    progress: bool = True,
) -> History:
    """Train ``model`` on ``train_data`` and return the per-epoch :class:`History`.

    Args:
        model: any classifier taking ``to_input(images)`` and returning logits.
        train_data, val_data: a ``helpers.data`` Dataset or an ``(images uint8 (N, C, H, W),
            labels (N,))`` pair. ``val_data`` is evaluated after every epoch.
        epochs: passes over the training set.
        batch_size, lr, weight_decay: as usual; ``lr`` is the peak rate of the schedule.
        optimizer: ``"adamw"`` or ``"sgd"`` (Nesterov momentum 0.9).
        schedule: ``"onecycle"`` (warm-up then cosine decay, per batch) or ``"constant"``.
        augment: any of ``"flip"`` (random horizontal flip) and ``"crop"`` (pad 4, random crop).
        label_smoothing: passed to the cross-entropy loss.
        param_groups: what trains, as ``helpers.transfer.prepare`` returns it: dicts with
            ``"params"`` and an optional ``"lr_factor"`` (the group's peak rate is ``lr * lr_factor``).
            Default: every parameter with ``requires_grad``, at ``lr``.
        device: default :func:`pick_device`.
        seed: seeds the initial shuffles and augmentations (and the model's dropout).
        progress: show a ``tqdm`` bar with the running loss and accuracy.
    """
    from tqdm.auto import tqdm

    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int; got {epochs!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1; got {batch_size}")
    augment = tuple(augment)
    unknown = set(augment) - set(AUGMENTATIONS)
    if unknown:
        raise ValueError(f"augment may hold {AUGMENTATIONS}; got {sorted(unknown)}")
    if optimizer not in ("adamw", "sgd") or schedule not in ("onecycle", "constant"):
        raise ValueError(f"optimizer must be 'adamw' or 'sgd' and schedule 'onecycle' or "
                         f"'constant'; got {optimizer!r}, {schedule!r}")
    device = torch.device(device) if device is not None else pick_device()
    if device.type == "cpu":
        torch.set_num_threads(_cpu_threads())
    images, labels = _tensors(train_data, "train_data")
    images, labels = images.to(device), labels.to(device)  # the whole set lives on the device
    n = images.shape[0]
    steps_per_epoch = -(-n // batch_size)

    set_seed(seed)
    generator = torch.Generator(device=device).manual_seed(seed)
    model.to(device)
    cuda = device.type == "cuda"
    # channels-last lets cuDNN and oneDNN pick faster convolution kernels: measured 1.1-1.4x per
    # training step on the book's 2-core CPU too, not only on GPUs (benchmarks/cifar_speed.py).
    model.to(memory_format=torch.channels_last)
    groups = _param_groups(model, param_groups, lr)
    if optimizer == "adamw":
        opt = torch.optim.AdamW(groups, lr=lr, weight_decay=weight_decay)
    else:
        opt = torch.optim.SGD(groups, lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay)
    total_steps = epochs * steps_per_epoch
    # one-cycle needs a step or more in each of its two phases; a run of 3 steps or fewer keeps lr
    sched = (torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[g["lr"] for g in groups],
                                                 total_steps=total_steps,
                                                 pct_start=min(0.5, max(0.25, 2 / total_steps)))
             if schedule == "onecycle" and total_steps > 3 else None)
    amp_dtype = torch.bfloat16 if cuda and torch.cuda.is_bf16_supported() else torch.float16

    history = History(settings=dict(epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
                                    optimizer=optimizer, schedule=schedule, augment=list(augment),
                                    label_smoothing=label_smoothing, device=str(device), seed=seed,
                                    train_size=n, threads=torch.get_num_threads()))
    elapsed = 0.0
    bar = tqdm(total=epochs * steps_per_epoch, desc="training", unit="batch", disable=not progress,
               leave=False)
    for epoch in range(1, epochs + 1):
        model.train()
        start = time.perf_counter()
        order = torch.randperm(n, generator=generator, device=device)
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.long)
        for step in range(steps_per_epoch):
            idx = order[step * batch_size:(step + 1) * batch_size]
            x = to_input(images[idx])
            if augment:
                x = _augment(x, augment, generator)
            x = x.contiguous(memory_format=torch.channels_last)
            y = labels[idx]
            with torch.autocast(device.type, dtype=amp_dtype, enabled=cuda):
                logits = model(x)
                loss = F.cross_entropy(logits, y, label_smoothing=label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            loss_sum += loss.detach() * len(idx)
            correct += (logits.argmax(1) == y).sum()
            if progress and step % 20 == 0:
                bar.set_postfix(epoch=epoch, loss=f"{loss.item():.3f}")
            bar.update()
        if cuda:
            torch.cuda.synchronize()
        elapsed += time.perf_counter() - start
        history.epoch.append(epoch)
        history.train_loss.append(loss_sum.item() / n)
        history.train_acc.append(correct.item() / n)
        history.seconds.append(round(elapsed, 3))
        if val_data is not None:
            result = evaluate(model, val_data, device=device)
            history.val_loss.append(result["loss"])
            history.val_acc.append(result["accuracy"])
    bar.close()
    return history


@torch.no_grad()
def _logits(model: nn.Module, images: torch.Tensor, device: torch.device, batch_size: int) -> torch.Tensor:
    model.eval().to(device)
    out = []
    for start in range(0, images.shape[0], batch_size):
        x = to_input(images[start:start + batch_size].to(device))
        x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            out.append(model(x).float())
    return torch.cat(out) if out else torch.empty(0)


def evaluate(model: nn.Module, data, *, batch_size: int = 1000, device=None) -> dict[str, float]:
    """Accuracy and mean cross-entropy loss of ``model`` on ``data`` (eval mode, no gradients)."""
    device = torch.device(device) if device is not None else next(model.parameters()).device
    images, labels = _tensors(data, "data")
    logits = _logits(model, images, device, batch_size)
    labels = labels.to(logits.device)
    return {"accuracy": (logits.argmax(1) == labels).float().mean().item(),
            "loss": F.cross_entropy(logits, labels).item()}


def predict(model: nn.Module, data, *, batch_size: int = 1000, device=None,
            probabilities: bool = False) -> torch.Tensor:
    """Predicted class per image (or, with ``probabilities=True``, the softmax ``(N, classes)``).

    ``data`` may be a Dataset, an ``(images, labels)`` pair or a uint8 image tensor.
    """
    device = torch.device(device) if device is not None else next(model.parameters()).device
    images = data if isinstance(data, torch.Tensor) else _tensors(data, "data")[0]
    if images.ndim != 4 or images.dtype != torch.uint8:
        raise ValueError(f"images must be uint8 (N, C, H, W); got {images.dtype} {tuple(images.shape)}")
    logits = _logits(model, images, device, batch_size).cpu()
    return logits.softmax(1) if probabilities else logits.argmax(1)


def save_checkpoint(path: str | os.PathLike, model: nn.Module, **metadata) -> Path:
    """Save the model's weights with metadata (data source, accuracy, epochs, settings...).

    Metadata must be plain Python values (str, numbers, lists, dicts) so that loading can use
    ``torch.load(weights_only=True)``, which never runs code from the file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    torch.save({"format": 1, "model": type(model).__name__, "state_dict": state,
                "metadata": metadata}, path)
    return path


def load_checkpoint(path: str | os.PathLike, model: nn.Module) -> dict:
    """Load weights saved by :func:`save_checkpoint` into ``model``; return the metadata.

    Raises:
        FileNotFoundError: no file at ``path`` (says how to make it).
        ValueError: the file is not such a checkpoint, or was saved from another architecture.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}: train the model first (its chapter "
                                "saves it there) or check the path")
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"{path} is not a readable checkpoint ({type(exc).__name__}: {exc}); "
                         "delete it and train again") from None
    if not isinstance(saved, dict) or saved.get("format") != 1:
        raise ValueError(f"{path} was not written by helpers.train.save_checkpoint")
    if saved["model"] != type(model).__name__:
        raise ValueError(f"{path} holds a {saved['model']}, not a {type(model).__name__}")
    try:
        model.load_state_dict(saved["state_dict"])
    except RuntimeError as exc:
        raise ValueError(f"{path} does not fit this {type(model).__name__}: "
                         f"{str(exc).splitlines()[0]}") from None
    return saved["metadata"]
