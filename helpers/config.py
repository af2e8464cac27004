"""Where the book reads data from and how much work it does: one place for both settings.

* ``CNN_BOOK_DATA``: the data folder (default: ``~/.cache/cnn-book``).
* ``CNN_BOOK_MODE``: ``full`` (the default; what the committed outputs come from) or ``quick``
  (small subsets and few epochs; what the tests use).
"""

from __future__ import annotations

import os
from pathlib import Path

RUN_MODES = ("full", "quick")

__all__ = ["RUN_MODES", "data_root", "mode", "is_quick", "describe"]


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


def describe() -> str:
    """One line saying which mode the notebook runs in and where its data lives (``~`` = home)."""
    root = data_root()
    try:
        shown = "~/" + root.relative_to(Path.home()).as_posix()
    except ValueError:
        shown = str(root)
    return f"mode: {mode()} | data folder: {shown}"
