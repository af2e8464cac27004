"""helpers.training.speedrun: the schedule, the look-ahead average, the normalisation, the
recipe's switches, and a tiny training run that learns (CPU, stand-in-sized data)."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from torch import nn

from helpers.data.core import Dataset
from helpers.training.speedrun import (Lookahead, SpeedRecipe, channel_stats, evaluate_speedrun, lr_factor,
                                       normalize, train_speedrun)


def test_lr_factor_warms_up_then_decays():
    total = 100
    assert lr_factor(0, total) == pytest.approx(0.2)
    assert lr_factor(23, total) == pytest.approx(1.0)
    assert lr_factor(11, total) == pytest.approx(0.2 + 0.8 * 11 / 23)
    assert lr_factor(100, total) == pytest.approx(0.07)
    values = [lr_factor(s, total) for s in range(total + 1)]
    assert max(values) == pytest.approx(1.0)


def test_lookahead_moves_the_slow_copy_and_resets_the_network():
    model = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(0.0)
    slow = Lookahead(model)
    with torch.no_grad():
        model.weight.fill_(1.0)
    slow.update(model, decay=0.75)  # slow = 0 + 0.25 * (1 - 0)
    torch.testing.assert_close(model.weight, torch.full((1, 2), 0.25))
    slow.update(model, decay=1.0)  # the network takes the slow weights, which stay
    torch.testing.assert_close(model.weight, torch.full((1, 2), 0.25))


def test_normalize_uses_channel_statistics():
    images = torch.randint(0, 256, (20, 3, 4, 4), dtype=torch.uint8)
    mean, std = channel_stats(images)
    x = normalize(images, mean, std)
    torch.testing.assert_close(x.mean((0, 2, 3)), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(x.std((0, 2, 3)), torch.ones(3), atol=1e-5, rtol=0)
    with pytest.raises(TypeError, match="uint8"):
        normalize(images.float(), mean, std)


def test_recipe_changes_lists_only_what_differs():
    assert SpeedRecipe().changes() == {}
    assert replace(SpeedRecipe(), lookahead=False, epochs=2).changes() == {"epochs": 2, "lookahead": False}


def _toy(n=400, seed=0):
    """Two classes: bright top half vs bright bottom half (flips keep the class), with noise."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 2
    images = torch.randint(0, 60, (n, 3, 32, 32), generator=g)
    images[labels == 0, :, :16, :] += 150
    images[labels == 1, :, 16:, :] += 150
    return Dataset(images.to(torch.uint8), labels, ["top", "bottom"], "toy")


@pytest.mark.parametrize("changes", [{}, dict(batchnorm=False, lr=1.0), dict(whiten=False, flip="random", amp=None,
                                                                             lookahead=False, schedule=False)])
def test_a_tiny_run_learns_and_evaluates(changes):
    recipe = replace(SpeedRecipe(), widths=(8, 8, 8), epochs=8, batch_size=50, tta=1, **changes)
    result = train_speedrun(_toy(), recipe, seed=0, device="cpu")
    assert result.steps == 8 * (400 // 50) and result.seconds > 0 and not result.model.training
    score = evaluate_speedrun(result, _toy(200, seed=1))
    assert score["n"] == 200 and score["tta"] == 1
    assert score["accuracy"] > 0.8
    assert evaluate_speedrun(result, _toy(200, seed=1), tta=0)["tta"] == 0


def test_the_whitening_bias_trains_only_in_its_first_epochs():
    recipe = replace(SpeedRecipe(), widths=(8, 8, 8), epochs=2, batch_size=100, whiten_bias_epochs=1)
    result = train_speedrun(_toy(), recipe, seed=0, device="cpu")
    assert not result.model.whiten.bias.requires_grad and not result.model.whiten.weight.requires_grad


def test_too_little_data_is_named():
    with pytest.raises(ValueError, match="fewer than one batch"):
        train_speedrun(_toy(100), SpeedRecipe(widths=(8, 8, 8)), device="cpu")
