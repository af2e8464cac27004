"""helpers.scratch.activations: each activation and its derivative, by hand and against PyTorch."""

from __future__ import annotations


import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from helpers.figures.layers import plot_activation
from helpers.scratch.activations import (
    ACTIVATIONS,
    activation,
    activation_derivative,
    elu,
    leaky_relu,
    leaky_relu_backward,
)

torch.set_num_threads(1)


X = np.linspace(-3, 3, 13)  # includes 0


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


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_plot_activation(name):
    ax = plot_activation(name)
    assert ax.get_title().startswith(name) and ax.get_xlabel() == "x" and ax.get_ylabel()
    assert len(ax.get_lines()) >= 2
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
