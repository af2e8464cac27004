"""helpers.nd_data and helpers.nd_models: generators, N-D shapes and parameter counts against
torch's layers, the tensor training loop on tiny separable problems, IoU/Dice by hand and against
scikit-learn."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from scipy import signal
from sklearn.metrics import f1_score, jaccard_score
from torch import nn

from helpers.data.generated import (DNA, make_motif_sequences, make_segmentation, make_signals, make_volumes, SEGMENTATION_CLASSES, SIGNAL_CLASSES, VOLUME_CLASSES, waveform)
from helpers.figures.signals import plot_signals, show_masks
from helpers.analysis.segmentation import dice_score, iou_score
from helpers.models.nd import conv_output_shape, conv_params_nd, ConvNetND, TinyUNet
from helpers.training.loop import evaluate, fit, predict
from helpers.scratch.shapes import conv_params, count_params, dense_params

CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}


# ---------------------------------------------------------------- generators


def test_waveforms_match_scipy():
    rng = np.random.default_rng(0)
    t = np.sort(rng.uniform(0, 1, 500))
    for f, p in rng.uniform([1, 0], [9, 2 * np.pi], (5, 2)):
        arg = 2 * np.pi * f * t + p
        np.testing.assert_allclose(waveform("sine", t, f, p), np.sin(arg))
        np.testing.assert_allclose(waveform("square", t, f, p), signal.square(arg))
        np.testing.assert_allclose(waveform("sawtooth", t, f, p), signal.sawtooth(arg), atol=1e-9)
        np.testing.assert_allclose(waveform("chirp", t, f, p),
                                   signal.chirp(t, f0=f, t1=1.0, f1=3 * f, phi=np.degrees(p)), atol=1e-9)
    with pytest.raises(ValueError, match="triangle"):
        waveform("triangle", t, 1.0, 0.0)


@pytest.mark.parametrize("make,shape,k", [
    (lambda **kw: make_signals(n=10, length=64, **kw), (10, 1, 64), len(SIGNAL_CLASSES)),
    (lambda **kw: make_motif_sequences(n=10, length=30, **kw), (10, 4, 30), 2),
    (lambda **kw: make_volumes(n=10, size=8, **kw), (10, 1, 8, 8, 8), len(VOLUME_CLASSES)),
])
def test_classification_generators_shapes_balance_and_seed(make, shape, k):
    x, y = make(seed=3)
    assert x.shape == shape and x.dtype == torch.float32
    assert y.shape == (shape[0],) and y.dtype == torch.int64
    counts = torch.bincount(y, minlength=k)
    assert len(counts) == k and counts.max() - counts.min() <= 1
    x2, y2 = make(seed=3)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    x3, _ = make(seed=4)
    assert not torch.equal(x, x3)


def test_signals_without_noise_have_their_class_shape_and_noise_has_its_std():
    clean, y = make_signals(200, length=128, noise=0.0, seed=1)
    clean = clean[:, 0].numpy()
    amp = np.abs(clean).max(1, keepdims=True)
    assert ((amp >= 0.5 - 1e-6) & (amp <= 1.5 + 1e-6)).all()
    is_square = y.numpy() == SIGNAL_CLASSES.index("square")
    square = clean[is_square] / amp[is_square]
    np.testing.assert_allclose(np.abs(square), 1.0, atol=1e-6)  # only +-amplitude
    for name in ("sine", "sawtooth", "chirp"):
        rows = clean[y.numpy() == SIGNAL_CLASSES.index(name)]
        assert (np.abs(rows) < 0.999 * np.abs(rows).max(1, keepdims=True)).any(1).all(), name
    noisy, y2 = make_signals(200, length=128, noise=0.5, seed=1)
    assert torch.equal(y, y2)
    assert abs(float((noisy[:, 0].numpy() - clean).std()) - 0.5) < 0.02


def test_motif_is_planted_in_positives_only_as_labelled():
    x, y = make_motif_sequences(60, length=40, motif="GATTACA", seed=0)
    assert torch.equal(x.sum(1), torch.ones(60, 40))  # one base per position
    text = ["".join(DNA[i] for i in row) for row in x.argmax(1).tolist()]
    for seq, label in zip(text, y.tolist()):
        if label == 1:
            assert "GATTACA" in seq
    assert sum("GATTACA" in s for s, lab in zip(text, y.tolist()) if lab == 0) <= 1  # chance only
    with pytest.raises(ValueError, match="letters"):
        make_motif_sequences(4, motif="TAXA")
    with pytest.raises(ValueError, match="fit"):
        make_motif_sequences(4, length=3, motif="TATA")


def test_volumes_hold_the_labelled_solid():
    x, y = make_volumes(30, size=16, noise=0.0, seed=2)
    for vol, label in zip(x[:, 0].numpy(), y.tolist()):
        solid = vol > 0
        values = vol[solid]
        assert values.min() == values.max() and 0.6 <= values.min() <= 1.4  # one brightness
        idx = np.argwhere(solid)
        box = np.prod(idx.max(0) - idx.min(0) + 1)
        name = VOLUME_CLASSES[label]
        if name == "cube":
            assert solid.sum() == box  # fills its bounding box
        elif name == "sphere":
            assert solid.sum() < 0.7 * box  # pi/6 of the box, up to voxel rounding
        # a cylinder is the same disc repeated along one axis; a sphere is not
        extruded = any(
            all(np.array_equal(s, slices[0]) for s in slices)
            for axis in range(3)
            for slices in [[sl for sl in np.moveaxis(solid, axis, 0) if sl.any()]])
        assert extruded == (name in ("cube", "cylinder")), name


def test_segmentation_masks_match_the_images():
    images, masks = make_segmentation(40, size=24, noise=0.0, seed=5)
    assert images.shape == (40, 1, 24, 24) and images.dtype == torch.float32
    assert masks.shape == (40, 24, 24) and masks.dtype == torch.int64
    assert torch.equal(images[:, 0] > 0, masks > 0)  # shapes exactly where the mask says
    assert images[:, 0][masks > 0].min() >= 0.5
    assert set(masks.unique().tolist()) == set(range(len(SEGMENTATION_CLASSES)))
    images2, masks2 = make_segmentation(40, size=24, noise=0.0, seed=5)
    assert torch.equal(images, images2) and torch.equal(masks, masks2)


@pytest.mark.parametrize("call,error,words", [
    (lambda: make_signals(0), ValueError, "n must be at least 1"),
    (lambda: make_signals(2.5), TypeError, "n must be an int"),
    (lambda: make_signals(4, noise=-1), ValueError, "noise"),
    (lambda: make_volumes(4, size=2), ValueError, "size"),
    (lambda: make_segmentation(4, max_shapes=0), ValueError, "max_shapes"),
])
def test_generators_reject_bad_arguments(call, error, words):
    with pytest.raises(error, match=words):
        call()


# ---------------------------------------------------------------- shapes and parameter counts


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


# ---------------------------------------------------------------- models


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


# ---------------------------------------------------------------- training loop


def _offset_signals(n, seed):
    """Class 1: a positive bump somewhere; class 0: a negative one. Noisy, linearly separable."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    x = 0.3 * torch.randn(n, 1, 32, generator=g)
    where = torch.randint(0, 28, (n,), generator=g)
    for i in range(n):
        x[i, 0, where[i]:where[i] + 4] += 2.0 if y[i] else -2.0
    return x, y


def test_fit_on_float_tensors_learns_a_separable_sequence_task():
    train, val = _offset_signals(128, 0), _offset_signals(64, 1)
    torch.manual_seed(0)
    model = ConvNetND(1, 1, 2, widths=(4,), kernel_size=3, global_pool="max", pool_blocks=False)
    before = evaluate(model, val)
    history = fit(model, train, val, epochs=8, batch_size=16, lr=0.03, device="cpu")
    assert history.epoch == list(range(1, 9)) and len(history.val_acc) == 8
    assert history.train_loss[-1] < history.train_loss[0]
    after = evaluate(model, val)
    assert after["accuracy"] >= 0.95 and after["loss"] < before["loss"]
    assert after["accuracy"] == pytest.approx(history.val_acc[-1])
    pred = predict(model, val[0])
    assert pred.shape == (64,) and (pred == val[1]).float().mean().item() == pytest.approx(after["accuracy"])


def test_fit_on_float_tensors_segments_pixels_and_repeats_with_a_seed():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(32, 1, 8, 8, generator=g)
    y = (x[:, 0] > 0).long()  # each pixel's class: its sign
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        model = TinyUNet(1, 2, width=4)
        runs.append(fit(model, (x, y), epochs=10, batch_size=8, lr=0.02, seed=1, device="cpu", progress=False))
    assert runs[0].train_loss == runs[1].train_loss
    assert evaluate(model, (x, y))["accuracy"] > 0.9
    assert predict(model, x).shape == (32, 8, 8)


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


# ---------------------------------------------------------------- IoU and Dice


def test_iou_and_dice_by_hand():
    target = np.array([[0, 0, 1, 1],
                       [0, 0, 1, 1]])
    pred = np.array([[0, 1, 1, 1],
                     [0, 0, 0, 1]])
    # class 1: TP 3, FP 1, FN 1 -> IoU 3/5, Dice 6/8; class 0: TP 3, FP 1, FN 1 as well
    np.testing.assert_allclose(iou_score(pred, target, 2), [3 / 5, 3 / 5])
    np.testing.assert_allclose(dice_score(pred, target, 2), [6 / 8, 6 / 8])
    # a class absent from both is NaN; a class predicted but absent has IoU 0
    np.testing.assert_allclose(iou_score(pred, target, 3), [3 / 5, 3 / 5, np.nan])
    np.testing.assert_allclose(iou_score(np.full((2, 4), 2), target, 3), [0, 0, 0])
    np.testing.assert_allclose(iou_score(torch.as_tensor(target), torch.as_tensor(target), 2), [1, 1])


def test_iou_and_dice_match_scikit_learn():
    rng = np.random.default_rng(0)
    target = rng.integers(0, 4, (3, 10, 10))
    pred = np.where(rng.random(target.shape) < 0.7, target, rng.integers(0, 4, target.shape))
    labels = list(range(4))
    np.testing.assert_allclose(iou_score(pred, target, 4),
                               jaccard_score(target.ravel(), pred.ravel(), labels=labels, average=None))
    dice = dice_score(pred, target, 4)
    np.testing.assert_allclose(dice, f1_score(target.ravel(), pred.ravel(), labels=labels, average=None))
    iou = iou_score(pred, target, 4)
    np.testing.assert_allclose(dice, 2 * iou / (1 + iou))


@pytest.mark.parametrize("pred,target,k,words", [
    (np.zeros((2, 3), int), np.zeros((3, 2), int), 2, "same shape"),
    (np.zeros((2, 3)), np.zeros((2, 3)), 2, "integer"),
    (np.full((2, 3), 5), np.zeros((2, 3), int), 3, r"0\.\.2"),
    (np.zeros((2, 3), int), np.zeros((2, 3), int), 1, "num_classes"),
])
def test_iou_rejects_bad_input(pred, target, k, words):
    with pytest.raises(ValueError, match=words):
        iou_score(pred, target, k)


# ---------------------------------------------------------------- figures


def test_plots_return_their_axes_and_check_shapes():
    x, y = make_signals(3, length=32)
    axes = plot_signals(x, [SIGNAL_CLASSES[i] for i in y], suptitle="signals")
    assert len(axes) == 3 and axes[0].get_title() == SIGNAL_CLASSES[y[0]]
    with pytest.raises(ValueError, match="one title per signal"):
        plot_signals(x, ["a"])
    images, masks = make_segmentation(2, size=16)
    axes = show_masks(images, masks, masks, titles=["IoU 1", "IoU 1"])
    assert axes.shape == (2, 3) and axes[1, 2].get_title() == "IoU 1"
    assert show_masks(images, masks).shape == (2, 2)
    with pytest.raises(ValueError, match="matching shapes"):
        show_masks(images, masks[:, :8])
    plt.close("all")
