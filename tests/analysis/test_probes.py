"""helpers.analysis.probes: gradient norms, activation spreads, dead ReLUs, early stopping and
optimiser paths, against PyTorch."""

from __future__ import annotations


import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

from helpers.analysis.probes import (
    activation_stds,
    best_epoch,
    dead_relu_fraction,
    gradient_norms_per_layer,
    optimizer_path,
)
from helpers.models.deep import deep_mlp


def test_gradient_norms_per_layer_hand_case():
    # one linear layer W = 0, logits 0: dL/dlogits = (softmax - onehot)/N; dW = that^T x
    model = nn.Sequential(nn.Linear(2, 2, bias=False))
    with torch.no_grad():
        model[0].weight.zero_()
    x = torch.tensor([[1.0, 2.0]])
    g = gradient_norms_per_layer(model, x, torch.tensor([0]))
    expected = np.linalg.norm(np.outer([-0.5, 0.5], [1.0, 2.0]))
    np.testing.assert_allclose(g, [expected])
    with pytest.raises(ValueError, match="x must be"):
        gradient_norms_per_layer(model, x, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="Linear"):
        gradient_norms_per_layer(nn.Sequential(nn.ReLU()), x, torch.tensor([0]))


def test_sigmoid_gradients_vanish_and_he_relu_does_not():
    torch.manual_seed(0)
    x, y = torch.randn(64, 16), torch.randint(0, 4, (64,))
    sig = gradient_norms_per_layer(deep_mlp(15, 32, 16, 4, "sigmoid"), x, y)
    relu = gradient_norms_per_layer(deep_mlp(15, 32, 16, 4, "relu", init="he"), x, y)
    assert sig.shape == relu.shape == (16,)
    assert sig[0] / sig[-1] < 1e-6
    assert relu[0] / relu[-1] > 1e-2


def test_activation_stds():
    model = nn.Sequential(nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 1), nn.Tanh())
    with torch.no_grad():
        for lin in (model[0], model[2]):
            lin.weight.fill_(1.0), lin.bias.zero_()
    x = torch.tensor([[-1.0], [1.0], [3.0]])
    relu_out = torch.tensor([0.0, 1.0, 3.0])
    np.testing.assert_allclose(activation_stds(model, x),
                               [float(relu_out.std()), float(torch.tanh(relu_out).std())], rtol=1e-6)
    assert not model[1]._forward_hooks  # hooks removed
    with pytest.raises(ValueError, match="activation|Sigmoid"):
        activation_stds(nn.Sequential(nn.Linear(1, 1)), x)


def test_dead_relu_fraction():
    model = nn.Sequential(nn.Linear(1, 4), nn.ReLU())
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1.0], [1.0], [-1.0], [0.0]]))
        model[0].bias.copy_(torch.tensor([0.0, -10.0, 0.0, -1.0]))
    x = torch.tensor([[1.0], [2.0], [-1.0]])
    # unit 0 fires for x > 0, unit 1 never (x < 10), unit 2 for x < 0, unit 3 never
    assert dead_relu_fraction(model, x) == 0.5
    assert not model[1]._forward_hooks
    with pytest.raises(ValueError, match="ReLU"):
        dead_relu_fraction(nn.Sequential(nn.Linear(1, 1)), x)


def test_best_epoch():
    assert best_epoch([5, 4, 3, 3.5, 3.2, 3.1, 2.0], patience=3) == (5, 2)
    assert best_epoch([5, 4, 3, 3.5, 2.9], patience=3) == (4, 4)
    assert best_epoch([1.0], patience=1) == (0, 0)
    assert best_epoch([3, 2, 2, 2], patience=1) == (2, 1)
    with pytest.raises(ValueError, match="val_losses"):
        best_epoch([], 2)
    with pytest.raises(ValueError, match="patience"):
        best_epoch([1, 2], 0)


def test_optimizer_path_hand_sgd_step():
    # f = w1^2 + 3 w2^2, gradient (2 w1, 6 w2); one SGD step of 0.1 from (1, 1): (0.8, 0.4)
    path = optimizer_path(lambda w: w[0] ** 2 + 3 * w[1] ** 2, (1.0, 1.0),
                          lambda p: torch.optim.SGD(p, lr=0.1), steps=2)
    np.testing.assert_allclose(path, [[1.0, 1.0], [0.8, 0.4], [0.64, 0.16]])
    with pytest.raises(ValueError, match="start"):
        optimizer_path(lambda w: w.sum(), (1.0,), lambda p: torch.optim.SGD(p, lr=0.1), 1)
    with pytest.raises(ValueError, match="steps"):
        optimizer_path(lambda w: w.sum(), (1.0, 2.0), lambda p: torch.optim.SGD(p, lr=0.1), -1)


def test_measurements_need_the_layers_they_measure():
    import torch
    from torch import nn

    from helpers.analysis.probes import activation_stds, dead_relu_fraction

    with pytest.raises(ValueError, match="model has no Sigmoid, Tanh or ReLU layers"):
        activation_stds(nn.Linear(2, 2), torch.zeros(1, 2))
    with pytest.raises(ValueError, match="model has no nn.ReLU layers"):
        dead_relu_fraction(nn.Sequential(nn.Linear(2, 2), nn.Tanh()), torch.zeros(1, 2))
    # hooks are removed afterwards: a second forward pass records nothing new
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    activation_stds(model, torch.ones(4, 2))
    assert all(not m._forward_hooks for m in model.modules())
