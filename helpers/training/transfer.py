"""Transfer learning (Part VIII): swap a network's head and choose what trains.

``prepare(model, num_classes, mode)`` works on every torchvision classification family -- ResNet,
ResNeXt, Wide ResNet, VGG, AlexNet, MobileNet v2/v3, EfficientNet v1/v2, DenseNet, ConvNeXt,
RegNet, ShuffleNet v2, SqueezeNet, MNASNet, GoogLeNet, Inception v3, ViT, Swin v1/v2, MaxViT --
and on the book's own ``LeNet5``, ``CifarCNN`` and ``MLP``:

1. :func:`find_head` finds the classifier's last ``nn.Linear`` (through the attributes ``fc``,
   ``classifier``, ``head``, ``heads``, or ``net`` for the book's ``MLP``), or SqueezeNet's last
   1x1 ``nn.Conv2d`` in ``classifier``;
2. it is replaced, in place, by a new layer of the same kind with ``num_classes`` outputs
   (auxiliary classifiers of GoogLeNet and Inception v3 are removed, as torchvision does when it
   loads their pre-trained weights);
3. ``"feature_extraction"`` freezes everything but the new head; ``"fine_tuning"`` also unfreezes
   the body (all of it, the last ``unfreeze`` blocks of :func:`blocks`, or named modules), which
   gets a learning rate ``head_lr_factor`` times smaller than the head's;
4. BatchNorm layers whose weights are frozen are made to normalise with their stored statistics
   in training mode too, and never to update them (``freeze_batchnorm=True``, Keras's rule).

Typical use::

    model = torchvision.models.resnet18(weights=...)
    model, groups, report = prepare(model, 5, "fine_tuning", unfreeze=1, lr=1e-3)
    optimizer = torch.optim.SGD(groups, lr=1e-3, momentum=0.9)
    print(report)
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence
import torch
import torch.nn.functional as F
from torch import nn
from helpers.scratch.shapes import count_params
from helpers.training.heads import body_blocks, drop_aux_classifiers, find_head, new_head

__all__ = ["TRANSFER_MODES", "Prepared", "FrozenStatsBatchNorm2d", "prepare"]


TRANSFER_MODES = ("feature_extraction", "fine_tuning")


_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.LayerNorm, nn.GroupNorm)


class Prepared(NamedTuple):
    """What :func:`prepare` returns; unpacks as ``model, param_groups, report``.

    Attributes:
        model: the same module, changed in place (new head, ``requires_grad`` set).
        param_groups: list of dicts for a ``torch.optim`` optimiser. Each has ``"name"``
            (``"head"`` or ``"body"``), ``"params"`` (the trainable parameters only),
            ``"lr_factor"`` (1.0 for the head, ``1 / head_lr_factor`` for the body) and, when
            ``prepare`` was given ``lr``, ``"lr" = lr * lr_factor``. A group with no parameters
            is left out.
        report: one line, e.g. ``"feature extraction: 5,130 of 11,181,642 parameters train
            (the new head); 11,176,512 frozen; 20 frozen BatchNorm layers keep their statistics"``.
    """

    model: nn.Module
    param_groups: list[dict]
    report: str


class FrozenStatsBatchNorm2d(nn.BatchNorm2d):
    """A ``BatchNorm2d`` that always normalises with its stored running mean and variance.

    In ``train()`` mode too (where ``nn.BatchNorm2d`` would use the batch's statistics and update
    its running ones), so a frozen body computes exactly what it computed on the source task.
    Same parameters, buffers and ``state_dict`` keys as ``nn.BatchNorm2d``.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, C, H, W)
        self._check_input_dim(x)
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            training=False, momentum=0.0, eps=self.eps)


def _check_num_classes(num_classes: object) -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, int):
        raise TypeError(f"num_classes must be an int; got {type(num_classes).__name__}")
    if num_classes < 1:
        raise ValueError(f"num_classes must be at least 1; got {num_classes}")
    return num_classes


def _check_positive(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number; got {type(value).__name__}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number; got {value}")
    return float(value)


def _norm_only(module: nn.Module) -> bool:
    """True if every layer of ``module`` that holds parameters is a normalisation layer."""
    holders = [m for m in module.modules() if any(True for _ in m.parameters(recurse=False))]
    return bool(holders) and all(isinstance(m, _NORMS) for m in holders)


def _unfrozen_modules(model: nn.Module, unfreeze: int | Sequence[str] | None) -> list[str] | None:
    """Names of the modules to unfreeze; None means the whole body."""
    if unfreeze is None:
        return None
    if isinstance(unfreeze, int) and not isinstance(unfreeze, bool):
        units: list[list[str]] = []  # a normalisation layer on its own goes with the block before it
        for name in body_blocks(model):
            if units and _norm_only(model.get_submodule(name)):
                units[-1].append(name)
            else:
                units.append([name])
        if not 0 <= unfreeze <= len(units):
            raise ValueError(
                f"unfreeze must be between 0 and {len(units)} (the blocks of "
                f"{type(model).__name__}: {'; '.join(' + '.join(u) for u in units)}); got {unfreeze}"
            )
        return [name for unit in units[len(units) - unfreeze:] for name in unit]
    if isinstance(unfreeze, str) or not isinstance(unfreeze, (list, tuple)) or not all(
        isinstance(n, str) for n in unfreeze
    ):
        raise TypeError(
            f"unfreeze must be None, an int (number of last blocks) or a list of module names; "
            f"got {unfreeze!r}"
        )
    known = dict(model.named_modules())
    missing = [n for n in unfreeze if n == "" or n not in known]
    if missing:
        raise ValueError(
            f"unfreeze names modules that {type(model).__name__} does not have: {missing}; "
            f"its blocks are {', '.join(body_blocks(model))}"
        )
    return list(unfreeze)


def _freeze_batchnorm(model: nn.Module) -> int:
    """Swap every BatchNorm2d with no trainable parameter for a FrozenStatsBatchNorm2d; count them."""
    swapped = 0
    for name, bn in list(model.named_modules()):
        if type(bn) is not nn.BatchNorm2d or not bn.track_running_stats or any(
                p.requires_grad for p in bn.parameters()):
            continue
        new = FrozenStatsBatchNorm2d(bn.num_features, bn.eps, bn.momentum, affine=bn.affine,
                                     device="meta")
        for key, value in {**dict(bn.named_parameters()), **dict(bn.named_buffers())}.items():
            setattr(new, key, value)  # the very same tensors: nothing is copied
        new.train(bn.training)
        model.set_submodule(name, new)
        swapped += 1
    return swapped


def prepare(
    model: nn.Module,
    num_classes: int,
    mode: str,
    *,
    unfreeze: int | Sequence[str] | None = None,
    head_lr_factor: float = 10.0,
    lr: float | None = None,
    freeze_batchnorm: bool = True,
) -> Prepared:
    """Replace the head with a new one of ``num_classes`` outputs and set what trains.

    Args:
        model: a supported network (see :func:`find_head`); changed in place.
        num_classes: outputs of the new head; the model then maps ``(N, C, H, W)`` to
            ``(N, num_classes)``.
        mode: ``"feature_extraction"`` (only the new head trains) or ``"fine_tuning"`` (the new
            head and the chosen part of the body train).
        unfreeze: fine-tuning only. ``None``: the whole body; an int ``n``: the last ``n`` blocks
            of :func:`blocks` (0 = head only), a normalisation layer that stands alone in that
            list counting with the block before it (DenseNet's ``features.norm5``, ViT's
            ``encoder.ln``, ConvNeXt's ``classifier.0``, ResNet's ``bn1``); a list of dotted module names
            (``["layer4", "layer3.1"]``).
        head_lr_factor: the head's learning rate over the body's (> 0); the body group gets
            ``lr_factor = 1 / head_lr_factor``.
        lr: the head's learning rate; if given, every group gets ``"lr" = lr * lr_factor`` so the
            groups go to an optimiser as they are. Without it, set each group's ``"lr"`` from its
            ``"lr_factor"`` yourself.
        freeze_batchnorm: make every ``BatchNorm2d`` whose weights are frozen a
            :class:`FrozenStatsBatchNorm2d`, which normalises with its stored statistics in
            ``train()`` mode too and never updates them. With ``False``, such layers still use
            each batch's statistics during training and update their running ones: the frozen
            body then changes after all.

    Returns:
        :class:`Prepared` ``(model, param_groups, report)``.

    Raises:
        TypeError / ValueError: a bad ``model``, ``num_classes``, ``mode``, ``unfreeze``,
            ``head_lr_factor``, ``lr`` or ``freeze_batchnorm``; ValueError if no head is found.
            A failed call leaves the model as it was.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    num_classes = _check_num_classes(num_classes)
    if mode not in TRANSFER_MODES:
        raise ValueError(f"mode must be one of {TRANSFER_MODES}; got {mode!r}")
    head_lr_factor = _check_positive(head_lr_factor, "head_lr_factor")
    if lr is not None:
        lr = _check_positive(lr, "lr")
    if not isinstance(freeze_batchnorm, bool):
        raise TypeError(f"freeze_batchnorm must be True or False; got {freeze_batchnorm!r}")
    if mode == "feature_extraction" and unfreeze is not None:
        raise ValueError(
            f"unfreeze is for mode='fine_tuning'; got unfreeze={unfreeze!r} with "
            f"mode='feature_extraction' (which freezes the whole body)"
        )
    chosen = _unfrozen_modules(model, unfreeze) if mode == "fine_tuning" else []

    parent, name, old = find_head(model)
    new = new_head(old, num_classes)
    dropped = drop_aux_classifiers(model)
    setattr(parent, name, new)

    for p in model.parameters():
        p.requires_grad_(chosen is None)  # fine-tuning the whole body: everything trains
    for n in chosen or []:
        for p in model.get_submodule(n).parameters():
            p.requires_grad_(True)
    for p in new.parameters():
        p.requires_grad_(True)
    n_frozen_bn = _freeze_batchnorm(model) if freeze_batchnorm else 0

    head_ids = {id(p) for p in new.parameters()}
    body = [p for p in model.parameters() if p.requires_grad and id(p) not in head_ids]
    groups = [{"name": "head", "params": list(new.parameters()), "lr_factor": 1.0}]
    if body:
        groups.append({"name": "body", "params": body, "lr_factor": 1.0 / head_lr_factor})
    if lr is not None:
        for g in groups:
            g["lr"] = lr * g["lr_factor"]

    total = count_params(model, trainable_only=False)
    trainable = count_params(model)
    if mode == "feature_extraction" or not body:
        what = "the new head"
    else:
        part = "the whole body" if chosen is None else ", ".join(chosen)
        what = f"the new head + {part} at 1/{head_lr_factor:g} of the head's learning rate"
    report = (
        f"{mode.replace('_', ' ').replace('fine tuning', 'fine-tuning')}: {trainable:,} of "
        f"{total:,} parameters train ({what}); {total - trainable:,} frozen"
    )
    if n_frozen_bn:
        report += (f"; {n_frozen_bn} frozen BatchNorm layer{'s keep their' if n_frozen_bn > 1 else ' keeps its'} "
                   "statistics")
    if dropped:
        report += f"; auxiliary classifiers {', '.join(dropped)} removed"
    return Prepared(model, groups, report)
