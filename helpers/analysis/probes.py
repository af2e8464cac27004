"""Measurements taken on a PyTorch model: gradient norms and activation spreads per layer, dead ReLUs, early stopping, optimiser paths (Part III).
"""

from __future__ import annotations

from typing import Callable, Sequence
import numpy as np

__all__ = ["gradient_norms_per_layer", "activation_stds", "dead_relu_fraction", "best_epoch", "optimizer_path"]


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
