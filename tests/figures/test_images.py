"""helpers.figures.images: grids of grey and colour images, with titles, rejecting bad input."""

from __future__ import annotations


import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers.figures.images import show_images  # noqa: E402


def test_show_images_grid_titles_labels_colorbars_and_hidden_spares():
    rng = np.random.default_rng(1)
    images = [rng.random((8, 8)) for _ in range(4)]
    axes = show_images(images, titles=["a", "b", "c", "d"], ncols=3, suptitle="grid")
    assert [ax.get_title() for ax in axes] == ["a", "b", "c", "d"]
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in axes)
    fig = axes[0].figure
    assert fig.get_suptitle() == "grid"
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 4 + 4  # four images and their colour bars; two spare panels hidden


def test_show_images_signed_images_are_centred_and_robust_clips_outliers():
    img = np.zeros((20, 20))
    img[0, 0], img[1, 1] = 1000.0, -3.0
    img[2:, :] = np.linspace(-1, 1, 18 * 20).reshape(18, 20)
    (ax,) = show_images([img], cmap="RdBu_r", colorbar=False)
    assert ax.images[0].norm.vmin == -1000 and ax.images[0].norm.vmax == 1000
    (ax,) = show_images([img], cmap="RdBu_r", colorbar=False, robust=True)
    lo, hi = ax.images[0].norm.vmin, ax.images[0].norm.vmax
    assert lo == -hi and hi < 2  # the single outlier no longer sets the scale


def test_show_images_into_given_axes_with_one_cmap_per_image():
    fig, axs = plt.subplots(2, 2)
    axes = show_images([np.eye(3), -np.eye(3)], cmap=["gray", "RdBu_r"], axes=axs, colorbar=False)
    assert [ax.images[0].get_cmap().name for ax in axes] == ["gray", "RdBu_r"]
    assert [ax.get_title() for ax in axes] == ["image 0", "image 1"]


def test_show_images_rejects_bad_input():
    with pytest.raises(ValueError, match="at least one image"):
        show_images([])
    with pytest.raises(ValueError, match="one title per image"):
        show_images([np.eye(2)], titles=["a", "b"])
    with pytest.raises(ValueError, match="one per image"):
        show_images([np.eye(2)] * 2, cmap=["gray"])
    with pytest.raises(ValueError, match=r"images\[1\] must be"):
        show_images([np.eye(2), np.zeros(4)])
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="at least 2 axes"):
        show_images([np.eye(2)] * 2, axes=[ax])


def test_show_images_draws_colour_photos_as_they_are():
    rgb = np.zeros((4, 5, 3), dtype=np.uint8)
    rgb[..., 0] = 255  # pure red
    axes = show_images([rgb, np.ones((4, 5, 3)) * 0.5, np.eye(4)], ncols=3)
    drawn = axes[0].get_images()[0].get_array()
    assert drawn.shape == (4, 5, 3) and drawn[0, 0].tolist() == [255, 0, 0]
    assert not axes[0].axison and axes[2].axison  # photos without axes; the 2-D map keeps them
    assert len(axes[0].figure.axes) == 3 + 1  # one colour bar: only the 2-D map has one
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        show_images([np.full((2, 2, 3), 2.0)])
    with pytest.raises(ValueError, match=r"colour images go in as \(H, W, 3\)"):
        show_images([np.zeros((3, 8, 8))])
