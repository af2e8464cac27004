"""Plain data across the kernel boundary: values <-> a tagged JSON tree, never pickle on the way out.

A graded value leaves a kernel only as this tree: ``None``, booleans, integers, floats, complex
numbers, strings, ``...``, lists, tuples, dicts, sets, NumPy arrays and scalars (as ``.npy``
bytes, read back with ``allow_pickle=False``) and PyTorch tensors (as their ``.npy`` array).
Anything else (an object whose ``__eq__`` or ``__array__`` the student wrote, a subclass of a
number or an array) is refused: :class:`NotData`.

The grader only ever *decodes* trees, into plain Python and NumPy objects (tensors become
arrays). The kernels encode. This file is also sent, as source, into the kernels (it imports
nothing from booktools); there a ``ship`` callback may turn a non-data input the trusted
reference kernel sends *in* (a function it names, a model it pickles) into a ``ref``/``pkl`` leaf.
"""

from __future__ import annotations

import base64
import io
import json

import numpy as np

MAX_BYTES = 64 * 2**20  # one encoded value
MAX_DEPTH = 40

__all__ = ["NotData", "decode", "dumps", "encode", "loads"]


class NotData(TypeError):
    """The value is not plain data, so it cannot be graded."""


def _npy(array) -> str:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _from_npy(text: str):
    return np.load(io.BytesIO(base64.b64decode(text, validate=True)), allow_pickle=False)


_SCALARS = {t for t in set(np.sctypeDict.values()) if t is not np.object_ and not issubclass(t, np.void)}


def _torch_tensor_type():
    import sys

    torch = sys.modules.get("torch")
    return (torch.Tensor, torch.nn.Parameter, torch.Size, torch) if torch is not None else None


def encode(value, *, ship=None, _state=None, _depth=0):
    """Return the tagged tree of ``value``; raise :class:`NotData` for anything but plain data."""
    state = _state if _state is not None else {"bytes": 0}
    if _depth > MAX_DEPTH:
        raise NotData(f"nested more than {MAX_DEPTH} levels deep")
    kind = type(value)
    if value is None:
        return ["none"]
    if value is Ellipsis:
        return ["ellipsis"]
    if kind is bool:
        return ["bool", value]
    if kind is int:
        return ["int", str(value)]
    if kind is float:
        return ["float", repr(value)]
    if kind is complex:
        return ["complex", repr(value.real), repr(value.imag)]
    if kind is str:
        state["bytes"] += len(value)
        _check_size(state)
        return ["str", value]
    if kind in (list, tuple, set, frozenset):
        items = list(value)
        if kind in (set, frozenset):
            items.sort(key=repr)
        return [kind.__name__, [encode(v, ship=ship, _state=state, _depth=_depth + 1) for v in items]]
    if kind is dict:
        return ["dict", [[encode(k, ship=ship, _state=state, _depth=_depth + 1),
                          encode(v, ship=ship, _state=state, _depth=_depth + 1)] for k, v in value.items()]]
    if kind is np.ndarray or kind in _SCALARS:
        if value.dtype.hasobject or value.dtype.kind == "V":
            raise NotData(f"an array of dtype {value.dtype} (only numbers, booleans and strings)")
        state["bytes"] += value.nbytes
        _check_size(state)
        return ["ndarray" if kind is np.ndarray else "npscalar", _npy(np.asarray(value))]
    torch_types = _torch_tensor_type()
    if torch_types is not None:
        tensor, parameter, size, torch = torch_types
        if kind is tensor or kind is parameter:
            state["bytes"] += value.numel() * value.element_size()
            _check_size(state)
            data = value.detach().cpu()
            if data.dtype == torch.bfloat16:
                data = data.float()
            return ["tensor", _npy(data.numpy()), str(value.dtype).replace("torch.", ""), bool(value.requires_grad)]
        if kind is size:
            return ["tuple", [["int", str(int(v))] for v in value]]
    if ship is not None:
        leaf = ship(value)
        if leaf is not None:
            return leaf
    raise NotData(f"a value of type {kind.__name__}; give a number, string, list, tuple, dict, set or array")


def _check_size(state) -> None:
    if state["bytes"] > MAX_BYTES:
        raise NotData(f"more than {MAX_BYTES // 2**20} MB of data")


def decode(tree, *, tensors=False, resolve=None, _depth=0):
    """Rebuild a value from its tree (arrays fresh from their bytes, so every call gets a copy).

    Args:
        tensors: rebuild tensors as ``torch`` tensors (inside a kernel); else as NumPy arrays.
        resolve: ``resolve(tag, payload)`` for ``ref``/``pkl`` leaves (inside a kernel only).

    Raises:
        ValueError: the tree is malformed (a student's kernel sent something that is not ours).
    """
    if _depth > MAX_DEPTH + 1 or not isinstance(tree, list) or not tree or not isinstance(tree[0], str):
        raise ValueError("malformed data")
    tag, rest = tree[0], tree[1:]
    if tag == "none":
        return None
    if tag == "ellipsis":
        return Ellipsis
    if tag == "bool" and len(rest) == 1 and type(rest[0]) is bool:
        return rest[0]
    if tag == "int" and len(rest) == 1 and isinstance(rest[0], str) and len(rest[0]) < 5000:
        return int(rest[0])
    if tag == "float" and len(rest) == 1 and isinstance(rest[0], str):
        return float(rest[0])
    if tag == "complex" and len(rest) == 2:
        return complex(float(rest[0]), float(rest[1]))
    if tag == "str" and len(rest) == 1 and isinstance(rest[0], str):
        return rest[0]
    if tag in ("list", "tuple", "set", "frozenset") and len(rest) == 1 and isinstance(rest[0], list):
        items = [decode(v, tensors=tensors, resolve=resolve, _depth=_depth + 1) for v in rest[0]]
        return {"list": list, "tuple": tuple, "set": set, "frozenset": frozenset}[tag](items)
    if tag == "dict" and len(rest) == 1 and isinstance(rest[0], list):
        pairs = [(decode(k, tensors=tensors, resolve=resolve, _depth=_depth + 1),
                  decode(v, tensors=tensors, resolve=resolve, _depth=_depth + 1)) for k, v in rest[0]]
        return dict(pairs)
    if tag in ("ndarray", "npscalar") and len(rest) == 1 and isinstance(rest[0], str):
        array = _from_npy(rest[0])
        return array if tag == "ndarray" else array[()]
    if tag == "tensor" and len(rest) == 3 and isinstance(rest[0], str):
        array = _from_npy(rest[0])
        if not tensors:
            return array
        import torch

        out = torch.from_numpy(array.copy()).to(getattr(torch, str(rest[1])))
        return out.requires_grad_(bool(rest[2])) if out.is_floating_point() else out
    if tag in ("ref", "pkl") and resolve is not None:
        return resolve(tag, rest[0])
    raise ValueError(f"malformed data (tag {tag!r})")


def dumps(tree) -> str:
    """JSON text of a tree, ASCII only (a lone surrogate in a string survives the trip)."""
    return json.dumps(tree, ensure_ascii=True, allow_nan=False)


def loads(text: str):
    return json.loads(text)
