"""helpers.analysis.zoo (and the timeline of helpers.figures.zoo): counts of torchvision's reference
models against torchvision's own metadata."""

from __future__ import annotations


import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from helpers.analysis.zoo import (
    ARCHITECTURES,
    HUMAN_TOP5,
    IMAGENET_TOP5,
    architecture_summary,
    build_reference,
    count_flops,
    model_depth,
    torchvision_meta,
)
from helpers.figures.zoo import plot_top5_timeline
from helpers.models.classic import LeNet5  # noqa: E402
from helpers.scratch.shapes import count_params  # noqa: E402

TORCHVISION = [name for name, a in ARCHITECTURES.items() if ":" not in a.builder]


@pytest.mark.parametrize("name", TORCHVISION)
def test_counts_agree_with_torchvision_metadata(name):
    """Parameters exactly; FLOPs / 2 (multiply-adds) against torchvision's `_ops`, given to 3 decimals."""
    model = build_reference(name)
    meta = torchvision_meta(name)
    assert count_params(model) == meta["num_params"]
    gmacs = count_flops(model, ARCHITECTURES[name].input_shape) / 2e9
    assert gmacs == pytest.approx(meta["gmacs"], abs=6e-4)


@pytest.mark.parametrize("name,layers", [("AlexNet", 8), ("VGG-16", 16), ("GoogLeNet", 22), ("ResNet-18", 18),
                                         ("ResNet-50", 50), ("DenseNet-121", 121), ("LeNet-5", 5)])
def test_depth_is_the_depth_in_the_name(name, layers):
    """The depth the papers name (GoogLeNet: "22 layers deep") is the longest chain of weight layers."""
    assert model_depth(build_reference(name)) == layers


def test_depth_counts_the_longest_branch_only():
    class TwoBranches(nn.Module):
        def __init__(self):
            super().__init__()
            self.short = nn.Conv2d(3, 4, 1)
            self.long = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1))
            self.fc = nn.Linear(4, 2)

        def forward(self, x):
            return self.fc((self.short(x) + self.long(x)).mean(dim=(2, 3)))

    assert model_depth(TwoBranches()) == 3  # long branch (2) + fc (1); the short branch runs beside it
    assert model_depth(build_reference("ViT-B/16")) == 1 + 12 * (2 + 2) + 1  # patch conv, 12 x (attention 2 + MLP 2), head


def test_count_flops_by_hand():
    conv = nn.Conv2d(3, 4, 3, padding=1)  # every output value: 3*3*3 multiply-adds
    assert count_flops(conv, (3, 5, 6)) == 2 * (4 * 5 * 6) * (3 * 3 * 3)
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(12, 7), nn.ReLU(), nn.Linear(7, 2))
    assert count_flops(mlp, (3, 2, 2)) == 2 * (12 * 7 + 7 * 2)
    # the book's LeNet-5 on its 28x28 input, layer by layer
    lenet = LeNet5()
    expected = 2 * (24 * 24 * 6 * 25 + 8 * 8 * 16 * 150 + 256 * 120 + 120 * 84 + 84 * 10)
    assert count_flops(lenet, (1, 28, 28)) == expected
    with pytest.raises(ValueError, match=r"input_shape must be \(C, H, W\)"):
        count_flops(conv, (1, 3, 5, 6))


def test_build_on_cpu_computes_and_meta_does_not_allocate():
    model = build_reference("ResNet-18", device="cpu")
    with torch.no_grad():
        assert model(torch.zeros(1, 3, 64, 64)).shape == (1, 1000)
    assert next(build_reference("VGG-16").parameters()).is_meta
    assert count_params(build_reference("LeNet-5")) == count_params(LeNet5())
    assert torchvision_meta("LeNet-5") is None


def test_unknown_name_raises():
    with pytest.raises(ValueError, match="unknown architecture 'VGG-19'; choose one of"):
        build_reference("VGG-19")


def test_summary_rows():
    rows = architecture_summary(["LeNet-5", "ResNet-18"])
    assert [r["name"] for r in rows] == ["LeNet-5", "ResNet-18"]
    assert rows[0]["tv_params"] is None and rows[1]["tv_params"] == rows[1]["params"]
    assert rows[1]["gflops"] == pytest.approx(2 * rows[1]["tv_gmacs"], abs=2e-3)


def test_top5_table_is_cited_and_falls():
    assert all(e.source and 0 < e.top5_error < 100 for e in IMAGENET_TOP5 + (HUMAN_TOP5,))
    years = [e.year for e in IMAGENET_TOP5]
    assert years == sorted(years)
    winners = {}
    for e in IMAGENET_TOP5:  # the best entry of each year improves on the year before
        winners[e.year] = min(winners.get(e.year, 100.0), e.top5_error)
    errors = [winners[y] for y in sorted(winners)]
    assert all(a > b for a, b in zip(errors, errors[1:]))


def test_plot_top5_timeline():
    fig, ax = plt.subplots()
    assert plot_top5_timeline(ax=ax) is ax
    assert ax.get_title() and ax.get_xlabel() == "year" and "top-5" in ax.get_ylabel()
    assert len(ax.lines[0].get_xdata()) == len(IMAGENET_TOP5)
    plt.close(fig)
    with pytest.raises(ValueError, match="at least one"):
        plot_top5_timeline([])
