"""helpers.scratch.losses: binary cross-entropy and the focal loss against PyTorch and torchvision."""

from __future__ import annotations


import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import torchvision.ops  # noqa: E402

from helpers.scratch.losses import binary_cross_entropy_with_logits, sigmoid_focal_loss


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
