"""helpers.figures.matrices and helpers.figures.convstep: annotated matrices and one step of a convolution show the numbers they
claim."""

from __future__ import annotations


import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from helpers.figures.convstep import move_conv_step, plot_conv_step  # noqa: E402
from helpers.figures.matrices import format_number, show_matrix  # noqa: E402
from helpers.scratch.conv import conv2d  # noqa: E402
from helpers.scratch.kernels import KERNELS  # noqa: E402

X4 = np.array([[7, 2, 3, 3, 8], [4, 5, 3, 8, 4], [3, 3, 2, 8, 4], [2, 8, 7, 2, 7], [5, 4, 4, 5, 4]])


X5 = np.array([[60, 113, 56, 139, 85], [73, 121, 54, 84, 128], [131, 99, 70, 129, 127],
               [80, 57, 115, 69, 134], [104, 126, 123, 95, 130]])


def _red_boxes(ax):
    return [p for p in ax.patches if isinstance(p, Rectangle) and not p.get_fill()]


@pytest.mark.parametrize("value,text", [(6, "6"), (-6.0, "-6"), (1 / 9, "0.11"), (-0.5, "-0.5"),
                                        (114.0, "114"), (2.345, "2.35")])
def test_format_number(value, text):
    assert format_number(value) == text


def test_show_matrix_annotates_every_cell_with_title_labels_and_colorbar():
    a = np.arange(12).reshape(3, 4) - 5
    ax = show_matrix(a, title="my matrix")
    assert ax.get_title() == "my matrix"
    assert ax.get_xlabel() == "column" and ax.get_ylabel() == "row"
    assert [t.get_text() for t in ax.texts] == [format_number(v) for v in a.ravel()]
    assert len(ax.figure.axes) == 2  # the matrix and its colour bar
    image = ax.images[0]
    np.testing.assert_array_equal(image.get_array(), a)
    # both signs: diverging map centred on zero
    assert image.get_cmap().name == "RdBu_r"
    assert image.norm.vmin == -image.norm.vmax == -6


def test_show_matrix_default_title_text_contrast_and_positive_colormap():
    ax = show_matrix(np.array([[0.0, 10.0]]), colorbar=False)
    assert ax.get_title() == "1×2 matrix"
    assert len(ax.figure.axes) == 1
    assert ax.images[0].get_cmap().name == "viridis"
    # viridis is dark at 0 (white text) and light at the top (black text)
    assert [t.get_color() for t in ax.texts] == ["white", "black"]


def test_show_matrix_draws_into_given_axes_and_skips_numbers_when_large():
    fig, ax = plt.subplots()
    returned = show_matrix(np.random.default_rng(0).random((40, 30)), ax, annotate=True)
    assert returned is ax and not ax.texts


def test_show_matrix_constant_matrix_gets_valid_limits():
    ax = show_matrix(np.full((3, 3), 1 / 9), colorbar=False)
    norm = ax.images[0].norm
    assert norm.vmin == 0 and norm.vmax == pytest.approx(1 / 9)
    ax = show_matrix(np.zeros((2, 2)), colorbar=False)
    assert (ax.images[0].norm.vmin, ax.images[0].norm.vmax) == (-1, 1)


@pytest.mark.parametrize("bad,error", [(np.zeros((2, 2, 2)), ValueError), (np.zeros(3), ValueError),
                                       (np.zeros((0, 3)), ValueError), ([["a", "b"]], TypeError)])
def test_show_matrix_rejects_bad_input(bad, error):
    with pytest.raises(error, match="a must be"):
        show_matrix(bad)


def test_plot_conv_step_valid_shows_window_kernel_and_output_value():
    axes = plot_conv_step(X4, KERNELS["vertical edge"], row=0, col=0)
    assert len(axes) == 3
    ax_in, ax_k, ax_out = axes
    out = conv2d(X4, KERNELS["vertical edge"])
    assert ax_in.get_title() == "input 5×5" and ax_k.get_title() == "kernel 3×3"
    assert ax_out.get_title() == f"output 3×3\nout[0, 0] = {format_number(out[0, 0])}"
    for ax in axes:
        assert ax.get_xlabel() and ax.get_ylabel()
    np.testing.assert_array_equal(ax_out.images[0].get_array(), out)
    (window,) = _red_boxes(ax_in)
    assert window.get_xy() == (-0.5, -0.5) and (window.get_width(), window.get_height()) == (3, 3)
    caption = ax_in.figure.get_supxlabel()
    assert caption.endswith(f"= {format_number(out[0, 0])}")
    assert "7·1 + 2·0 + 3·(-1)" in caption


def test_plot_conv_step_stride_moves_the_window_by_the_stride():
    axes = plot_conv_step(X4, KERNELS["vertical edge"], row=1, col=1, stride=2)
    out = conv2d(X4, KERNELS["vertical edge"], stride=2)
    (window,) = _red_boxes(axes[0])
    assert window.get_xy() == (2 - 0.5, 2 - 0.5)
    (cell,) = _red_boxes(axes[2])
    assert cell.get_xy() == (0.5, 0.5)
    assert axes[0].figure.get_supxlabel().endswith(f"= {format_number(out[1, 1])}")


@pytest.mark.parametrize("padding,n_pad_cells", [(1, 7 * 7 - 25), ("same", 7 * 7 - 25), ("full", 9 * 9 - 25),
                                                 ((0, 2), 5 * 9 - 25)])
def test_plot_conv_step_shades_padding(padding, n_pad_cells):
    axes = plot_conv_step(X5, KERNELS["sharpen"], padding=padding)
    hatched = [p for p in axes[0].patches if p.get_hatch() == "//"]
    assert len(hatched) == n_pad_cells
    assert "padding" in axes[0].get_title()
    out = conv2d(X5, KERNELS["sharpen"], padding=padding)
    np.testing.assert_array_equal(axes[2].images[0].get_array(), out)


def test_plot_conv_step_same_padding_example_top_left_is_114():
    axes = plot_conv_step(X5, KERNELS["sharpen"], padding=1)
    expected = conv2d(X5, KERNELS["sharpen"], padding=1)[0, 0]
    assert axes[2].get_title().endswith(f"= {format_number(expected)}")
    assert axes[0].figure.get_supxlabel().endswith(f"= {format_number(expected)}")


def test_plot_conv_step_uses_given_out_and_bias_and_axes():
    fig, axs = plt.subplots(1, 3)
    out = conv2d(X4, KERNELS["X"], bias=2.0)
    returned = plot_conv_step(X4, KERNELS["X"], out, 2, 1, axes=axs, bias=2.0)
    assert list(returned) == list(axs)
    assert "+ bias 2 =" in fig.get_supxlabel()
    assert fig.get_supxlabel().endswith(f"= {format_number(out[2, 1])}")


def test_plot_conv_step_large_kernel_summarises_the_sum():
    rng = np.random.default_rng(0)
    x, k = rng.integers(0, 5, (30, 20)), np.ones((5, 5))
    axes = plot_conv_step(x, k, row=3, col=4)
    assert "sum of 25 products" in axes[0].figure.get_supxlabel()
    assert not axes[0].texts  # 30 rows: too many to annotate


def test_plot_conv_step_rejects_bad_input():
    k = KERNELS["sharpen"]
    with pytest.raises(ValueError, match="out must have the convolution's output shape"):
        plot_conv_step(X5, k, out=np.zeros((5, 5)))
    with pytest.raises(ValueError, match="row, col must index"):
        plot_conv_step(X5, k, row=3, col=0)
    with pytest.raises(ValueError, match="row, col must index"):
        plot_conv_step(X5, k, row=0, col=-1)
    with pytest.raises(ValueError, match="x must be"):
        plot_conv_step(np.zeros((3, 5, 5)), k)
    with pytest.raises(ValueError, match="kernel must be"):
        plot_conv_step(X5, np.ones(3))
    with pytest.raises(ValueError, match="padding"):
        plot_conv_step(X5, k, padding="wide")
    fig, axs = plt.subplots(1, 2)
    with pytest.raises(ValueError, match="three axes"):
        plot_conv_step(X5, k, axes=axs)


def _step_state(axes):
    """What a convolution step shows that moves with the position."""
    (window,), (cell,) = _red_boxes(axes[0]), _red_boxes(axes[2])
    return (window.get_xy(), window.get_width(), window.get_height(), cell.get_xy(), axes[2].get_title(),
            axes[0].figure.get_supxlabel())


@pytest.mark.parametrize("stride,padding,bias", [(1, 0, 0.0), (2, 1, 2.0), ((1, 2), "full", 0.0)])
def test_move_conv_step_shows_what_a_new_picture_of_that_position_shows(stride, padding, bias):
    kernel = KERNELS["vertical edge"]
    out = conv2d(X5, kernel, stride=stride, padding=padding, bias=bias)
    moved = plot_conv_step(X5, kernel, out, 0, 0, stride, padding, bias=bias)
    artists = len(moved[0].patches), len(moved[0].texts), len(moved[2].texts)
    for row, col in [(out.shape[0] - 1, out.shape[1] - 1), (0, out.shape[1] - 1), (out.shape[0] // 2, 0)]:
        assert list(move_conv_step(moved, X5, kernel, out, row, col, stride, padding, bias=bias)) == list(moved)
        fresh = plot_conv_step(X5, kernel, out, row, col, stride, padding, bias=bias)
        assert _step_state(moved) == _step_state(fresh)
        plt.close(fresh[0].figure)
    assert (len(moved[0].patches), len(moved[0].texts), len(moved[2].texts)) == artists  # nothing added


def test_move_conv_step_rejects_other_axes_positions_and_settings():
    kernel = KERNELS["sharpen"]
    axes = plot_conv_step(X5, kernel, padding=1)
    with pytest.raises(ValueError, match="row, col must index the 5×5 output"):
        move_conv_step(axes, X5, kernel, None, 5, 0, 1, 1)
    with pytest.raises(ValueError, match="draw the new settings with plot_conv_step"):
        move_conv_step(axes, X5, kernel, None, 0, 0, 1, "full")
    _, plain = plt.subplots(1, 3)
    for ax, matrix in zip(plain, (X5, kernel, X5)):
        show_matrix(matrix, ax)
    with pytest.raises(ValueError, match="that plot_conv_step drew"):
        move_conv_step(plain, X5, kernel, None, 0, 0)


def test_conv_step_artists_are_what_a_step_changes():
    from helpers.figures.convstep import conv_step_artists

    kernel = np.ones((3, 3))
    axes = plot_conv_step(X5, kernel, None, 0, 0, 1, 1)
    window, cell, title, caption = conv_step_artists(axes)
    before = (window.get_xy(), cell.get_xy(), title.get_text(), caption.get_text())
    move_conv_step(axes, X5, kernel, None, 2, 3, 1, 1)
    after = (window.get_xy(), cell.get_xy(), title.get_text(), caption.get_text())
    assert all(b != a for b, a in zip(before, after, strict=True))
    assert after[1] == (2.5, 1.5) and "out[2, 3]" in after[2] and "rows 2–4, columns 3–5" in after[3]
    with pytest.raises(ValueError, match="three axes that plot_conv_step drew"):
        conv_step_artists(plt.subplots(1, 3)[1])
    with pytest.raises(ValueError, match="three axes"):
        conv_step_artists(axes[:2])
