"""helpers.train and helpers.models on tiny problems whose answers are known (CPU, no data files).
"""

from __future__ import annotations
import pytest
import torch
from toydata import halves
from helpers.models.classic import LeNet5
from helpers.training.devices import amp_dtype, eval_batch_size, mixed_dtype, pick_device, set_seed
from helpers.training.loop import fit


def test_fit_learns_a_separable_problem():
    train, val = halves(256, seed=0), halves(128, seed=1)
    set_seed(0)
    history = fit(LeNet5(num_classes=2), train, val, epochs=3, batch_size=32, lr=3e-3, progress=False)
    assert history.epoch == [1, 2, 3]
    assert history.val_acc[-1] == 1.0
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.seconds == sorted(history.seconds) and history.seconds[-1] > 0
    assert history.settings["train_size"] == 256 and history.settings["device"] == str(pick_device())
    assert "epoch  train loss" in str(history)


@pytest.mark.parametrize("capability,expected", [
    ((7, 5), torch.float16),   # T4: bfloat16 only by emulation -> float16 with a gradient scaler
    ((7, 0), torch.float16),   # V100
    ((6, 0), torch.float16),   # P100
    ((8, 0), torch.bfloat16),  # A100
    ((8, 9), torch.bfloat16),  # L4, RTX 40xx
    ((9, 0), torch.bfloat16),  # H100
])
def test_amp_dtype_follows_the_gpus_native_support(monkeypatch, capability, expected):
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: True)  # a T4 says so too
    assert amp_dtype(torch.device("cuda")) == expected
    assert amp_dtype("cuda:0") == expected
    assert mixed_dtype("cuda") == expected  # asked for explicitly: the same as the default there


def test_amp_dtype_asks_torch_without_emulation_when_the_capability_is_unknown(monkeypatch):
    def no_gpu(device=None):
        raise RuntimeError("no CUDA GPUs are available")

    monkeypatch.setattr(torch.cuda, "get_device_capability", no_gpu)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: including_emulation)
    assert amp_dtype("cuda") == torch.float16


@pytest.mark.parametrize("device", ["cpu", "mps", "meta"])
def test_amp_dtype_is_float32_off_cuda(device):
    assert amp_dtype(device) is None


def test_mixed_precision_asked_for_off_cuda_is_bfloat16():
    assert mixed_dtype("cpu") == torch.bfloat16 and amp_dtype("cpu") is None


@pytest.mark.parametrize("device,expected", [("cpu", 128), (torch.device("cpu"), 128), ("cuda", 1000),
                                             ("cuda:1", 1000), ("mps", 1000)])
def test_evaluation_batches_are_smaller_on_a_cpu(device, expected):
    assert eval_batch_size(device) == expected
