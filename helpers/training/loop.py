"""Fast, honest training: the whole data set as one tensor on the device, batches by permutation.

One loop for every chapter: uint8 images (Parts VI-X) and float tensors of any rank (Part XI).

``fit`` keeps the training images (uint8) on the device once, draws each epoch's mini-batches by
indexing with a random permutation, and augments whole batches with tensor ops (random flip,
pad-and-crop) -- no ``DataLoader`` workers, no per-image Python. On CUDA it trains in mixed precision
(:func:`amp_dtype`: bfloat16 where the GPU has it natively, float16 with a gradient scaler on
older GPUs) and channels-last; on the CPU it uses every core it may run on, in float32.
Evaluation and prediction always run in float32, so metrics are the same numbers on every device.

The same loop trains data-parallel: :func:`fit_shard` is ``fit`` for one process of several, each
taking its rows of every batch (:mod:`helpers.training.distributed` starts the processes' group and
passes the shard); ``fit`` is ``fit_shard`` with no shard.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any
import torch
import torch.nn.functional as F
from torch import nn
from helpers.training.devices import amp_dtype, cpu_threads, eval_batch_size, mixed_dtype, pick_device, set_seed
from helpers.training.history import History
from helpers.training.inputs import AUGMENTATIONS, augment_batch, to_input
from helpers.training.optimizers import OPTIMIZERS, SCHEDULES, make_optimizer, make_schedule

__all__ = ["fit", "fit_shard", "evaluate", "predict"]


def _tensors(data: Any, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Accept a helpers.data Dataset (``.images``, ``.labels``) or an ``(inputs, labels)`` pair.

    Inputs are uint8 images ``(N, C, H, W)`` (scaled by :func:`to_input`) or float tensors
    ``(N, C, ...)`` of any rank (used as they are); labels are int ``(N,)``, one class per
    example, or ``(N, ...)`` matching the inputs' spatial axes, one class per pixel or voxel.
    """
    if hasattr(data, "images") and hasattr(data, "labels"):
        images, labels = data.images, data.labels
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        images, labels = data
    else:
        raise TypeError(f"{name} must be a Dataset (with .images and .labels) or a pair "
                        f"(inputs, labels); got {type(data).__name__}")
    images, labels = torch.as_tensor(images), torch.as_tensor(labels)
    if images.dtype == torch.uint8:
        if images.ndim != 4:
            raise ValueError(f"{name} images must be a uint8 tensor (N, C, H, W); got "
                             f"{images.dtype} of shape {tuple(images.shape)}")
    elif not images.is_floating_point() or images.ndim < 3:
        raise ValueError(f"{name} inputs must be uint8 images (N, C, H, W) or a float tensor (N, C, ...) "
                         f"with at least 3 axes; got {images.dtype} of shape {tuple(images.shape)} "
                         "(add the channel axis: x.unsqueeze(1))")
    per_example, per_pixel = images.shape[:1], images.shape[:1] + images.shape[2:]
    if labels.is_floating_point() or labels.shape not in (per_example, per_pixel):
        raise ValueError(f"{name} needs integer labels, one per example {tuple(per_example)} or one per "
                         f"pixel {tuple(per_pixel)}; got {labels.dtype} of shape {tuple(labels.shape)}")
    return images, labels.long()


def _prepare(x: torch.Tensor) -> torch.Tensor:
    """A batch as the model takes it: uint8 images scaled and channels-last; float inputs as they are."""
    if x.dtype == torch.uint8:
        return to_input(x).contiguous(memory_format=torch.channels_last)
    return x


def _autocast(device: torch.device, dtype: torch.dtype | None):
    """Autocast to ``dtype``, or a float32 region (``None``) on devices that know autocast."""
    if device.type not in ("cuda", "cpu"):
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=dtype, enabled=True) if dtype else torch.autocast(device.type, enabled=False)


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
    amp: bool | None = None,
    progress: bool = True,
) -> History:
    """Train ``model`` on ``train_data`` and return the per-epoch :class:`History`.

    Args:
        model: any classifier taking ``to_input(images)`` (or the float inputs) and returning logits
            ``(B, classes)``, or ``(B, classes, ...)`` for a class per pixel.
        train_data, val_data: a ``helpers.data`` Dataset or an ``(inputs, labels)`` pair: uint8 images
            ``(N, C, H, W)``, or float tensors ``(N, C, ...)`` of any rank (1-D signals, 3-D volumes),
            with int labels ``(N,)`` or ``(N, ...)`` (a class per pixel: loss and accuracy are then
            averaged over every pixel). ``val_data`` is evaluated after every epoch.
        epochs: passes over the training set.
        batch_size, lr, weight_decay: as usual; ``lr`` is the peak rate of the schedule.
        optimizer: ``"adamw"`` or ``"sgd"`` (Nesterov momentum 0.9).
        schedule: ``"onecycle"`` (warm-up then cosine decay, per batch) or ``"constant"``.
        augment: any of ``"flip"`` (random horizontal flip) and ``"crop"`` (pad 4, random crop);
            uint8 images only.
        label_smoothing: passed to the cross-entropy loss.
        param_groups: what trains, as ``helpers.training.transfer.prepare`` returns it: dicts with
            ``"params"`` and an optional ``"lr_factor"`` (the group's peak rate is ``lr * lr_factor``).
            Default: every parameter with ``requires_grad``, at ``lr``.
        device: default :func:`pick_device`.
        seed: seeds the initial shuffles and augmentations (and the model's dropout).
        amp: mixed precision. ``None`` (default): :func:`amp_dtype` decides (float32 on the CPU);
            ``False``: float32 everywhere; ``True``: mixed precision even where the default is
            float32 (bfloat16 on a CPU, a choice to measure).
        progress: show a ``tqdm`` bar counting batches, with each finished epoch's training loss
            and accuracy (and validation accuracy). Nothing is read back from the device per batch.

    Where the time goes (LeNet-5 on MNIST, batch 128, one core of the book's CPU; profiled with
    ``torch.profiler``, see ``benchmarks/README.md``): the convolutions, max-pooling and ReLUs,
    forward and backward, take about 85 % of a step; the AdamW step 4-8 % (multi-tensor on the CPU,
    see ``helpers.training.optimizers.make_optimizer``), the indexing and scaling of the uint8 batch
    (``to_input``, in place) 2-5 %, the schedule and the metrics (summed on the device, read back
    once per epoch) under 1 %. Evaluation is not part of ``History.seconds``.
    """
    return fit_shard(None, model, train_data, val_data, epochs=epochs, batch_size=batch_size, lr=lr,
                     weight_decay=weight_decay, optimizer=optimizer, schedule=schedule, augment=augment,
                     label_smoothing=label_smoothing, param_groups=param_groups, device=device, seed=seed,
                     amp=amp, progress=progress)


def fit_shard(shard, model: nn.Module, train_data, val_data=None, *, epochs: int, batch_size: int = 128,
              lr: float = 2e-3, weight_decay: float = 0.0, optimizer: str = "adamw", schedule: str = "onecycle",
              augment: tuple[str, ...] | list[str] = (), label_smoothing: float = 0.0,
              param_groups: list[dict] | None = None, device: torch.device | str | None = None, seed: int = 0,
              amp: bool | None = None, progress: bool = True) -> History:
    """:func:`fit`'s loop, run by one process of ``shard.world_size`` that train one model together.

    ``shard=None`` is :func:`fit`: one process trains on every whole batch. Otherwise ``shard`` (a
    :class:`helpers.training.distributed.Shard`; ``fit_distributed`` passes it) gives this process its
    rows of each global batch of ``batch_size`` and its share of the loss, wraps the model so that
    gradients are averaged over the processes, sums the metrics over them, and seeds dropout and
    augmentation per process; only rank 0 draws the progress bar. The arguments are ``fit``'s.
    """
    from tqdm.auto import tqdm

    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int; got {epochs!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int; got {batch_size!r}")
    augment = tuple(augment)
    unknown = set(augment) - set(AUGMENTATIONS)
    if unknown:
        raise ValueError(f"augment may hold {AUGMENTATIONS}; got {sorted(unknown)}")
    if optimizer not in OPTIMIZERS or schedule not in SCHEDULES:
        raise ValueError(f"optimizer must be 'adamw' or 'sgd' and schedule 'onecycle' or "
                         f"'constant'; got {optimizer!r}, {schedule!r}")
    device = torch.device(device) if device is not None else pick_device()
    if device.type == "cpu":
        torch.set_num_threads(cpu_threads())
    images, labels = _tensors(train_data, "train_data")
    if val_data is not None:
        _tensors(val_data, "val_data")
    if augment and (images.dtype != torch.uint8):
        raise ValueError(f"augment={augment} works on uint8 images (N, C, H, W); these inputs are "
                         f"{images.dtype} of shape {tuple(images.shape)}: pass augment=()")
    images, labels = images.to(device), labels.to(device)  # the whole set lives on the device
    if images.dtype == torch.uint8:  # stored channels-last once (1 byte a value), so that each batch
        images = images.contiguous(memory_format=torch.channels_last)  # is scaled straight into it
    n = images.shape[0]
    # batches of an epoch, and the examples they hold (a shard drops a last batch too small to share)
    steps_per_epoch, seen = shard.plan(n, batch_size) if shard is not None else (-(-n // batch_size), n)
    own_seed = shard.seed(seed) if shard is not None else seed
    set_seed(own_seed)
    generator = torch.Generator(device=device).manual_seed(seed)  # the data order: the same in every process
    augmenter = generator if own_seed == seed else torch.Generator(device=device).manual_seed(own_seed)
    model.to(device)
    cuda = device.type == "cuda"
    # channels-last lets cuDNN and oneDNN pick faster convolution kernels: measured 1.1-1.4x per
    # training step on the book's 2-core CPU too, not only on GPUs (benchmarks/cifar_speed.py), and
    # 1.2-1.4x for LeNet-5's one-channel digits on one core (batch 128-256; benchmarks/README.md).
    # A one-channel batch is channels-last already, so it costs no copy there.
    if images.ndim == 4:
        model.to(memory_format=torch.channels_last)
    net = shard.wrap(model) if shard is not None else model  # DistributedDataParallel averages gradients
    opt = make_optimizer(model, optimizer, lr=lr, weight_decay=weight_decay, param_groups=param_groups)
    sched = make_schedule(opt, schedule, epochs * steps_per_epoch)
    if amp not in (None, True, False):
        raise ValueError(f"amp must be None (automatic), True or False; got {amp!r}")
    dtype = amp_dtype(device) if amp is None else (mixed_dtype(device) if amp else None)
    scaler = torch.amp.GradScaler(device.type) if dtype == torch.float16 else None

    history = History(settings=dict(epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
                                    optimizer=optimizer, schedule=schedule, augment=list(augment),
                                    label_smoothing=label_smoothing, device=str(device), seed=seed,
                                    train_size=n, threads=torch.get_num_threads(),
                                    amp=str(dtype).removeprefix("torch.") if dtype else "float32"))
    if shard is not None:
        history.settings.update(shard.settings(batch_size))
    progress = progress and (shard is None or shard.rank == 0)
    elapsed = 0.0
    bar = tqdm(total=epochs * steps_per_epoch, desc="training", unit="batch", disable=not progress,
               leave=False)
    for epoch in range(1, epochs + 1):
        net.train()
        start = time.perf_counter()
        order = torch.randperm(n, generator=generator, device=device)
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.long)
        for step in range(steps_per_epoch):
            idx, share = order[step * batch_size:(step + 1) * batch_size], 1.0
            if shard is not None:  # this process's rows, and their weight in the batch's mean loss
                idx, share = shard.split(idx)
            x = _prepare(images[idx])
            if augment:
                x = augment_batch(x, augment, augmenter).contiguous(memory_format=torch.channels_last)
            y = labels[idx]
            with _autocast(device, dtype):
                logits = net(x)
                loss = F.cross_entropy(logits.float(), y, label_smoothing=label_smoothing)
            opt.zero_grad(set_to_none=True)
            weighted = loss if share == 1.0 else loss * share
            if scaler is not None:  # float16: scale the loss so small gradients do not underflow
                scaler.scale(weighted).backward()
                scaler.step(opt)
                scaler.update()
            else:
                weighted.backward()
                opt.step()
            if sched is not None:
                sched.step()
            loss_sum += loss.detach() * len(idx)  # summed on the device: no per-step .item()
            correct += (logits.argmax(1) == y).sum()
            bar.update()  # a counter only: the loss is shown once per epoch, read back then anyway
        if shard is not None:  # every process's sums, the same numbers in each
            loss_sum, correct = shard.sum(loss_sum), shard.sum(correct)
        if cuda:
            torch.cuda.synchronize()
        elapsed += time.perf_counter() - start
        history.epoch.append(epoch)
        history.train_loss.append(loss_sum.item() / seen)
        history.train_acc.append(correct.item() / (labels.numel() // n * seen))  # per example, or per pixel
        history.seconds.append(round(elapsed, 3))
        shown = dict(epoch=epoch, loss=f"{history.train_loss[-1]:.3f}", acc=f"{history.train_acc[-1]:.3f}")
        if val_data is not None:
            result = (evaluate if shard is None else shard.evaluate)(model, val_data, device=device)
            history.val_loss.append(result["loss"])
            history.val_acc.append(result["accuracy"])
            shown["val_acc"] = f"{result['accuracy']:.3f}"
        if progress:
            bar.set_postfix(shown)
    bar.close()
    return history


@torch.no_grad()
def _logits(model: nn.Module, images: torch.Tensor, device: torch.device, batch_size: int) -> torch.Tensor:
    model.eval().to(device)
    out = []
    for start in range(0, images.shape[0], batch_size):
        x = _prepare(images[start:start + batch_size].to(device))
        with _autocast(device, None):  # float32, even inside a caller's autocast region
            out.append(model(x).float())  # the same metrics on every device
    return torch.cat(out) if out else torch.empty(0)


def evaluate(model: nn.Module, data, *, batch_size: int | None = None, device=None) -> dict[str, float]:
    """Accuracy and mean cross-entropy loss of ``model`` on ``data`` (eval mode, no gradients), in
    batches of ``batch_size`` images (default: :func:`eval_batch_size` of the device)."""
    device = torch.device(device) if device is not None else next(model.parameters()).device
    images, labels = _tensors(data, "data")
    logits = _logits(model, images, device, eval_batch_size(device) if batch_size is None else batch_size)
    labels = labels.to(logits.device)
    return {"accuracy": (logits.argmax(1) == labels).float().mean().item(),
            "loss": F.cross_entropy(logits, labels).item()}


def predict(model: nn.Module, data, *, batch_size: int | None = None, device=None,
            probabilities: bool = False) -> torch.Tensor:
    """Predicted class per example (or per pixel), or with ``probabilities=True`` the softmax.

    ``data`` may be a Dataset, an ``(inputs, labels)`` pair, a uint8 image tensor ``(N, C, H, W)``
    or a float tensor ``(N, C, ...)``.
    """
    device = torch.device(device) if device is not None else next(model.parameters()).device
    images = data if isinstance(data, torch.Tensor) else _tensors(data, "data")[0]
    if not ((images.ndim == 4 and images.dtype == torch.uint8) or (images.is_floating_point() and images.ndim >= 3)):
        raise ValueError(f"inputs must be uint8 images (N, C, H, W) or a float tensor (N, C, ...); got "
                         f"{images.dtype} {tuple(images.shape)}")
    logits = _logits(model, images, device, eval_batch_size(device) if batch_size is None else batch_size).cpu()
    return logits.softmax(1) if probabilities else logits.argmax(1)
