"""A tiny CNN trained by hand in NumPy, its PyTorch twin, and a toy data set of bars.

The network is the lecture's: conv (stride 1, no padding) -> ReLU -> max-pool -> flatten ->
dense -> softmax cross-entropy. :class:`TinyCNN` runs the forward pass, the backward pass and a
plain SGD step with the NumPy functions of :mod:`helpers.scratch.conv`, :mod:`helpers.scratch.pool` and :mod:`helpers.scratch.functional`;
:meth:`TinyCNN.to_torch` builds the same network in PyTorch so that every number can be checked
against ``torch.autograd``.

:func:`make_bars` draws small images holding one vertical or one horizontal bar, and
:func:`train_classifier` / :func:`accuracy` train and score any PyTorch classifier on them: the
measured answer to "why a conv net rather than a dense net?".
"""

from __future__ import annotations

from typing import TYPE_CHECKING
import numpy as np
from helpers.scratch.functional import cross_entropy, cross_entropy_backward, relu, relu_backward
from helpers.scratch.conv import conv2d, conv2d_backward
from helpers.scratch.pool import max_pool2d, max_pool2d_backward
if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["TinyCNN", "make_bars", "train_classifier", "accuracy"]


PARAM_NAMES = ("conv_weight", "conv_bias", "dense_weight", "dense_bias")


def _float_array(value, name: str, ndim: int) -> np.ndarray:
    try:
        arr = np.array(value, dtype=np.float64)  # a copy: the network owns its parameters
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of numbers; got {type(value).__name__}") from None
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D; got shape {arr.shape}")
    return arr


class TinyCNN:
    """conv -> ReLU -> max-pool -> flatten -> dense, with a hand-written backward pass.

    Args:
        conv_weight: ndarray[K, C, kh, kw], the filters.
        conv_bias: ndarray[K], one bias per filter.
        dense_weight: ndarray[n_classes, n_in]; ``n_in`` must be ``K * H_pool * W_pool``.
        dense_bias: ndarray[n_classes].
        pool_size: the max-pool window (and stride), as in ``nn.MaxPool2d(pool_size)``.

    Attributes:
        cache: the forward maps of the last :meth:`forward` (``x, conv, relu, pool, flat, logits``).
        grads: ``dE/d(parameter)`` from the last :meth:`backward`, keyed like :meth:`parameters`.
        deltas: ``dE/d(map)`` for every forward map, from the last :meth:`backward`.
    """

    def __init__(self, conv_weight, conv_bias, dense_weight, dense_bias, pool_size: int = 2):
        self.conv_weight = _float_array(conv_weight, "conv_weight", 4)  # (K, C, kh, kw)
        k = self.conv_weight.shape[0]
        self.conv_bias = _float_array(conv_bias, "conv_bias", 1)  # (K,)
        if self.conv_bias.shape != (k,):
            raise ValueError(f"conv_bias must hold one value per filter ({k}); got shape {self.conv_bias.shape}")
        self.dense_weight = _float_array(dense_weight, "dense_weight", 2)  # (n_classes, n_in)
        self.dense_bias = _float_array(dense_bias, "dense_bias", 1)  # (n_classes,)
        if self.dense_bias.shape != self.dense_weight.shape[:1]:
            raise ValueError(
                f"dense_bias must hold one value per class ({self.dense_weight.shape[0]}); "
                f"got shape {self.dense_bias.shape}"
            )
        if not isinstance(pool_size, (int, np.integer)) or isinstance(pool_size, bool) or pool_size < 1:
            raise ValueError(f"pool_size must be a positive int; got {pool_size!r}")
        self.pool_size = int(pool_size)
        self.cache: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.deltas: dict[str, np.ndarray] = {}

    @classmethod
    def random(
        cls,
        in_shape: tuple[int, int, int] = (1, 6, 6),
        n_filters: int = 2,
        kernel_size: int = 3,
        n_classes: int = 3,
        pool_size: int = 2,
        seed: int = 0,
    ) -> "TinyCNN":
        """A network with small random weights (seeded) for inputs of shape ``in_shape = (C, H, W)``."""
        c, h, w = in_shape
        if kernel_size > min(h, w):
            raise ValueError(f"kernel_size {kernel_size} is larger than the input {h}x{w}")
        rng = np.random.default_rng(seed)
        hp, wp = (h - kernel_size + 1) // pool_size, (w - kernel_size + 1) // pool_size
        if hp < 1 or wp < 1:
            raise ValueError(f"pool_size {pool_size} is larger than the conv output {h - kernel_size + 1}x{w - kernel_size + 1}")
        n_in = n_filters * hp * wp
        return cls(
            rng.normal(0, 0.5, (n_filters, c, kernel_size, kernel_size)),
            rng.normal(0, 0.1, n_filters),
            rng.normal(0, 1 / np.sqrt(n_in), (n_classes, n_in)),
            rng.normal(0, 0.1, n_classes),
            pool_size=pool_size,
        )

    def parameters(self) -> dict[str, np.ndarray]:
        """The four parameter arrays by name (the arrays themselves, not copies)."""
        return {name: getattr(self, name) for name in PARAM_NAMES}

    def forward(self, x) -> np.ndarray:
        """Logits for a batch ``x: ndarray[N, C, H, W]``; returns ndarray[N, n_classes]."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 4:
            raise ValueError(f"x must be 4-D (N, C, H, W); got shape {x.shape}")
        z = conv2d(x, self.conv_weight, self.conv_bias)  # (N, K, H1, W1)
        a = relu(z)  # (N, K, H1, W1)
        p = max_pool2d(a, self.pool_size)  # (N, K, H2, W2)
        f = p.reshape(len(x), -1)  # (N, K*H2*W2): the same order as torch.flatten
        if f.shape[1] != self.dense_weight.shape[1]:
            raise ValueError(
                f"the flattened conv volume {p.shape[1:]} has {f.shape[1]} values but dense_weight "
                f"expects {self.dense_weight.shape[1]} inputs"
            )
        logits = f @ self.dense_weight.T + self.dense_bias  # (N, n_classes)
        self.cache = dict(x=x, conv=z, relu=a, pool=p, flat=f, logits=logits)
        self.grads, self.deltas = {}, {}
        return logits

    def loss(self, x, target) -> float:
        """Mean softmax cross-entropy of the batch (runs :meth:`forward`)."""
        return cross_entropy(self.forward(x), target)

    def backward(self, target) -> dict[str, np.ndarray]:
        """Gradients of the mean cross-entropy of the last forward batch; returns :attr:`grads`."""
        if not self.cache:
            raise RuntimeError("call forward(x) before backward(target)")
        c = self.cache
        d_logits = cross_entropy_backward(c["logits"], target)  # (N, n_classes)
        d_flat = d_logits @ self.dense_weight  # (N, n_in)
        d_pool = d_flat.reshape(c["pool"].shape)  # back to the conv volume (N, K, H2, W2)
        d_relu = max_pool2d_backward(c["relu"], d_pool, self.pool_size)  # (N, K, H1, W1)
        d_conv = relu_backward(c["conv"], d_relu)  # (N, K, H1, W1)
        d_x, d_w, d_b = conv2d_backward(c["x"], self.conv_weight, d_conv)
        self.deltas = dict(x=d_x, conv=d_conv, relu=d_relu, pool=d_pool, flat=d_flat, logits=d_logits)
        self.grads = dict(conv_weight=d_w, conv_bias=d_b, dense_weight=d_logits.T @ c["flat"],
                          dense_bias=d_logits.sum(axis=0))
        return self.grads

    def step(self, lr: float) -> None:
        """One SGD update ``w <- w - lr * dE/dw`` of every parameter, in place."""
        if not self.grads:
            raise RuntimeError("call backward(target) before step(lr)")
        if not np.isfinite(lr) or lr <= 0:
            raise ValueError(f"lr must be a positive number; got {lr!r}")
        for name, param in self.parameters().items():
            param -= lr * self.grads[name]

    def to_torch(self, dtype: "torch.dtype | None" = None) -> "torch.nn.Sequential":
        """The same network as ``nn.Sequential(Conv2d, ReLU, MaxPool2d, Flatten, Linear)``.

        Args:
            dtype: the parameters' dtype; ``torch.float64`` by default, so that the two
                networks agree to rounding error.
        """
        import torch
        from torch import nn

        dtype = torch.float64 if dtype is None else dtype
        k, c, kh, kw = self.conv_weight.shape
        n_classes, n_in = self.dense_weight.shape
        model = nn.Sequential(
            nn.Conv2d(c, k, (kh, kw)), nn.ReLU(), nn.MaxPool2d(self.pool_size),
            nn.Flatten(), nn.Linear(n_in, n_classes),
        ).to(dtype)
        with torch.no_grad():
            for param, value in zip(model.parameters(), self.parameters().values()):
                param.copy_(torch.from_numpy(value))
        return model


def make_bars(n: int, size: int = 8, length: int = 3, noise: float = 0.2, seed: int = 0):
    """Images with one short bar at a random place: vertical (class 0) or horizontal (class 1).

    Args:
        n: number of images; size: their height and width; length: the bar's length in pixels;
        noise: standard deviation of the Gaussian noise added to every pixel; seed: the RNG seed.

    Returns:
        ``(x, y)``: ``x`` float32 ndarray[n, 1, size, size] (bar pixels 1, background 0, plus
        noise) and ``y`` int64 ndarray[n] of labels.
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive int; got {n!r}")
    if not 1 <= length <= size:
        raise ValueError(f"length must be between 1 and size ({size}); got {length}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0; got {noise}")
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    along = rng.integers(0, size - length + 1, n)  # where the bar starts along its own direction
    across = rng.integers(0, size, n)  # which column (vertical) or row (horizontal) it sits on
    x = rng.normal(0, noise, (n, 1, size, size)) if noise else np.zeros((n, 1, size, size))
    for i in range(n):
        span = slice(along[i], along[i] + length)
        if y[i] == 0:
            x[i, 0, span, across[i]] += 1
        else:
            x[i, 0, across[i], span] += 1
    return x.astype(np.float32), y.astype(np.int64)


def train_classifier(model, x, y, steps: int, lr: float = 0.01, batch_size: int = 32, seed: int = 0) -> list[float]:
    """Train a PyTorch classifier with Adam and cross-entropy on mini-batches; CPU, seeded.

    Args:
        model: a ``torch.nn.Module`` mapping ``x`` to logits.
        x: ndarray[N, ...] inputs; y: ndarray[N] int labels.
        steps: number of mini-batch updates (the training budget); lr: Adam's learning rate.
        batch_size: examples per update; seed: seeds the order of the mini-batches.

    Returns:
        The loss of every step.
    """
    import torch
    import torch.nn.functional as F

    if steps < 1:
        raise ValueError(f"steps must be >= 1; got {steps}")
    xt, yt = torch.as_tensor(x), torch.as_tensor(y)
    if len(xt) != len(yt):
        raise ValueError(f"x and y must hold the same number of examples; got {len(xt)} and {len(yt)}")
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    model.train()
    for _ in range(steps):
        idx = torch.randint(0, len(xt), (min(batch_size, len(xt)),), generator=gen)
        loss = F.cross_entropy(model(xt[idx]), yt[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def accuracy(model, x, y) -> float:
    """Fraction of examples whose arg-max logit is the label."""
    import torch

    model.eval()
    with torch.no_grad():
        pred = model(torch.as_tensor(x)).argmax(dim=1).numpy()
    return float((pred == np.asarray(y)).mean())
