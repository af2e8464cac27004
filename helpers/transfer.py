"""Transfer learning (Part VIII): swap a network's head and choose what trains.

``prepare(model, num_classes, mode)`` works on torchvision's ResNet, VGG, AlexNet, MobileNet v2/v3,
EfficientNet and DenseNet, and on the book's own ``LeNet5``, ``CifarCNN`` and ``MLP``:

1. :func:`find_head` finds the classifier's last ``nn.Linear`` (through the attributes ``fc``,
   ``classifier``, ``head``, ``heads``, or ``net`` for the book's ``MLP``);
2. it is replaced, in place, by a new ``nn.Linear(in_features, num_classes)``;
3. ``"feature_extraction"`` freezes everything but the new head; ``"fine_tuning"`` also unfreezes
   the body (all of it, the last ``unfreeze`` blocks of :func:`blocks`, or named modules), which
   gets a learning rate ``head_lr_factor`` times smaller than the head's.

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
from torch import nn

from helpers.shapes import count_params

__all__ = ["HEAD_ATTRIBUTES", "MODES", "Prepared", "blocks", "find_head", "prepare"]

#: where :func:`find_head` looks, in this order (``net`` is the book's ``MLP``)
HEAD_ATTRIBUTES = ("fc", "classifier", "head", "heads", "net")
MODES = ("feature_extraction", "fine_tuning")


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
            (the new head); 11,176,512 frozen"``.
    """

    model: nn.Module
    param_groups: list[dict]
    report: str


def _head_path(model: nn.Module) -> tuple[nn.Module, str, nn.Linear, str]:
    """(parent, attribute, linear, dotted name of the linear in ``model``)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    candidates: list[tuple[str, nn.Module]] = []
    if isinstance(model, nn.Sequential):  # e.g. helpers.mlp.mlp(...)
        candidates.append(("", model))
    candidates += [(a, getattr(model, a)) for a in HEAD_ATTRIBUTES
                   if isinstance(getattr(model, a, None), nn.Module)]
    for attr, module in candidates:
        if isinstance(module, nn.Linear):
            return model, attr, module, attr
        last = None
        for name, sub in module.named_modules():
            if isinstance(sub, nn.Linear):
                last = name
        if last is not None:
            *parents, leaf = last.split(".")
            parent = module.get_submodule(".".join(parents)) if parents else module
            dotted = f"{attr}.{last}" if attr else last
            return parent, leaf, getattr(parent, leaf), dotted
    raise ValueError(
        f"cannot find the classifier head of {type(model).__name__}: looked for an nn.Linear as, "
        f"or inside, the attributes {', '.join(HEAD_ATTRIBUTES)} (or the model itself if it is an "
        f"nn.Sequential); found none. Supported: torchvision ResNet, VGG, AlexNet, MobileNet, "
        f"EfficientNet, DenseNet and the book's LeNet5, CifarCNN, MLP"
    )


def find_head(model: nn.Module) -> tuple[nn.Module, str, nn.Linear]:
    """Find the classifier head: the last ``nn.Linear`` reachable through a known attribute.

    Looks at ``model.fc``, ``model.classifier``, ``model.head``, ``model.heads``, ``model.net``
    (in that order; the model itself first if it is an ``nn.Sequential``): the first one that is,
    or contains, an ``nn.Linear`` gives its last ``nn.Linear``.

    Args:
        model: the network.

    Returns:
        ``(parent, name, linear)`` with ``getattr(parent, name) is linear``, so
        ``setattr(parent, name, new_linear)`` replaces the head (for ``nn.Sequential`` parents
        ``name`` is the index as a string, e.g. ``"6"``).

    Raises:
        TypeError: ``model`` is not an ``nn.Module``.
        ValueError: none of those attributes holds an ``nn.Linear`` (the message lists them).
    """
    parent, name, linear, _ = _head_path(model)
    return parent, name, linear


def _contains(module: nn.Module, target: nn.Module) -> bool:
    return any(m is target for m in module.modules())


def blocks(model: nn.Module) -> list[str]:
    """The body's blocks, input to output, as dotted module names (what ``unfreeze=n`` counts).

    The model's top-level children that have parameters, with ``features`` (an
    ``nn.Sequential`` in VGG, AlexNet, MobileNet, EfficientNet, DenseNet and the book's CNNs) and
    the container of the head opened one level; the head itself is left out. Examples:
    ResNet ``[conv1, bn1, layer1, ..., layer4]``; VGG ``[features.0, ..., classifier.0,
    classifier.3]``; EfficientNet ``[features.0, ..., features.8]``.

    Parameters registered on the model itself (not in a child) belong to no block.
    """
    _, _, head, _ = _head_path(model)
    out: list[str] = []

    def walk(prefix: str, module: nn.Module, depth: int) -> None:
        for name, child in module.named_children():
            full = prefix + name
            if child is head:
                continue
            if _contains(child, head):
                walk(full + ".", child, depth + 1)
            elif depth == 0 and name == "features" and isinstance(child, nn.Sequential):
                walk(full + ".", child, depth + 1)
            elif any(True for _ in child.parameters()):
                out.append(full)

    walk("", model, 0)
    return out


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


def _unfrozen_modules(model: nn.Module, unfreeze: int | Sequence[str] | None) -> list[str] | None:
    """Names of the modules to unfreeze; None means the whole body."""
    if unfreeze is None:
        return None
    if isinstance(unfreeze, int) and not isinstance(unfreeze, bool):
        names = blocks(model)
        if not 0 <= unfreeze <= len(names):
            raise ValueError(
                f"unfreeze must be between 0 and {len(names)} (the blocks of "
                f"{type(model).__name__}: {', '.join(names)}); got {unfreeze}"
            )
        return names[len(names) - unfreeze:]
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
            f"its blocks are {', '.join(blocks(model))}"
        )
    return list(unfreeze)


def prepare(
    model: nn.Module,
    num_classes: int,
    mode: str,
    *,
    unfreeze: int | Sequence[str] | None = None,
    head_lr_factor: float = 10.0,
    lr: float | None = None,
) -> Prepared:
    """Replace the head with a new ``nn.Linear(in_features, num_classes)`` and set what trains.

    Args:
        model: a supported network (see :func:`find_head`); changed in place.
        num_classes: outputs of the new head; the model then maps ``(N, C, H, W)`` to
            ``(N, num_classes)``.
        mode: ``"feature_extraction"`` (only the new head trains) or ``"fine_tuning"`` (the new
            head and the chosen part of the body train).
        unfreeze: fine-tuning only. ``None``: the whole body; an int ``n``: the last ``n`` blocks
            of :func:`blocks` (0 = head only); a list of dotted module names
            (``["layer4", "layer3.1"]``).
        head_lr_factor: the head's learning rate over the body's (> 0); the body group gets
            ``lr_factor = 1 / head_lr_factor``.
        lr: the head's learning rate; if given, every group gets ``"lr" = lr * lr_factor`` so the
            groups go to an optimiser as they are. Without it, set each group's ``"lr"`` from its
            ``"lr_factor"`` yourself.

    Returns:
        :class:`Prepared` ``(model, param_groups, report)``.

    Raises:
        TypeError / ValueError: a bad ``model``, ``num_classes``, ``mode``, ``unfreeze``,
            ``head_lr_factor`` or ``lr``; ValueError if no head is found.

    Note: frozen BatchNorm layers still update their running statistics in ``train()`` mode;
    put them in ``eval()`` mode if the body must not change at all.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    num_classes = _check_num_classes(num_classes)
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}; got {mode!r}")
    head_lr_factor = _check_positive(head_lr_factor, "head_lr_factor")
    if lr is not None:
        lr = _check_positive(lr, "lr")
    if mode == "feature_extraction" and unfreeze is not None:
        raise ValueError(
            f"unfreeze is for mode='fine_tuning'; got unfreeze={unfreeze!r} with "
            f"mode='feature_extraction' (which freezes the whole body)"
        )
    chosen = _unfrozen_modules(model, unfreeze) if mode == "fine_tuning" else []

    parent, name, old = find_head(model)
    w = old.weight
    new = nn.Linear(old.in_features, num_classes, device=w.device, dtype=w.dtype)
    setattr(parent, name, new)

    for p in model.parameters():
        p.requires_grad_(False)
    if chosen is None:  # fine-tuning, whole body
        for p in model.parameters():
            p.requires_grad_(True)
    else:
        for n in chosen:
            for p in model.get_submodule(n).parameters():
                p.requires_grad_(True)
    for p in new.parameters():
        p.requires_grad_(True)

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
    return Prepared(model, groups, report)
