"""helpers.scratch.tinycnn: the hand-made tiny CNN against its PyTorch twin, the bar data set and the
training helpers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers.scratch.gradcheck import gradient_check
from helpers.scratch.shapes import conv_params, count_params, dense_params
from helpers.scratch.tinycnn import TinyCNN, accuracy, make_bars, train_classifier

CASES = [  # (in_shape, n_filters, kernel_size, n_classes, pool_size, batch, seed)
    ((1, 6, 6), 1, 3, 3, 2, 1, 0),
    ((1, 6, 6), 2, 3, 3, 2, 4, 1),
    ((2, 7, 5), 3, 2, 4, 2, 3, 2),
    ((3, 8, 8), 2, 3, 5, 3, 2, 3),
    ((1, 5, 5), 2, 2, 2, 1, 5, 4),
]


def _torch_step(model, x, target, lr):
    logits = model(torch.from_numpy(x))
    loss = F.cross_entropy(logits, torch.from_numpy(target))
    model.zero_grad()
    loss.backward()
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    torch.optim.SGD(model.parameters(), lr=lr).step()
    return logits.detach().numpy(), loss.item(), grads


@pytest.mark.parametrize("case", CASES)
def test_forward_backward_and_step_match_autograd(case):
    in_shape, k, ks, n_classes, pool, batch, seed = case
    net = TinyCNN.random(in_shape, k, ks, n_classes, pool, seed=seed)
    model = net.to_torch()
    rng = np.random.default_rng(seed + 100)
    x = rng.normal(size=(batch,) + in_shape)
    target = rng.integers(0, n_classes, batch)

    logits, loss = net.forward(x), net.loss(x, target)
    grads = net.backward(target)
    t_logits, t_loss, t_grads = _torch_step(model, x, target, lr=0.1)
    np.testing.assert_allclose(logits, t_logits, atol=1e-12)
    assert abs(loss - t_loss) < 1e-12
    for name, t_grad in zip(net.parameters(), t_grads):
        np.testing.assert_allclose(grads[name], t_grad, atol=1e-10, err_msg=name)

    net.step(0.1)
    for name, param in zip(net.parameters(), model.parameters()):
        np.testing.assert_allclose(net.parameters()[name], param.detach().numpy(), atol=1e-10, err_msg=name)


def test_gradient_matches_finite_differences():
    net = TinyCNN.random((1, 6, 6), 2, 3, 3, 2, seed=5)
    x = np.random.default_rng(0).normal(size=(2, 1, 6, 6))
    target = np.array([0, 2])
    net.forward(x)
    grads = net.backward(target)
    w0 = net.conv_weight.copy()

    def loss_of_weight(w):
        net.conv_weight[...] = w
        return net.loss(x, target)

    assert gradient_check(loss_of_weight, w0, grads["conv_weight"]) < 1e-6
    net.conv_weight[...] = w0


def test_deltas_have_the_shapes_of_the_maps():
    net = TinyCNN.random((1, 6, 6), 2, 3, 3, 2, seed=0)
    net.forward(np.ones((3, 1, 6, 6)))
    net.backward(np.array([0, 1, 2]))
    for name, delta in net.deltas.items():
        assert delta.shape == net.cache[name].shape, name


def test_lecture_network_forward():
    """The lecture's full exercise: logits [-3.9, -9.3, 12.6] (Part V of the syllabus)."""
    x = np.array([[0, 5, 5, 5, 5, 0]] * 2 + [[0, 5, 0, 5, 5, 0]] * 4, dtype=float)[None, None]
    net = TinyCNN([[[[1, 0, -1]] * 3]], [-5],
                  [[0.8, -0.2, 0.1, -0.2], [0.2, -0.6, 0.5, -0.3], [0.5, 0.3, -0.8, 0.9]], [0.1, -0.3, 0.6])
    np.testing.assert_allclose(net.forward(x), [[-3.9, -9.3, 12.6]], atol=1e-12)
    np.testing.assert_array_equal(net.cache["pool"][0, 0], [[0, 10], [0, 10]])
    assert count_params(net.to_torch()) == conv_params(1, 1, 3) + dense_params(4, 3) == 25


def test_to_torch_dtype_and_copy():
    net = TinyCNN.random(seed=0)
    model = net.to_torch(torch.float32)
    assert all(p.dtype == torch.float32 for p in model.parameters())
    with torch.no_grad():
        model[0].weight.zero_()
    assert np.abs(net.conv_weight).sum() > 0  # the twin holds copies


def test_constructor_copies_parameters():
    w = np.ones((1, 1, 2, 2))
    net = TinyCNN(w, [0.0], np.ones((2, 4)), [0.0, 0.0])
    net.conv_weight += 1
    assert w.sum() == 4


@pytest.mark.parametrize(
    "args, match",
    [
        ((np.ones((2, 2)), [0.0], np.ones((2, 4)), [0.0, 0.0]), "conv_weight must be 4-D"),
        ((np.ones((1, 1, 2, 2)), [0.0, 1.0], np.ones((2, 4)), [0.0, 0.0]), "conv_bias must hold one value per filter"),
        ((np.ones((1, 1, 2, 2)), [0.0], np.ones(4), [0.0, 0.0]), "dense_weight must be 2-D"),
        ((np.ones((1, 1, 2, 2)), [0.0], np.ones((2, 4)), [0.0]), "dense_bias must hold one value per class"),
    ],
)
def test_constructor_rejects_bad_shapes(args, match):
    with pytest.raises(ValueError, match=match):
        TinyCNN(*args)


def test_constructor_rejects_non_numbers_and_bad_pool():
    with pytest.raises(TypeError, match="conv_weight"):
        TinyCNN("abc", [0.0], np.ones((2, 4)), [0.0, 0.0])
    with pytest.raises(ValueError, match="pool_size"):
        TinyCNN(np.ones((1, 1, 2, 2)), [0.0], np.ones((2, 4)), [0.0, 0.0], pool_size=0)


def test_random_rejects_impossible_shapes():
    with pytest.raises(ValueError, match="kernel_size"):
        TinyCNN.random((1, 2, 2), kernel_size=3)
    with pytest.raises(ValueError, match="pool_size"):
        TinyCNN.random((1, 4, 4), kernel_size=3, pool_size=3)


def test_forward_rejects_bad_input():
    net = TinyCNN.random((1, 6, 6), 2, 3, 3, 2, seed=0)
    with pytest.raises(ValueError, match="x must be 4-D"):
        net.forward(np.ones((6, 6)))
    with pytest.raises(ValueError, match="dense_weight expects 8 inputs"):
        net.forward(np.ones((1, 1, 8, 8)))


def test_backward_and_step_need_their_predecessor():
    net = TinyCNN.random(seed=0)
    with pytest.raises(RuntimeError, match="forward"):
        net.backward([0])
    net.forward(np.ones((1, 1, 6, 6)))
    with pytest.raises(RuntimeError, match="backward"):
        net.step(0.1)
    net.backward(np.array([1]))
    with pytest.raises(ValueError, match="lr"):
        net.step(-1.0)
    net.forward(np.ones((1, 1, 6, 6)))
    with pytest.raises(ValueError, match="target"):
        net.backward(np.array([7]))  # class 7 of 3


def test_make_bars_draws_the_bars():
    x, y = make_bars(50, size=6, length=4, noise=0.0, seed=3)
    assert x.shape == (50, 1, 6, 6) and x.dtype == np.float32 and y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1}
    for img, label in zip(x[:, 0], y):
        assert img.sum() == 4
        rows, cols = np.nonzero(img)
        assert len(set(cols if label == 0 else rows)) == 1  # one column (vertical) or one row
    x2, y2 = make_bars(50, size=6, length=4, noise=0.0, seed=3)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)


@pytest.mark.parametrize(
    "kwargs, match",
    [(dict(n=0), "n must be"), (dict(n=5, length=9), "length"), (dict(n=5, noise=-1.0), "noise")],
)
def test_make_bars_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_bars(**kwargs)


def test_train_classifier_learns_the_bars():
    torch.manual_seed(0)
    x, y = make_bars(200, noise=0.1, seed=1)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(36, 2))
    before = accuracy(model, x, y)
    losses = train_classifier(model, x, y, steps=150, lr=0.02, seed=0)
    assert len(losses) == 150 and np.mean(losses[-20:]) < np.mean(losses[:20])
    assert accuracy(model, x, y) > max(before, 0.8)


def test_train_classifier_rejects_bad_arguments():
    model = nn.Linear(4, 2)
    with pytest.raises(ValueError, match="steps"):
        train_classifier(model, np.ones((3, 4), np.float32), np.zeros(3, np.int64), steps=0)
    with pytest.raises(ValueError, match="same number"):
        train_classifier(model, np.ones((3, 4), np.float32), np.zeros(2, np.int64), steps=1)
