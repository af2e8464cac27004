"""ImageNet-pre-trained torchvision models, with a clear message when the weights cannot be had.

``pretrained("resnet18")`` is ``torchvision.models.get_model("resnet18", weights="DEFAULT")``:
torchvision downloads the weights once into torch's cache (``$TORCH_HOME/hub/checkpoints``, by
default ``~/.cache/torch/hub/checkpoints``) and reads them from there afterwards, offline too.
When the file is not there and cannot be downloaded (no network, a proxy, a firewall), or is there
but damaged, it raises :class:`WeightsUnavailableError`: one message saying which file was
needed, from where, where torch looks for it, and three ways out -- not a chain of tracebacks.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
import torch
from torch import nn

__all__ = ["WeightsUnavailableError", "classification_models", "weights_file", "pretrained"]


class WeightsUnavailableError(RuntimeError):
    """Pre-trained weights are neither in torch's cache nor downloadable (or the file is damaged)."""


def classification_models() -> list[str]:
    """The names of torchvision's image-classification models (``"resnet18"``, ``"vgg16"``, ...)."""
    import torchvision.models as tvm

    return tvm.list_models(module=tvm)


def _default_weights(name: str):
    import torchvision.models as tvm

    if not isinstance(name, str):
        raise TypeError(f"name must be a str such as 'resnet18'; got {type(name).__name__}")
    names = classification_models()
    if name not in names:
        close = difflib.get_close_matches(name.lower(), names, n=4, cutoff=0.5)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"name must be one of torchvision's classification models "
                         f"(helpers.training.pretrained.classification_models()); got {name!r}.{hint}")
    return tvm.get_model_weights(name).DEFAULT


def weights_file(name: str) -> Path:
    """Where torch keeps (or would keep) the default weights of the model ``name``.

    ``<torch.hub.get_dir()>/checkpoints/<file name of the weights' URL>``: ``$TORCH_HOME/hub/...``
    if ``TORCH_HOME`` is set, else ``~/.cache/torch/hub/checkpoints/...``.
    """
    weights = _default_weights(name)
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(weights.url)


def pretrained(name: str, *, progress: bool = False) -> nn.Module:
    """torchvision's model ``name`` with its default ImageNet weights (``weights="DEFAULT"``).

    Args:
        name: a torchvision classification model, e.g. ``"resnet18"``, ``"vgg16"``,
            ``"mobilenet_v3_small"``, ``"efficientnet_b0"``.
        progress: show torchvision's download progress bar.

    Returns:
        The model in eval mode, mapping ``(N, 3, H, W)`` images normalised as its weights expect
        (``weights.transforms()``) to ``(N, 1000)`` ImageNet logits.

    Raises:
        TypeError / ValueError: ``name`` is not one of :func:`classification_models` (the message
            suggests close names).
        WeightsUnavailableError: the weights file is not in torch's cache and the download
            failed, or the cached file is damaged; raised without the chain of underlying errors
            (the message names the underlying error).
    """
    import torchvision.models as tvm

    weights = _default_weights(name)
    path = weights_file(name)
    try:
        model = tvm.get_model(name, weights=weights, progress=progress)
    except Exception as exc:  # URLError, HTTPError, hash mismatch, unreadable file, disk full...
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
        if path.is_file():
            what = (f"The file {path} is there but could not be read ({reason}): it is damaged or "
                    f"incomplete. Delete it and run again (online), or copy a good one there.")
        else:
            what = (f"They are not in torch's cache ({path} does not exist) and the download from "
                    f"{weights.url} failed ({reason}).")
        raise WeightsUnavailableError(
            f"Could not load the pre-trained weights {weights} of {name}. {what}\n"
            f"Ways out:\n"
            f"  1. Connect to the internet and run again: torchvision downloads them once "
            f"({weights.meta.get('_file_size', 0):.0f} MB) and reads them from the cache after that.\n"
            f"  2. On a machine that is online, download {weights.url} and copy the file to {path} "
            f"(or set TORCH_HOME to a folder that has hub/checkpoints/{path.name}).\n"
            f"  3. Do without ImageNet: build the model with weights=None, or start from a model "
            f"trained in this book (checkpoints/)."
        ) from None
    return model.eval()
