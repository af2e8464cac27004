"""helpers.train and helpers.models on tiny problems whose answers are known (CPU, no data files).
"""

from __future__ import annotations
import pytest
import torch
from toydata import halves
from torch import nn
from helpers.models.classic import CifarCNN, LeNet5, MLP
from helpers.scratch.shapes import conv_params, count_params, dense_params
from helpers.training.devices import set_seed
from helpers.training.inputs import to_input
from helpers.training.loop import evaluate, fit, predict


def test_parameter_counts_match_the_syllabus_formulas():
    lenet = conv_params(1, 6, 5) + conv_params(6, 16, 5) + dense_params(256, 120) + dense_params(120, 84) + dense_params(84, 10)
    assert count_params(LeNet5()) == lenet == 44_426
    cifar = conv_params(3, 32, 3) + conv_params(32, 64, 3) + dense_params(4096, 128) + dense_params(128, 10)
    assert count_params(CifarCNN()) == cifar == 545_098
    assert count_params(MLP([784, 128, 64, 10])) == 109_386
    assert count_params(MLP([3072, 1536, 768, 384, 128, 10])) == 6_246_410
    assert count_params(CifarCNN(batchnorm=True)) == 545_098 + 2 * (32 + 64)


def test_models_check_their_input_shape():
    with pytest.raises(ValueError, match=r"LeNet5 expects images of shape \(N, 1, 28, 28\); got \(2, 3, 28, 28\)"):
        LeNet5()(torch.zeros(2, 3, 28, 28))
    with pytest.raises(ValueError, match="CifarCNN expects"):
        CifarCNN()(torch.zeros(2, 3, 28, 28))
    with pytest.raises(ValueError, match="MLP expects 784 inputs per image; got images of shape"):
        MLP([784, 10])(torch.zeros(2, 3, 32, 32))
    with pytest.raises(ValueError, match="dropout must be in"):
        CifarCNN(dropout=1.5)
    assert LeNet5()(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert CifarCNN()(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


def test_same_seed_same_history_other_seed_differs():
    runs = []
    for seed in (0, 0, 1):
        set_seed(seed)
        model = CifarCNN(num_classes=2, dropout=0.2)
        images, labels = halves(96)
        images = torch.nn.functional.pad(images.expand(-1, 3, -1, -1), (2, 2, 2, 2))  # (N, 3, 32, 32)
        runs.append(fit(model, (images, labels), epochs=2, batch_size=16, augment=("flip", "crop"),
                        seed=seed, progress=False))
    assert runs[0].train_loss == runs[1].train_loss and runs[0].train_acc == runs[1].train_acc
    assert runs[0].train_loss != runs[2].train_loss


def test_evaluate_and_predict_on_a_hand_weighted_model():
    """A model that answers 'class 1' exactly when the top half is brighter than the bottom."""

    class TopVsBottom(nn.Module):
        def __init__(self):
            super().__init__()
            self.dummy = nn.Parameter(torch.zeros(()))

        def forward(self, x):
            top, bottom = x[:, 0, :14].mean((1, 2)), x[:, 0, 14:].mean((1, 2))
            return torch.stack([bottom - top, top - bottom], dim=1) + self.dummy

    images, labels = halves(200)
    model = TopVsBottom()
    assert evaluate(model, (images, labels))["accuracy"] == 1.0
    flipped = 1 - labels
    flipped[:50] = labels[:50]  # 50 of 200 labels right
    assert evaluate(model, (images, flipped))["accuracy"] == 0.25
    assert torch.equal(predict(model, images), labels)
    probs = predict(model, (images, labels), probabilities=True)
    assert probs.shape == (200, 2) and torch.allclose(probs.sum(1), torch.ones(200))


def test_evaluation_batches_default_to_the_devices_size_and_do_not_change_the_result():
    set_seed(0)
    model = CifarCNN(num_classes=3, batchnorm=True).eval()
    g = torch.Generator().manual_seed(0)
    images, labels = torch.randint(0, 256, (600, 3, 32, 32), dtype=torch.uint8, generator=g), torch.arange(600) % 3
    sizes = []
    hook = model.register_forward_pre_hook(lambda m, args: sizes.append(len(args[0])))
    default = evaluate(model, (images, labels))
    assert sizes == [128, 128, 128, 128, 88]  # eval_batch_size("cpu")
    sizes.clear()
    whole = evaluate(model, (images, labels), batch_size=1000)
    assert sizes == [600]
    hook.remove()
    assert default["accuracy"] == whole["accuracy"]
    assert default["loss"] == pytest.approx(whole["loss"], rel=1e-5)
    assert torch.equal(predict(model, images), predict(model, images, batch_size=7))


def test_fit_rejects_bad_arguments():
    data = halves(8)
    with pytest.raises(ValueError, match="epochs must be a positive int"):
        fit(LeNet5(), data, epochs=0, progress=False)
    with pytest.raises(ValueError, match="augment may hold"):
        fit(LeNet5(), data, epochs=1, augment=("rotate",), progress=False)
    with pytest.raises(ValueError, match="images must be a uint8 tensor"):
        fit(LeNet5(), (data[0][:, 0, 0], data[1]), epochs=1, progress=False)  # uint8, but (N, W)
    with pytest.raises(ValueError, match="uint8 images .* or a float tensor"):
        fit(LeNet5(), (data[0].long(), data[1]), epochs=1, progress=False)
    with pytest.raises(ValueError, match="augment=.* works on uint8 images"):
        fit(LeNet5(), (data[0].float(), data[1]), epochs=1, augment=("flip",), progress=False)
    with pytest.raises(ValueError, match="needs integer labels, one per example"):
        fit(LeNet5(), (data[0], data[1][:3]), epochs=1, progress=False)
    with pytest.raises(TypeError, match="must be a Dataset"):
        fit(LeNet5(), [1, 2, 3], epochs=1, progress=False)
    with pytest.raises(TypeError, match="images must be uint8"):
        to_input(torch.zeros(1, 1, 2, 2))


def test_fit_trains_only_the_given_param_groups_at_their_rates():
    from helpers.training.transfer import prepare

    train = halves(64)
    set_seed(0)
    model = LeNet5()
    frozen_before = {n: p.detach().clone() for n, p in model.features.named_parameters()}
    model, groups, _ = prepare(model, 2, "feature_extraction")
    fit(model, train, epochs=1, batch_size=16, param_groups=groups, progress=False)
    for n, p in model.features.named_parameters():  # the frozen body did not move
        assert torch.equal(p, frozen_before[n]), n

    # fine-tuning: the body's peak rate is lr * lr_factor; with lr_factor 0 it cannot move at all
    set_seed(0)
    model = LeNet5()
    body_before = {n: p.detach().clone() for n, p in model.features.named_parameters()}
    model, groups, _ = prepare(model, 2, "fine_tuning")
    head_before = model.classifier[-1].weight.detach().clone()
    zero_body = [dict(g, lr_factor=0.0) if g["name"] == "body" else g for g in groups]
    fit(model, train, epochs=1, batch_size=16, param_groups=zero_body, schedule="constant", progress=False)
    assert all(torch.equal(p, body_before[n]) for n, p in model.features.named_parameters())
    assert not torch.equal(model.classifier[-1].weight, head_before)

    with pytest.raises(ValueError, match="not the model's"):
        fit(LeNet5(), train, epochs=1, param_groups=groups, progress=False)
    with pytest.raises(TypeError, match="param_groups must be a list of dicts"):
        fit(LeNet5(), train, epochs=1, param_groups=[1, 2], progress=False)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 8, 9])
def test_fit_runs_with_very_few_steps(n):
    history = fit(LeNet5(num_classes=2), halves(n), epochs=1, batch_size=1, progress=False)
    assert history.epoch == [1] and history.settings["train_size"] == n


def test_cpu_threads_honour_omp_num_threads(monkeypatch):
    from helpers.training.devices import cpu_threads

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    cores = cpu_threads()
    assert cores >= 1
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert cpu_threads() == 1
    monkeypatch.setenv("OMP_NUM_THREADS", str(cores + 5))
    assert cpu_threads() == cores  # never more threads than cores
    monkeypatch.setenv("OMP_NUM_THREADS", "lots")
    assert cpu_threads() == cores


def test_fit_records_its_precision_and_amp_can_be_forced_on_the_cpu():
    data = halves(64)
    torch.manual_seed(0)
    off = fit(LeNet5(), data, epochs=1, batch_size=32, progress=False, device="cpu")
    assert off.settings["amp"] == "float32"
    torch.manual_seed(0)
    on = fit(LeNet5(), data, epochs=1, batch_size=32, progress=False, device="cpu", amp=True)
    assert on.settings["amp"] == "bfloat16"
    assert on.train_loss[0] == pytest.approx(off.train_loss[0], rel=0.05)  # bfloat16 rounding only
    assert on.train_loss[0] != off.train_loss[0]  # ...but it did run in bfloat16
    with pytest.raises(ValueError, match="amp must be"):
        fit(LeNet5(), data, epochs=1, amp="fp16", progress=False)


def test_evaluation_runs_in_float32_even_inside_a_bfloat16_autocast_region():
    data = halves(64)
    model = LeNet5()
    plain = evaluate(model, data, device="cpu")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        inside = evaluate(model, data, device="cpu")
    assert inside["loss"] == pytest.approx(plain["loss"], rel=1e-6)


def test_fit_is_the_shared_loop_without_a_shard_with_the_same_arguments():
    """fit and fit_distributed run one loop, fit_shard: fit passes no shard, and every argument of fit
    (with its default) is fit_shard's, so the data-parallel sibling takes exactly fit's arguments."""
    import inspect

    from helpers.training.loop import fit_shard

    fit_params = inspect.signature(fit).parameters
    shard_params = inspect.signature(fit_shard).parameters
    assert list(shard_params) == ["shard", *fit_params]
    assert all(shard_params[name].default == p.default for name, p in fit_params.items())
    data = halves(40)
    torch.manual_seed(0)
    a = LeNet5()
    ha = fit(a, data, epochs=2, batch_size=16, augment=("flip", "crop"), progress=False, device="cpu")
    torch.manual_seed(0)
    b = LeNet5()
    hb = fit_shard(None, b, data, epochs=2, batch_size=16, augment=("flip", "crop"), progress=False, device="cpu")
    assert ha.train_loss == hb.train_loss and "world_size" not in hb.settings
    assert all(torch.equal(a.state_dict()[k], v) for k, v in b.state_dict().items())


def test_fit_reads_metrics_back_once_per_epoch_not_per_batch(monkeypatch):
    """The loss and accuracy are summed on the device and read back at the end of each epoch (two
    .item() calls from the loop), also with the progress bar on: no per-batch host-device
    synchronisation. (torch's AdamW reads its step counters with .item(); those live on the host.)"""
    import sys

    calls = []
    item = torch.Tensor.item

    def counted(self):
        if sys._getframe(1).f_globals.get("__name__", "").startswith("helpers."):
            calls.append(1)
        return item(self)

    monkeypatch.setattr(torch.Tensor, "item", counted)
    history = fit(LeNet5(num_classes=2), halves(160), epochs=2, batch_size=16, progress=True, device="cpu")
    monkeypatch.undo()
    assert len(calls) == 2 * 2  # 10 batches an epoch, 2 epochs
    assert len(history.train_loss) == 2


def test_fit_feeds_the_model_channels_last_batches_of_the_scaled_images():
    """The images are stored channels-last once; each batch the model sees is ``to_input`` of the
    batch's uint8 images, channels-last, for one and for three channels."""

    class Spy(nn.Module):
        def __init__(self, channels):
            super().__init__()
            self.linear = nn.Linear(channels * 28 * 28, 2)
            self.seen = []

        def forward(self, x):
            self.seen.append(x.detach().clone(memory_format=torch.preserve_format))
            return self.linear(x.flatten(1))

    for channels in (1, 3):
        images, labels = halves(32)
        images = images.expand(-1, channels, -1, -1).contiguous()
        spy = Spy(channels)
        fit(spy, (images, labels), epochs=1, batch_size=32, progress=False, device="cpu")
        (x,) = spy.seen
        assert x.is_contiguous(memory_format=torch.channels_last)
        assert sorted(x.flatten(1).sum(1).tolist()) == sorted(to_input(images).flatten(1).sum(1).tolist())


def test_cpu_optimizers_are_multi_tensor_and_update_exactly_as_the_loop():
    from helpers.training.optimizers import make_optimizer

    finals = {}
    for optimizer in ("adamw", "sgd"):
        for foreach in (True, False):
            torch.manual_seed(0)
            model = LeNet5()
            opt = make_optimizer(model, optimizer, lr=1e-2, weight_decay=0.01)
            assert opt.defaults["foreach"] is True  # on the CPU
            for group in opt.param_groups:
                group["foreach"] = foreach
            g = torch.Generator().manual_seed(1)
            for _ in range(5):
                for p in model.parameters():
                    p.grad = torch.randn(p.shape, generator=g)
                opt.step()
            finals[optimizer, foreach] = [p.detach().clone() for p in model.parameters()]
        assert all(torch.equal(a, b) for a, b in zip(finals[optimizer, True], finals[optimizer, False]))
