"""helpers.models.speedrun: the 94 % recipe's network has airbench94's shapes and counts, starts as
an identity where it should, and can drop BatchNorm for the ablation."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from helpers.models.speedrun import WHITEN_KERNEL, SpeedBlock, SpeedrunNet
from helpers.scratch.shapes import count_params


def test_shapes_and_parameter_count():
    net = SpeedrunNet().eval()
    assert net(torch.zeros(3, 3, 32, 32)).shape == (3, 10)
    assert net.whiten.weight.shape == (24, 3, WHITEN_KERNEL, WHITEN_KERNEL)
    # trainable: whitening bias 24, block convs 3*3*cin*cout (no bias), BN shifts, head 256*10
    convs = 9 * (24 * 64 + 64 * 64 + 64 * 256 + 256 * 256 + 256 * 256 + 256 * 256)
    shifts = 2 * (64 + 256 + 256)
    assert count_params(net) == 24 + convs + shifts + 256 * 10 == 1_971_352
    frozen = 24 * 12 + shifts  # the whitening filters and the BatchNorm scales
    assert sum(p.numel() for p in net.parameters()) == 1_971_352 + frozen


def test_what_trains_and_what_does_not():
    net = SpeedrunNet()
    assert not net.whiten.weight.requires_grad and net.whiten.bias.requires_grad
    assert torch.equal(net.whiten.bias, torch.zeros(24))
    bn = net.blocks[0].norm1
    assert isinstance(bn, nn.BatchNorm2d) and not bn.weight.requires_grad and bn.bias.requires_grad
    assert bn.momentum == pytest.approx(0.4) and bn.eps == 1e-12


def test_block_starts_as_identity_on_its_first_channels():
    block = SpeedBlock(4, 6)
    x = torch.randn(1, 4, 8, 8)
    with torch.no_grad():
        y = block.conv1(x)
    torch.testing.assert_close(y[:, :4], x)  # Dirac filters pass the input through


def test_without_batchnorm_the_blocks_have_no_norm_and_convs_get_biases():
    net = SpeedrunNet((8, 16, 16), batchnorm=False)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in net.modules())
    assert net.blocks[1].conv2.bias is not None
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_scale_multiplies_the_logits():
    torch.manual_seed(0)
    a = SpeedrunNet((8, 8, 8), scale=1.0).eval()
    b = SpeedrunNet((8, 8, 8), scale=0.5).eval()
    b.load_state_dict(a.state_dict())
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(b(x), 0.5 * a(x))


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="widths must be three"):
        SpeedrunNet((64, 256))
    with pytest.raises(ValueError, match=r"expects images of shape \(N, 3, 32, 32\)"):
        SpeedrunNet()(torch.zeros(1, 3, 28, 28))
