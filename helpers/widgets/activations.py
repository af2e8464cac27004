"""An ipywidgets explorer for activation functions (the static book shows its default picture).

:func:`activation_explorer` lets a reader pick an activation and its ``alpha`` and see ``f`` and
``f'`` side by side; the curves come from :func:`helpers.scratch.activations.activation` and
:func:`helpers.scratch.activations.activation_derivative`, drawn by :func:`helpers.figures.layers.plot_activation`.
"""

from __future__ import annotations

import io
import ipywidgets as widgets
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from helpers.figures.layers import plot_activation
from helpers.scratch.activations import activation, activation_derivative, ACTIVATIONS
from helpers.widgets.conv import picture_layout

__all__ = ["ActivationExplorer", "activation_explorer"]


_USES_ALPHA = ("leaky_relu", "prelu", "elu")

# The picture's size in inches; at ``dpi`` it is shown at exactly its pixel size (400 x 280 at
# 80 dpi), beside or under the controls, never stretched to the output area's width.
_FIGSIZE = (5, 3.5)

# The labels are one letter; the controls keep their widths and wrap onto a new line when the
# output area is too narrow for all three.
_LABEL = {"description_width": "24px"}


def _control(width: str) -> widgets.Layout:
    return widgets.Layout(width=width, max_width="100%", flex="0 0 auto", margin="0 16px 4px 0")


class ActivationExplorer(widgets.VBox):
    """Controls and a picture of one activation; see :func:`activation_explorer`.

    Attributes (widgets, so a test or a reader can set them from code):
        name: Dropdown of :data:`helpers.scratch.activations.ACTIVATIONS`.
        alpha: FloatSlider 0-2 (used by Leaky ReLU, PReLU and ELU; disabled otherwise).
        x0: FloatSlider -4..4, the point whose ``f(x0)`` and ``f'(x0)`` the message line prints.
        picture: Image (PNG).  message: HTML line.
    """

    def __init__(self, name: str = "sigmoid", alpha: float = 0.01, x0: float = 0.0, *, dpi: int = 80):
        if name not in ACTIVATIONS:
            raise ValueError(f"name must be one of {ACTIVATIONS}; got {name!r}")
        self.dpi = dpi
        self.name = widgets.Dropdown(options=list(ACTIVATIONS), value=name, description="f",
                                     style=_LABEL, layout=_control("200px"))
        self.alpha = widgets.FloatSlider(value=alpha, min=0.0, max=2.0, step=0.01, description="α",
                                         style=_LABEL, layout=_control("260px"))
        self.x0 = widgets.FloatSlider(value=x0, min=-4.0, max=4.0, step=0.1, description="x",
                                      style=_LABEL, layout=_control("260px"))
        self.picture = widgets.Image(format="png", layout=picture_layout(round(_FIGSIZE[0] * dpi)))
        self.message = widgets.HTML()
        controls = widgets.HBox([self.name, self.alpha, self.x0],
                                layout=widgets.Layout(flex_flow="row wrap", align_items="center"))
        super().__init__([controls, self.message, self.picture])
        for control in (self.name, self.alpha, self.x0):
            control.observe(self._redraw, names="value")
        self._redraw()

    def _redraw(self, change=None) -> None:
        """Draw f and f' into the Image widget and print f(x0), f'(x0)."""
        name = self.name.value
        self.alpha.disabled = name not in _USES_ALPHA
        alpha = self.alpha.value if name in _USES_ALPHA else None
        fig = Figure(figsize=_FIGSIZE, dpi=self.dpi, layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        plot_activation(name, alpha, ax=ax)
        x0 = self.x0.value
        f0 = float(activation(name, np.array(x0), alpha))
        d0 = float(activation_derivative(name, np.array(x0), alpha))
        ax.plot([x0, x0], [f0, d0], "ko", ms=5)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        self.picture.value = buffer.getvalue()
        self.message.value = f"{name}: f({x0:g}) = {f0:.4f}, f′({x0:g}) = {d0:.4f}"


def activation_explorer(name: str = "sigmoid", alpha: float = 0.01, x0: float = 0.0) -> ActivationExplorer:
    """An ipywidgets explorer of an activation ``f`` and its derivative ``f'``.

    Args:
        name: the activation shown first, one of :data:`helpers.scratch.activations.ACTIVATIONS`.
        alpha: the initial slope/saturation for Leaky ReLU, PReLU and ELU.
        x0: the initial point whose values are printed.

    Returns:
        The explorer widget; display it (last line of a cell) to use it.

    Raises:
        ValueError: for an unknown ``name``.
    """
    return ActivationExplorer(name, alpha, x0)
