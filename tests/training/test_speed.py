"""helpers.training.speed: the measurements chapter 07 and benchmarks/cifar_speed.py print (CPU, tiny
data)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from helpers.models.classic import LeNet5
from helpers.training.speed import pipeline_seconds, step_throughput, tutorial_loader


def test_step_throughput_counts_images_per_second_and_trains_the_model():
    built = []

    def build():
        built.append(LeNet5())
        return built[-1]

    rate = step_throughput(build, (1, 28, 28), 8, seconds=0.2, warmup=1)
    assert rate > 0 and len(built) == 1
    before = LeNet5().state_dict()["features.0.weight"]
    assert not torch.equal(built[0].state_dict()["features.0.weight"], before)  # steps really ran
    assert step_throughput(LeNet5, (1, 28, 28), 4, channels_last=True, mixed_precision=True,
                           seconds=0.1, warmup=1) > 0
    with pytest.raises(ValueError, match=r"input_shape must be \(C, H, W\)"):
        step_throughput(LeNet5, (28, 28), 4)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        step_throughput(LeNet5, (1, 28, 28), 0)


def test_pipeline_seconds_walks_a_loader_and_a_tensor(tmp_path):
    rng = np.random.default_rng(0)
    for cls in ("cat", "dog"):
        (tmp_path / cls).mkdir()
        for i in range(6):
            Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(tmp_path / cls / f"{i}.jpg")
    loader = tutorial_loader(str(tmp_path), batch_size=4)
    x, y = next(iter(loader))
    assert x.shape == (4, 3, 32, 32) and x.dtype == torch.float32 and set(y.tolist()) <= {0, 1}
    assert pipeline_seconds(loader) > 0
    assert pipeline_seconds(loader, limit=4) > 0
    images = torch.randint(0, 256, (12, 3, 32, 32), dtype=torch.uint8)
    assert pipeline_seconds(images, batch_size=5) > 0
    assert pipeline_seconds(images, batch_size=5, augment=(), limit=6) > 0
    with pytest.raises(TypeError, match="source must be a DataLoader"):
        pipeline_seconds(images.float())
