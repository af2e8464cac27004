"""helpers.layers and helpers.layers_widgets: hand-computed values, PyTorch as the oracle, errors."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import torchvision.ops  # noqa: E402

from helpers.analysis.probes import (activation_stds, best_epoch, dead_relu_fraction, gradient_norms_per_layer, optimizer_path)
from helpers.figures.layers import plot_activation, plot_paths, plot_per_layer
from helpers.models.deep import deep_mlp
from helpers.scratch.activations import (activation, activation_derivative, ACTIVATIONS, elu, leaky_relu, leaky_relu_backward)
from helpers.scratch.losses import binary_cross_entropy_with_logits, sigmoid_focal_loss
from helpers.scratch.normalization import batch_norm, dropout, group_norm

torch.set_num_threads(1)
X = np.linspace(-3, 3, 13)  # includes 0


# -- activations --------------------------------------------------------------------------------

def test_activation_hand_values():
    x = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_allclose(activation("step", x), [0, 0, 1])
    np.testing.assert_allclose(activation("relu", x), [0, 0, 3])
    np.testing.assert_allclose(activation("leaky_relu", x), [-0.02, 0, 3])
    np.testing.assert_allclose(activation("prelu", x, alpha=0.5), [-1.0, 0, 3])
    np.testing.assert_allclose(activation("elu", x), [np.exp(-2) - 1, 0, 3])
    np.testing.assert_allclose(activation("sigmoid", [0.0]), [0.5])
    np.testing.assert_allclose(activation_derivative("sigmoid", [np.log(3)]), [3 / 16])
    np.testing.assert_allclose(activation_derivative("tanh", [0.0]), [1.0])
    np.testing.assert_allclose(activation_derivative("step", x), [0, 0, 0])


@pytest.mark.parametrize("name,torch_fn", [
    ("sigmoid", torch.sigmoid), ("tanh", torch.tanh), ("relu", torch.relu),
    ("leaky_relu", lambda t: F.leaky_relu(t, 0.01)), ("prelu", lambda t: F.leaky_relu(t, 0.25)),
    ("elu", lambda t: F.elu(t, 1.0)),
])
def test_activation_and_derivative_match_torch_autograd(name, torch_fn):
    t = torch.tensor(X, requires_grad=True)
    y = torch_fn(t)
    y.sum().backward()
    np.testing.assert_allclose(activation(name, X), y.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(activation_derivative(name, X), t.grad.numpy(), atol=1e-12)


def test_alpha_is_used_and_names_are_normalised():
    np.testing.assert_allclose(activation("Leaky ReLU", [-1.0], alpha=0.3), [-0.3])
    np.testing.assert_allclose(activation_derivative("elu", [-1.0], alpha=2.0), [2 * np.exp(-1)])
    np.testing.assert_allclose(elu([-1.0], alpha=2.0), [2 * (np.exp(-1) - 1)])
    np.testing.assert_allclose(leaky_relu([-4.0, 4.0], 0.5), [-2.0, 4.0])


def test_sigmoid_derivative_is_at_most_a_quarter():
    x = np.linspace(-8, 8, 16001)
    d = activation_derivative("sigmoid", x)
    assert d.max() == pytest.approx(0.25)
    assert x[d.argmax()] == pytest.approx(0.0)


@pytest.mark.parametrize("bad,exc", [("swish", ValueError), (3, TypeError)])
def test_activation_rejects_unknown_names(bad, exc):
    with pytest.raises(exc, match="name"):
        activation(bad, X)
    with pytest.raises(exc, match="name"):
        activation_derivative(bad, X)


def test_activation_rejects_bad_alpha():
    with pytest.raises(ValueError, match="alpha"):
        activation("elu", X, alpha=float("nan"))


def test_leaky_relu_backward_matches_torch():
    rng = np.random.default_rng(0)
    x = np.array([-1.0, 0.0, 2.0, -3.0])
    g = rng.normal(size=4)
    t = torch.tensor(x, requires_grad=True)
    F.leaky_relu(t, 0.2).backward(torch.tensor(g))
    np.testing.assert_allclose(leaky_relu_backward(x, g, 0.2), t.grad.numpy())
    with pytest.raises(ValueError, match="grad_out"):
        leaky_relu_backward(x, g[:3])


# -- normalisation ------------------------------------------------------------------------------

def test_batch_norm_matches_torch_2d_and_4d():
    rng = np.random.default_rng(1)
    for shape in [(6, 3), (4, 3, 5, 5)]:
        x = rng.normal(2, 3, size=shape)
        gamma, beta = np.array([1.0, 2.0, 0.5]), np.array([0.0, -1.0, 3.0])
        expected = F.batch_norm(torch.tensor(x), None, None, torch.tensor(gamma), torch.tensor(beta),
                                training=True, eps=1e-5).numpy()
        np.testing.assert_allclose(batch_norm(x, gamma, beta), expected, atol=1e-10)


def test_batch_norm_hand_value():
    # mean 2, biased variance 1: x_hat = [-1, 1]
    np.testing.assert_allclose(batch_norm(np.array([[1.0], [3.0]]), eps=0.0), [[-1.0], [1.0]])
    np.testing.assert_allclose(batch_norm(np.array([[1.0], [3.0]]), [2.0], [5.0], eps=0.0), [[3.0], [7.0]])


def test_batch_norm_errors():
    with pytest.raises(ValueError, match="x must be"):
        batch_norm(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="more than one value"):
        batch_norm(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="gamma"):
        batch_norm(np.zeros((2, 3)), gamma=np.ones(2))
    with pytest.raises(ValueError, match="beta"):
        batch_norm(np.zeros((2, 3)), beta=np.ones(4))


@pytest.mark.parametrize("groups", [1, 2, 3, 6])
def test_group_norm_matches_torch(groups):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 6, 4, 4))
    gamma, beta = rng.normal(size=6), rng.normal(size=6)
    expected = F.group_norm(torch.tensor(x), groups, torch.tensor(gamma), torch.tensor(beta), eps=1e-5).numpy()
    np.testing.assert_allclose(group_norm(x, groups, gamma, beta), expected, atol=1e-10)


def test_group_norm_is_per_example_and_errors():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 4, 3, 3))
    np.testing.assert_allclose(group_norm(x[:1], 2)[0], group_norm(x, 2)[0])
    with pytest.raises(ValueError, match="num_groups"):
        group_norm(x, 3)
    with pytest.raises(ValueError, match="num_groups"):
        group_norm(x, 0)
    with pytest.raises(ValueError, match="x must be"):
        group_norm(np.zeros(4), 1)


# -- dropout ------------------------------------------------------------------------------------

def test_dropout_with_mask_and_eval():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    mask = np.array([True, False, True, False])
    np.testing.assert_allclose(dropout(x, 0.5, mask=mask), [2.0, 0.0, 6.0, 0.0])
    np.testing.assert_allclose(dropout(x, 0.5, training=False), x)
    np.testing.assert_allclose(dropout(x, 0.0), x)


def test_dropout_keeps_the_mean():
    out = dropout(np.ones(200_000), 0.3, rng=np.random.default_rng(0))
    assert out.mean() == pytest.approx(1.0, abs=0.01)
    assert (out == 0).mean() == pytest.approx(0.3, abs=0.01)
    np.testing.assert_allclose(np.unique(out), [0.0, 1 / 0.7])


def test_dropout_errors():
    with pytest.raises(ValueError, match="p must"):
        dropout(np.ones(3), 1.0)
    with pytest.raises(ValueError, match="p must"):
        dropout(np.ones(3), -0.1)
    with pytest.raises(ValueError, match="mask"):
        dropout(np.ones(3), 0.5, mask=np.ones(2, dtype=bool))


# -- losses -------------------------------------------------------------------------------------

def test_bce_with_logits_matches_torch_and_hand():
    z = np.array([3.0, -1.0, 0.5, -40.0, 40.0])
    y = np.array([1.0, 0.0, 0.0, 1.0, 0.0])
    expected = F.binary_cross_entropy_with_logits(torch.tensor(z), torch.tensor(y)).item()
    assert binary_cross_entropy_with_logits(z, y) == pytest.approx(expected, rel=1e-12)
    assert binary_cross_entropy_with_logits([0.0], [1.0]) == pytest.approx(np.log(2))


def test_bce_errors():
    with pytest.raises(ValueError, match="target must have"):
        binary_cross_entropy_with_logits(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="target values"):
        binary_cross_entropy_with_logits(np.zeros(2), np.array([0.0, 2.0]))


@pytest.mark.parametrize("alpha,gamma", [(0.25, 2.0), (-1, 0.0), (0.5, 1.0), (-1, 5.0)])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_focal_loss_matches_torchvision(alpha, gamma, reduction):
    rng = np.random.default_rng(4)
    z, y = rng.normal(0, 3, size=(5, 3)), (rng.random((5, 3)) > 0.5).astype(float)
    expected = torchvision.ops.sigmoid_focal_loss(torch.tensor(z), torch.tensor(y), alpha=alpha,
                                                  gamma=gamma, reduction=reduction).numpy()
    np.testing.assert_allclose(sigmoid_focal_loss(z, y, alpha, gamma, reduction), expected, rtol=1e-10)


def test_focal_loss_hand_value_and_errors():
    # z = 0: p_t = 1/2, loss = alpha_t * (1/2)^gamma * log 2
    assert sigmoid_focal_loss([0.0], [1.0], 0.25, 2.0, "sum") == pytest.approx(0.25 * 0.25 * np.log(2))
    with pytest.raises(ValueError, match="target must have"):
        sigmoid_focal_loss(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="gamma"):
        sigmoid_focal_loss(np.zeros(3), np.zeros(3), gamma=-1)
    with pytest.raises(ValueError, match="reduction"):
        sigmoid_focal_loss(np.zeros(3), np.zeros(3), reduction="avg")


# -- measurements -------------------------------------------------------------------------------

def test_deep_mlp_structure_and_init():
    torch.manual_seed(0)
    m = deep_mlp(3, 8, 4, 2, "relu", batch_norm=True)
    assert [type(l).__name__ for l in m] == ["Linear", "BatchNorm1d", "ReLU"] * 3 + ["Linear"]
    assert sum(isinstance(l, nn.Linear) for l in deep_mlp(5, 8, 4, 2, "tanh", residual=True).modules()) == 6
    he = deep_mlp(2, 2000, 2000, 2, "relu", init="he")
    assert float(he[0].weight.detach().var()) == pytest.approx(2 / 2000, rel=0.02)
    assert float(he[0].bias.detach().abs().max()) == 0.0
    xav = deep_mlp(1, 1000, 500, 2, "tanh", init="xavier")
    assert float(xav[0].weight.detach().var()) == pytest.approx(1 / 500, rel=0.03)


@pytest.mark.parametrize("kwargs,match", [
    (dict(depth=0), "depth"), (dict(width=2.5), "width"), (dict(activation="gelu"), "activation"),
    (dict(init="orthogonal"), "init"),
])
def test_deep_mlp_errors(kwargs, match):
    args = dict(depth=2, width=4, n_in=3, n_out=2, activation="relu") | kwargs
    with pytest.raises(ValueError, match=match):
        deep_mlp(**args)


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


# -- plots and the explorer ---------------------------------------------------------------------

@pytest.mark.parametrize("name", ACTIVATIONS)
def test_plot_activation(name):
    ax = plot_activation(name)
    assert ax.get_title().startswith(name) and ax.get_xlabel() == "x" and ax.get_ylabel()
    assert len(ax.get_lines()) >= 2
    plt.close("all")


def test_plot_per_layer_and_paths():
    ax = plot_per_layer({"a": [1.0, 0.1, 0.01], "b": [1.0, 1.0, 1.0]}, ylabel="norm", title="t")
    assert ax.get_yscale() == "log" and ax.get_title() == "t" and len(ax.get_lines()) == 2
    np.testing.assert_allclose(ax.get_lines()[0].get_xdata(), [1, 2, 3])
    with pytest.raises(ValueError, match="values"):
        plot_per_layer({}, ylabel="y", title="t")
    ax = plot_paths(lambda a, b: a ** 2 + b ** 2, {"p": np.array([[1.0, 1.0], [0.0, 0.0]])},
                    minimum=(0, 0), title="paths")
    assert ax.get_title() == "paths" and ax.get_xlabel() and ax.get_ylabel()
    plt.close("all")


def test_activation_explorer_updates():
    from helpers.widgets.activations import activation_explorer

    ex = activation_explorer()
    first = ex.picture.value
    assert first[:4] == b"\x89PNG" and "0.2500" in ex.message.value  # sigmoid'(0)
    assert ex.alpha.disabled
    ex.name.value = "leaky_relu"
    ex.alpha.value = 0.5
    ex.x0.value = -2.0
    assert not ex.alpha.disabled
    assert "-1.0000" in ex.message.value and "0.5000" in ex.message.value
    assert ex.picture.value != first
    with pytest.raises(ValueError, match="name"):
        activation_explorer("swish")


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
