"""helpers.widgets.activations: the activation explorer as JupyterLab lays it out."""

from __future__ import annotations
from helpers.widgets.activations import activation_explorer  # noqa: E402
from widgetlayout import check_controls, check_picture, png_size  # noqa: E402


def test_activation_explorer_layout():
    e = activation_explorer()
    controls = e.children[0]
    check_controls(controls, [e.name, e.alpha, e.x0])
    for control in (e.name, e.alpha, e.x0):
        assert control.layout.flex == "0 0 auto"
    check_picture(e.picture)
    width, height = png_size(bytes(e.picture.value))
    assert (width, height) == (400, 280)  # shown 400 x 280: with the sliders on a 1080-px screen
    e.name.value = "elu"
    check_picture(e.picture)
