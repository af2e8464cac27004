"""helpers.analysis.segmentation: IoU and Dice per class, by hand and on edge cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import f1_score, jaccard_score

from helpers.analysis.segmentation import dice_score, iou_score


def test_iou_and_dice_by_hand():
    target = np.array([[0, 0, 1, 1],
                       [0, 0, 1, 1]])
    pred = np.array([[0, 1, 1, 1],
                     [0, 0, 0, 1]])
    # class 1: TP 3, FP 1, FN 1 -> IoU 3/5, Dice 6/8; class 0: TP 3, FP 1, FN 1 as well
    np.testing.assert_allclose(iou_score(pred, target, 2), [3 / 5, 3 / 5])
    np.testing.assert_allclose(dice_score(pred, target, 2), [6 / 8, 6 / 8])
    # a class absent from both is NaN; a class predicted but absent has IoU 0
    np.testing.assert_allclose(iou_score(pred, target, 3), [3 / 5, 3 / 5, np.nan])
    np.testing.assert_allclose(iou_score(np.full((2, 4), 2), target, 3), [0, 0, 0])
    np.testing.assert_allclose(iou_score(torch.as_tensor(target), torch.as_tensor(target), 2), [1, 1])


def test_iou_and_dice_match_scikit_learn():
    rng = np.random.default_rng(0)
    target = rng.integers(0, 4, (3, 10, 10))
    pred = np.where(rng.random(target.shape) < 0.7, target, rng.integers(0, 4, target.shape))
    labels = list(range(4))
    np.testing.assert_allclose(iou_score(pred, target, 4),
                               jaccard_score(target.ravel(), pred.ravel(), labels=labels, average=None))
    dice = dice_score(pred, target, 4)
    np.testing.assert_allclose(dice, f1_score(target.ravel(), pred.ravel(), labels=labels, average=None))
    iou = iou_score(pred, target, 4)
    np.testing.assert_allclose(dice, 2 * iou / (1 + iou))


@pytest.mark.parametrize("pred,target,k,words", [
    (np.zeros((2, 3), int), np.zeros((3, 2), int), 2, "same shape"),
    (np.zeros((2, 3)), np.zeros((2, 3)), 2, "integer"),
    (np.full((2, 3), 5), np.zeros((2, 3), int), 3, r"0\.\.2"),
    (np.zeros((2, 3), int), np.zeros((2, 3), int), 1, "num_classes"),
])
def test_iou_rejects_bad_input(pred, target, k, words):
    with pytest.raises(ValueError, match=words):
        iou_score(pred, target, k)
