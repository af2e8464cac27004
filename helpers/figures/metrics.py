"""Figures for evaluating a classifier (Part IX): confusion matrix, ROC curves, per-class bars,
and example images of the pairs of classes a model confuses most.

Drawing is scikit-learn's wherever it has a display (``ConfusionMatrixDisplay``, ``roc_curve``
with ``RocCurveDisplay``); the numbers are never re-derived here. Every function takes data and
``ax=None`` (or ``axes=None``), draws, and returns the axes; none reads a notebook's variables.
Loss/accuracy curves are :func:`helpers.figures.training.plot_history`.
"""

from __future__ import annotations

from typing import Mapping, Sequence
import numpy as np
from matplotlib.axes import Axes

__all__ = ["plot_confusion", "plot_roc", "plot_per_class", "show_confused_pairs"]


_NORMALIZE = {None: "count", "true": "fraction of the true class (row)",
              "pred": "fraction of the predicted class (column)", "all": "fraction of all examples"}


def _new_ax(figsize: tuple[float, float]) -> Axes:
    import matplotlib.pyplot as plt  # only when the caller gives no axes

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _numpy(a, name: str, dtype=None) -> np.ndarray:
    a = a.detach().cpu().numpy() if hasattr(a, "detach") else a
    try:
        return np.asarray(a, dtype=dtype)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of numbers; got {type(a).__name__}") from None


def _class_names(classes: Sequence[str] | None, n: int) -> list[str]:
    names = [str(i) for i in range(n)] if classes is None else [str(c) for c in classes]
    if len(names) != n:
        raise ValueError(f"classes must hold one name per class ({n}); got {len(names)}")
    return names


def plot_confusion(confusion, classes: Sequence[str] | None = None, *, normalize: str | None = None,
                   ax: Axes | None = None, title: str | None = None, cmap: str = "Blues") -> Axes:
    """A confusion matrix as a heat map with its values in the cells (scikit-learn's display).

    Args:
        confusion: ndarray[C, C] of counts, rows the true class, columns the predicted class (as
            ``helpers.analysis.metrics.report(...)["confusion"]`` or ``sklearn.metrics.confusion_matrix``).
        classes: C class names for the axes (default ``0 .. C-1``).
        normalize: ``None`` (counts), ``"true"`` (each row sums to 1: the diagonal is each class's
            recall), ``"pred"`` (each column sums to 1: the diagonal is precision) or ``"all"``;
            the same meanings as ``sklearn.metrics.confusion_matrix(normalize=...)``.
        ax: the axes to draw into; a new figure when None.
        title: default says what the colours mean.

    Returns:
        The axes; the drawn values are ``ax.images[0].get_array()``.
    """
    from sklearn.metrics import ConfusionMatrixDisplay

    cm = _numpy(confusion, "confusion", float)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] < 2:
        raise ValueError(f"confusion must be a square matrix (C, C) with C >= 2; got shape {cm.shape}")
    if (cm < 0).any() or not np.isfinite(cm).all():
        raise ValueError("confusion must hold counts (finite, >= 0); pass the counts and choose "
                         "normalize='true', 'pred' or 'all' for fractions")
    if normalize not in _NORMALIZE:
        raise ValueError(f"normalize must be one of {list(_NORMALIZE)}; got {normalize!r}")
    names = _class_names(classes, cm.shape[0])
    if normalize is not None:
        totals = {"true": cm.sum(axis=1, keepdims=True), "pred": cm.sum(axis=0, keepdims=True),
                  "all": cm.sum()}[normalize]
        with np.errstate(invalid="ignore", divide="ignore"):
            cm = np.nan_to_num(cm / totals)  # an empty row/column shows 0, as scikit-learn does
    n = cm.shape[0]
    ax = ax if ax is not None else _new_ax((0.55 * n + 2.8, 0.5 * n + 2.0))
    display = ConfusionMatrixDisplay(cm, display_labels=names)
    display.plot(ax=ax, cmap=cmap, values_format=".2f" if normalize else ".0f",
                 xticks_rotation=45 if n > 4 else "horizontal", colorbar=True,
                 text_kw={"fontsize": 8 if n > 6 else 10})
    display.im_.colorbar.set_label(_NORMALIZE[normalize])
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title or f"Confusion matrix ({_NORMALIZE[normalize]})")
    return ax


def plot_roc(y_true, y_score, classes: Sequence[str] | None = None, *, ax: Axes | None = None,
             title: str | None = None) -> Axes:
    """One-vs-rest ROC curves, one per class, with their AUC and the chance diagonal.

    For class ``c`` the positives are the examples of class ``c`` and the score is
    ``y_score[:, c]``; ``sklearn.metrics.roc_curve`` sweeps the threshold. With two classes, one
    curve (class 1 against class 0) is drawn.

    Args:
        y_true: ndarray[N] of true class indices.
        y_score: ndarray[N, C] of class scores (probabilities, or any score ranking the class).
        classes: C class names (default ``0 .. C-1``).
        ax: the axes to draw into; a new figure when None.
        title: default gives the macro-average AUC.

    Returns:
        The axes; line ``c`` (before the chance line) is class ``c``'s curve.
    """
    from sklearn.metrics import RocCurveDisplay, auc, roc_curve

    y_true = _numpy(y_true, "y_true").ravel()
    scores = _numpy(y_score, "y_score", float)
    if scores.ndim != 2 or scores.shape[1] < 2 or scores.shape[0] != len(y_true):
        raise ValueError(f"y_score must have shape (N, C) with N = {len(y_true)} (the length of "
                         f"y_true) and C >= 2; got {scores.shape}")
    n_classes = scores.shape[1]
    names = _class_names(classes, n_classes)
    ax = ax if ax is not None else _new_ax((6.5, 5.5))
    aucs = []
    for c in ([1] if n_classes == 2 else range(n_classes)):
        positive = y_true == c
        if positive.all() or not positive.any():
            raise ValueError(f"class {names[c]!r} needs both positive and negative examples in "
                             f"y_true for a ROC curve; it has {int(positive.sum())} of {len(y_true)}")
        fpr, tpr, _ = roc_curve(positive, scores[:, c])
        aucs.append(auc(fpr, tpr))
        RocCurveDisplay(fpr=fpr, tpr=tpr, roc_auc=aucs[-1], name=names[c]).plot(
            ax=ax, curve_kwargs={"color": f"C{c % 10}", "linewidth": 1.3})
    ax.plot([0, 1], [0, 1], "k--", linewidth=1, label="chance (AUC = 0.5)")
    ax.set_xlabel("false positive rate (1 − specificity)")
    ax.set_ylabel("true positive rate (recall)")
    what = "class 1 vs class 0" if n_classes == 2 else f"one class vs the rest, macro AUC = {np.mean(aucs):.3f}"
    ax.set_title(title or f"ROC curves ({what})")
    ax.legend(loc="lower right", fontsize="small")
    ax.grid(alpha=0.3)
    return ax


def plot_per_class(values: Mapping[str, Sequence[float]], classes: Sequence[str] | None = None, *,
                   keys: Sequence[str] | None = None, ax: Axes | None = None,
                   title: str | None = None) -> Axes:
    """Grouped bars: one group per class, one bar per metric (or per model).

    Args:
        values: ``{name: ndarray[C]}`` of per-class numbers in 0..1, e.g.
            ``{"precision": r["precision"], "recall": r["recall"]}`` or one metric for several
            models ``{"CNN": r1["recall"], "linear": r2["recall"]}``. A whole
            ``helpers.analysis.metrics.report`` result works too (see ``keys``).
        classes: C class names (default ``0 .. C-1``).
        keys: which entries of ``values`` to draw; default all of them, or, for a report,
            ``("precision", "recall", "f1", "specificity")``.
        ax: the axes to draw into; a new figure when None.

    Returns:
        The axes; ``ax.containers[k]`` holds the bars of the k-th key, whose legend label
        ends with its macro (unweighted) mean over the classes.
    """
    if not isinstance(values, Mapping) or not values:
        raise TypeError(f"values must be a non-empty dict {{name: per-class values}}; got {type(values).__name__}")
    if keys is None:
        is_report = "confusion" in values and "precision" in values
        keys = ("precision", "recall", "f1", "specificity") if is_report else tuple(values)
    missing = [k for k in keys if k not in values]
    if missing:
        raise ValueError(f"keys {missing} are not in values (which has {sorted(values)})")
    rows = [_numpy(values[k], f"values[{k!r}]", float) for k in keys]
    n = rows[0].shape[0] if rows[0].ndim == 1 else -1
    for k, row in zip(keys, rows):
        if row.ndim != 1 or row.shape[0] != n:
            raise ValueError(f"values[{k!r}] must be 1-D with one number per class like the first "
                             f"({n}); got shape {row.shape}")
    names = _class_names(classes, n)
    ax = ax if ax is not None else _new_ax((max(6.0, 0.9 * n + 2), 4.2))
    width = 0.8 / len(keys)
    x = np.arange(n)
    for i, (k, row) in enumerate(zip(keys, rows)):
        ax.bar(x + (i - (len(keys) - 1) / 2) * width, row, width, color=f"C{i % 10}",
               label=f"{k} (macro {np.nanmean(row):.3f})")
    ax.set_xticks(x, names, rotation=45 if n > 6 else 0, ha="right" if n > 6 else "center")
    ax.set_ylim(0, 1.25)  # room for the legend above the bars
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_xlabel("class")
    ax.set_ylabel("score (0 to 1)")
    ax.set_title(title or "Per-class " + ", ".join(keys))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize="small", loc="upper center", ncol=min(len(keys), 4))
    return ax


def show_confused_pairs(images, y_true, y_pred, pairs: Sequence[Sequence[int]],
                        classes: Sequence[str] | None = None, *, per_pair: int = 5,
                        axes: np.ndarray | None = None, suptitle: str | None = None) -> np.ndarray:
    """Example images of confused pairs: one row per pair ``(true, predicted)``.

    Args:
        images: uint8 ``(N, C, H, W)`` tensor or array (C = 1 or 3), the evaluated images.
        y_true, y_pred: ndarray[N] of true and predicted class indices for those images.
        pairs: ``(true class, predicted class)`` pairs, e.g. from
            ``helpers.analysis.metrics.most_confused``; a third item (the count) is ignored.
        classes: class names (default the indices).
        per_pair: images per row (the first ones of the pair, in data order).
        axes: ndarray ``(len(pairs), per_pair)`` of axes to draw into; a new figure when None.
        suptitle: a title for the whole figure.

    Returns:
        The ndarray of axes ``(len(pairs), per_pair)``; unused panels are hidden.
    """
    imgs = _numpy(images, "images")
    if imgs.ndim != 4 or imgs.shape[1] not in (1, 3) or imgs.dtype != np.uint8:
        raise ValueError(f"images must be uint8 (N, C, H, W) with C = 1 or 3; got {imgs.dtype} {imgs.shape}")
    y_true, y_pred = _numpy(y_true, "y_true").ravel(), _numpy(y_pred, "y_pred").ravel()
    if not len(imgs) == len(y_true) == len(y_pred):
        raise ValueError(f"images, y_true and y_pred must have the same length; got {len(imgs)}, "
                         f"{len(y_true)} and {len(y_pred)}")
    pairs = [tuple(int(v) for v in p[:2]) for p in pairs]
    if not pairs or not isinstance(per_pair, int) or per_pair < 1:
        raise ValueError(f"pairs must hold at least one (true, predicted) pair and per_pair must be an "
                         f"int >= 1; got {len(pairs)} pairs, per_pair={per_pair!r}")
    n_classes = max(int(y_true.max()), int(y_pred.max()), *(max(p) for p in pairs)) + 1
    names = _class_names(classes, len(classes) if classes is not None else n_classes)
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(len(pairs), per_pair, figsize=(1.7 * per_pair, 1.9 * len(pairs) + 0.4),
                               layout="constrained", squeeze=False)
    axes = np.asarray(axes).reshape(len(pairs), per_pair)
    for row, (t, p) in zip(axes, pairs):
        found = np.flatnonzero((y_true == t) & (y_pred == p))
        for j, ax in enumerate(row):
            ax.set_xticks([])
            ax.set_yticks([])
            if j >= len(found):
                ax.set_visible(False)
                continue
            image = imgs[found[j]].transpose(1, 2, 0)  # (H, W, C) for imshow
            ax.imshow(image[..., 0] if image.shape[2] == 1 else image, cmap="gray", vmin=0, vmax=255)
            ax.set_title(f"image #{found[j]}", fontsize=8)
        row[0].set_ylabel(f"{names[t]} → {names[p]}\n({len(found)} such errors)", fontsize=8)
        row[0].set_visible(True)
    if suptitle:
        axes[0, 0].figure.suptitle(suptitle)
    return axes
