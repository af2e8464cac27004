"""helpers.scratch.normalization: batch and group normalisation and dropout against PyTorch."""

from __future__ import annotations


import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from helpers.scratch.normalization import batch_norm, dropout, group_norm


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
