"""Layout checks shared by the explorers' tests: fixed-width controls that wrap, pictures at their own size."""

import ipywidgets

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# The output area of a notebook in JupyterLab on a 1024-px screen, file browser open.
NARROW_OUTPUT_PX = 590


PLAY_PX = 150  # the Play widget's three buttons


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG_MAGIC)
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def px(length: str) -> int:
    assert length.endswith("px"), f"{length!r} is not a fixed width"
    return int(length[:-2])


def width(widget) -> int:
    if isinstance(widget, ipywidgets.Play):
        return PLAY_PX
    if isinstance(widget, ipywidgets.VBox) and not isinstance(widget, ipywidgets.HBox):
        return max(width(child) for child in widget.children)
    if isinstance(widget, ipywidgets.Box):
        return sum(width(child) for child in widget.children)
    return px(widget.layout.width)


def check_controls(controls, labelled) -> None:
    """The box of controls wraps instead of squeezing; each control keeps a fixed width."""
    assert controls.layout.flex_flow == "row wrap"
    for control in labelled:
        assert 150 <= px(control.layout.width) <= 320, control.description
        assert control.layout.max_width == "100%", control.description
        assert control.style.description_width.endswith("px"), control.description
    for group in controls.children:  # a group keeps its width: it moves to a new line instead
        if isinstance(group, ipywidgets.Box):
            assert group.layout.flex == "0 0 auto"
        else:
            assert group.layout.flex == "0 0 auto" or group.layout.width
        assert width(group) <= NARROW_OUTPUT_PX


def check_picture(picture) -> None:
    """Shown at the PNG's own size (scaled down only in a narrower output), left-aligned."""
    width, height = png_size(bytes(picture.value))
    assert picture.layout.width == f"{width}px"
    assert picture.layout.max_width == "100%" and picture.layout.height == "auto"
    assert picture.layout.align_self == "flex-start"  # not stretched across the output area
