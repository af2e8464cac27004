"""helpers.models.nd: 1-D/2-D/3-D CNNs and the tiny U-Net, shapes and parameter counts against PyTorch."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from helpers.models.nd import ConvNetND, TinyUNet, conv_output_shape, conv_params_nd
from helpers.scratch.shapes import conv_params, count_params, dense_params
from helpers.training.loop import fit

CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}


@pytest.mark.parametrize("dims,size", [(1, (50,)), (2, (20, 17)), (3, (9, 12, 10))])
@pytest.mark.parametrize("k,s,p,d", [(3, 1, 0, 1), (3, 1, 1, 1), (5, 2, 2, 1), (3, 2, 0, 2), (1, 3, 0, 1)])
def test_conv_output_shape_matches_torch(dims, size, k, s, p, d):
    layer = CONV[dims](2, 3, k, stride=s, padding=p, dilation=d)
    out = layer(torch.zeros(1, 2, *size))
    assert conv_output_shape(size, k, s, p, d) == tuple(out.shape[2:])


def test_conv_output_shape_per_axis_arguments_and_errors():
    layer = nn.Conv3d(1, 1, (1, 3, 5), stride=(1, 2, 1), padding=(0, 1, 2))
    assert conv_output_shape((7, 8, 9), (1, 3, 5), (1, 2, 1), (0, 1, 2)) == tuple(layer(torch.zeros(1, 1, 7, 8, 9)).shape[2:])
    with pytest.raises(ValueError, match="one per axis"):
        conv_output_shape((8, 8), (3, 3, 3))
    with pytest.raises(TypeError, match="size must be a tuple"):
        conv_output_shape(8, 3)
    with pytest.raises(ValueError, match="larger"):
        conv_output_shape((2,), 5)


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("c,k_out,f,bias,groups", [(1, 8, 3, True, 1), (6, 4, 5, False, 1), (8, 16, 3, True, 4)])
def test_conv_params_nd_matches_torch(dims, c, k_out, f, bias, groups):
    layer = CONV[dims](c, k_out, f, bias=bias, groups=groups)
    assert conv_params_nd(c, k_out, f, dims, bias=bias, groups=groups) == count_params(layer)
    assert conv_params_nd(c, k_out, f, dims) == (f**dims * c + 1) * k_out


def test_conv_params_nd_tuple_kernel_and_errors():
    assert conv_params_nd(3, 5, (2, 3, 4), 3) == count_params(nn.Conv3d(3, 5, (2, 3, 4)))
    assert conv_params_nd(3, 5, 3, 2) == conv_params(3, 5, 3)
    with pytest.raises(ValueError, match="dims"):
        conv_params_nd(3, 5, 3, 4)
    with pytest.raises(ValueError, match="one per axis"):
        conv_params_nd(3, 5, (3, 3), 3)


def _convnet_formula(dims, c_in, k, widths, f):
    total, c = 0, c_in
    for w in widths:
        total += conv_params_nd(c, w, f, dims) + 2 * w  # conv + batch norm's scale and shift
        c = w
    return total + dense_params(c, k)


@pytest.mark.parametrize("dims,size", [(1, (37,)), (1, (256,)), (2, (16, 20)), (3, (8, 8, 12))])
@pytest.mark.parametrize("pool", ["avg", "max"])
def test_convnet_output_shape_and_params(dims, size, pool):
    model = ConvNetND(dims, in_channels=2, num_classes=5, widths=(4, 6), kernel_size=3, global_pool=pool)
    assert model(torch.randn(3, 2, *size)).shape == (3, 5)
    assert count_params(model) == _convnet_formula(dims, 2, 5, (4, 6), 3)


def test_convnet_global_max_pool_sees_a_pattern_anywhere():
    model = ConvNetND(1, 1, 2, widths=(3,), kernel_size=1, global_pool="max", pool_blocks=False).eval()
    x = torch.zeros(2, 1, 20)
    x[0, 0, 2], x[1, 0, 17] = 1.0, 1.0  # the same spike at two places
    out = model(x)
    torch.testing.assert_close(out[0], out[1])


def test_convnet_errors():
    with pytest.raises(ValueError, match="dims"):
        ConvNetND(4)
    with pytest.raises(ValueError, match="odd"):
        ConvNetND(1, kernel_size=4)
    with pytest.raises(ValueError, match=r"\(N, C, D, H, W\)"):
        ConvNetND(3)(torch.zeros(2, 1, 8, 8))


def test_tiny_unet_shape_and_params():
    w, c_in, k = 4, 2, 3
    model = TinyUNet(c_in, k, width=w)
    assert model(torch.randn(2, c_in, 16, 12)).shape == (2, k, 16, 12)

    def block(a, b):
        return conv_params(a, b, 3) + 2 * b

    expected = (block(c_in, w) + block(w, 2 * w) + block(2 * w, 4 * w)
                + conv_params(4 * w, 2 * w, 2) + block(4 * w, 2 * w)  # transposed conv 2x2: same count
                + conv_params(2 * w, w, 2) + block(2 * w, w) + conv_params(w, k, 1))
    assert count_params(model) == expected
    with pytest.raises(ValueError, match="divisible by 4"):
        model(torch.zeros(1, c_in, 10, 12))


@pytest.mark.parametrize("train,error,words", [
    ((torch.zeros(4, 8), torch.zeros(4, dtype=torch.long)), ValueError, "at least 3 axes"),
    ((torch.zeros(4, 1, 8), torch.zeros(4)), ValueError, "integer labels"),
    ((torch.zeros(4, 1, 8), torch.zeros(3, dtype=torch.long)), ValueError, "one per example"),
    ((torch.zeros(4, 1, 8, 8), torch.zeros(4, 8, 7, dtype=torch.long)), ValueError, "one per pixel"),
    (torch.zeros(4, 1, 8), TypeError, "pair"),
    ((torch.zeros(4, 1, 8, 8), torch.zeros(4, dtype=torch.long)), None, None),
])
def test_fit_on_float_tensors_rejects_bad_data(train, error, words):
    if error is None:  # float images may not be augmented (augmentation is for uint8 images)
        with pytest.raises(ValueError, match="uint8"):
            fit(ConvNetND(2), train, epochs=1, augment=("flip",), progress=False)
        return
    with pytest.raises(error, match=words):
        fit(ConvNetND(1), train, epochs=1, progress=False)


def test_fit_on_float_tensors_rejects_bad_epochs():
    data = (torch.zeros(4, 1, 8), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="epochs"):
        fit(ConvNetND(1), data, epochs=0)
