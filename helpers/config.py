"""Where the book reads data from and how much work it does: one place for both settings.

* ``CNN_BOOK_DATA``: the data folder (default: ``~/.cache/cnn-book``).
* ``CNN_BOOK_MODE``: ``full`` (the default; what the committed outputs come from) or ``quick``
  (small subsets and few epochs; what the tests use).
"""

from __future__ import annotations

import os
from pathlib import Path

RUN_MODES = ("full", "quick")

__all__ = ["RUN_MODES", "data_root", "display_path", "mode", "is_quick", "describe"]


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The folder data sets are read from and downloaded to.

    Args:
        root: an explicit folder; wins over everything else.

    Returns:
        ``root`` if given, else ``$CNN_BOOK_DATA`` if set, else ``~/.cache/cnn-book``
        (with ``~`` expanded). The folder is not created here.
    """
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get("CNN_BOOK_DATA", "").strip()
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "cnn-book"


def mode() -> str:
    """``"full"`` or ``"quick"``, from ``$CNN_BOOK_MODE`` (default ``"full"``).

    Raises:
        ValueError: for any other value, naming the ones allowed.
    """
    value = os.environ.get("CNN_BOOK_MODE", "full").strip().lower() or "full"
    if value not in RUN_MODES:
        raise ValueError(
            f"CNN_BOOK_MODE must be one of {RUN_MODES}; got {value!r}. "
            "Unset it for a full run, or set CNN_BOOK_MODE=quick for a fast one."
        )
    return value


def is_quick() -> bool:
    """True in quick mode (small subsets, few epochs)."""
    return mode() == "quick"


def display_path(path: str | os.PathLike) -> str:
    """``path`` as the book prints it, naming no machine's folders: relative to the data folder
    (``$CNN_BOOK_DATA/...`` when that variable is set, else ``~/.cache/cnn-book/...``), else to
    the home folder (``~/...``), else just as given."""
    path = Path(path).expanduser()
    root = data_root()
    label = "$CNN_BOOK_DATA" if os.environ.get("CNN_BOOK_DATA", "").strip() else "~/.cache/cnn-book"
    for base, name in ((root, label), (Path.home(), "~")):
        try:
            rel = path.resolve().relative_to(base.resolve()).as_posix()
        except (ValueError, OSError):
            continue
        return name if rel == "." else f"{name}/{rel}"
    return str(path)


def describe() -> str:
    """One line saying which mode the notebook runs in and where its data lives."""
    return f"mode: {mode()} | data folder: {display_path(data_root())}"
