"""Class-balanced, seeded, disjoint splits of a labelled data set (training / validation / more).

:func:`per_class_indices` draws, for each part, a fixed number of examples *per class*, at random
with a seed and without overlap between the parts. Inside a part the indices come round-robin
(every class's first pick, then every class's second, ...), so the first ``k * K`` indices of a part
are ``k`` per class: smaller training sets are nested in the larger ones, as a learning curve needs.
"""

from __future__ import annotations

from typing import Sequence
import torch

__all__ = ["per_class_indices", "train_val_split"]


def per_class_indices(labels: torch.Tensor, per_class: Sequence[int], *, seed: int,
                      num_classes: int | None = None) -> list[torch.Tensor]:
    """Disjoint parts with ``per_class[i]`` examples of every class in part ``i``.

    Args:
        labels: int ``(N,)``, classes ``0..K-1``.
        per_class: examples per class in each part, e.g. ``(100, 20)`` for training and validation.
        seed: the random seed; the same arguments always give the same parts.
        num_classes: ``K``; default ``labels.max() + 1``.

    Returns:
        One int64 tensor of indices into ``labels`` per part, of length ``per_class[i] * K``,
        round-robin over the classes (``labels[part[:k * K]]`` holds each class ``k`` times).

    Raises:
        TypeError / ValueError: bad arguments, or a class with fewer examples than the parts need
            (the message names it).
    """
    labels = torch.as_tensor(labels)
    if labels.ndim != 1 or labels.is_floating_point() or labels.dtype == torch.bool:
        raise TypeError(f"labels must be an int tensor (N,); got {labels.dtype} of shape {tuple(labels.shape)}")
    if isinstance(per_class, int) or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1
                                             for n in per_class) or not len(per_class):
        raise ValueError(f"per_class must be a list of positive ints (one per part); got {per_class!r}")
    k = int(num_classes) if num_classes is not None else int(labels.max()) + 1
    need = sum(per_class)
    g = torch.Generator().manual_seed(seed)
    drawn = []  # per class: `need` indices in random order
    for c in range(k):
        idx = torch.nonzero(labels == c).flatten()
        if len(idx) < need:
            raise ValueError(f"class {c} has {len(idx)} examples; the parts need {need} per class "
                             f"({' + '.join(map(str, per_class))})")
        drawn.append(idx[torch.randperm(len(idx), generator=g)[:need]])
    table = torch.stack(drawn)  # (K, need)
    parts, start = [], 0
    for n in per_class:
        parts.append(table[:, start:start + n].T.reshape(-1))  # round-robin: pick 1 of every class, ...
        start += n
    return parts


def train_val_split(data, val_per_class: int, *, seed: int):
    """Hold out a validation split: ``val_per_class`` examples of every class, the rest for training.

    The held-out examples are drawn at random with ``seed`` (stratified: the same number from each
    class), so the same arguments always give the same two parts; they never overlap and together
    they are the whole of ``data``. Both keep the examples in their original order, and their
    ``source`` says which part of what they are.

    Args:
        data: a :class:`helpers.data.core.Dataset` (normally a training split).
        val_per_class: how many examples of each class to hold out (at least 1).
        seed: the random seed.

    Returns:
        ``(train, val)``: two ``Dataset`` objects.

    Raises:
        TypeError: ``data`` is not a ``Dataset``.
        ValueError: a class has too few examples to leave some for training (the message names it).
    """
    from helpers.data.core import Dataset

    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a helpers Dataset; got {type(data).__name__}")
    if isinstance(val_per_class, bool) or not isinstance(val_per_class, int) or val_per_class < 1:
        raise ValueError(f"val_per_class must be a positive int; got {val_per_class!r}")
    counts = torch.bincount(data.labels, minlength=len(data.classes))
    short = [c for c in range(len(data.classes)) if counts[c] <= val_per_class]
    if short:
        c = short[0]
        raise ValueError(f"class {c} ({data.classes[c]!r}) has {int(counts[c])} examples: holding out "
                         f"{val_per_class} leaves none for training; hold out fewer per class")
    g = torch.Generator().manual_seed(seed)
    held = torch.zeros(len(data), dtype=torch.bool)
    for c in range(len(data.classes)):
        idx = torch.nonzero(data.labels == c).flatten()
        held[idx[torch.randperm(len(idx), generator=g)[:val_per_class]]] = True
    n_val = int(held.sum())
    note = f"validation held out: {val_per_class:,} per class, seed {seed}"
    train = Dataset(data.images[~held], data.labels[~held], data.classes,
                    f"{data.source} | training part: {len(data) - n_val:,} ({note})")
    val = Dataset(data.images[held], data.labels[held], data.classes,
                  f"{data.source} | validation part: {n_val:,} ({note})")
    return train, val
