"""The book's data container, :class:`Dataset` (uint8 images, labels, class names, where they came from), and the errors data loading raises.
"""

from __future__ import annotations

from dataclasses import dataclass
import torch

__all__ = ["DataError", "DataNotFoundError", "Dataset"]


class DataError(Exception):
    """A data set's files are there but cannot be read: truncated, corrupt, or laid out wrongly."""


class DataNotFoundError(DataError, FileNotFoundError):
    """A data set's files are missing and could not be downloaded."""


@dataclass(frozen=True, repr=False, eq=False)
class Dataset:
    """A labelled image data set held in memory.

    Attributes:
        images: ``uint8 tensor[N, C, H, W]`` (0-255).
        labels: ``int64 tensor[N]``, each in ``range(len(classes))``.
        classes: the class names; ``classes[k]`` names label ``k``.
        source: one line saying where the data came from (which copy, how many images).
    """

    images: torch.Tensor
    labels: torch.Tensor
    classes: list[str]
    source: str

    def __post_init__(self) -> None:
        x, y = self.images, self.labels
        if not isinstance(x, torch.Tensor) or x.dtype != torch.uint8 or x.ndim != 4:
            got = f"{x.dtype} tensor of shape {tuple(x.shape)}" if isinstance(x, torch.Tensor) else type(x).__name__
            raise TypeError(f"images must be a uint8 tensor [N, C, H, W]; got {got}")
        if not isinstance(y, torch.Tensor) or y.dtype != torch.int64 or y.ndim != 1:
            got = f"{y.dtype} tensor of shape {tuple(y.shape)}" if isinstance(y, torch.Tensor) else type(y).__name__
            raise TypeError(f"labels must be an int64 tensor [N]; got {got}")
        if len(x) != len(y):
            raise ValueError(f"images and labels must have the same length N; got {len(x)} images and {len(y)} labels")
        classes = list(self.classes)
        if not all(isinstance(c, str) for c in classes):
            raise TypeError(f"classes must be a list of str; got {classes!r}")
        if len(y) and (int(y.min()) < 0 or int(y.max()) >= len(classes)):
            raise ValueError(f"labels must lie in 0..{len(classes) - 1} (one per class); "
                             f"got labels from {int(y.min())} to {int(y.max())}")
        object.__setattr__(self, "classes", classes)  # a private copy

    def __len__(self) -> int:
        return len(self.labels)

    def __repr__(self) -> str:
        shape = "x".join(str(s) for s in self.images.shape)
        return f"Dataset({len(self):,} images uint8[{shape}], {len(self.classes)} classes; {self.source})"

    def select(self, indices, note: str | None = None) -> Dataset:
        """The examples at ``indices`` (an int tensor or list), in that order; ``source`` says so.

        ``note`` replaces the default description (``"selected: k of N"``) appended to ``source``.
        """
        idx = torch.as_tensor(indices, dtype=torch.int64)
        if idx.ndim != 1 or (len(idx) and (int(idx.min()) < -len(self) or int(idx.max()) >= len(self))):
            raise IndexError(f"indices must be a 1-D list of positions in 0..{len(self) - 1}; "
                             f"got shape {tuple(idx.shape)}")
        note = note or f"selected: {len(idx):,} of {len(self):,}"
        return Dataset(self.images[idx], self.labels[idx], self.classes, f"{self.source} | {note}")

    def subset(self, n: int, seed: int = 0) -> Dataset:
        """A class-balanced random subset of ``n`` examples, in their original order.

        Each class contributes ``n // K`` or one more (a class with too few examples gives all it
        has and the others make up the difference), drawn at random with ``seed``: the same
        ``(n, seed)`` always gives the same subset.

        Args:
            n: how many examples; ``n >= len(self)`` returns the data set itself.
            seed: the random seed.

        Returns:
            A ``Dataset`` with ``min(n, len(self))`` examples, whose ``source`` says it is a subset.
        """
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"n must be an int; got {type(n).__name__}")
        if n < 1:
            raise ValueError(f"n must be at least 1; got {n}")
        if n >= len(self):
            return self
        g = torch.Generator().manual_seed(seed)
        order = torch.randperm(len(self), generator=g)  # (N,) a random order
        sorted_labels, by_class = torch.sort(self.labels[order], stable=True)  # (N,) grouped by class
        counts = torch.bincount(sorted_labels, minlength=len(self.classes))
        first = torch.cumsum(counts, 0) - counts  # (K,) where each class starts
        rank = torch.empty(len(self), dtype=torch.int64)
        rank[by_class] = torch.arange(len(self)) - first[sorted_labels]  # rank within its class
        # Deal round-robin: every class's first pick, then every class's second, ...
        picks = order[torch.argsort(rank * len(self) + torch.arange(len(self)))[:n]].sort().values
        return Dataset(self.images[picks], self.labels[picks], self.classes,
                       f"{self.source} | subset: {n:,} of {len(self):,}, class-balanced, seed {seed}")
