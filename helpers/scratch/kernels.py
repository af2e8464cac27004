"""The classic 3x3 kernels of image processing, in one read-only table the book reuses.

``KERNELS`` maps a name to a read-only ``ndarray[3, 3]``; :func:`get_kernel` returns a writable
float copy, and :func:`parse_kernel` reads a kernel typed as text (``"1 0 -1; 1 0 -1; 1 0 -1"``),
which is what the "custom" entry of :func:`helpers.widgets.conv.conv_explorer` uses.

The kernels are written for *cross-correlation* (what ``torch.nn.functional.conv2d`` and
:func:`helpers.scratch.conv.conv2d` compute): "vertical edge" responds positively where the image is
brighter on the left than on the right.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping
import numpy as np

__all__ = ["KERNELS", "get_kernel", "parse_kernel"]


def _frozen(rows) -> np.ndarray:
    arr = np.array(rows, dtype=np.float64)
    arr.setflags(write=False)
    return arr


KERNELS: Mapping[str, np.ndarray] = MappingProxyType(
    {
        "identity": _frozen([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
        "vertical edge": _frozen([[1, 0, -1], [1, 0, -1], [1, 0, -1]]),
        "horizontal edge": _frozen([[1, 1, 1], [0, 0, 0], [-1, -1, -1]]),
        "sharpen": _frozen([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
        "Laplacian edge": _frozen([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
        "box blur": _frozen(np.full((3, 3), 1 / 9)),
        "Sobel x": _frozen([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
        "Sobel y": _frozen([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
        "X": _frozen([[1, 0, 1], [0, 1, 0], [1, 0, 1]]),
    }
)
"""Name -> read-only ``ndarray[3, 3]`` (float64)."""


def get_kernel(name: str) -> np.ndarray:
    """A writable float64 copy of the kernel called ``name``.

    Args:
        name: a key of :data:`KERNELS` (e.g. ``"sharpen"``).

    Returns:
        ndarray[3, 3].

    Raises:
        ValueError: an unknown name (the message lists the known ones).
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a kernel name (str); got {type(name).__name__}")
    if name not in KERNELS:
        raise ValueError(f"unknown kernel {name!r}; choose one of {list(KERNELS)}")
    return KERNELS[name].copy()


def parse_kernel(text: str) -> np.ndarray:
    """Read a kernel typed as text: rows separated by ``;`` or new lines, values by spaces or commas.

    Args:
        text: e.g. ``"1 0 -1; 1 0 -1; 1 0 -1"`` or ``"0.5, 0.5"``.

    Returns:
        ndarray[kh, kw] of float64.

    Raises:
        ValueError: empty text, a value that is not a number, or rows of different lengths.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str; got {type(text).__name__}")
    lines = [line for line in text.replace("\n", ";").split(";") if line.strip()]
    if not lines:
        raise ValueError("kernel text is empty; type rows like '1 0 -1; 1 0 -1; 1 0 -1'")
    rows = []
    for i, line in enumerate(lines, start=1):
        try:
            rows.append([float(v) for v in line.replace(",", " ").split()])
        except ValueError:
            raise ValueError(f"kernel row {i} ({line.strip()!r}) holds something that is not a number") from None
    lengths = {len(r) for r in rows}
    if len(lengths) != 1:
        raise ValueError(
            f"kernel rows must have the same length; got lengths {[len(r) for r in rows]}"
        )
    return np.array(rows, dtype=np.float64)
