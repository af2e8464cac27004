"""Interactive explorers for JupyterLab and Colab (the static book shows their default picture).

:func:`conv_explorer` slides a kernel over an image: choose a preset kernel (or type one), the
stride and the padding, and step the window over the output positions. Every number it shows
comes from :func:`helpers.scratch.conv.conv2d`; the picture is drawn by :func:`helpers.figures.convstep.plot_conv_step`
when the settings change, and a step to another position only moves its window
(:func:`helpers.figures.convstep.move_conv_step`). Every picture is the still part of the figure,
drawn once per settings, with what a step moves drawn over it (blitting), which keeps the Play
button's steps quick.
"""

from __future__ import annotations

import io
import ipywidgets as widgets
import numpy as np
from matplotlib import image as mpl_image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from helpers.scratch.kernels import get_kernel, KERNELS, parse_kernel
from helpers.scratch.conv import conv2d
from helpers.figures.convstep import conv_step_artists, move_conv_step, plot_conv_step

__all__ = ["DEFAULT_IMAGE", "PADDING_CHOICES", "ConvExplorer", "conv_explorer", "picture_axes", "picture_layout"]


# The valid-padding worked example of chapter 02 (a 5x5 image).
DEFAULT_IMAGE = np.array(
    [[7, 2, 3, 3, 8], [4, 5, 3, 8, 4], [3, 3, 2, 8, 4], [2, 8, 7, 2, 7], [5, 4, 4, 5, 4]],
    dtype=np.float64,
)
DEFAULT_IMAGE.setflags(write=False)


PADDING_CHOICES = (0, 1, 2, "same", "full")


CUSTOM = "custom"

# The picture's size in inches; at ``dpi`` it is shown at exactly its pixel size.
_FIGSIZE = (11, 3.8)

# Layout. Each control has a fixed width and each group of controls keeps its width (flex
# "0 0 auto"); the groups wrap onto a new line when the output area is too narrow for all of
# them side by side, instead of shrinking until dropdowns are clipped, slider values vanish and
# the Play buttons cover the stride readout. ``max_width`` lets a control narrow in an output
# area narrower than itself rather than stick out.
_LABEL = {"description_width": "64px"}


def _control(width: str) -> widgets.Layout:
    return widgets.Layout(width=width, max_width="100%")


def _group() -> widgets.Layout:
    return widgets.Layout(flex="0 0 auto", max_width="100%", margin="0 24px 4px 0")


def picture_layout(width: int) -> widgets.Layout:
    """An Image's layout that shows a picture ``width`` pixels wide at its own size (not
    stretched to the output area's width, which blurs it and can make it taller than the
    screen), scaled down (keeping its proportions) only where the output area is narrower,
    left-aligned."""
    return widgets.Layout(width=f"{width}px", max_width="100%", height="auto",
                          align_self="flex-start", object_fit="contain")


class ConvExplorer(widgets.VBox):
    """A box of controls and a picture of one convolution step; see :func:`conv_explorer`.

    Attributes (all widgets, so a test or a reader can set them from code):
        kernel_name: Dropdown of the :data:`helpers.scratch.kernels.KERNELS` names and ``"custom"``.
        kernel_text: Text of the custom kernel (rows separated by ``;``).
        stride: IntSlider 1-3.  padding: Dropdown of :data:`PADDING_CHOICES`.
        position: IntSlider over the output positions (row-major); play: Play linked to it.
        picture: Image (PNG) of the step.  message: HTML line with the current sum or an error.
    """

    def __init__(self, image, kernel: str = "vertical edge", stride: int = 1, padding=0, *,
                 dpi: int = 80):
        self.image = np.array(image, dtype=np.float64)  # (H, W), a private copy
        self.dpi = dpi
        self.output_map = None  # ndarray[H_out, W_out] of the current settings
        self.current_kernel = None  # ndarray[kh, kw]
        self.current_step = None  # (stride, padding) that made output_map
        self._axes = None  # the picture's three axes for the current settings (None: draw anew)
        self._background = None  # the still part of the picture (blitting), drawn once per settings
        names = list(KERNELS) + [CUSTOM]
        self.kernel_name = widgets.Dropdown(options=names, value=kernel, description="kernel",
                                            style=_LABEL, layout=_control("260px"))
        self.kernel_text = widgets.Text(value="1 0 -1; 1 0 -1; 1 0 -1", description="values",
                                        placeholder="rows separated by ;", continuous_update=False,
                                        disabled=kernel != CUSTOM, style=_LABEL,
                                        layout=_control("260px"))
        self.stride = widgets.IntSlider(value=stride, min=1, max=3, description="stride",
                                        style=_LABEL, layout=_control("260px"))
        self.padding = widgets.Dropdown(options=list(PADDING_CHOICES), value=padding,
                                        description="padding", style=_LABEL,
                                        layout=_control("260px"))
        self.position = widgets.IntSlider(value=0, min=0, max=0, description="position",
                                          style=_LABEL, layout=_control("300px"))
        self.play = widgets.Play(value=0, min=0, max=0, interval=700, description="play",
                                 layout=widgets.Layout(flex="0 0 auto"))
        widgets.jslink((self.play, "value"), (self.position, "value"))
        self.picture = widgets.Image(format="png", layout=picture_layout(round(_FIGSIZE[0] * dpi)))
        self.message = widgets.HTML()
        controls = widgets.HBox([
            widgets.VBox([self.kernel_name, self.kernel_text], layout=_group()),
            widgets.VBox([self.stride, self.padding], layout=_group()),
            widgets.HBox([self.play, self.position], layout=_group()),
        ], layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start"))
        super().__init__([controls, self.message, self.picture])
        for control in (self.kernel_name, self.kernel_text, self.stride, self.padding):
            control.observe(self._settings_changed, names="value")
        self.position.observe(self._redraw, names="value")
        self._settings_changed()

    # -- state ---------------------------------------------------------------------------------

    @property
    def row_col(self) -> tuple[int, int]:
        """The output position shown, ``(row, col)``."""
        w_out = self.output_map.shape[1]
        return divmod(self.position.value, w_out)

    def _kernel(self) -> np.ndarray:
        if self.kernel_name.value == CUSTOM:
            return parse_kernel(self.kernel_text.value)
        return get_kernel(self.kernel_name.value)

    def _settings_changed(self, change=None) -> None:
        """Recompute the output map with helpers.scratch.conv.conv2d, then redraw."""
        self.kernel_text.disabled = self.kernel_name.value != CUSTOM
        try:
            kernel = self._kernel()
            out = conv2d(self.image, kernel, stride=self.stride.value, padding=self.padding.value)
        except ValueError as exc:  # a bad custom kernel, or one larger than the padded input
            self.message.value = f"<b style='color:#b00'>cannot convolve: {exc}</b>"
            return
        self.current_kernel = kernel
        self.current_step = (self.stride.value, self.padding.value)
        self.output_map = np.asarray(out, dtype=np.float64)  # (H_out, W_out)
        self._axes = None
        last = self.output_map.size - 1
        old = self.position.value
        self.position.max = self.play.max = last  # may clamp position (and fire _redraw)
        if self.position.value == old or change is None:
            self._redraw()

    def _redraw(self, change=None) -> None:
        """Draw the current step into the Image widget and write the message line."""
        if self.output_map is None:
            return
        row, col = self.row_col
        # the last settings that convolved (after a bad kernel, the controls may show others)
        args = (self.image, self.current_kernel, self.output_map, row, col, *self.current_step)
        if self._axes is None:  # new settings: lay out a new figure
            self._axes = plot_conv_step(*args, axes=picture_axes(self.image, self.current_kernel,
                                                                 self.output_map, self.dpi))
            _lay_out(self._axes[0].figure)
            self._background = None
        else:  # another position: move the window in the figure already laid out
            move_conv_step(self._axes, *args)
        self.picture.value = self._png()
        h_out, w_out = self.output_map.shape
        self.message.value = (
            f"output {h_out}×{w_out}; position {self.position.value} = (row {row}, col {col}): "
            f"out[{row}, {col}] = {self.output_map[row, col]:g}"
        )

    def _png(self) -> bytes:
        """The picture, blitted: the figure without what a step moves (window, output cell, output
        title, caption) is drawn once per settings and kept; each picture pastes it back, draws the
        four over it and encodes the canvas as ``savefig`` does. The same picture as the whole
        figure drawn at once, but for the red boxes lying over the numbers they cross instead of
        under them."""
        fig = self._axes[0].figure
        canvas = fig.canvas
        moving = conv_step_artists(self._axes)
        if self._background is None:
            for artist in moving:
                artist.set_animated(True)  # left out of canvas.draw(), drawn for each picture
            canvas.draw()
            self._background = canvas.copy_from_bbox(fig.bbox)
        canvas.restore_region(self._background)
        for artist in moving:
            fig.draw_artist(artist)
        buffer = io.BytesIO()
        mpl_image.imsave(buffer, canvas.buffer_rgba(), format="png", origin="upper", dpi=fig.dpi)
        return buffer.getvalue()


def picture_axes(image: np.ndarray, kernel: np.ndarray, output_map: np.ndarray, dpi: int):
    """The explorer's three axes (input, kernel, output) in a new figure of the picture's size,
    laid out by constrained layout when drawn; no ``pyplot``."""
    fig = Figure(figsize=_FIGSIZE, dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    return fig.subplots(1, 3, width_ratios=[image.shape[1] + 2, max(kernel.shape[1], 3),
                                            max(output_map.shape[1], 3)])


def _lay_out(fig: Figure, passes: int = 3) -> None:
    """Run the figure's constrained layout, and keep it for every step of these settings.

    With axes of fixed aspect (the matrices) one pass can leave a title partly above the top of
    the figure (the output's two-line title, clipped in the picture); another pass moves it in.
    So the layout runs again, up to ``passes`` times in all, while a title sticks out."""
    for _ in range(passes):
        fig.draw_without_rendering()
        if all(ax.title.get_window_extent().y1 <= fig.bbox.y1 for ax in fig.axes):
            break
    fig.set_layout_engine("none")


def conv_explorer(image=None, kernel: str = "vertical edge", stride: int = 1,
                  padding=0) -> ConvExplorer:
    """An ipywidgets explorer that steps a kernel over an image and shows each output value.

    Args:
        image: ndarray[H, W] (one channel, up to about 16 pixels a side to keep the numbers
            readable); default :data:`DEFAULT_IMAGE`, the chapter's 5x5 example.
        kernel: a :data:`helpers.scratch.kernels.KERNELS` name or ``"custom"`` (then type the values).
        stride: 1, 2 or 3.
        padding: one of :data:`PADDING_CHOICES` (0, 1, 2, ``"same"``, ``"full"``).

    Returns:
        The explorer widget; display it (last line of a cell) to use it.

    Raises:
        ValueError: an image that is not 2-D, an unknown kernel, stride or padding.
    """
    image = DEFAULT_IMAGE if image is None else np.asarray(image, dtype=np.float64)
    if image.ndim != 2 or image.size == 0:
        raise ValueError(f"image must be a non-empty 2-D array (H, W); got shape {image.shape}")
    if kernel not in KERNELS and kernel != CUSTOM:
        raise ValueError(f"kernel must be one of {list(KERNELS) + [CUSTOM]}; got {kernel!r}")
    if isinstance(stride, bool) or stride not in (1, 2, 3):
        raise ValueError(f"stride must be 1, 2 or 3; got {stride!r}")
    if isinstance(padding, bool) or padding not in PADDING_CHOICES:
        raise ValueError(f"padding must be one of {PADDING_CHOICES}; got {padding!r}")
    return ConvExplorer(image, kernel, stride, padding)
