"""Evaluating a classifier with several metrics at once, built on scikit-learn.

Only specificity, which scikit-learn lacks, is computed here (from the confusion matrix:
``TN / (TN + FP)`` per class); everything else is scikit-learn's own function.
"""

from __future__ import annotations

from typing import Sequence
import numpy as np

__all__ = ["specificity", "most_confused", "labels_from_confusion", "report", "format_report"]


def _labels(y, name: str) -> np.ndarray:
    arr = np.asarray(y.cpu() if hasattr(y, "cpu") else y)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must be a 1-D array of integer class labels; got dtype {arr.dtype}, "
                         f"shape {arr.shape}")
    return arr


def specificity(confusion: np.ndarray) -> np.ndarray:
    """Per-class specificity ``TN / (TN + FP)`` from a confusion matrix (rows: true, cols: predicted).

    A class that is never absent (``TN + FP = 0``) gets NaN.
    """
    cm = np.asarray(confusion, dtype=float)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"confusion must be a square matrix; got shape {cm.shape}")
    total = cm.sum()
    tp = np.diag(cm)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    tn = total - tp - fp - fn
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tn + fp > 0, tn / (tn + fp), np.nan)


def most_confused(confusion: np.ndarray, n: int = 5) -> list[tuple[int, int, int]]:
    """The ``n`` largest off-diagonal cells of a confusion matrix (rows: true, cols: predicted).

    Returns:
        ``[(true class, predicted class, count), ...]``, largest count first (ties in row-major
        order), only cells with a count above 0.
    """
    cm = np.asarray(confusion)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"confusion must be a square matrix; got shape {cm.shape}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an int >= 1; got {n!r}")
    off = np.where(np.eye(len(cm), dtype=bool), 0, cm)  # (C, C) errors only
    order = np.argsort(-off, axis=None, kind="stable")[:n]  # flat indices, largest first
    return [(int(i), int(j), int(off[i, j])) for i, j in zip(*np.unravel_index(order, cm.shape)) if off[i, j] > 0]


def labels_from_confusion(confusion: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Label arrays whose confusion matrix is ``confusion`` (rows: true, cols: predicted).

    Handy for turning a matrix on paper into something every metric function accepts.

    Returns:
        ``(y_true, y_pred)``, each ndarray[N] with ``N = confusion.sum()``, in row-major order.
    """
    cm = np.asarray(confusion)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or not np.issubdtype(cm.dtype, np.integer) or (cm < 0).any():
        raise ValueError(f"confusion must be a square matrix of counts (integers >= 0); got {cm.dtype} {cm.shape}")
    rows, cols = np.indices(cm.shape).reshape(2, -1)  # every cell (i, j), row-major
    return np.repeat(rows, cm.ravel()), np.repeat(cols, cm.ravel())


def report(y_true, y_pred, y_score=None, k: Sequence[int] = (1, 5), num_classes: int | None = None) -> dict:
    """Every metric of Part IX for one classifier on one test set.

    Args:
        y_true: ndarray[N] of true class indices.
        y_pred: ndarray[N] of predicted class indices.
        y_score: optional ndarray[N, num_classes] of class probabilities (rows sum to 1; rows of
            float32 probabilities that sum to 1 within 1e-4 are renormalised in float64); enables
            top-k accuracy, one-vs-rest ROC AUC and log loss.
        k: the k of top-k accuracy (needs ``y_score``; a k larger than the number of classes is skipped).
        num_classes: defaults to ``y_score.shape[1]`` or ``max(label) + 1``.

    Returns:
        dict with ``accuracy``, ``balanced_accuracy``, ``mcc``, ``confusion`` (ndarray[C, C], rows
        true), per-class ``precision``, ``recall``, ``f1``, ``specificity``, ``support`` (ndarray[C]),
        their ``macro_*`` means, and with scores ``top_k`` ({k: accuracy}), ``roc_auc_ovr`` (macro)
        and ``log_loss``.
    """
    from sklearn import metrics as skm

    y_true, y_pred = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must have the same length; got {len(y_true)} and {len(y_pred)}")
    scores = None
    if y_score is not None:
        scores = np.asarray(y_score.cpu() if hasattr(y_score, "cpu") else y_score, dtype=float)
        if scores.ndim != 2 or scores.shape[0] != len(y_true):
            raise ValueError(f"y_score must have shape (N, num_classes) with N = {len(y_true)}; got {scores.shape}")
        sums = scores.sum(axis=1, keepdims=True)  # (N, 1)
        if np.allclose(sums, 1.0, rtol=0, atol=1e-4):  # float32 softmax: re-close the rounding in float64
            scores = scores / sums
    if num_classes is None:
        num_classes = scores.shape[1] if scores is not None else int(max(y_true.max(), y_pred.max())) + 1
    labels = np.arange(num_classes)
    cm = skm.confusion_matrix(y_true, y_pred, labels=labels)
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0)
    spec = specificity(cm)
    out = {
        "accuracy": skm.accuracy_score(y_true, y_pred),
        "balanced_accuracy": skm.balanced_accuracy_score(y_true, y_pred),
        "mcc": skm.matthews_corrcoef(y_true, y_pred),
        "confusion": cm,
        "precision": precision, "recall": recall, "f1": f1, "specificity": spec, "support": support,
        "macro_precision": float(precision.mean()), "macro_recall": float(recall.mean()),
        "macro_f1": float(f1.mean()), "macro_specificity": float(np.nanmean(spec)),
    }
    if scores is not None:
        ranked = scores[:, 1] if num_classes == 2 else scores  # scikit-learn's binary convention
        out["top_k"] = {kk: skm.top_k_accuracy_score(y_true, ranked, k=kk, labels=labels)
                        for kk in k if kk < num_classes}
        present = np.unique(y_true)
        if len(present) == num_classes and num_classes > 2:
            out["roc_auc_ovr"] = skm.roc_auc_score(y_true, scores, multi_class="ovr", labels=labels)
        elif num_classes == 2 and len(present) == 2:
            out["roc_auc_ovr"] = skm.roc_auc_score(y_true, scores[:, 1])
        out["log_loss"] = skm.log_loss(y_true, scores, labels=labels)
    return out


def format_report(result: dict, classes: Sequence[str] | None = None) -> str:
    """A per-class table plus the summary metrics, as text."""
    n = len(result["precision"])
    classes = list(classes) if classes is not None else [str(i) for i in range(n)]
    width = max(8, *(len(c) for c in classes))
    lines = [f"{'class':<{width}}  precision  recall  f1     specificity  support"]
    for i, name in enumerate(classes):
        lines.append(f"{name:<{width}}  {result['precision'][i]:9.3f}  {result['recall'][i]:6.3f}  "
                     f"{result['f1'][i]:5.3f}  {result['specificity'][i]:11.3f}  {result['support'][i]:7d}")
    lines.append(f"{'macro':<{width}}  {result['macro_precision']:9.3f}  {result['macro_recall']:6.3f}  "
                 f"{result['macro_f1']:5.3f}  {result['macro_specificity']:11.3f}")
    summary = [f"accuracy {result['accuracy']:.4f}", f"balanced accuracy {result['balanced_accuracy']:.4f}",
               f"MCC {result['mcc']:.4f}"]
    for kk, acc in sorted(result.get("top_k", {}).items()):
        summary.append(f"top-{kk} {acc:.4f}")
    if "roc_auc_ovr" in result:
        summary.append(f"ROC AUC (one-vs-rest) {result['roc_auc_ovr']:.4f}")
    if "log_loss" in result:
        summary.append(f"log loss {result['log_loss']:.4f}")
    return "\n".join(lines + ["", " | ".join(summary)])
