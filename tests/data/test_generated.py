"""helpers.data.generated: signals, DNA motifs, volumes and segmentation masks, their shapes, balance
and seeds."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from scipy import signal

from helpers.data.generated import (
    DNA,
    SEGMENTATION_CLASSES,
    SIGNAL_CLASSES,
    VOLUME_CLASSES,
    make_motif_sequences,
    make_segmentation,
    make_signals,
    make_volumes,
    waveform,
)
from helpers.figures.signals import plot_signals, show_masks


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
