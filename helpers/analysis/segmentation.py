"""Segmentation scores per class: intersection over union and Dice (Part XI).
"""

from __future__ import annotations

import numpy as np

__all__ = ["iou_score", "dice_score"]


def _confusion_counts(pred, target, num_classes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class true positives, false positives and false negatives over every pixel."""
    p = np.asarray(pred.cpu() if hasattr(pred, "cpu") else pred)
    t = np.asarray(target.cpu() if hasattr(target, "cpu") else target)
    if p.shape != t.shape or not (np.issubdtype(p.dtype, np.integer) or p.dtype == bool):
        raise ValueError(f"pred and target must be integer class maps of the same shape; got "
                         f"{p.dtype} {p.shape} and {t.dtype} {t.shape}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes must be an int >= 2; got {num_classes!r}")
    p, t = p.astype(np.int64).ravel(), t.astype(np.int64).ravel()
    if p.size and (min(p.min(), t.min()) < 0 or max(p.max(), t.max()) >= num_classes):
        raise ValueError(f"class indices must lie in 0..{num_classes - 1}; got values from "
                         f"{min(p.min(), t.min())} to {max(p.max(), t.max())}")
    cm = np.bincount(t * num_classes + p, minlength=num_classes**2).reshape(num_classes, num_classes)
    tp = np.diag(cm)
    return tp, cm.sum(0) - tp, cm.sum(1) - tp  # (K,) each: rows of cm are true, columns predicted


def iou_score(pred, target, num_classes: int) -> np.ndarray:
    """Intersection over union per class, ``TP / (TP + FP + FN)`` over all pixels.

    Args:
        pred, target: integer class maps of the same shape (e.g. ``(N, H, W)``), tensors or arrays.
        num_classes: ``K``.

    Returns:
        ``ndarray[K]``; NaN for a class absent from both (its IoU is undefined), so
        ``np.nanmean`` gives the mean IoU over the classes that occur.
    """
    tp, fp, fn = _confusion_counts(pred, target, num_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tp + fp + fn > 0, tp / (tp + fp + fn), np.nan)


def dice_score(pred, target, num_classes: int) -> np.ndarray:
    """Dice coefficient per class, ``2 TP / (2 TP + FP + FN)`` (the F1 score of each class's pixels).

    Same arguments and NaN convention as :func:`iou_score`; Dice = 2 IoU / (1 + IoU).
    """
    tp, fp, fn = _confusion_counts(pred, target, num_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan)
