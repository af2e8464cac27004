"""helpers.figures.layers: the activation, per-layer and optimiser-path figures."""

from __future__ import annotations


import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers.figures.layers import plot_paths, plot_per_layer


def test_plot_per_layer_and_paths():
    ax = plot_per_layer({"a": [1.0, 0.1, 0.01], "b": [1.0, 1.0, 1.0]}, ylabel="norm", title="t")
    assert ax.get_yscale() == "log" and ax.get_title() == "t" and len(ax.get_lines()) == 2
    np.testing.assert_allclose(ax.get_lines()[0].get_xdata(), [1, 2, 3])
    with pytest.raises(ValueError, match="values"):
        plot_per_layer({}, ylabel="y", title="t")
    ax = plot_paths(lambda a, b: a ** 2 + b ** 2, {"p": np.array([[1.0, 1.0], [0.0, 0.0]])},
                    minimum=(0, 0), title="paths")
    assert ax.get_title() == "paths" and ax.get_xlabel() and ax.get_ylabel()
    plt.close("all")
