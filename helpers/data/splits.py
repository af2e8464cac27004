"""Class-balanced, seeded, disjoint splits of a labelled data set (training / validation / more).

:func:`per_class_indices` draws, for each part, a fixed number of examples *per class*, at random
with a seed and without overlap between the parts. Inside a part the indices come round-robin
(every class's first pick, then every class's second, ...), so the first ``k * K`` indices of a part
are ``k`` per class: smaller training sets are nested in the larger ones, as a learning curve needs.
"""

from __future__ import annotations

from typing import Sequence
import torch

__all__ = ["per_class_indices"]


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
