"""helpers.models.deep: deep plain and residual MLPs, their shapes and activations."""

from __future__ import annotations


import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

from helpers.models.deep import deep_mlp


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
