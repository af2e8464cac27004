"""Finding a network's classifier head and the blocks of its body, in every torchvision classification family and the book's own models (used by :mod:`helpers.training.transfer`).
"""

from __future__ import annotations

from torch import nn

__all__ = ["HEAD_ATTRIBUTES", "find_head", "body_blocks", "drop_aux_classifiers", "new_head"]


#: where :func:`find_head` looks, in this order (``net`` is the book's ``MLP``)
HEAD_ATTRIBUTES = ("fc", "classifier", "head", "heads", "net")


#: auxiliary classifiers (GoogLeNet, Inception v3) that prepare removes
AUX_ATTRIBUTES = ("aux1", "aux2", "AuxLogits")


#: containers :func:`blocks` opens (features: VGG, MobileNet...; encoder.layers: ViT; blocks: MaxViT;
#: trunk_output: RegNet)
OPENED = ("features", "encoder", "layers", "blocks", "trunk_output")


SUPPORTED = ("torchvision ResNet, ResNeXt, Wide ResNet, VGG, AlexNet, MobileNet, EfficientNet, "
             "DenseNet, ConvNeXt, RegNet, ShuffleNet, SqueezeNet, MNASNet, GoogLeNet, Inception, ViT, "
             "Swin, MaxViT, and the book's LeNet5, CifarCNN, MLP")


def _head_path(model: nn.Module) -> tuple[nn.Module, str, nn.Module, str]:
    """(parent, attribute, head layer, dotted name of the head layer in ``model``)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    candidates: list[tuple[str, nn.Module]] = []
    if isinstance(model, nn.Sequential):  # e.g. helpers.models.mlp.mlp(...)
        candidates.append(("", model))
    candidates += [(a, getattr(model, a)) for a in HEAD_ATTRIBUTES
                   if isinstance(getattr(model, a, None), nn.Module)]
    for attr, module in candidates:
        if isinstance(module, nn.Linear):
            return model, attr, module, attr
        linears = [n for n, sub in module.named_modules() if isinstance(sub, nn.Linear)]
        with_params = [(n, sub) for n, sub in module.named_modules()
                       if n and any(True for _ in sub.parameters(recurse=False))]
        last = linears[-1] if linears else None
        if last is None and with_params and isinstance(with_params[-1][1], nn.Conv2d) \
                and with_params[-1][1].kernel_size == (1, 1):
            last = with_params[-1][0]  # SqueezeNet: a 1x1 convolution per class, then pooling
        if last is not None:
            *parents, leaf = last.split(".")
            parent = module.get_submodule(".".join(parents)) if parents else module
            dotted = f"{attr}.{last}" if attr else last
            return parent, leaf, getattr(parent, leaf), dotted
    raise ValueError(
        f"cannot find the classifier head of {type(model).__name__}: looked for an nn.Linear (or "
        f"a last 1x1 nn.Conv2d) as, or inside, the attributes {', '.join(HEAD_ATTRIBUTES)} (or "
        f"the model itself if it is an nn.Sequential); found none. Supported: {SUPPORTED}. For "
        f"another model, replace its last layer yourself and set requires_grad by hand"
    )


def find_head(model: nn.Module) -> tuple[nn.Module, str, nn.Module]:
    """Find the classifier head: the last ``nn.Linear`` reachable through a known attribute.

    Looks at ``model.fc``, ``model.classifier``, ``model.head``, ``model.heads``, ``model.net``
    (in that order; the model itself first if it is an ``nn.Sequential``): the first one that is,
    or contains, an ``nn.Linear`` gives its last ``nn.Linear``; one without any ``nn.Linear``
    whose last layer with parameters is a 1x1 ``nn.Conv2d`` (SqueezeNet) gives that convolution.

    Args:
        model: the network.

    Returns:
        ``(parent, name, layer)`` with ``getattr(parent, name) is layer``, so
        ``setattr(parent, name, new_layer)`` replaces the head (for ``nn.Sequential`` parents
        ``name`` is the index as a string, e.g. ``"6"``).

    Raises:
        TypeError: ``model`` is not an ``nn.Module``.
        ValueError: no head found (the message lists where it looked and what is supported).
    """
    parent, name, layer, _ = _head_path(model)
    return parent, name, layer


def _contains(module: nn.Module, target: nn.Module) -> bool:
    return any(m is target for m in module.modules())


def body_blocks(model: nn.Module) -> list[str]:
    """The body's blocks, input to output, as dotted module names (what ``unfreeze=n`` counts).

    The model's top-level children that have parameters, with the container of the head and
    the containers named ``features``, ``encoder``, ``layers``, ``blocks`` or ``trunk_output``
    (two levels deep at most) opened; the head and auxiliary classifiers (``aux1``, ``aux2``, ``AuxLogits``) are left
    out. Examples: ResNet ``[conv1, bn1, layer1, ..., layer4]``;
    VGG ``[features.0, ..., classifier.0, classifier.3]``; EfficientNet ``[features.0, ...,
    features.8]``; ViT ``[conv_proj, encoder.layers.encoder_layer_0, ..., encoder.ln]``.

    Parameters registered directly on an opened module (ViT's ``class_token`` and position
    embedding) belong to no block: they train only when the whole body does.
    """
    _, _, head, _ = _head_path(model)
    out: list[str] = []

    def walk(prefix: str, module: nn.Module, depth: int) -> None:
        for name, child in module.named_children():
            full = prefix + name
            if child is head or (depth == 0 and name in AUX_ATTRIBUTES):
                continue
            if _contains(child, head) or (depth <= 1 and name in OPENED
                                          and any(True for _ in child.children())):
                walk(full + ".", child, depth + 1)
            elif any(True for _ in child.parameters()):
                out.append(full)

    walk("", model, 0)
    return out


def new_head(old: nn.Module, num_classes: int) -> nn.Module:
    """A fresh layer like ``old`` (Linear, or SqueezeNet's 1x1 Conv2d) with ``num_classes`` outputs."""
    w = old.weight
    if isinstance(old, nn.Linear):
        return nn.Linear(old.in_features, num_classes, device=w.device, dtype=w.dtype)
    return nn.Conv2d(old.in_channels, num_classes, 1, device=w.device, dtype=w.dtype)


def drop_aux_classifiers(model: nn.Module) -> list[str]:
    """Remove GoogLeNet's / Inception v3's auxiliary classifiers, as torchvision does for weights."""
    dropped = [a for a in AUX_ATTRIBUTES if isinstance(getattr(model, a, None), nn.Module)]
    for a in dropped:
        setattr(model, a, None)
    if dropped and hasattr(model, "aux_logits"):
        model.aux_logits = False  # their forward then returns plain logits in training mode too
    return dropped
