"""helpers.training.optimizers: the optimiser and the schedule fit trains with."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from helpers.training.optimizers import OPTIMIZERS, SCHEDULES, make_optimizer, make_schedule


def _model() -> nn.Module:
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def test_adamw_and_nesterov_sgd_over_the_trainable_parameters():
    model = _model()
    model[0].weight.requires_grad_(False)
    adamw = make_optimizer(model, "adamw", lr=0.1, weight_decay=0.05)
    assert isinstance(adamw, torch.optim.AdamW) and adamw.param_groups[0]["weight_decay"] == 0.05
    assert len(adamw.param_groups[0]["params"]) == 3  # the frozen weight is left out
    sgd = make_optimizer(model, "sgd", lr=0.1)
    assert isinstance(sgd, torch.optim.SGD) and sgd.param_groups[0]["nesterov"] and sgd.param_groups[0]["momentum"] == 0.9
    assert set(OPTIMIZERS) == {"adamw", "sgd"} and set(SCHEDULES) == {"onecycle", "constant"}


def test_param_groups_train_at_their_own_rates_and_must_be_the_models():
    model = _model()
    opt = make_optimizer(model, "adamw", lr=0.1, param_groups=[
        {"params": list(model[0].parameters()), "lr_factor": 0.1}, {"params": list(model[2].parameters())}])
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.01, 0.1])
    with pytest.raises(ValueError, match="not the model's"):
        make_optimizer(model, "adamw", lr=0.1, param_groups=[{"params": list(_model().parameters())}])
    with pytest.raises(TypeError, match="list of dicts"):
        make_optimizer(model, "adamw", lr=0.1, param_groups=[model[0].weight])
    with pytest.raises(ValueError, match="optimizer must be one of"):
        make_optimizer(model, "adam", lr=0.1)


def test_one_cycle_warms_up_to_the_peak_and_short_or_constant_runs_keep_the_rate():
    opt = make_optimizer(_model(), "sgd", lr=0.1)
    sched = make_schedule(opt, "onecycle", 20)
    rates = []
    for _ in range(20):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert max(rates) == pytest.approx(0.1) and rates[0] < 0.01 and rates[-1] < 0.01
    assert make_schedule(opt, "constant", 20) is None and make_schedule(opt, "onecycle", 3) is None
    with pytest.raises(ValueError, match="schedule must be one of"):
        make_schedule(opt, "cosine", 20)
