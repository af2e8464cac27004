"""helpers.figures.metrics: the figures draw scikit-learn's numbers, with titles, labels and the right
data."""

from __future__ import annotations


import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from sklearn import metrics as skm  # noqa: E402

from helpers.analysis.metrics import most_confused, report  # noqa: E402
from helpers.figures.metrics import (
    plot_confusion,
    plot_per_class,
    plot_roc,
    show_confused_pairs,
)


def _random_run(n_classes=4, n=300, seed=0):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, n_classes, n)
    y_true[:n_classes] = np.arange(n_classes)  # every class present
    logits = rng.normal(size=(n, n_classes)) + 1.5 * np.eye(n_classes)[y_true]
    scores = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return y_true, scores.argmax(1), scores


def test_plot_confusion_counts_are_the_matrix_with_labels_and_colourbar():
    y_true, y_pred, _ = _random_run()
    cm = skm.confusion_matrix(y_true, y_pred)
    ax = plot_confusion(cm, ["a", "b", "c", "d"])
    np.testing.assert_array_equal(ax.images[0].get_array(), cm)
    cells = [t.get_text() for t in ax.texts]
    assert cells == [str(v) for v in cm.ravel()]  # one integer per cell, row by row
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c", "d"]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert "count" in ax.get_title() and ax.images[0].colorbar.ax.get_ylabel() == "count"


@pytest.mark.parametrize("normalize", ["true", "pred", "all"])
def test_plot_confusion_normalised_agrees_with_scikit_learn(normalize):
    y_true, y_pred, _ = _random_run(n_classes=5, seed=1)
    fig, ax = plt.subplots()
    out = plot_confusion(torch.tensor(skm.confusion_matrix(y_true, y_pred)), normalize=normalize, ax=ax)
    assert out is ax
    expected = skm.confusion_matrix(y_true, y_pred, normalize=normalize)
    np.testing.assert_allclose(ax.images[0].get_array(), expected)
    assert ax.texts[0].get_text() == f"{expected[0, 0]:.2f}"
    assert "fraction" in ax.get_title()


def test_plot_confusion_empty_row_shows_zeros_when_normalised():
    ax = plot_confusion(np.array([[3, 1], [0, 0]]), normalize="true")
    np.testing.assert_allclose(ax.images[0].get_array(), [[0.75, 0.25], [0.0, 0.0]])


@pytest.mark.parametrize("n_classes", [3, 6])
def test_plot_roc_draws_scikit_learns_curves_and_aucs(n_classes):
    y_true, _, scores = _random_run(n_classes=n_classes, seed=2)
    names = [f"class {c}" for c in range(n_classes)]
    ax = plot_roc(y_true, scores, names)
    lines = ax.get_lines()
    assert len(lines) == n_classes + 1  # one per class, then the chance diagonal
    for c in range(n_classes):
        fpr, tpr, _ = skm.roc_curve(y_true == c, scores[:, c])
        np.testing.assert_allclose(lines[c].get_xdata(), fpr)
        np.testing.assert_allclose(lines[c].get_ydata(), tpr)
        auc = skm.roc_auc_score(y_true == c, scores[:, c])
        assert lines[c].get_label() == f"class {c} (AUC = {auc:.2f})"
    np.testing.assert_array_equal(lines[-1].get_xydata(), [[0, 0], [1, 1]])
    macro = skm.roc_auc_score(y_true, scores, multi_class="ovr")
    assert f"macro AUC = {macro:.3f}" in ax.get_title()
    assert "specificity" in ax.get_xlabel() and "recall" in ax.get_ylabel()


def test_plot_roc_binary_draws_one_curve_for_class_one():
    y_true = np.array([0, 0, 1, 1, 1, 0])
    scores = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.45, 0.55], [0.8, 0.2], [0.2, 0.8]])
    ax = plot_roc(y_true, scores)
    assert len(ax.get_lines()) == 2
    fpr, tpr, _ = skm.roc_curve(y_true, scores[:, 1])
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), tpr)


def test_plot_per_class_bars_have_the_values_and_macro_means():
    y_true, y_pred, scores = _random_run(seed=3)
    r = report(y_true, y_pred, scores)
    ax = plot_per_class(r, list("wxyz"))  # a whole report: its four per-class metrics
    assert len(ax.containers) == 4
    for container, key in zip(ax.containers, ("precision", "recall", "f1", "specificity")):
        np.testing.assert_allclose([bar.get_height() for bar in container], r[key])
    labels = ax.get_legend_handles_labels()[1]
    assert labels[1] == f"recall (macro {r['macro_recall']:.3f})"
    assert [t.get_text() for t in ax.get_xticklabels()] == list("wxyz")
    assert ax.get_xlabel() == "class" and ax.get_title()

    fig, ax2 = plt.subplots()
    assert plot_per_class({"model A": [0.5, 1.0], "model B": [0.25, 0.75]}, ax=ax2) is ax2
    assert [round(b.get_height(), 2) for b in ax2.containers[1]] == [0.25, 0.75]


def test_show_confused_pairs_draws_those_images():
    images = torch.arange(6 * 3 * 2 * 2, dtype=torch.uint8).reshape(6, 3, 2, 2)
    y_true = np.array([0, 1, 0, 2, 0, 1])
    y_pred = np.array([1, 1, 1, 0, 2, 0])
    pairs = most_confused(skm.confusion_matrix(y_true, y_pred), n=2)  # (0 -> 1) twice, then one of the rest
    assert pairs[0] == (0, 1, 2)
    axes = show_confused_pairs(images, y_true, y_pred, pairs, ["cat", "dog", "fox"], per_pair=3)
    assert axes.shape == (2, 3)
    for j, index in enumerate([0, 2]):  # the images with true 0 and predicted 1, in data order
        np.testing.assert_array_equal(axes[0, j].images[0].get_array(), images[index].permute(1, 2, 0).numpy())
    assert not axes[0, 2].get_visible()  # only two such errors
    assert axes[0, 0].get_ylabel().startswith("cat → dog") and "2 such errors" in axes[0, 0].get_ylabel()


@pytest.mark.parametrize("call,error,words", [
    (lambda: plot_confusion(np.ones((2, 3))), ValueError, "square"),
    (lambda: plot_confusion(np.eye(2), normalize="rows"), ValueError, "normalize must be one of"),
    (lambda: plot_confusion(np.eye(3), ["a", "b"]), ValueError, "one name per class"),
    (lambda: plot_confusion(-np.eye(2)), ValueError, "counts"),
    (lambda: plot_roc(np.array([0, 1, 2]), np.ones((2, 3))), ValueError, "y_score must have shape"),
    (lambda: plot_roc(np.array([0, 0, 1]), np.ones((3, 3)) / 3), ValueError, "both positive and negative"),
    (lambda: plot_per_class([0.5, 0.5]), TypeError, "non-empty dict"),
    (lambda: plot_per_class({"a": [0.5, 0.5], "b": [0.5]}), ValueError, "one number per class"),
    (lambda: plot_per_class({"a": [0.5]}, keys=["f1"]), ValueError, "not in values"),
    (lambda: show_confused_pairs(np.zeros((2, 3, 4, 4)), [0, 1], [1, 0], [(0, 1)]), ValueError, "uint8"),
    (lambda: show_confused_pairs(np.zeros((2, 3, 4, 4), np.uint8), [0, 1], [1], [(0, 1)]), ValueError,
     "same length"),
])
def test_bad_input_is_named(call, error, words):
    with pytest.raises(error, match=words):
        call()
