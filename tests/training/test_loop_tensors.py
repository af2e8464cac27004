"""helpers.training.loop on float tensors of any rank: classification of sequences, segmentation of
pixels, errors."""

from __future__ import annotations

import pytest
import torch

from helpers.models.nd import ConvNetND, TinyUNet
from helpers.training.loop import evaluate, fit, predict


def _offset_signals(n, seed):
    """Class 1: a positive bump somewhere; class 0: a negative one. Noisy, linearly separable."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    x = 0.3 * torch.randn(n, 1, 32, generator=g)
    where = torch.randint(0, 28, (n,), generator=g)
    for i in range(n):
        x[i, 0, where[i]:where[i] + 4] += 2.0 if y[i] else -2.0
    return x, y


def test_fit_on_float_tensors_learns_a_separable_sequence_task():
    train, val = _offset_signals(128, 0), _offset_signals(64, 1)
    torch.manual_seed(0)
    model = ConvNetND(1, 1, 2, widths=(4,), kernel_size=3, global_pool="max", pool_blocks=False)
    before = evaluate(model, val)
    history = fit(model, train, val, epochs=8, batch_size=16, lr=0.03, device="cpu")
    assert history.epoch == list(range(1, 9)) and len(history.val_acc) == 8
    assert history.train_loss[-1] < history.train_loss[0]
    after = evaluate(model, val)
    assert after["accuracy"] >= 0.95 and after["loss"] < before["loss"]
    assert after["accuracy"] == pytest.approx(history.val_acc[-1])
    pred = predict(model, val[0])
    assert pred.shape == (64,) and (pred == val[1]).float().mean().item() == pytest.approx(after["accuracy"])


def test_fit_on_float_tensors_segments_pixels_and_repeats_with_a_seed():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(32, 1, 8, 8, generator=g)
    y = (x[:, 0] > 0).long()  # each pixel's class: its sign
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        model = TinyUNet(1, 2, width=4)
        runs.append(fit(model, (x, y), epochs=10, batch_size=8, lr=0.02, seed=1, device="cpu", progress=False))
    assert runs[0].train_loss == runs[1].train_loss
    assert evaluate(model, (x, y))["accuracy"] > 0.9
    assert predict(model, x).shape == (32, 8, 8)
