"""Saving and loading trained weights with their metadata, and finding the book's checkpoints.

The checkpoints the chapters pass on to later chapters (:data:`SHIPPED`) are installed with the
package, so a notebook opened alone (in Colab, say) finds them. A reader's own full run saves to
:func:`checkpoints_folder` and says so; it never overwrites the shipped files.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from helpers.config import data_root

__all__ = ["SHIPPED", "save_checkpoint", "load_checkpoint", "shipped_folder", "checkpoints_folder", "show_path",
           "find_checkpoint", "save_run", "load_or_train"]


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
        raise ValueError(f"{path} was not written by helpers.training.checkpoints.save_checkpoint")
    if saved["model"] != type(model).__name__:
        raise ValueError(f"{path} holds a {saved['model']}, not a {type(model).__name__}")
    try:
        model.load_state_dict(saved["state_dict"])
    except RuntimeError as exc:
        raise ValueError(f"{path} does not fit this {type(model).__name__}: "
                         f"{str(exc).splitlines()[0]}") from None
    return saved["metadata"]


#: the checkpoints that ship with the package (``helpers/checkpoints/``), made by the chapters' full runs
SHIPPED = {
    "lenet5_mnist": "LeNet-5 trained on MNIST (Chapter 06)",
    "cifar_cnn": "the lecture's CIFAR-10 CNN, trained with augmentation (Chapter 07)",
    "cifar_cnn_noaug": "the same CNN trained without augmentation (Chapter 07)",
    "cifar_animals_cnn": "a BatchNorm CNN pre-trained on CIFAR-10's six animal classes (an earlier Chapter 09; kept for readers who load it)",
}


def shipped_folder() -> Path:
    """The folder of the checkpoints installed with the package (read-only for readers)."""
    return Path(__file__).resolve().parent.parent / "checkpoints"


def checkpoints_folder() -> Path:
    """Where *this reader's* runs save checkpoints: ``$CNN_BOOK_CHECKPOINTS`` if set, else
    ``<data folder>/checkpoints`` (``~/.cache/cnn-book/checkpoints`` by default). A reader's run
    never writes into the package; the book's own full runs (``make execute``) point
    ``CNN_BOOK_CHECKPOINTS`` at the package's folder on purpose."""
    env = os.environ.get("CNN_BOOK_CHECKPOINTS", "").strip()
    return Path(env).expanduser() if env else data_root() / "checkpoints"


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not name or "/" in name or "\\" in name or name.endswith(".pt"):
        raise ValueError(f"a checkpoint name is a plain name such as 'cifar_cnn' (no folder, no .pt); "
                         f"got {name!r}")
    return name


def show_path(path: str | os.PathLike) -> str:
    """``path`` as the book prints it: relative to the folder it lies in, never a machine path."""
    path = Path(path).resolve()
    places = [(shipped_folder(), "helpers/checkpoints")]
    if os.environ.get("CNN_BOOK_CHECKPOINTS", "").strip():
        places.append((checkpoints_folder(), "$CNN_BOOK_CHECKPOINTS"))
    places.append((data_root(), "$CNN_BOOK_DATA" if os.environ.get("CNN_BOOK_DATA", "").strip()
                   else "~/.cache/cnn-book"))
    for folder, label in places:
        try:
            return f"{label}/{path.relative_to(folder.resolve()).as_posix()}"
        except ValueError:
            continue
    return path.name


def find_checkpoint(name: str) -> Path | None:
    """The checkpoint ``name``: the reader's own run (:func:`checkpoints_folder`) if there is one,
    else the one shipped with the package, else ``None``."""
    filename = _check_name(name) + ".pt"
    for folder in (checkpoints_folder(), shipped_folder()):
        if (folder / filename).is_file():
            return folder / filename
    return None


def save_run(name: str, model: nn.Module, **metadata) -> Path:
    """Save a chapter's trained model as checkpoint ``name`` in :func:`checkpoints_folder`, print
    where (and that later chapters now load it instead of the shipped one), and return the path."""
    path = save_checkpoint(checkpoints_folder() / (_check_name(name) + ".pt"), model, **metadata)
    print(f"saved {show_path(path)} ({path.stat().st_size / 1024:.0f} KB); later chapters load it "
          "from there")
    return path


def load_or_train(name: str, model: nn.Module, train: Callable[[nn.Module], str] | None = None) -> dict:
    """Load checkpoint ``name`` into ``model`` (see :func:`find_checkpoint`), or train a stand-in.

    Args:
        name: a checkpoint name, e.g. ``"cifar_cnn"`` (:data:`SHIPPED` lists the book's).
        model: the architecture the checkpoint was saved from; its weights are replaced.
        train: called as ``train(model)`` when no checkpoint exists, to train a stand-in in place;
            returns one line saying what it did. Without it, a missing checkpoint is an error.

    Returns:
        The checkpoint's metadata, with ``"loaded_from"`` (where, as :func:`show_path` prints it);
        for a stand-in ``{"stand_in": <what train returned>}``. Prints one line either way.
    """
    path = find_checkpoint(name)
    if path is not None:
        metadata = dict(load_checkpoint(path, model), loaded_from=show_path(path))
        print(f"loaded {metadata['loaded_from']}: {metadata.get('data_source', '(source not recorded)')}")
        return metadata
    if train is None:
        raise FileNotFoundError(
            f"no checkpoint {name!r}: not in {show_path(checkpoints_folder())} (your own runs) nor among "
            f"the ones shipped with the package ({', '.join(SHIPPED)}). Run the chapter that trains it in "
            "full mode, or reinstall the package (pip install --force-reinstall cnn-book).")
    done = train(model)
    print(f"STAND-IN: no checkpoint {name!r} was found, so {done}")
    return {"stand_in": done}
