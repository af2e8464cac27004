"""helpers.widgets.conv: conv_explorer driven from code, the kernel table it shares with the book, and its layout as JupyterLab lays it out."""

from __future__ import annotations
import io
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import helpers.widgets.conv as widgets_module  # noqa: E402
from helpers.scratch.kernels import get_kernel, KERNELS, parse_kernel  # noqa: E402
from helpers.scratch.conv import conv2d  # noqa: E402
from helpers.widgets.conv import conv_explorer, DEFAULT_IMAGE, PADDING_CHOICES  # noqa: E402
from widgetlayout import PNG_MAGIC, check_controls, check_picture, png_size  # noqa: E402


def test_kernel_table_holds_the_presets_read_only():
    for name in ["identity", "vertical edge", "horizontal edge", "sharpen", "Laplacian edge",
                 "box blur", "Sobel x", "Sobel y"]:
        assert KERNELS[name].shape == (3, 3)
    np.testing.assert_array_equal(KERNELS["Laplacian edge"], [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]])
    np.testing.assert_array_equal(KERNELS["horizontal edge"], KERNELS["vertical edge"].T)
    assert KERNELS["box blur"].sum() == pytest.approx(1.0)
    assert KERNELS["Laplacian edge"].sum() == 0 and KERNELS["Sobel x"].sum() == 0
    with pytest.raises(ValueError):
        KERNELS["sharpen"][1, 1] = 0  # the arrays are read-only
    with pytest.raises(TypeError):
        KERNELS["mine"] = np.eye(3)  # and so is the table


def test_get_kernel_returns_a_writable_copy():
    k = get_kernel("sharpen")
    k[1, 1] = 0
    assert KERNELS["sharpen"][1, 1] == 5
    with pytest.raises(ValueError, match="unknown kernel 'blur'"):
        get_kernel("blur")
    with pytest.raises(TypeError, match="name must be"):
        get_kernel(3)


@pytest.mark.parametrize("text,expected", [
    ("1 0 -1; 1 0 -1; 1 0 -1", [[1, 0, -1]] * 3),
    ("0.5, 0.5", [[0.5, 0.5]]),
    ("1 2\n3 4\n", [[1, 2], [3, 4]]),
    (" 2 ;; 3 ", [[2], [3]]),
])
def test_parse_kernel(text, expected):
    np.testing.assert_array_equal(parse_kernel(text), np.array(expected, dtype=float))


@pytest.mark.parametrize("text,message", [("", "empty"), (" ; ", "empty"), ("1 2; 3", "same length"),
                                          ("1 x", "row 1"), ("1; 2; a", "row 3")])
def test_parse_kernel_rejects_bad_text(text, message):
    with pytest.raises(ValueError, match=message):
        parse_kernel(text)


def test_default_explorer_shows_the_valid_vertical_edge_example():
    e = conv_explorer()
    expected = conv2d(DEFAULT_IMAGE, KERNELS["vertical edge"])
    np.testing.assert_array_equal(e.output_map, expected)
    assert e.output_map.shape == (3, 3) and e.position.max == 8 and e.play.max == 8
    assert e.row_col == (0, 0)
    assert f"out[0, 0] = {expected[0, 0]:g}" in e.message.value
    assert bytes(e.picture.value).startswith(PNG_MAGIC)
    assert e.kernel_text.disabled
    assert set(e.padding.options) == set(PADDING_CHOICES)


def test_explorer_computes_with_helpers_ops_conv2d(monkeypatch):
    calls = []

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return conv2d(*args, **kwargs)

    monkeypatch.setattr(widgets_module, "conv2d", spy)
    e = conv_explorer()
    e.stride.value = 2
    assert calls[-1] == {"stride": 2, "padding": 0}
    assert len(calls) == 2


@pytest.mark.parametrize("padding", PADDING_CHOICES)
@pytest.mark.parametrize("stride", [1, 2, 3])
def test_changing_stride_and_padding_recomputes_the_map(stride, padding):
    e = conv_explorer()
    before = bytes(e.picture.value)
    e.padding.value = padding
    e.stride.value = stride
    expected = conv2d(DEFAULT_IMAGE, KERNELS["vertical edge"], stride=stride, padding=padding)
    np.testing.assert_array_equal(e.output_map, expected)
    assert e.position.max == expected.size - 1
    assert f"output {expected.shape[0]}×{expected.shape[1]}" in e.message.value
    if (stride, padding) != (1, 0):
        assert bytes(e.picture.value) != before


def test_stepping_the_position_moves_the_window_and_updates_the_message():
    e = conv_explorer(padding="same")
    expected = conv2d(DEFAULT_IMAGE, KERNELS["vertical edge"], padding="same")  # (5, 5)
    pictures = {bytes(e.picture.value)}
    for position in (1, 7, 24):
        e.position.value = position
        row, col = divmod(position, 5)
        assert e.row_col == (row, col)
        assert f"out[{row}, {col}] = {expected[row, col]:g}" in e.message.value
        pictures.add(bytes(e.picture.value))
    assert len(pictures) == 4  # every step drew a different picture


def test_shrinking_output_clamps_the_position():
    e = conv_explorer(padding="full")  # 7x7 output
    e.position.value = 48
    e.stride.value = 3  # 3x3 output
    assert e.position.value == 8 and e.row_col == (2, 2)
    expected = conv2d(DEFAULT_IMAGE, KERNELS["vertical edge"], stride=3, padding="full")
    assert f"out[2, 2] = {expected[2, 2]:g}" in e.message.value


@pytest.mark.parametrize("name", list(KERNELS))
def test_every_preset_kernel(name):
    e = conv_explorer()
    e.kernel_name.value = name
    np.testing.assert_allclose(e.output_map, conv2d(DEFAULT_IMAGE, KERNELS[name]))
    np.testing.assert_array_equal(e.current_kernel, KERNELS[name])


def test_custom_kernel_from_text_and_errors_keep_the_last_good_state():
    e = conv_explorer()
    e.kernel_name.value = "custom"
    assert not e.kernel_text.disabled
    np.testing.assert_array_equal(e.output_map, conv2d(DEFAULT_IMAGE, parse_kernel(e.kernel_text.value)))
    e.kernel_text.value = "1 2; 3 4"
    np.testing.assert_array_equal(e.output_map, conv2d(DEFAULT_IMAGE, [[1, 2], [3, 4]]))
    assert e.output_map.shape == (4, 4)
    good_map, good_picture = e.output_map.copy(), bytes(e.picture.value)

    e.kernel_text.value = "1 2; 3"
    assert "cannot convolve" in e.message.value and "same length" in e.message.value
    np.testing.assert_array_equal(e.output_map, good_map)
    assert bytes(e.picture.value) == good_picture

    e.kernel_text.value = "; ".join(["1 1 1 1 1 1 1 1 1"] * 9)  # 9x9 kernel on a 5x5 image
    assert "larger than the padded input" in e.message.value
    e.padding.value = 1  # still too large: the last good picture stays, and stepping steps it
    assert "larger than the padded input" in e.message.value and e.output_map.shape == (4, 4)
    e.position.value = 15
    assert "out[3, 3]" in e.message.value and bytes(e.picture.value) != good_picture
    e.padding.value = 0
    e.kernel_text.value = "; ".join(["1 1 1 1 1 1 1"] * 7)  # 7x7 kernel on a 5x5 image
    assert "larger than the padded input" in e.message.value
    e.padding.value = "full"  # 6 zeros a side: now it fits
    assert e.output_map.shape == (11, 11)
    assert "cannot" not in e.message.value

    e.kernel_name.value = "sharpen"
    assert e.kernel_text.disabled


def test_explorer_on_a_non_square_image():
    image = np.arange(42.0).reshape(6, 7)
    e = conv_explorer(image, kernel="Sobel y", stride=2, padding=1)
    expected = conv2d(image, KERNELS["Sobel y"], stride=2, padding=1)
    np.testing.assert_array_equal(e.output_map, expected)
    e.position.value = expected.size - 1
    assert e.row_col == (expected.shape[0] - 1, expected.shape[1] - 1)
    image[0, 0] = 1000  # the explorer keeps its own copy
    np.testing.assert_array_equal(e.output_map, expected)


@pytest.mark.parametrize("kwargs,message", [
    ({"image": np.zeros((2, 5, 5))}, "image must be"),
    ({"kernel": "blur"}, "kernel must be one of"),
    ({"stride": 0}, "stride must be"),
    ({"stride": True}, "stride must be"),
    ({"padding": 3}, "padding must be one of"),
    ({"padding": "wide"}, "padding must be one of"),
])
def test_explorer_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        conv_explorer(**kwargs)


def test_conv_explorer_layout():
    e = conv_explorer()
    controls = e.children[0]
    check_controls(controls, [e.kernel_name, e.kernel_text, e.stride, e.padding, e.position])
    assert len({c.style.description_width for c in (e.kernel_name, e.stride, e.position)}) == 1
    assert e.play.layout.flex == "0 0 auto"
    # The Play buttons and the position slider sit together, in a group of their own.
    assert any(e.play in g.children and e.position in g.children for g in controls.children)
    assert not any(e.play in g.children and e.stride in g.children for g in controls.children)
    check_picture(e.picture)
    assert png_size(bytes(e.picture.value)) == (880, 304)
    e.padding.value = "full"
    e.position.value = 10
    check_picture(e.picture)  # the picture keeps its size whatever the settings


def _pixels(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)  # (H, W, 3)


def _saved_pixels(fig) -> np.ndarray:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return _pixels(buffer.getvalue())


@pytest.mark.parametrize("padding, stride", [(0, 1), ("same", 1), ("full", 2), (2, 3)])
def test_a_blitted_step_is_the_full_drawing_but_where_the_red_boxes_cross_it(padding, stride):
    """A picture is what moved drawn over the still rest of the figure; drawn whole instead (the
    same figure, every artist in its place), it differs only in the few pixels where the red boxes
    cross the numbers and spines (drawn over them instead of under them)."""
    from helpers.figures.convstep import conv_step_artists

    e = conv_explorer(padding=padding, stride=stride)
    for position in (0, 1, e.position.max, 2):  # 0: the first picture of these settings
        e.position.value = position
        stepped = _pixels(bytes(e.picture.value))
        fig = e._axes[0].figure
        moving = conv_step_artists(e._axes)
        for artist in moving:
            artist.set_animated(False)
        whole = _saved_pixels(fig)
        for artist in moving:
            artist.set_animated(True)
        assert stepped.shape == whole.shape
        differ = (stepped != whole).any(-1)
        assert differ.mean() < 0.002, f"position {position}: {differ.sum()} of {differ.size} pixels differ"


def test_steps_draw_no_whole_figure(monkeypatch):
    """New settings draw the whole figure (its layout, then its still part); a step after them
    draws only what moved over the still part kept."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    draws = []
    real = FigureCanvasAgg.draw
    monkeypatch.setattr(FigureCanvasAgg, "draw", lambda self, *a, **k: draws.append(1) or real(self, *a, **k))
    e = conv_explorer(padding="same")
    per_settings = len(draws)
    assert per_settings >= 1
    pictures = {bytes(e.picture.value)}
    for position in (1, 2, 3, 24):
        e.position.value = position
        pictures.add(bytes(e.picture.value))
    assert len(draws) == per_settings and len(pictures) == 5
    e.kernel_name.value = "Sobel x"  # new settings: a new figure, drawn whole once
    assert len(draws) == 2 * per_settings
    e.position.value = 5
    e.position.value = 6
    assert len(draws) == 2 * per_settings


def test_a_step_moves_the_window_and_new_settings_draw_a_new_picture(monkeypatch):
    drawn = []
    real = widgets_module.plot_conv_step
    monkeypatch.setattr(widgets_module, "plot_conv_step", lambda *a, **k: drawn.append(a[3:5]) or real(*a, **k))
    e = conv_explorer(padding="same")
    pictures = {bytes(e.picture.value)}
    for position in (1, 2, 12):
        e.position.value = position
        pictures.add(bytes(e.picture.value))
    assert drawn == [(0, 0)] and len(pictures) == 4  # one figure, four pictures
    assert png_size(bytes(e.picture.value)) == (880, 304)
    e.stride.value = 2  # a 3x3 output: the position is clamped to 8, in a new figure
    assert drawn == [(0, 0), (2, 2)]
    e.position.value = 4
    assert drawn == [(0, 0), (2, 2)] and "out[1, 1]" in e.message.value


@pytest.mark.parametrize("image, padding, stride", [(None, 1, 1), (None, "same", 1), (None, 0, 1), ("10x12", 1, 1),
                                                    ("10x12", "full", 2), ("16x16", 2, 3)])
def test_every_title_lies_inside_the_picture(image, padding, stride):
    """The output's two-line title sat a few pixels above the top of the picture (clipped) after
    one pass of the layout for some settings (the chapter's example with padding 1 among them)."""
    if image is not None:
        h, w = map(int, image.split("x"))
        image = np.arange(h * w).reshape(h, w) % 7
    e = conv_explorer(image=image, padding=padding, stride=stride)
    fig = e._axes[0].figure
    for ax in fig.axes:
        box = ax.title.get_window_extent()
        assert box.y1 <= fig.bbox.y1 and box.x0 >= fig.bbox.x0 and box.x1 <= fig.bbox.x1, (ax.title.get_text(), box)
