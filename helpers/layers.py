"""The layers of a CNN besides convolution, by hand: activations, normalisation, dropout, losses,
and the measurements chapter 03 makes with them (gradients and activations through depth).

NumPy references mirror ``torch.nn.functional`` names where there is a counterpart
(``leaky_relu``, ``elu``, ``batch_norm``, ``group_norm``, ``dropout``); the tests hold each one
against PyTorch. The measurement functions build small ``torch`` models and return plain numbers.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from helpers.functional import sigmoid

__all__ = [
    "ACTIVATIONS",
    "activation",
    "activation_derivative",
    "leaky_relu",
    "leaky_relu_backward",
    "elu",
    "batch_norm",
    "group_norm",
    "dropout",
    "binary_cross_entropy_with_logits",
    "sigmoid_focal_loss",
    "deep_mlp",
    "gradient_norms_per_layer",
    "activation_stds",
    "dead_relu_fraction",
    "best_epoch",
    "optimizer_path",
    "plot_activation",
    "plot_per_layer",
    "plot_paths",
]

# Elementwise activations the chapter plots; "prelu" is Leaky ReLU whose slope alpha is learnt.
ACTIVATIONS = ("step", "sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu")
_DEFAULT_ALPHA = {"leaky_relu": 0.01, "prelu": 0.25, "elu": 1.0}


def _name(name: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, one of {ACTIVATIONS}; got {type(name).__name__}")
    key = name.lower().replace(" ", "_")
    if key not in ACTIVATIONS:
        raise ValueError(f"name must be one of {ACTIVATIONS}; got {name!r}")
    return key


def _alpha(name: str, alpha: float | None) -> float:
    if alpha is None:
        return _DEFAULT_ALPHA.get(name, 0.0)
    if not np.isscalar(alpha) or not np.isfinite(alpha):
        raise ValueError(f"alpha must be a finite number; got {alpha!r}")
    return float(alpha)


def leaky_relu(x, alpha: float = 0.01) -> np.ndarray:
    """``x`` where ``x > 0``, else ``alpha * x`` (like ``F.leaky_relu(x, negative_slope=alpha)``)."""
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, alpha * x)


def leaky_relu_backward(x, grad_out, alpha: float = 0.01) -> np.ndarray:
    """Gradient of :func:`leaky_relu`: ``grad_out`` where ``x > 0``, else ``alpha * grad_out``.

    Args:
        x: the forward input, any shape. grad_out: the gradient of the output, same shape.
    """
    x, grad_out = np.asarray(x, dtype=float), np.asarray(grad_out, dtype=float)
    if x.shape != grad_out.shape:
        raise ValueError(f"grad_out must have x's shape {x.shape}; got {grad_out.shape}")
    return np.where(x > 0, grad_out, alpha * grad_out)


def elu(x, alpha: float = 1.0) -> np.ndarray:
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)`` (like ``F.elu``)."""
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def activation(name: str, x, alpha: float | None = None) -> np.ndarray:
    """Apply one of :data:`ACTIVATIONS` elementwise.

    Args:
        name: ``"step"``, ``"sigmoid"``, ``"tanh"``, ``"relu"``, ``"leaky_relu"``, ``"prelu"``, ``"elu"``.
        x: ndarray of any shape.
        alpha: the negative slope (Leaky ReLU, PReLU) or the saturation level (ELU); ignored by
            the others. Default 0.01 (Leaky ReLU), 0.25 (PReLU's initial value in PyTorch), 1 (ELU).

    Returns:
        ndarray of ``x``'s shape.
    """
    name = _name(name)
    a = _alpha(name, alpha)
    x = np.asarray(x, dtype=float)
    if name == "step":
        return (x > 0).astype(float)
    if name == "sigmoid":
        return sigmoid(x)
    if name == "tanh":
        return np.tanh(x)
    if name == "relu":
        return np.maximum(x, 0.0)
    if name in ("leaky_relu", "prelu"):
        return leaky_relu(x, a)
    return elu(x, a)


def activation_derivative(name: str, x, alpha: float | None = None) -> np.ndarray:
    """The derivative ``f'(x)`` of :func:`activation` (at 0 the kinked ones take the left side).

    The step function's derivative is 0 everywhere it exists, which is why it cannot be trained
    by gradient descent. Returns an ndarray of ``x``'s shape.
    """
    name = _name(name)
    a = _alpha(name, alpha)
    x = np.asarray(x, dtype=float)
    if name == "step":
        return np.zeros_like(x)
    if name == "sigmoid":
        s = sigmoid(x)
        return s * (1 - s)
    if name == "tanh":
        return 1 - np.tanh(x) ** 2
    if name == "relu":
        return (x > 0).astype(float)
    if name in ("leaky_relu", "prelu"):
        return np.where(x > 0, 1.0, a)
    return np.where(x > 0, 1.0, a * np.exp(np.minimum(x, 0)))


def _check_norm_params(x: np.ndarray, gamma, beta, name: str):
    c = x.shape[1]
    gamma = np.ones(c) if gamma is None else np.asarray(gamma, dtype=float)
    beta = np.zeros(c) if beta is None else np.asarray(beta, dtype=float)
    for label, value in (("gamma", gamma), ("beta", beta)):
        if value.shape != (c,):
            raise ValueError(f"{name}: {label} must have one value per channel, shape ({c},); got {value.shape}")
    shape = (1, c) + (1,) * (x.ndim - 2)
    return gamma.reshape(shape), beta.reshape(shape)


def batch_norm(x, gamma=None, beta=None, eps: float = 1e-5) -> np.ndarray:
    """Batch normalisation in training mode: ``gamma * (x - mu_B) / sqrt(var_B + eps) + beta``.

    The mean and the (biased) variance are taken per channel over the batch and, for images,
    over all pixels: axes ``(0, 2, 3)``.

    Args:
        x: ndarray[N, C] or ndarray[N, C, H, W].
        gamma, beta: ndarray[C] (default ones and zeros).
        eps: added to the variance.

    Returns:
        ndarray of ``x``'s shape.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim not in (2, 4):
        raise ValueError(f"x must be (N, C) or (N, C, H, W); got shape {x.shape}")
    if x.shape[0] * int(np.prod(x.shape[2:])) < 2:
        raise ValueError(f"x must hold more than one value per channel to normalise; got shape {x.shape}")
    gamma, beta = _check_norm_params(x, gamma, beta, "batch_norm")
    axes = (0,) + tuple(range(2, x.ndim))
    mu = x.mean(axis=axes, keepdims=True)  # (1, C, 1, 1)
    var = x.var(axis=axes, keepdims=True)  # biased: divides by N*H*W
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def group_norm(x, num_groups: int, gamma=None, beta=None, eps: float = 1e-5) -> np.ndarray:
    """Group normalisation: each example's channels are split into groups, each normalised alone.

    Args:
        x: ndarray[N, C, H, W] (or [N, C]); ``C`` must be divisible by ``num_groups``.
        num_groups: G. G = 1 is LayerNorm over (C, H, W); G = C is InstanceNorm.
        gamma, beta: ndarray[C] (default ones and zeros).

    Returns:
        ndarray of ``x``'s shape. Unlike BatchNorm, it does not depend on the other examples.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim not in (2, 4):
        raise ValueError(f"x must be (N, C) or (N, C, H, W); got shape {x.shape}")
    if not isinstance(num_groups, (int, np.integer)) or num_groups < 1 or x.shape[1] % num_groups:
        raise ValueError(f"num_groups must be a positive divisor of the {x.shape[1]} channels; got {num_groups!r}")
    gamma, beta = _check_norm_params(x, gamma, beta, "group_norm")
    n = x.shape[0]
    g = x.reshape(n, num_groups, -1)  # (N, G, C/G * H * W)
    mu = g.mean(axis=2, keepdims=True)
    var = g.var(axis=2, keepdims=True)
    x_hat = ((g - mu) / np.sqrt(var + eps)).reshape(x.shape)
    return gamma * x_hat + beta


def dropout(x, p: float = 0.5, *, training: bool = True, mask=None, rng=None) -> np.ndarray:
    """Inverted dropout: zero each value with probability ``p`` and scale the rest by ``1/(1-p)``.

    Args:
        x: ndarray of any shape.
        p: drop probability, ``0 <= p < 1``.
        training: at evaluation time dropout is the identity.
        mask: optional boolean ndarray of ``x``'s shape, True = keep (otherwise drawn from ``rng``).
        rng: a ``np.random.Generator`` (default: a fresh unseeded one).

    Returns:
        ndarray of ``x``'s shape whose expected value is ``x``.
    """
    x = np.asarray(x, dtype=float)
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1); got {p!r}")
    if not training or p == 0:
        return x.copy()
    if mask is None:
        rng = np.random.default_rng() if rng is None else rng
        mask = rng.random(x.shape) >= p
    mask = np.asarray(mask)
    if mask.shape != x.shape:
        raise ValueError(f"mask must have x's shape {x.shape}; got {mask.shape}")
    return x * mask / (1 - p)


def binary_cross_entropy_with_logits(logits, target) -> float:
    """Mean ``-[y log s(z) + (1-y) log(1 - s(z))]``, computed stably from the logits ``z``.

    Uses ``max(z, 0) - z*y + log(1 + exp(-|z|))``. ``logits`` and ``target`` (values in [0, 1])
    have the same shape.
    """
    z, y = np.asarray(logits, dtype=float), np.asarray(target, dtype=float)
    if z.shape != y.shape:
        raise ValueError(f"target must have logits' shape {z.shape}; got {y.shape}")
    if y.size and (y.min() < 0 or y.max() > 1):
        raise ValueError(f"target values must be in [0, 1]; got range [{y.min()}, {y.max()}]")
    return float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))


def sigmoid_focal_loss(logits, target, alpha: float = 0.25, gamma: float = 2.0,
                       reduction: str = "none") -> np.ndarray | float:
    """Focal loss (Lin et al., 2017) as ``torchvision.ops.sigmoid_focal_loss`` computes it.

    ``FL = -alpha_t (1 - p_t)^gamma log(p_t)`` with ``p = sigmoid(z)``, ``p_t = p`` for ``y = 1``
    and ``1 - p`` for ``y = 0``, ``alpha_t = alpha`` or ``1 - alpha`` alike (``alpha < 0``: no
    weighting). With ``gamma = 0`` and no weighting it is binary cross-entropy.

    Args:
        logits, target: ndarrays of one shape; target values in [0, 1].
        reduction: ``"none"`` (the array), ``"mean"`` or ``"sum"`` (a float).
    """
    z, y = np.asarray(logits, dtype=float), np.asarray(target, dtype=float)
    if z.shape != y.shape:
        raise ValueError(f"target must have logits' shape {z.shape}; got {y.shape}")
    if gamma < 0:
        raise ValueError(f"gamma must be >= 0; got {gamma}")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"reduction must be 'none', 'mean' or 'sum'; got {reduction!r}")
    p = sigmoid(z)
    ce = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))  # per-element BCE = -log(p_t)
    p_t = p * y + (1 - p) * (1 - y)
    loss = ce * (1 - p_t) ** gamma
    if alpha >= 0:
        loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
    if reduction == "mean":
        return float(loss.mean())
    if reduction == "sum":
        return float(loss.sum())
    return loss


# ---------------------------------------------------------------------------------------------
# Measurements on small torch models
# ---------------------------------------------------------------------------------------------

_TORCH_ACTS = ("sigmoid", "tanh", "relu")


def _torch_activation(name: str):
    import torch.nn as nn

    if name not in _TORCH_ACTS:
        raise ValueError(f"activation must be one of {_TORCH_ACTS}; got {name!r}")
    return {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}[name]()


def _residual_block(width: int, act: str, norm: bool):
    import torch.nn as nn

    class Residual(nn.Module):
        """``x + act(norm(linear(x)))``: the identity path carries the gradient past the layer."""

        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(width, width)
            self.norm = nn.BatchNorm1d(width) if norm else nn.Identity()
            self.act = _torch_activation(act)

        def forward(self, x):
            return x + self.act(self.norm(self.linear(x)))

    return Residual()


def deep_mlp(depth: int, width: int, n_in: int, n_out: int, activation: str = "relu", *,
             batch_norm: bool = False, residual: bool = False, init: str | None = None):
    """A deep fully connected net: ``depth`` hidden layers of ``width`` units, then a linear output.

    Args:
        depth: number of hidden layers (each ``Linear -> [BatchNorm1d] -> activation``).
        width, n_in, n_out: layer sizes.
        activation: ``"sigmoid"``, ``"tanh"`` or ``"relu"``.
        batch_norm: insert ``BatchNorm1d`` before every hidden activation.
        residual: hidden layers 2..depth become ``x + act(linear(x))``.
        init: ``None`` (PyTorch's default), ``"xavier"`` (Var = 1/n_in, Glorot's normal uses
            2/(n_in+n_out), equal here), ``"he"`` (Var = 2/n_in) or ``"small"`` (std 0.01);
            biases are set to 0 unless ``init`` is None.

    Returns:
        ``torch.nn.Sequential``; its ``Linear`` layers, in order, are the ones the measurements
        below report (input layer = layer 1).
    """
    import torch
    import torch.nn as nn

    for label, value in (("depth", depth), ("width", width), ("n_in", n_in), ("n_out", n_out)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{label} must be a positive int; got {value!r}")
    _torch_activation(activation)
    if init not in (None, "xavier", "he", "small"):
        raise ValueError(f"init must be None, 'xavier', 'he' or 'small'; got {init!r}")
    layers: list = []
    for i in range(depth):
        if residual and i > 0:
            layers.append(_residual_block(width, activation, batch_norm))
            continue
        layers.append(nn.Linear(n_in if i == 0 else width, width))
        if batch_norm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(_torch_activation(activation))
    layers.append(nn.Linear(width, n_out))
    model = nn.Sequential(*layers)
    if init is not None:
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, nn.Linear):
                    fan_in = m.weight.shape[1]
                    std = {"xavier": (1 / fan_in) ** 0.5, "he": (2 / fan_in) ** 0.5, "small": 0.01}[init]
                    m.weight.normal_(0.0, std)
                    m.bias.zero_()
    return model


def _linears(model) -> list:
    import torch.nn as nn

    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("model has no nn.Linear layers to measure")
    return linears


def gradient_norms_per_layer(model, x, target) -> np.ndarray:
    """One backward pass of the cross-entropy loss; the L2 norm of each Linear weight's gradient.

    Args:
        model: a ``torch.nn.Module`` mapping ``x`` to logits (N, K); kept in its current mode.
        x: tensor[N, n_in]. target: tensor[N] of class indices.

    Returns:
        ndarray[L]: ``||dL/dW_l||`` for the model's ``Linear`` layers in order (layer 1 first).
    """
    import torch.nn.functional as F

    if x.ndim != 2 or target.shape != (x.shape[0],):
        raise ValueError(f"x must be (N, n_in) and target (N,); got {tuple(x.shape)} and {tuple(target.shape)}")
    linears = _linears(model)
    model.zero_grad()
    F.cross_entropy(model(x), target).backward()
    return np.array([float(m.weight.grad.norm()) for m in linears])


def _layer_outputs(model, x, kinds: tuple, what: str) -> list:
    """Outputs of every module of the given types, in order, for one forward pass of ``x``."""
    import torch

    outs: list = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: outs.append(out.detach()))
             for m in model.modules() if isinstance(m, kinds)]
    if not hooks:
        raise ValueError(f"model has no {what} layers")
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in hooks:
            h.remove()
    return outs


def activation_stds(model, x) -> np.ndarray:
    """Standard deviation of the output of every activation module, in order, for input ``x``.

    Args:
        model: a ``torch.nn.Sequential`` (e.g. from :func:`deep_mlp`).
        x: tensor[N, n_in].

    Returns:
        ndarray[L]: one std per ``Sigmoid``/``Tanh``/``ReLU`` layer (first hidden layer first).
    """
    import torch.nn as nn

    outs = _layer_outputs(model, x, (nn.Sigmoid, nn.Tanh, nn.ReLU), "Sigmoid, Tanh or ReLU")
    return np.array([float(o.std()) for o in outs])


def dead_relu_fraction(model, x) -> float:
    """Fraction of hidden ReLU units that output 0 for every example of ``x`` ("dead" units).

    A dead unit has zero gradient for all these inputs, so gradient descent cannot revive it.

    Args:
        model: a ``torch.nn.Module`` with ``nn.ReLU`` layers. x: tensor[N, ...].

    Returns:
        dead units / all ReLU units, in [0, 1].
    """
    import torch.nn as nn

    outs = _layer_outputs(model, x, (nn.ReLU,), "nn.ReLU")
    dead = sum(int((o.reshape(o.shape[0], -1) <= 0).all(dim=0).sum()) for o in outs)
    total = sum(o[0].numel() for o in outs)
    return dead / total


def best_epoch(val_losses: Sequence[float], patience: int) -> tuple[int, int]:
    """Early stopping: where training stops and which epoch's weights are kept.

    Training stops after ``patience`` epochs in a row without a new lowest validation loss.

    Args:
        val_losses: validation loss after each epoch (epoch 0 first).
        patience: epochs to wait for an improvement, >= 1.

    Returns:
        ``(stop, best)``: the epoch at which training stops (the last one if it never does) and
        the epoch with the lowest loss up to then.
    """
    losses = [float(v) for v in val_losses]
    if not losses:
        raise ValueError("val_losses must hold at least one loss")
    if not isinstance(patience, (int, np.integer)) or patience < 1:
        raise ValueError(f"patience must be a positive int; got {patience!r}")
    best, waited = 0, 0
    for epoch in range(1, len(losses)):
        if losses[epoch] < losses[best]:
            best, waited = epoch, 0
        else:
            waited += 1
            if waited >= patience:
                return epoch, best
    return len(losses) - 1, best


def optimizer_path(loss_fn: Callable, start: Sequence[float], make_optimizer: Callable,
                   steps: int) -> np.ndarray:
    """Run an optimiser on a function of one 2-D point and record where it goes.

    Args:
        loss_fn: maps a tensor[2] to a scalar tensor (written with torch operations).
        start: the initial point ``(x, y)``.
        make_optimizer: ``params -> torch.optim.Optimizer``, e.g.
            ``lambda p: torch.optim.Adam(p, lr=0.1)``.
        steps: number of updates.

    Returns:
        ndarray[steps + 1, 2]: the point before each update and after the last.
    """
    import torch

    if len(start) != 2:
        raise ValueError(f"start must be a point (x, y); got {start!r}")
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"steps must be a non-negative int; got {steps!r}")
    p = torch.tensor([float(v) for v in start], dtype=torch.float64, requires_grad=True)
    opt = make_optimizer([p])
    path = [p.detach().numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(p).backward()
        opt.step()
        path.append(p.detach().numpy().copy())
    return np.array(path)


# ---------------------------------------------------------------------------------------------
# Plots
# ---------------------------------------------------------------------------------------------

def plot_activation(name: str, alpha: float | None = None, x=None, ax=None):
    """Plot an activation ``f`` and its derivative ``f'`` on one axes.

    Args:
        name: one of :data:`ACTIVATIONS`. alpha: as in :func:`activation`.
        x: the points (default 401 points in [-4, 4]).
        ax: a matplotlib axes (default: a new figure).

    Returns:
        The axes.
    """
    import matplotlib.pyplot as plt

    x = np.linspace(-4, 4, 401) if x is None else np.asarray(x, dtype=float)
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 3))
    f, df = activation(name, x, alpha), activation_derivative(name, x, alpha)
    if name in ("step", "relu", "leaky_relu", "prelu"):  # jumps in f'(x): do not join them
        df = np.where(np.isclose(x, 0, atol=(x[1] - x[0]) / 2 if len(x) > 1 else 0), np.nan, df)
    ax.plot(x, f, label="f(x)", lw=2)
    ax.plot(x, df, "--", label="f′(x)", lw=2)
    ax.axhline(0, color="gray", lw=0.5)
    ax.axvline(0, color="gray", lw=0.5)
    shown = _name(name)
    title = shown + (f" (α = {_alpha(shown, alpha):g})" if shown in _DEFAULT_ALPHA else "")
    ax.set(title=title, xlabel="x", ylabel="value")
    ax.legend(loc="upper left", fontsize=8)
    return ax


def plot_per_layer(values: dict, *, ylabel: str, title: str, log: bool = True, ax=None):
    """One line per model of a per-layer measurement (gradient norm, activation std).

    Args:
        values: ``{label: ndarray[L]}``; layer 1 is plotted at x = 1.
        ylabel, title: axis label and title. log: logarithmic y axis.
        ax: a matplotlib axes (default: a new figure).

    Returns:
        The axes.
    """
    import matplotlib.pyplot as plt

    if not values:
        raise ValueError("values must hold at least one {label: per-layer array}")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for label, v in values.items():
        v = np.asarray(v, dtype=float)
        ax.plot(np.arange(1, len(v) + 1), v, marker="o", ms=3, label=label)
    if log:
        ax.set_yscale("log")
    ax.set(xlabel="layer (1 = nearest the input)", ylabel=ylabel, title=title)
    ax.legend(fontsize=8)
    return ax


def plot_paths(loss_fn: Callable[[np.ndarray, np.ndarray], np.ndarray], paths: dict, *,
               xlim=(-2, 2), ylim=(-1, 3), minimum=None, title: str = "Optimiser paths", ax=None):
    """Contour plot of a 2-D loss with each optimiser's path drawn on it.

    Args:
        loss_fn: NumPy version of the loss, ``(X, Y) -> Z`` elementwise on grids.
        paths: ``{label: ndarray[T, 2]}`` from :func:`optimizer_path`.
        xlim, ylim: plotted range. minimum: optional ``(x, y)`` marked with a star.
        ax: a matplotlib axes (default: a new figure).

    Returns:
        The axes.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4.5))
    xs, ys = np.linspace(*xlim, 300), np.linspace(*ylim, 300)
    X, Y = np.meshgrid(xs, ys)
    Z = loss_fn(X, Y)
    ax.contour(X, Y, np.log1p(Z), levels=25, cmap="Greys", linewidths=0.7)
    for label, path in paths.items():
        path = np.asarray(path)
        ax.plot(path[:, 0], path[:, 1], marker=".", ms=2, lw=1.2, label=label)
    if minimum is not None:
        ax.plot(*minimum, "k*", ms=12, label="minimum")
    ax.set(xlim=xlim, ylim=ylim, xlabel="w₁", ylabel="w₂", title=title)
    ax.legend(fontsize=8, loc="best")
    return ax
