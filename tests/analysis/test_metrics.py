"""helpers.analysis.metrics: a 2x2 case by hand, and agreement with scikit-learn on random multi-class
data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from helpers.analysis.metrics import (
    format_report,
    labels_from_confusion,
    most_confused,
    report,
    specificity,
)


def test_two_by_two_by_hand():
    # 10 examples: TP = 3, FN = 1, FP = 2, TN = 4 for class 1 ("positive")
    y_true = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    y_pred = np.array([1, 1, 1, 0, 1, 1, 0, 0, 0, 0])
    r = report(y_true, y_pred)
    np.testing.assert_array_equal(r["confusion"], [[4, 2], [1, 3]])
    assert r["accuracy"] == pytest.approx(7 / 10)
    assert r["precision"][1] == pytest.approx(3 / 5) and r["recall"][1] == pytest.approx(3 / 4)
    assert r["f1"][1] == pytest.approx(2 * 3 / (2 * 3 + 2 + 1))
    assert r["specificity"][1] == pytest.approx(4 / 6)  # TN / (TN + FP)
    assert r["specificity"][0] == pytest.approx(3 / 4)  # class 0's negatives are class 1
    assert r["balanced_accuracy"] == pytest.approx((3 / 4 + 4 / 6) / 2)
    mcc = (3 * 4 - 2 * 1) / np.sqrt((3 + 2) * (3 + 1) * (4 + 2) * (4 + 1))
    assert r["mcc"] == pytest.approx(mcc)


def test_agrees_with_scikit_learn_on_random_multiclass():
    rng = np.random.default_rng(0)
    for n_classes in (3, 5, 10):
        y_true = rng.integers(0, n_classes, 400)
        y_true[:n_classes] = np.arange(n_classes)  # every class present
        logits = rng.normal(size=(400, n_classes)) + 2.0 * np.eye(n_classes)[y_true] * rng.random((400, 1))
        scores = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        y_pred = scores.argmax(1)
        r = report(y_true, y_pred, scores, k=(1, 3, 5))
        assert r["accuracy"] == skm.accuracy_score(y_true, y_pred)
        np.testing.assert_allclose(r["f1"], skm.f1_score(y_true, y_pred, average=None))
        assert r["macro_f1"] == pytest.approx(skm.f1_score(y_true, y_pred, average="macro"))
        assert r["macro_precision"] == pytest.approx(skm.precision_score(y_true, y_pred, average="macro"))
        np.testing.assert_allclose(r["recall"], skm.recall_score(y_true, y_pred, average=None))
        assert r["mcc"] == pytest.approx(skm.matthews_corrcoef(y_true, y_pred))
        assert r["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y_true, y_pred))
        assert r["roc_auc_ovr"] == pytest.approx(skm.roc_auc_score(y_true, scores, multi_class="ovr"))
        assert r["log_loss"] == pytest.approx(skm.log_loss(y_true, scores))
        assert r["top_k"][1] == pytest.approx(r["accuracy"])
        for k in (3, 5):
            if k < n_classes:
                assert r["top_k"][k] == pytest.approx(skm.top_k_accuracy_score(y_true, scores, k=k))
        # specificity by its definition, one class at a time
        for c in range(n_classes):
            negatives = y_true != c
            assert r["specificity"][c] == pytest.approx(np.mean(y_pred[negatives] != c))


def test_float32_probabilities_from_torch_give_no_warning_and_the_same_numbers():
    import warnings

    import torch

    rng = np.random.default_rng(3)
    y_true = np.arange(200) % 10
    probs32 = torch.softmax(torch.tensor(rng.normal(size=(200, 10)), dtype=torch.float32), 1)  # (N, 10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scikit-learn warns when rows do not sum to 1 in float64
        r = report(torch.tensor(y_true), probs32.argmax(1), probs32)
    exact = probs32.double() / probs32.double().sum(1, keepdim=True)
    assert r["log_loss"] == pytest.approx(skm.log_loss(y_true, exact.numpy()), rel=1e-9)
    assert r["roc_auc_ovr"] == pytest.approx(skm.roc_auc_score(y_true, exact.numpy(), multi_class="ovr"))


def test_binary_scores_and_text():
    y_true = np.array([0, 0, 1, 1, 1, 0])
    scores = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.45, 0.55], [0.8, 0.2], [0.2, 0.8]])
    r = report(y_true, scores.argmax(1), scores, k=(1,))
    assert r["roc_auc_ovr"] == pytest.approx(skm.roc_auc_score(y_true, scores[:, 1]))
    text = format_report(r, ["cat", "dog"])
    assert "cat" in text and "balanced accuracy" in text and "ROC AUC" in text


def test_most_confused_by_hand_and_by_brute_force():
    cm = np.array([[5, 2, 0], [7, 4, 1], [0, 2, 9]])
    assert most_confused(cm, n=3) == [(1, 0, 7), (0, 1, 2), (2, 1, 2)]  # ties in row-major order
    assert most_confused(np.eye(3, dtype=int) * 4) == []  # no errors, no pairs
    rng = np.random.default_rng(1)
    cm = rng.integers(0, 50, (6, 6))
    errors = sorted(((cm[i, j], -(6 * i + j), i, j) for i in range(6) for j in range(6) if i != j), reverse=True)
    assert most_confused(cm, n=4) == [(i, j, int(v)) for v, _, i, j in errors[:4]]


def test_labels_from_confusion_round_trips_through_scikit_learn():
    rng = np.random.default_rng(2)
    for n in (2, 3, 7):
        cm = rng.integers(0, 9, (n, n))
        y_true, y_pred = labels_from_confusion(cm)
        assert len(y_true) == len(y_pred) == cm.sum()
        np.testing.assert_array_equal(skm.confusion_matrix(y_true, y_pred, labels=range(n)), cm)
    y_true, y_pred = labels_from_confusion([[1, 2], [0, 1]])
    np.testing.assert_array_equal(y_true, [0, 0, 0, 1])
    np.testing.assert_array_equal(y_pred, [0, 1, 1, 1])


def test_errors():
    with pytest.raises(ValueError, match="same length"):
        report(np.array([0, 1]), np.array([0]))
    with pytest.raises(ValueError, match="1-D array of integer class labels"):
        report(np.array([0.5, 1.0]), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"y_score must have shape \(N, num_classes\)"):
        report(np.array([0, 1]), np.array([0, 1]), np.ones((3, 2)))
    with pytest.raises(ValueError, match="square"):
        specificity(np.ones((2, 3)))
    with pytest.raises(ValueError, match="square"):
        most_confused(np.ones((2, 3)))
    with pytest.raises(ValueError, match="n must be an int >= 1"):
        most_confused(np.eye(2), n=0)
    with pytest.raises(ValueError, match="square matrix of counts"):
        labels_from_confusion(np.array([[1.5, 0], [0, 1]]))
