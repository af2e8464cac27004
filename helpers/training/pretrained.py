"""ImageNet-pre-trained torchvision models, loaded the way a reader gets them, and their frozen features.

``pretrained("squeezenet1_1")`` returns torchvision's model with ImageNet weights, taken from the
first of these places that has them:

1. ``path=...``, a weights file you name (a ``state_dict`` saved with ``torch.save``);
2. ``<data folder>/weights/<name>.pth`` (e.g. ``$CNN_BOOK_DATA/weights/squeezenet1_1.pth``), a
   file you copied there, say from a machine that is online;
3. torchvision's own weights (``weights="DEFAULT"``): read from torch's cache
   (``$TORCH_HOME/hub/checkpoints``, by default ``~/.cache/torch/hub/checkpoints``) or, the first
   time, downloaded into it (``download=False`` never tries the network).

It prints, and stores as ``model.weights_source``, which weights it loaded. When none of the three
works it raises :class:`WeightsUnavailableError`: one message naming the model, every place it
looked and the ways out -- no chain of tracebacks. ``stand_in=True`` (quick mode, the tests)
returns a randomly initialised model with a banner instead of raising.

:func:`frozen_features` runs a frozen body once over a set of inputs (feature extraction computes
the features once, not every epoch).
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
import torch
from torch import nn
from helpers.config import data_root, display_path

__all__ = ["WeightsUnavailableError", "classification_models", "weights_file", "local_weights_file",
           "pretrained", "frozen_features"]


class WeightsUnavailableError(RuntimeError):
    """No usable pre-trained weights: no local file, not in torch's cache, no download (or a damaged file)."""


def classification_models() -> list[str]:
    """The names of torchvision's image-classification models (``"resnet18"``, ``"vgg16"``, ...)."""
    import torchvision.models as tvm

    return tvm.list_models(module=tvm)


def _default_weights(name: str):
    import torchvision.models as tvm

    if not isinstance(name, str):
        raise TypeError(f"name must be a str such as 'squeezenet1_1'; got {type(name).__name__}")
    names = classification_models()
    if name not in names:
        close = difflib.get_close_matches(name.lower(), names, n=4, cutoff=0.5)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"name must be one of torchvision's classification models "
                         f"(classification_models()); got {name!r}.{hint}")
    return tvm.get_model_weights(name).DEFAULT


def weights_file(name: str) -> Path:
    """Where torch keeps (or would keep) torchvision's default weights of the model ``name``:
    ``<torch.hub.get_dir()>/checkpoints/<file name of the weights' URL>``."""
    weights = _default_weights(name)
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(weights.url)


def local_weights_file(name: str, root: str | os.PathLike | None = None) -> Path:
    """Where the book looks for a weights file you provide: ``<data folder>/weights/<name>.pth``
    (data folder: :func:`helpers.config.data_root`, i.e. ``$CNN_BOOK_DATA`` or ``~/.cache/cnn-book``)."""
    _default_weights(name)  # checks the name
    return data_root(root) / "weights" / f"{name}.pth"


def _state_dict_from(file: Path) -> dict:
    """The ``state_dict`` in ``file``: saved as is, or under ``"state_dict"`` / ``"model"``."""
    state = torch.load(file, map_location="cpu", weights_only=True)
    if isinstance(state, dict):
        for key in ("state_dict", "model"):
            if isinstance(state.get(key), dict):
                state = state[key]
                break
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError("it holds no state_dict (a dict of tensors)")
    return {k.removeprefix("module."): v for k, v in state.items()}


def _from_file(name: str, file: Path) -> nn.Module:
    """torchvision's ``name`` built with 1,000 classes and the weights of ``file`` (strict)."""
    import torchvision.models as tvm

    try:
        state = _state_dict_from(file)
    except Exception as exc:  # unpickling error, truncated file, not a state_dict...
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
        raise WeightsUnavailableError(
            f"The weights file {display_path(file)} for {name} is there but could not be read "
            f"({reason}). It is damaged or not a state_dict: delete it, or copy a good one there."
        ) from None
    model = tvm.get_model(name, weights=None)
    result = model.load_state_dict(state, strict=False)
    wrong = [k for k, v in state.items() if k in model.state_dict() and v.shape != model.state_dict()[k].shape]
    if result.missing_keys or result.unexpected_keys or wrong:
        raise WeightsUnavailableError(
            f"The weights file {display_path(file)} does not fit torchvision's {name}: "
            f"{len(result.missing_keys)} tensors missing (e.g. {result.missing_keys[:2]}), "
            f"{len(result.unexpected_keys)} unexpected (e.g. {result.unexpected_keys[:2]}), "
            f"{len(wrong)} of the wrong shape. It holds the weights of another architecture: save "
            f"torchvision.models.{name}(...).state_dict() there, or pass the right name."
        ) from None
    return model


def pretrained(name: str, *, path: str | os.PathLike | None = None, download: bool = True,
               stand_in: bool = False, verbose: bool = True, progress: bool = False) -> nn.Module:
    """torchvision's model ``name`` with ImageNet weights (1,000 classes), in eval mode.

    Args:
        name: a torchvision classification model, e.g. ``"squeezenet1_1"``, ``"resnet18"``.
        path: a weights file to use (a ``state_dict`` of torchvision's ``name``); when given,
            nothing else is tried.
        download: let torchvision download its weights when they are not in torch's cache.
        stand_in: when no weights can be had, return a randomly initialised model with a banner
            (``model.weights_source`` starts with ``"STAND-IN"``) instead of raising.
        verbose: print one line saying which weights were loaded.
        progress: show torchvision's download progress bar.

    Returns:
        The model, mapping ``(N, 3, H, W)`` images normalised as ImageNet's
        (``helpers.data.imagenet``) to ``(N, 1000)`` logits. ``model.weights_source`` says which
        weights it holds.

    Raises:
        TypeError / ValueError: ``name`` is not one of :func:`classification_models`.
        WeightsUnavailableError: no weights anywhere (the message lists where it looked and the
            ways out), or a file that is damaged or belongs to another architecture.
    """
    import torchvision.models as tvm

    weights = _default_weights(name)
    if path is not None:
        file = Path(path).expanduser()
        if not file.is_file():
            raise WeightsUnavailableError(
                f"No weights file for {name} at {display_path(file)} (the path you passed). Pass the "
                f"path of a state_dict saved with torch.save, or leave path out to use "
                f"{display_path(local_weights_file(name))} or torchvision's own weights.")
        return _done(_from_file(name, file), f"the file {display_path(file)}", verbose)
    local = local_weights_file(name)
    if local.is_file():
        return _done(_from_file(name, local), f"the file {display_path(local)}", verbose)
    cached = weights_file(name)
    tried = f"not in torch's cache ({display_path(cached)} does not exist)"
    if cached.is_file() or download:
        try:
            model = tvm.get_model(name, weights=weights, progress=progress)
        except Exception as exc:  # URLError, HTTPError, hash mismatch, unreadable file, disk full...
            reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
            if cached.is_file():
                tried = (f"in torch's cache at {display_path(cached)} but unreadable ({reason}): "
                         "delete that file")
            else:
                tried += f", and the download from {weights.url} failed ({reason})"
        else:
            where = "torch's cache" if cached.is_file() else "downloaded into torch's cache"
            return _done(model, f"torchvision's {weights} ({where}, {display_path(cached)})", verbose)
    else:
        tried += "; download=False, so no download was tried"
    if stand_in:
        model = tvm.get_model(name, weights=None)
        print(f"⚠ STAND-IN WEIGHTS: no ImageNet weights for {name} on this machine, so this is a "
              "randomly initialised model: its predictions and maps mean nothing. Put the weights in "
              f"{display_path(local)} (or go online) and run in full mode.")
        return _done(model, "STAND-IN: random initialisation, not ImageNet weights", False)
    raise WeightsUnavailableError(
        f"No ImageNet weights for {name}. Looked in:\n"
        f"  1. the data folder: {display_path(local)} does not exist;\n"
        f"  2. torchvision's {weights}: {tried}.\n"
        f"Ways out:\n"
        f"  a. Copy a weights file (a state_dict of torchvision.models.{name}) to "
        f"{display_path(local)} -- the data folder is $CNN_BOOK_DATA, else ~/.cache/cnn-book -- "
        f"or pass its location: pretrained({name!r}, path=...).\n"
        f"  b. Connect to the internet and run again: torchvision downloads its weights once "
        f"({weights.meta.get('_file_size', 0):.0f} MB) into torch's cache and reads them from there "
        f"afterwards (TORCH_HOME moves that cache).\n"
        f"  c. Do without ImageNet: torchvision.models.{name}(weights=None) trains from scratch."
    ) from None


def _done(model: nn.Module, source: str, verbose: bool) -> nn.Module:
    model.weights_source = source
    if verbose:
        print(f"ImageNet weights: {source}")
    return model.eval()


@torch.no_grad()
def frozen_features(body: nn.Module, inputs: torch.Tensor, *, batch_size: int = 64,
                    device: torch.device | str | None = None) -> torch.Tensor:
    """What a frozen ``body`` makes of ``inputs``, computed once (eval mode, no gradients).

    Args:
        body: the frozen part of a network (e.g. ``model.features``).
        inputs: float ``(N, C, H, W)`` as the body takes them.
        batch_size: inputs per forward pass.
        device: where to compute; default the body's device.

    Returns:
        float ``(N, ...)`` on the CPU: the body's output for every input, in order.
    """
    if not isinstance(inputs, torch.Tensor) or not inputs.is_floating_point() or inputs.ndim < 2:
        raise TypeError(f"inputs must be a float tensor (N, C, ...); got "
                        f"{inputs.dtype if isinstance(inputs, torch.Tensor) else type(inputs).__name__}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int; got {batch_size!r}")
    param = next(body.parameters(), None)
    device = torch.device(device) if device is not None else (param.device if param is not None
                                                              else torch.device("cpu"))
    modes = [(m, m.training) for m in body.modules()]
    body.eval().to(device)
    try:
        out = [body(inputs[i:i + batch_size].to(device)).float().cpu()
               for i in range(0, len(inputs), batch_size)]
    finally:
        for m, training in modes:
            m.training = training
    return torch.cat(out) if out else torch.empty(0)
