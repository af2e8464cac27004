"""helpers.training.speed: the measurements chapter 07 and benchmarks/cifar_speed.py print (CPU, tiny
data)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from helpers.models.classic import LeNet5
import helpers.training.speed as speed
from helpers.training.speed import (choose_precision, pipeline_seconds, PrecisionChoice, step_throughput,
                                     tutorial_loader)


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


def test_step_throughput_autocasts_to_the_dtype_fit_uses(monkeypatch):
    seen = []
    real = torch.autocast

    def spy(device_type, dtype=None, enabled=True):
        seen.append((device_type, dtype, enabled))
        return real(device_type, dtype=dtype, enabled=enabled)

    monkeypatch.setattr(speed.torch, "autocast", spy)
    step_throughput(LeNet5, (1, 28, 28), 4, mixed_precision=True, seconds=0.05, warmup=1, device="cpu")
    assert seen and all(s == ("cpu", torch.bfloat16, True) for s in seen)  # fit(amp=True) on a CPU


def test_choose_precision_keeps_mixed_precision_only_where_it_is_fast_enough(monkeypatch):
    calls = []

    def fake(build, shape, batch, *, channels_last, mixed_precision, device, seconds):
        calls.append((channels_last, mixed_precision, seconds))
        return {False: 1000.0, True: rate}[mixed_precision]

    monkeypatch.setattr(speed, "step_throughput", fake)
    for rate, expected in ((1300.0, True), (1249.0, False), (900.0, False)):
        choice = choose_precision(LeNet5, (1, 28, 28), device="cpu", seconds=0.5)
        assert choice.amp is expected and choice.ratio == pytest.approx(rate / 1000)
        assert choice.dtype == ("bfloat16" if expected else "float32") and choice.candidate == "bfloat16"
        assert ("-> bfloat16" if expected else "-> float32") in str(choice)
    assert set(calls) == {(True, False, 0.5), (True, True, 0.5)}  # channels-last, as fit trains
    assert choose_precision(LeNet5, (1, 28, 28), device="cpu", min_gain=0.5).amp  # 0.9x passes a 0.5 bar
    with pytest.raises(ValueError, match="min_gain must be a positive ratio"):
        choose_precision(LeNet5, (1, 28, 28), min_gain=0)


def test_choose_precision_measures_a_real_model():
    choice = choose_precision(LeNet5, (1, 28, 28), 8, device="cpu", seconds=0.1)
    assert isinstance(choice, PrecisionChoice) and choice.float32 > 0 and choice.mixed > 0
    assert choice.amp == (choice.mixed >= 1.25 * choice.float32)


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


class _Slow(torch.nn.Module):
    """A model whose forward pass takes ``delay`` seconds; counts its calls."""

    def __init__(self, delay: float, calls: list):
        super().__init__()
        self.linear, self.delay, self.calls = torch.nn.Linear(4, 10), delay, calls

    def forward(self, x):
        import time
        self.calls.append(1)
        time.sleep(self.delay)
        return self.linear(x.flatten(1))


def test_step_throughput_warms_up_for_at_most_its_seconds():
    fast, slow = [], []
    step_throughput(lambda: _Slow(0.0, fast), (1, 2, 2), 4, seconds=0.5, warmup=3)
    assert len(fast) > 3 + 1  # three warm-up steps, then at least a few timed ones
    rate = step_throughput(lambda: _Slow(0.3, slow), (1, 2, 2), 4, seconds=0.2, warmup=3)
    assert len(slow) == 2  # one warm-up step took longer than the 0.2 s: then one timed step
    assert rate == pytest.approx(4 / 0.3, rel=0.3)
    none = []
    step_throughput(lambda: _Slow(0.3, none), (1, 2, 2), 4, seconds=0.2, warmup=0)
    assert len(none) == 1
    with pytest.raises(ValueError, match="warmup must be >= 0"):
        step_throughput(LeNet5, (1, 28, 28), 4, warmup=-1)
