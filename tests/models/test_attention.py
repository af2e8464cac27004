"""helpers.models.attention: SE and CBAM against hand-written references with fixed weights."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from helpers.models.attention import CBAM, SEBlock, cbam_params, hidden_size, se_params
from helpers.scratch.shapes import count_params

SHAPES = [(1, 4, 1, 1), (2, 8, 5, 7), (3, 16, 8, 8), (2, 32, 3, 10)]


def _ramp(*shape: int, scale: float = 0.1, offset: float = 0.0) -> torch.Tensor:
    """Deterministic, sign-mixed values: scale * (k - n/2) + offset for k = 0..n-1."""
    n = math.prod(shape)
    return (scale * (torch.arange(n, dtype=torch.float64) - n / 2) + offset).reshape(shape)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("module", [SEBlock, CBAM])
def test_output_has_input_shape(module, shape):
    torch.manual_seed(0)
    block = module(shape[1], reduction=4)
    x = torch.randn(shape)
    y = block(x)
    assert y.shape == x.shape
    assert torch.isfinite(y).all()
    # a gate in (0, 1) can only shrink magnitudes
    assert (y.abs() <= x.abs() + 1e-6).all()


@pytest.mark.parametrize("channels,reduction", [(4, 2), (16, 4), (64, 16), (64, 3), (5, 16)])
def test_se_param_count_matches_formula(channels, reduction):
    h = max(1, channels // reduction)
    expected = 2 * channels * h + h + channels
    assert se_params(channels, reduction) == expected
    assert count_params(SEBlock(channels, reduction)) == expected


@pytest.mark.parametrize("channels,reduction,k", [(4, 2, 3), (16, 4, 7), (64, 16, 7), (5, 16, 5)])
def test_cbam_param_count_matches_formula(channels, reduction, k):
    h = max(1, channels // reduction)
    expected = 2 * channels * h + h + channels + 2 * k * k + 1
    assert cbam_params(channels, reduction, k) == expected
    assert count_params(CBAM(channels, reduction, k)) == expected


def test_reduction_larger_than_channels_leaves_one_hidden_unit():
    assert hidden_size(4, 16) == 1
    se, cbam = SEBlock(4, 16), CBAM(4, 16)
    assert se.fc1.out_features == 1 and se.fc2.in_features == 1
    assert cbam.mlp[0].out_features == 1
    x = torch.randn(2, 4, 3, 3)
    assert se(x).shape == x.shape and cbam(x).shape == x.shape


def _set_se_weights(se: SEBlock) -> None:
    with torch.no_grad():
        se.fc1.weight.copy_(torch.tensor([[1.0, -1.0, 0.5, 0.0], [0.0, 2.0, -1.0, 1.0]]))
        se.fc1.bias.copy_(torch.tensor([0.1, -0.2]))
        se.fc2.weight.copy_(torch.tensor([[1.0, 0.0], [-1.0, 1.0], [0.5, 0.5], [0.0, -2.0]]))
        se.fc2.bias.copy_(torch.tensor([0.0, 0.3, -0.1, 0.2]))


def test_se_matches_hand_computation():
    se = SEBlock(4, reduction=2).double()
    _set_se_weights(se)
    x = _ramp(2, 4, 3, 2, scale=0.05)
    W1, b1 = se.fc1.weight.detach(), se.fc1.bias.detach()
    W2, b2 = se.fc2.weight.detach(), se.fc2.bias.detach()

    expected = torch.empty_like(x)
    for n in range(2):
        z = [float(x[n, c].sum()) / (3 * 2) for c in range(4)]  # squeeze
        hidden = [max(0.0, sum(float(W1[j, c]) * z[c] for c in range(4)) + float(b1[j]))
                  for j in range(2)]
        for c in range(4):
            a = sum(float(W2[c, j]) * hidden[j] for j in range(2)) + float(b2[c])
            expected[n, c] = x[n, c] / (1 + math.exp(-a))  # x * sigmoid(a)

    torch.testing.assert_close(se(x), expected)


def _reference_cbam(x: torch.Tensor, W1, b1, W2, b2, K, kb) -> torch.Tensor:
    """CBAM written out with loops: channel attention, then spatial attention."""
    N, C, H, W = x.shape
    h, k = W1.shape[0], K.shape[-1]
    p = k // 2

    def mlp(v: list[float]) -> list[float]:
        hid = [max(0.0, sum(float(W1[j, c]) * v[c] for c in range(C)) + float(b1[j]))
               for j in range(h)]
        return [sum(float(W2[c, j]) * hid[j] for j in range(h)) + float(b2[c]) for c in range(C)]

    out = torch.empty_like(x)
    for n in range(N):
        avg = [float(x[n, c].mean()) for c in range(C)]
        mx = [float(x[n, c].max()) for c in range(C)]
        a, m = mlp(avg), mlp(mx)
        xc = torch.stack([x[n, c] / (1 + math.exp(-(a[c] + m[c]))) for c in range(C)])  # (C, H, W)
        maps = [xc.mean(dim=0), xc.max(dim=0).values]  # 2 x (H, W)
        for i in range(H):
            for j in range(W):
                s = float(kb)
                for ch in range(2):
                    for u in range(k):
                        for v in range(k):
                            ii, jj = i + u - p, j + v - p
                            if 0 <= ii < H and 0 <= jj < W:
                                s += float(K[0, ch, u, v]) * float(maps[ch][ii, jj])
                out[n, :, i, j] = xc[:, i, j] / (1 + math.exp(-s))
    return out


@pytest.mark.parametrize("k", [3, 5])
def test_cbam_matches_hand_computation(k):
    cbam = CBAM(4, reduction=2, kernel_size=k).double()
    with torch.no_grad():
        cbam.mlp[0].weight.copy_(_ramp(2, 4, scale=0.3))
        cbam.mlp[0].bias.copy_(torch.tensor([0.1, -0.1]))
        cbam.mlp[2].weight.copy_(_ramp(4, 2, scale=0.4, offset=0.2))
        cbam.mlp[2].bias.copy_(torch.tensor([0.0, 0.2, -0.2, 0.1]))
        cbam.spatial.weight.copy_(_ramp(1, 2, k, k, scale=0.05))
        cbam.spatial.bias.fill_(0.25)
    x = _ramp(2, 4, 5, 6, scale=0.02) * torch.linspace(-1, 2, 6, dtype=torch.float64)
    expected = _reference_cbam(
        x, cbam.mlp[0].weight.detach(), cbam.mlp[0].bias.detach(), cbam.mlp[2].weight.detach(),
        cbam.mlp[2].bias.detach(), cbam.spatial.weight.detach(), cbam.spatial.bias.item(),
    )
    torch.testing.assert_close(cbam(x), expected)


def test_cbam_order_matters():
    """Spatial-then-channel gives a different answer, so the reference test pins the order."""
    torch.manual_seed(1)
    cbam = CBAM(8, reduction=2, kernel_size=3)
    x = torch.randn(2, 8, 6, 6)
    swapped = x * cbam.spatial_gate(x)
    swapped = swapped * cbam.channel_gate(swapped)
    assert not torch.allclose(cbam(x), swapped)


def test_cbam_channel_mlp_is_shared():
    cbam = CBAM(8, reduction=4)
    linears = [m for m in cbam.modules() if isinstance(m, nn.Linear)]
    assert len(linears) == 2  # one MLP, not one per descriptor
    # avg and max descriptors differ, but with fc1's weight zeroed the shared MLP gives both the
    # same output m = W2 relu(b1) + b2, so the gate must be sigmoid(2 m) exactly
    with torch.no_grad():
        cbam.mlp[0].weight.zero_()
        cbam.mlp[0].bias.copy_(torch.tensor([0.5, 0.3]))  # relu(b1) > 0: both hidden units live
    x = torch.randn(3, 8, 4, 4)
    m = cbam.mlp[2](torch.relu(cbam.mlp[0].bias))  # (8,)
    torch.testing.assert_close(
        cbam.channel_gate(x), torch.sigmoid(2 * m).expand(3, 8)[:, :, None, None]
    )
    # one gradient reaches the shared weights from both paths
    cbam.channel_gate(x).sum().backward()
    assert cbam.mlp[2].weight.grad is not None and cbam.mlp[2].weight.grad.abs().sum() > 0


@pytest.mark.parametrize("module", [SEBlock, CBAM])
def test_bad_input_raises(module):
    block = module(8, reduction=2)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\).*3-D"):
        block(torch.randn(8, 4, 4))
    with pytest.raises(ValueError, match="built for 8 channels; got x with 6 channels"):
        block(torch.randn(2, 6, 4, 4))
    with pytest.raises(TypeError, match="torch.Tensor; got ndarray"):
        block(torch.randn(2, 8, 4, 4).numpy())


@pytest.mark.parametrize("module", [SEBlock, CBAM])
def test_bad_constructor_arguments_raise(module):
    with pytest.raises(ValueError, match="channels must be a positive int; got 0"):
        module(0)
    with pytest.raises(ValueError, match="reduction must be a positive int; got -2"):
        module(8, reduction=-2)
    with pytest.raises(TypeError, match="channels must be an int; got float"):
        module(8.0)
    with pytest.raises(TypeError, match="channels must be an int; got bool"):
        module(True)


def test_cbam_kernel_size_must_be_odd():
    with pytest.raises(ValueError, match="kernel_size must be odd.*got 4"):
        CBAM(8, kernel_size=4)
    with pytest.raises(ValueError, match="kernel_size must be a positive int; got 0"):
        CBAM(8, kernel_size=0)
