"""helpers.figures.training: curves, filter and feature-map mosaics have titles, labels, the right
data."""

from __future__ import annotations


import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from helpers.figures.training import (
    example_histories,
    mosaic,
    plot_history,
    show_feature_maps,
    show_filters,
)
from helpers.training.history import History  # noqa: E402


def _history(train_acc, val_acc=()):
    n = len(train_acc)
    return History(epoch=list(range(1, n + 1)), train_loss=[1.0 / (i + 1) for i in range(n)],
                   train_acc=list(train_acc), val_loss=[1.5 / (i + 1) for i in range(len(val_acc))],
                   val_acc=list(val_acc), seconds=[float(i) for i in range(n)])


def test_plot_history_draws_train_and_test_per_model_in_percent():
    histories = {"MLP": _history([0.9, 0.95], [0.91, 0.94]), "LeNet-5": _history([0.95, 0.99], [0.96, 0.98])}
    ax = plot_history(histories)
    assert "Accuracy" in ax.get_title() and ax.get_xlabel() == "epoch" and "%" in ax.get_ylabel()
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"MLP train", "MLP test", "LeNet-5 train", "LeNet-5 test"}
    np.testing.assert_allclose(lines["LeNet-5 test"].get_ydata(), [96.0, 98.0])
    np.testing.assert_array_equal(lines["MLP train"].get_xdata(), [1, 2])
    # one colour per model, solid train vs dashed test
    assert lines["MLP train"].get_color() == lines["MLP test"].get_color() != lines["LeNet-5 train"].get_color()
    assert lines["MLP train"].get_linestyle() == "-" and lines["MLP test"].get_linestyle() == "--"


def test_plot_history_loss_accepts_dicts_and_a_given_axes_and_skips_missing_validation():
    fig, ax = plt.subplots()
    out = plot_history({"net": _history([0.5, 0.6, 0.7]).to_dict()}, "loss", ax=ax)
    assert out is ax and "Loss" in ax.get_title() and "cross-entropy" in ax.get_ylabel()
    assert [line.get_label() for line in ax.get_lines()] == ["net train"]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [1.0, 0.5, 1 / 3])


@pytest.mark.parametrize("histories,metric,error,words", [
    ({}, "accuracy", ValueError, "non-empty"),
    ({"a": _history([0.5])}, "f1", ValueError, "metric"),
    ({"a": [0.5, 0.6]}, "accuracy", TypeError, "histories['a']"),
])
def test_plot_history_rejects_bad_input(histories, metric, error, words):
    with pytest.raises(error, match=words.replace("[", r"\[").replace("]", r"\]")):
        plot_history(histories, metric)


def test_plot_history_names_the_held_out_set_and_rejects_other_names():
    ax = plot_history(example_histories(), "loss", held_out="validation")
    assert "validation (dashed)" in ax.get_title()
    assert {line.get_label() for line in ax.get_lines()} >= {"run B train", "run B validation"}
    with pytest.raises(ValueError, match="held_out"):
        plot_history(example_histories(), "loss", held_out="val")


@pytest.mark.parametrize("metric", ["loss", "accuracy"])
def test_plot_history_ticks_whole_epochs_and_its_legend_hides_no_curve(metric):
    """Exercise 6.4's figure: the over-fitting run's rising validation loss must be in sight
    (the legend once sat on it), and the epochs are ticked 1, 2, ... never 2.5."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained")
    ax = plot_history(example_histories(), metric, ax=axes[0], held_out="validation")
    plot_history(example_histories(), "accuracy", ax=axes[1], held_out="validation")
    fig.canvas.draw()
    ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks), ticks
    legend = ax.get_legend().get_window_extent()
    assert not legend.overlaps(ax.get_window_extent()), "the legend sits on the plot"
    assert not legend.overlaps(axes[1].get_window_extent()), "the legend sits on the next plot"
    assert fig.get_window_extent().contains(legend.x1 - 1, legend.y0 + 1), "the legend is cut off"
    # and with a single figure of its own
    single = plot_history({"net": _history([0.5, 0.6, 0.7], [0.4, 0.5, 0.6])})
    single.figure.canvas.draw()
    assert not single.get_legend().get_window_extent().overlaps(single.get_window_extent())


def test_mosaic_places_tiles_with_nan_gaps():
    maps = np.arange(5 * 2 * 3).reshape(5, 2, 3)
    out = mosaic(maps, ncols=3)
    assert out.shape == (2 * 3 - 1, 3 * 4 - 1)
    np.testing.assert_array_equal(out[0:2, 4:7], maps[1])
    np.testing.assert_array_equal(out[3:5, 4:7], maps[4])
    assert np.isnan(out[2]).all() and np.isnan(out[:, 3]).all()
    assert np.isnan(out[3:5, 8:11]).all()  # the empty sixth tile


def test_show_filters_draws_every_filter_centred_on_zero_with_colorbar():
    weight = torch.zeros(6, 1, 5, 5)
    weight[2, 0, 1, 1], weight[4, 0, 0, 0] = 0.8, -0.3
    ax = show_filters(weight, ncols=3)
    assert ax.get_title() == "6 learned filters 5×5 (input channel 0)"
    assert "x (pixels" in ax.get_xlabel() and "y (pixels" in ax.get_ylabel()
    image = ax.images[0]
    np.testing.assert_array_equal(np.ma.filled(image.get_array(), np.nan)[:5, 12:17], weight[2, 0].numpy())
    assert image.norm.vmin == -image.norm.vmax == pytest.approx(-0.8)
    assert image.get_cmap().name == "RdBu_r"
    assert [t.get_text() for t in ax.texts] == [str(i) for i in range(6)]
    assert len(ax.figure.axes) == 2  # the mosaic and its colour bar


def test_show_filters_picks_the_input_channel():
    weight = np.zeros((2, 3, 3, 3))
    weight[1, 2] = 1.0
    ax = show_filters(weight, channel=2, ncols=2, title="mine")
    assert ax.get_title() == "mine"
    np.testing.assert_array_equal(np.ma.filled(ax.images[0].get_array(), np.nan)[:, 4:], np.ones((3, 3)))


def test_show_feature_maps_shares_one_scale_and_accepts_a_batch_of_one():
    maps = torch.rand(1, 16, 4, 4) * 3
    ax = show_feature_maps(maps)
    assert ax.get_title() == "16 feature maps 4×4"
    image = ax.images[0]
    assert image.get_cmap().name == "viridis"
    assert image.norm.vmin == pytest.approx(float(maps.min())) and image.norm.vmax == pytest.approx(float(maps.max()))
    assert ax.figure.axes[-1].get_ylabel() == "activation"


@pytest.mark.parametrize("call,error,words", [
    (lambda: show_filters(np.zeros((6, 5, 5, 1, 1))), ValueError, "weight must be"),
    (lambda: show_filters(np.zeros((6, 1, 5, 5)), channel=1), ValueError, "channel"),
    (lambda: show_filters("filters"), TypeError, "weight must be"),
    (lambda: show_feature_maps(np.zeros((2, 6, 4, 4))), ValueError, "one image"),
    (lambda: show_feature_maps(np.zeros((4, 4))), ValueError, "maps must be"),
    (lambda: mosaic(np.zeros((3, 2, 2)), ncols=0), ValueError, "ncols"),
])
def test_bad_input_is_rejected_with_a_message_naming_the_argument(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_example_histories_show_under_good_and_over_fitting():
    runs = example_histories(20)
    assert list(runs) == ["run A", "run B", "run C"]
    under, over, good = (runs[k] for k in runs)
    for h in runs.values():
        assert len(h.epoch) == len(h.train_loss) == len(h.val_acc) == 20
        assert all(0 < a < 1 for a in h.train_acc + h.val_acc)
    assert min(under.train_loss) > 5 * max(good.train_loss[-1], over.train_loss[-1])  # stays high
    best = int(np.argmin(over.val_loss))
    assert 3 <= best < 15 and over.val_loss[-1] > over.val_loss[best] + 0.1  # test loss turns up
    assert over.train_loss[-1] < over.train_loss[best]  # while train loss keeps falling
    assert np.all(np.diff(good.val_loss) < 0) and good.val_loss[-1] - good.train_loss[-1] < 0.05
    with pytest.raises(ValueError, match="epochs"):
        example_histories(3)
