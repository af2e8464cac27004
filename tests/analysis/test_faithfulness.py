"""helpers.analysis.faithfulness: deletion and insertion curves rank maps as they should."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from helpers.analysis.faithfulness import blurred, deletion_insertion, pixel_order, random_smooth_map


class Evidence(nn.Module):
    """Two classes; class 0's logit is sum(w * x) over the pixels, class 1's is 0."""

    def __init__(self, w: torch.Tensor):
        super().__init__()
        self.w = nn.Parameter(w, requires_grad=False)

    def forward(self, x):
        score = (x * self.w).sum(dim=(1, 2, 3))
        return torch.stack([score, torch.zeros_like(score)], dim=1)


@pytest.fixture
def setting():
    torch.manual_seed(0)
    x = torch.rand(1, 1, 16, 16, dtype=torch.float64) + 0.5
    w = torch.randn(1, 1, 16, 16, dtype=torch.float64) * 0.1
    return Evidence(w), x, (w * x)[0, 0].numpy()  # the true contribution of every pixel


def test_pixel_order_is_descending_with_seeded_ties():
    s = np.array([[0.0, 3.0], [1.0, 3.0]])
    order = pixel_order(s, seed=1)
    assert set(order[:2]) == {1, 3} and list(order[2:]) == [2, 0]
    flat = np.zeros((4, 4))
    assert (pixel_order(flat, seed=0) == pixel_order(flat, seed=0)).all()
    assert (pixel_order(flat, seed=0) != pixel_order(flat, seed=1)).any()
    with pytest.raises(ValueError, match="finite"):
        pixel_order(np.array([[np.nan]]))


def test_curves_start_and_end_where_they_must(setting):
    model, x, truth = setting
    c = deletion_insertion(model, x, truth, 0, steps=8, sigma=2.0)
    probs = lambda inp: model(inp).softmax(1)[0, 0].item()
    assert c.fractions[0] == 0 and c.fractions[-1] == 1 and len(c.deletion) == len(c.insertion) == 9
    assert c.deletion[0] == pytest.approx(probs(x)) and c.deletion[-1] == pytest.approx(0.5)  # all zeros
    assert c.insertion[-1] == pytest.approx(probs(x)) and c.insertion[0] == pytest.approx(probs(blurred(x, 2.0)))
    assert c.deletion_auc == pytest.approx(np.trapezoid(c.deletion, c.fractions))
    assert c.insertion_auc == pytest.approx(np.trapezoid(c.insertion, c.fractions))


def test_the_true_map_beats_random_and_reversed_maps(setting):
    model, x, truth = setting
    good = deletion_insertion(model, x, truth, 0, steps=16)
    rand = deletion_insertion(model, x, random_smooth_map(16, 16, cells=4, seed=3), 0, steps=16)
    bad = deletion_insertion(model, x, -truth, 0, steps=16)
    assert good.deletion_auc < rand.deletion_auc < bad.deletion_auc
    assert good.insertion_auc > bad.insertion_auc
    low = int(np.argmin(good.deletion))  # positive evidence goes first: down; then the negative: up
    assert np.all(np.diff(good.deletion[:low + 1]) <= 1e-12) and np.all(np.diff(good.deletion[low:]) >= -1e-12)
    assert good.deletion[low] < min(good.deletion[0], good.deletion[-1])


def test_blur_and_random_map():
    flat = torch.full((1, 3, 10, 10), 0.7, dtype=torch.float64)
    torch.testing.assert_close(blurred(flat, 2.0), flat)
    m = random_smooth_map(20, 30, cells=5, seed=2)
    assert m.shape == (20, 30) and 0 <= m.min() and m.max() <= 1
    np.testing.assert_array_equal(m, random_smooth_map(20, 30, cells=5, seed=2))


def test_errors(setting):
    model, x, truth = setting
    with pytest.raises(TypeError, match="one float image"):
        deletion_insertion(model, x[0], truth, 0)
    with pytest.raises(ValueError, match="image's size"):
        deletion_insertion(model, x, truth[:8], 0)
    with pytest.raises(ValueError, match="steps"):
        deletion_insertion(model, x, truth, 0, steps=0)
