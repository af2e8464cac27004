"""Convolutions in 1, 2 and 3 dimensions: shapes, parameter counts, small models, a training loop.

* :func:`conv_output_shape` and :func:`conv_params_nd` -- the lecture's formulas, per axis and for
  a kernel of any rank (a ``Conv1d``, ``Conv2d`` and ``Conv3d`` differ only in how many axes);
* :class:`ConvNetND` -- one small classifier for signals (``dims=1``), images (2) or volumes (3);
* :class:`TinyUNet` -- a tiny fully convolutional encoder-decoder that labels every pixel;
* :func:`fit_tensors`, :func:`evaluate_tensors`, :func:`predict_tensors` -- train and evaluate on
  float tensors of any rank, with one label per example ``(N,)`` or per pixel/voxel ``(N, ...)``;
* :func:`iou_score` and :func:`dice_score` -- per-class overlap of predicted and true masks.
"""

from __future__ import annotations

import math
import time
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from helpers.shapes import PaddingArg, conv_output_size, conv_params
from helpers.train import History, pick_device, set_seed

__all__ = ["conv_output_shape", "conv_params_nd", "ConvNetND", "TinyUNet", "fit_tensors",
           "evaluate_tensors", "predict_tensors", "iou_score", "dice_score"]

_CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
_NORM = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d, 3: nn.BatchNorm3d}
_POOL = {1: nn.MaxPool1d, 2: nn.MaxPool2d, 3: nn.MaxPool3d}
_AXES = {1: "L", 2: "H, W", 3: "D, H, W"}


def _per_axis(value, rank: int, name: str) -> tuple:
    """An int (or mode string) for every axis, or a sequence with one entry per axis."""
    if isinstance(value, (tuple, list)):
        if len(value) != rank:
            raise ValueError(f"{name} must be one value or one per axis ({rank}); got {value!r}")
        return tuple(value)
    return (value,) * rank


def conv_output_shape(size: Sequence[int], kernel_size, stride=1, padding: PaddingArg = 0,
                      dilation=1) -> tuple[int, ...]:
    """Output size of a convolution (or pooling) over any number of axes: ``(L,)``, ``(H, W)``, ``(D, H, W)``.

    Each axis follows ``floor((I + 2P - D*(F - 1) - 1) / S) + 1`` on its own
    (:func:`helpers.shapes.conv_output_size`); ``kernel_size``, ``stride``, ``padding`` and
    ``dilation`` are one value for every axis or one per axis.
    """
    if not isinstance(size, (tuple, list)) or not size:
        raise TypeError(f"size must be a tuple of ints, one per axis, e.g. (64,) or (16, 32, 32); got {size!r}")
    rank = len(size)
    ks, ss = _per_axis(kernel_size, rank, "kernel_size"), _per_axis(stride, rank, "stride")
    ps, ds = _per_axis(padding, rank, "padding"), _per_axis(dilation, rank, "dilation")
    return tuple(conv_output_size(size[i], ks[i], ss[i], ps[i], ds[i]) for i in range(rank))


def conv_params_nd(in_channels: int, out_channels: int, kernel_size, dims: int, *, bias: bool = True,
                   groups: int = 1) -> int:
    """Learnable parameters of a ``dims``-D conv layer: ``(F_1*...*F_dims * C/groups + 1) * K``.

    The 2-D formula ``(F*F*C + 1)*K`` with the kernel's area replaced by its volume (``F`` for
    ``Conv1d``, ``F^3`` for a cubic ``Conv3d`` kernel).
    """
    if dims not in _CONV:
        raise ValueError(f"dims must be 1, 2 or 3; got {dims!r}")
    ks = _per_axis(kernel_size, dims, "kernel_size")
    if not all(isinstance(k, int) and not isinstance(k, bool) and k >= 1 for k in ks):
        raise ValueError(f"kernel_size must be positive ints; got {kernel_size!r}")
    return conv_params(in_channels, out_channels, (math.prod(ks), 1), bias=bias, groups=groups)


class ConvNetND(nn.Module):
    """Conv blocks (conv ``k`` "same" -> batch norm -> ReLU -> max-pool 2), global pooling, a linear layer.

    Args:
        dims: 1 (signals ``(N, C, L)``), 2 (images ``(N, C, H, W)``) or 3 (volumes ``(N, C, D, H, W)``).
        in_channels, num_classes: input channels and output classes.
        widths: output channels of each block.
        kernel_size: kernel length along every axis (odd).
        global_pool: ``"avg"`` (how much of a pattern there is) or ``"max"`` (is it anywhere).
        pool_blocks: whether each block halves the size (``False`` keeps full resolution).

    ``forward(x)`` returns logits ``(N, num_classes)`` whatever the input's length or size.
    """

    def __init__(self, dims: int, in_channels: int = 1, num_classes: int = 4,
                 widths: Sequence[int] = (16, 32, 64), kernel_size: int = 3, global_pool: str = "avg",
                 pool_blocks: bool = True):
        super().__init__()
        if dims not in _CONV:
            raise ValueError(f"dims must be 1, 2 or 3 (signals, images, volumes); got {dims!r}")
        if not isinstance(kernel_size, int) or kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be an odd positive int (so 'same' padding is symmetric); "
                             f"got {kernel_size!r}")
        if global_pool not in ("avg", "max") or not widths:
            raise ValueError(f"global_pool must be 'avg' or 'max' and widths non-empty; got "
                             f"{global_pool!r}, {widths!r}")
        self.dims = dims
        layers, c = [], in_channels
        for w in widths:
            layers += [_CONV[dims](c, w, kernel_size, padding=kernel_size // 2), _NORM[dims](w), nn.ReLU()]
            layers += [_POOL[dims](2)] if pool_blocks else []
            c = w
        self.features = nn.Sequential(*layers)
        self.global_pool = global_pool
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != self.dims + 2:
            raise ValueError(f"ConvNetND(dims={self.dims}) needs input (N, C, {_AXES[self.dims]}); "
                             f"got shape {tuple(x.shape)}")
        h = self.features(x).flatten(2)  # (N, C_last, positions)
        h = h.mean(2) if self.global_pool == "avg" else h.amax(2)  # (N, C_last)
        return self.classifier(h)  # (N, num_classes)


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU())


class TinyUNet(nn.Module):
    """A tiny fully convolutional encoder-decoder (a two-level U-Net) for per-pixel classes.

    encoder: block(C->w) at H×W, pool, block(w->2w) at H/2, pool, block(2w->4w) at H/4;
    decoder: transposed conv up to H/2, concatenate the encoder's H/2 maps, block(4w->2w); up to H,
    concatenate, block(2w->w); a 1×1 conv gives ``num_classes`` scores per pixel.

    ``forward(x: (N, C, H, W))`` with ``H, W`` divisible by 4 returns logits ``(N, num_classes, H, W)``.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 4, width: int = 16):
        super().__init__()
        w = width
        self.enc1, self.enc2, self.bottom = _block(in_channels, w), _block(w, 2 * w), _block(2 * w, 4 * w)
        self.up2, self.dec2 = nn.ConvTranspose2d(4 * w, 2 * w, 2, stride=2), _block(4 * w, 2 * w)
        self.up1, self.dec1 = nn.ConvTranspose2d(2 * w, w, 2, stride=2), _block(2 * w, w)
        self.head = nn.Conv2d(w, num_classes, 1)  # a "dense layer" applied at every pixel

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[2] % 4 or x.shape[3] % 4:
            raise ValueError(f"TinyUNet needs input (N, C, H, W) with H and W divisible by 4 (it halves "
                             f"them twice); got shape {tuple(x.shape)}: pad or crop the images")
        e1 = self.enc1(x)  # (N, w, H, W)
        e2 = self.enc2(F.max_pool2d(e1, 2))  # (N, 2w, H/2, W/2)
        b = self.bottom(F.max_pool2d(e2, 2))  # (N, 4w, H/4, W/4)
        d2 = self.dec2(torch.cat([self.up2(b), e2], 1))  # (N, 2w, H/2, W/2)
        d1 = self.dec1(torch.cat([self.up1(d2), e1], 1))  # (N, w, H, W)
        return self.head(d1)  # (N, num_classes, H, W)


def _pair(data, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Check ``(x, y)``: inputs ``(N, C, ...)`` float, targets ``(N,)`` or ``(N, ...)`` int64."""
    x, y = data if isinstance(data, (tuple, list)) and len(data) == 2 else (data, None)
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError(f"{name} must be a pair of tensors (x, y); got {type(data).__name__}")
    if not x.is_floating_point() or x.ndim < 3:
        raise ValueError(f"{name}: x must be a float tensor (N, C, ...) with at least 3 axes; got "
                         f"{x.dtype} of shape {tuple(x.shape)} (add the channel axis: x.unsqueeze(1))")
    if y.dtype != torch.int64 or not (y.shape == x.shape[:1] or y.shape == x.shape[:1] + x.shape[2:]):
        raise ValueError(f"{name}: y must be int64 class indices, one per example {tuple(x.shape[:1])} or "
                         f"one per pixel {tuple(x.shape[:1] + x.shape[2:])}; got {y.dtype} {tuple(y.shape)}")
    return x, y


@torch.no_grad()
def _logits(model: nn.Module, x: torch.Tensor, batch_size: int, device) -> torch.Tensor:
    model.eval().to(device)
    return torch.cat([model(x[i:i + batch_size].to(device)).float().cpu()
                      for i in range(0, len(x), batch_size)])


def evaluate_tensors(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, batch_size: int = 256,
                     device=None) -> dict[str, float]:
    """Mean cross-entropy ``loss`` and ``accuracy`` (per example, or per pixel for masks)."""
    x, y = _pair((x, y), "data")
    logits = _logits(model, x, batch_size, device or next(model.parameters()).device)
    return {"loss": F.cross_entropy(logits, y).item(), "accuracy": (logits.argmax(1) == y).float().mean().item()}


def predict_tensors(model: nn.Module, x: torch.Tensor, *, batch_size: int = 256, device=None) -> torch.Tensor:
    """Predicted class per example ``(N,)`` (or per pixel ``(N, H, W)``): the argmax over axis 1."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError(f"x must be a float tensor (N, C, ...); got {type(x).__name__}")
    return _logits(model, x, batch_size, device or next(model.parameters()).device).argmax(1)


def fit_tensors(model: nn.Module, train: tuple[torch.Tensor, torch.Tensor],
                val: tuple[torch.Tensor, torch.Tensor] | None = None, *, epochs: int,
                batch_size: int = 64, lr: float = 3e-3, weight_decay: float = 1e-4, seed: int = 0,
                device=None, progress: bool = False) -> History:
    """Train a classifier or segmenter on float tensors of any rank with AdamW and cross-entropy.

    Args:
        train, val: ``(x, y)`` with ``x: float (N, C, ...)`` and ``y: int64 (N,)`` (a class per
            example) or ``(N, ...)`` (a class per pixel or voxel: the loss and accuracy are then
            averaged over every pixel).
        epochs, batch_size, lr, weight_decay: as usual; ``lr`` is the peak of a one-cycle schedule.
        seed: seeds the shuffles (set the seed before building the model to repeat its weights).
        device: default :func:`helpers.train.pick_device`. progress: show a ``tqdm`` bar.

    Returns:
        A :class:`helpers.train.History` (per-epoch losses and accuracies, cumulative seconds).
    """
    from tqdm.auto import tqdm

    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int; got {epochs!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int; got {batch_size!r}")
    x, y = _pair(train, "train")
    if val is not None:
        _pair(val, "val")
    device = torch.device(device) if device is not None else pick_device()
    set_seed(seed)
    model.to(device)
    x, y = x.to(device), y.to(device)
    steps = -(-len(x) // batch_size)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=epochs * steps) if epochs * steps > 3 else None
    history = History(settings=dict(epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
                                    seed=seed, device=str(device), train_size=len(x)))
    g, elapsed = torch.Generator().manual_seed(seed), 0.0
    for epoch in tqdm(range(1, epochs + 1), desc="training", unit="epoch", disable=not progress, leave=False):
        model.train()
        start, loss_sum, correct = time.perf_counter(), 0.0, 0.0
        for idx in torch.randperm(len(x), generator=g).to(device).split(batch_size):
            logits = model(x[idx])  # (B, K) or (B, K, ...)
            loss = F.cross_entropy(logits, y[idx])  # averaged over examples (and pixels)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(1) == y[idx]).float().mean().item() * len(idx)
        elapsed += time.perf_counter() - start
        history.epoch.append(epoch)
        history.train_loss.append(loss_sum / len(x))
        history.train_acc.append(correct / len(x))
        history.seconds.append(round(elapsed, 3))
        if val is not None:
            result = evaluate_tensors(model, *val, device=device)
            history.val_loss.append(result["loss"])
            history.val_acc.append(result["accuracy"])
    return history


def _confusion_counts(pred, target, num_classes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class true positives, false positives and false negatives over every pixel."""
    p = np.asarray(pred.cpu() if hasattr(pred, "cpu") else pred)
    t = np.asarray(target.cpu() if hasattr(target, "cpu") else target)
    if p.shape != t.shape or not (np.issubdtype(p.dtype, np.integer) or p.dtype == bool):
        raise ValueError(f"pred and target must be integer class maps of the same shape; got "
                         f"{p.dtype} {p.shape} and {t.dtype} {t.shape}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes must be an int >= 2; got {num_classes!r}")
    p, t = p.astype(np.int64).ravel(), t.astype(np.int64).ravel()
    if p.size and (min(p.min(), t.min()) < 0 or max(p.max(), t.max()) >= num_classes):
        raise ValueError(f"class indices must lie in 0..{num_classes - 1}; got values from "
                         f"{min(p.min(), t.min())} to {max(p.max(), t.max())}")
    cm = np.bincount(t * num_classes + p, minlength=num_classes**2).reshape(num_classes, num_classes)
    tp = np.diag(cm)
    return tp, cm.sum(0) - tp, cm.sum(1) - tp  # (K,) each: rows of cm are true, columns predicted


def iou_score(pred, target, num_classes: int) -> np.ndarray:
    """Intersection over union per class, ``TP / (TP + FP + FN)`` over all pixels.

    Args:
        pred, target: integer class maps of the same shape (e.g. ``(N, H, W)``), tensors or arrays.
        num_classes: ``K``.

    Returns:
        ``ndarray[K]``; NaN for a class absent from both (its IoU is undefined), so
        ``np.nanmean`` gives the mean IoU over the classes that occur.
    """
    tp, fp, fn = _confusion_counts(pred, target, num_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tp + fp + fn > 0, tp / (tp + fp + fn), np.nan)


def dice_score(pred, target, num_classes: int) -> np.ndarray:
    """Dice coefficient per class, ``2 TP / (2 TP + FP + FN)`` (the F1 score of each class's pixels).

    Same arguments and NaN convention as :func:`iou_score`; Dice = 2 IoU / (1 + IoU).
    """
    tp, fp, fn = _confusion_counts(pred, target, num_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan)
