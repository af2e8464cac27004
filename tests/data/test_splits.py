"""helpers.data.splits: class-balanced, seeded, disjoint, nested parts."""

from __future__ import annotations

import pytest
import torch

from helpers.data.splits import per_class_indices


def test_parts_are_balanced_disjoint_seeded_and_nested():
    labels = torch.arange(300) % 3  # 100 per class
    train, val = per_class_indices(labels, (20, 5), seed=0)
    assert len(train) == 60 and len(val) == 15
    assert torch.bincount(labels[train]).tolist() == [20, 20, 20]
    assert torch.bincount(labels[val]).tolist() == [5, 5, 5]
    assert not set(train.tolist()) & set(val.tolist())
    for k in (1, 4, 10):  # the first k * K of a part: k of every class
        assert torch.bincount(labels[train[:3 * k]], minlength=3).tolist() == [k, k, k]
    again = per_class_indices(labels, (20, 5), seed=0)
    assert all(torch.equal(a, b) for a, b in zip((train, val), again))
    other = per_class_indices(labels, (20, 5), seed=1)
    assert not torch.equal(train, other[0])


def test_errors_name_the_problem():
    labels = torch.tensor([0, 0, 1, 1, 1])
    with pytest.raises(ValueError, match="class 0 has 2 examples; the parts need 3"):
        per_class_indices(labels, (2, 1), seed=0)
    with pytest.raises(ValueError, match="per_class"):
        per_class_indices(labels, (0,), seed=0)
    with pytest.raises(TypeError, match="labels"):
        per_class_indices(labels.float(), (1,), seed=0)
