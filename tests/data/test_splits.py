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


def test_train_val_split_is_stratified_disjoint_complete_and_seeded():
    from helpers.data.core import Dataset
    from helpers.data.splits import train_val_split

    labels = torch.tensor([0] * 30 + [1] * 20 + [2] * 12)
    images = torch.arange(len(labels), dtype=torch.int64).to(torch.uint8).view(-1, 1, 1, 1)
    data = Dataset(images, labels, ["a", "b", "c"], "toy")
    train, val = train_val_split(data, 5, seed=3)
    assert torch.bincount(val.labels).tolist() == [5, 5, 5]
    assert torch.bincount(train.labels).tolist() == [25, 15, 7]
    ids_train, ids_val = set(train.images.flatten().tolist()), set(val.images.flatten().tolist())
    assert not ids_train & ids_val and ids_train | ids_val == set(range(len(labels)))
    assert train.images.flatten().tolist() == sorted(ids_train)  # original order kept
    again = train_val_split(data, 5, seed=3)[1]
    other = train_val_split(data, 5, seed=4)[1]
    assert torch.equal(again.images, val.images) and not torch.equal(other.images, val.images)
    assert "validation part: 15 (validation held out: 5 per class, seed 3)" in val.source
    assert "training part: 47" in train.source and train.source.startswith("toy |")


def test_train_val_split_says_what_is_wrong():
    from helpers.data.core import Dataset
    from helpers.data.splits import train_val_split

    data = Dataset(torch.zeros(4, 1, 1, 1, dtype=torch.uint8), torch.tensor([0, 0, 1, 1]), ["a", "b"], "toy")
    with pytest.raises(ValueError, match="class 0 \\('a'\\) has 2 examples.*hold out fewer"):
        train_val_split(data, 2, seed=0)
    with pytest.raises(ValueError, match="positive int"):
        train_val_split(data, 0, seed=0)
    with pytest.raises(TypeError, match="Dataset"):
        train_val_split(torch.zeros(3), 1, seed=0)
