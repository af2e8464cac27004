"""helpers.scratch.functional: hand-written gradients against torch.autograd and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from helpers.scratch.functional import (
    cross_entropy,
    cross_entropy_backward,
    relu,
    relu_backward,
    sigmoid,
    sigmoid_backward,
    softmax,
)


def test_activations_and_loss_against_torch():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((5, 4)) * 3
    g = rng.standard_normal((5, 4))
    y = rng.integers(0, 4, 5)
    zt = torch.tensor(z, requires_grad=True)
    np.testing.assert_allclose(relu(z), F.relu(zt).detach().numpy())
    np.testing.assert_allclose(sigmoid(z), torch.sigmoid(zt).detach().numpy())
    np.testing.assert_allclose(softmax(z), F.softmax(zt, dim=-1).detach().numpy())
    loss = F.cross_entropy(zt, torch.tensor(y))
    assert cross_entropy(z, y) == pytest.approx(loss.item(), rel=1e-12)
    loss.backward()
    np.testing.assert_allclose(cross_entropy_backward(z, y), zt.grad.numpy(), atol=1e-12)
    for fn, back in [(F.relu, relu_backward), (torch.sigmoid, sigmoid_backward)]:
        zt = torch.tensor(z, requires_grad=True)
        fn(zt).backward(torch.tensor(g))
        np.testing.assert_allclose(back(z, g), zt.grad.numpy(), atol=1e-12)
    assert sigmoid(np.array([-1000.0, 1000.0])).tolist() == [0.0, 1.0]  # no overflow warning
    np.testing.assert_allclose(softmax(np.array([1000.0, 1000.0])), [0.5, 0.5])


def test_lecture_softmax_example():
    p = softmax(np.array([-3.9, -9.3, 12.6]))
    np.testing.assert_allclose(p, [6.8256e-8, 3.0828e-10, 0.99999993], rtol=1e-4)


def test_loss_errors():
    with pytest.raises(ValueError, match="target must hold one integer class per row"):
        cross_entropy(np.zeros((3, 2)), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"target classes must be in 0..1"):
        cross_entropy(np.zeros((2, 2)), np.array([0, 2]))
    with pytest.raises(ValueError, match="logits must be 2-D"):
        cross_entropy_backward(np.zeros(3), np.array([0]))
    with pytest.raises(ValueError, match="grad_out must have x's shape"):
        relu_backward(np.zeros(3), np.zeros(2))
