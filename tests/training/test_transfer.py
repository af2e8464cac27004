"""helpers.transfer: new heads, frozen/trainable counts and param groups on real architectures.

torchvision models are built with ``weights=None`` on the meta device (shapes only, no memory,
no download); counting parameters works there. Forward passes use the book's small models,
resnet18, SqueezeNet, GoogLeNet and RegNet at 64x64 on the CPU.
"""

from __future__ import annotations

import pytest
import torch
import torchvision.models as tvm
from torch import nn

from helpers.models.classic import CifarCNN, LeNet5, MLP
from helpers.training.heads import body_blocks, find_head, HEAD_ATTRIBUTES
from helpers.training.transfer import FrozenStatsBatchNorm2d, prepare

NUM_CLASSES = 7

# builder, how to reach the head (written out here, not found by the code under test),
# the modules that unfreeze=1 must unfreeze (the last block, with a normalisation layer that
# follows it on its own)
ARCHS = {
    "resnet18": (lambda: tvm.resnet18(weights=None), lambda m: m.fc, ["layer4"]),
    "vgg11": (lambda: tvm.vgg11(weights=None), lambda m: m.classifier[6], ["classifier.3"]),
    "vgg16_bn": (lambda: tvm.vgg16_bn(weights=None), lambda m: m.classifier[6], ["classifier.3"]),
    "alexnet": (lambda: tvm.alexnet(weights=None), lambda m: m.classifier[6], ["classifier.4"]),
    "mobilenet_v2": (lambda: tvm.mobilenet_v2(weights=None), lambda m: m.classifier[1],
                     ["features.18"]),
    "mobilenet_v3_small": (lambda: tvm.mobilenet_v3_small(weights=None),
                           lambda m: m.classifier[3], ["classifier.0"]),
    "efficientnet_b0": (lambda: tvm.efficientnet_b0(weights=None), lambda m: m.classifier[1],
                        ["features.8"]),
    "efficientnet_v2_s": (lambda: tvm.efficientnet_v2_s(weights=None), lambda m: m.classifier[1],
                          ["features.7"]),
    "densenet121": (lambda: tvm.densenet121(weights=None), lambda m: m.classifier,
                    ["features.denseblock4", "features.norm5"]),
    "convnext_tiny": (lambda: tvm.convnext_tiny(weights=None), lambda m: m.classifier[2],
                      ["features.7", "classifier.0"]),
    "shufflenet_v2_x0_5": (lambda: tvm.shufflenet_v2_x0_5(weights=None), lambda m: m.fc,
                           ["conv5"]),
    "mnasnet0_5": (lambda: tvm.mnasnet0_5(weights=None), lambda m: m.classifier[1],
                   ["layers.14", "layers.15"]),
    "resnext50_32x4d": (lambda: tvm.resnext50_32x4d(weights=None), lambda m: m.fc, ["layer4"]),
    "vit_b_16": (lambda: tvm.vit_b_16(weights=None), lambda m: m.heads.head,
                 ["encoder.layers.encoder_layer_11", "encoder.ln"]),
    "swin_t": (lambda: tvm.swin_t(weights=None), lambda m: m.head, ["features.7", "norm"]),
    "maxvit_t": (lambda: tvm.maxvit_t(weights=None), lambda m: m.classifier[5],
                 ["classifier.3"]),
    "LeNet5": (lambda: LeNet5(), lambda m: m.classifier[5], ["classifier.3"]),
    "CifarCNN": (lambda: CifarCNN(), lambda m: m.classifier[4], ["classifier.1"]),
    "CifarCNN-bn": (lambda: CifarCNN(batchnorm=True), lambda m: m.classifier[4], ["classifier.1"]),
    "MLP": (lambda: MLP([784, 64, 32, 10]), lambda m: m.net[4], ["net.2"]),
}


def build(name: str) -> nn.Module:
    with torch.device("meta"):
        return ARCHS[name][0]()


def n_params(module: nn.Module, *, trainable: bool | None = None) -> int:
    return sum(p.numel() for p in module.parameters()
               if trainable is None or p.requires_grad == trainable)


@pytest.mark.parametrize("name", ARCHS)
def test_find_head_finds_the_last_linear(name):
    model = build(name)
    expected = ARCHS[name][1](model)
    parent, attr, linear = find_head(model)
    assert linear is expected
    assert getattr(parent, attr) is linear


@pytest.mark.parametrize("name", ARCHS)
def test_feature_extraction_trains_only_the_new_head(name):
    model = build(name)
    old_head = ARCHS[name][1](model)
    total_before = n_params(model)
    model2, groups, report = prepare(model, NUM_CLASSES, "feature_extraction", lr=0.01)
    assert model2 is model
    head = ARCHS[name][1](model)
    assert head is not old_head and isinstance(head, nn.Linear)
    assert head.weight.shape == (NUM_CLASSES, old_head.in_features)
    assert head.bias.shape == (NUM_CLASSES,)
    assert head.weight.device == old_head.weight.device

    head_count = old_head.in_features * NUM_CLASSES + NUM_CLASSES
    total = total_before - n_params(old_head) + head_count
    assert n_params(model) == total
    assert n_params(model, trainable=True) == head_count
    assert n_params(model, trainable=False) == total - head_count
    assert all(p.requires_grad for p in head.parameters())

    assert [g["name"] for g in groups] == ["head"]
    assert {id(p) for p in groups[0]["params"]} == {id(p) for p in head.parameters()}
    assert groups[0]["lr"] == pytest.approx(0.01)
    n_bn = sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    expected = (f"feature extraction: {head_count:,} of {total:,} parameters train (the new head); "
                f"{total - head_count:,} frozen")
    if n_bn:
        expected += f"; {n_bn} frozen BatchNorm layers keep their statistics"
    assert report == expected


@pytest.mark.parametrize("name", ARCHS)
def test_fine_tuning_last_block(name):
    model = build(name)
    in_features = ARCHS[name][1](model).in_features
    block = nn.ModuleList([model.get_submodule(n) for n in ARCHS[name][2]])
    _, groups, report = prepare(model, NUM_CLASSES, "fine_tuning", unfreeze=1,
                                head_lr_factor=4.0, lr=1e-3)
    head = ARCHS[name][1](model)
    assert head.weight.shape == (NUM_CLASSES, in_features)
    head_count = in_features * NUM_CLASSES + NUM_CLASSES
    expected = head_count + n_params(block)
    assert n_params(model, trainable=True) == expected
    assert all(p.requires_grad for p in block.parameters())

    by_name = {g["name"]: g for g in groups}
    assert set(by_name) == {"head", "body"}
    assert by_name["head"]["lr"] == pytest.approx(1e-3)
    assert by_name["body"]["lr"] == pytest.approx(2.5e-4)
    assert by_name["body"]["lr_factor"] == pytest.approx(0.25)
    assert {id(p) for p in by_name["body"]["params"]} == {id(p) for p in block.parameters()}
    assert f"{expected:,} of {n_params(model):,} parameters train" in report
    assert ", ".join(ARCHS[name][2]) in report and "1/4 of the head's learning rate" in report


@pytest.mark.parametrize("name", ["resnet18", "efficientnet_b0", "LeNet5"])
def test_fine_tuning_whole_body_trains_everything(name):
    model = build(name)
    _, groups, report = prepare(model, NUM_CLASSES, "fine_tuning")
    assert n_params(model, trainable=False) == 0
    assert sum(p.numel() for g in groups for p in g["params"]) == n_params(model)
    assert "lr" not in groups[0]  # no lr given: the caller scales by lr_factor
    assert [g["lr_factor"] for g in groups] == [1.0, 0.1]
    assert "the whole body" in report and "0 frozen" in report


def test_fine_tuning_named_modules_and_counted_blocks():
    model = build("resnet18")
    assert body_blocks(model) == ["conv1", "bn1", "layer1", "layer2", "layer3", "layer4"]
    expected = n_params(model.layer3) + n_params(model.layer4[1]) + 512 * 3 + 3
    prepare(model, 3, "fine_tuning", unfreeze=["layer3", "layer4.1"])
    assert n_params(model, trainable=True) == expected
    assert not any(p.requires_grad for p in model.layer4[0].parameters())

    model = build("resnet18")
    prepare(model, 3, "fine_tuning", unfreeze=2)
    assert n_params(model, trainable=True) == n_params(model.layer3) + n_params(model.layer4) \
        + 512 * 3 + 3

    model = build("densenet121")
    _, groups, report = prepare(model, 3, "fine_tuning", unfreeze=0)
    assert n_params(model, trainable=True) == 1024 * 3 + 3
    assert [g["name"] for g in groups] == ["head"]
    assert "(the new head)" in report

    # a normalisation layer on its own counts with the block before it: conv1 + bn1 is one block
    model = build("resnet18")
    prepare(model, 3, "fine_tuning", unfreeze=5)
    assert n_params(model, trainable=False) == 0
    with pytest.raises(ValueError, match="between 0 and 5 .*conv1 \\+ bn1; layer1"):
        prepare(build("resnet18"), 3, "fine_tuning", unfreeze=6)


@pytest.mark.parametrize("model,shape", [
    (LeNet5(), (2, 1, 28, 28)), (CifarCNN(), (2, 3, 32, 32)), (MLP([784, 32, 10]), (2, 1, 28, 28)),
])
def test_forward_and_training_step_on_small_models(model, shape):
    torch.manual_seed(0)
    frozen_before = [p.detach().clone() for p in model.features.parameters()] \
        if hasattr(model, "features") else []
    _, groups, _ = prepare(model, 5, "feature_extraction", lr=0.1)
    optimizer = torch.optim.SGD(groups)
    x = torch.randn(shape)
    y = model(x)
    assert y.shape == (2, 5)
    head = find_head(model)[2]
    before = head.weight.detach().clone()
    nn.functional.cross_entropy(y, torch.tensor([0, 4])).backward()
    optimizer.step()
    assert not torch.equal(head.weight, before)  # the head learned
    for p, q in zip(model.features.parameters() if frozen_before else [], frozen_before):
        assert p.grad is None and torch.equal(p, q)  # the body did not


def test_resnet18_forward_at_small_input():
    torch.manual_seed(0)
    model = tvm.resnet18(weights=None)
    _, groups, _ = prepare(model, 4, "fine_tuning", unfreeze=1, lr=0.01)
    optimizer = torch.optim.SGD(groups, momentum=0.9)
    assert [g["lr"] for g in optimizer.param_groups] == pytest.approx([0.01, 0.001])
    model.eval()
    out = model(torch.randn(2, 3, 64, 64))
    assert out.shape == (2, 4)
    out.sum().backward()
    assert model.layer4[1].conv2.weight.grad is not None
    assert model.layer3[0].conv1.weight.grad is None


# ---------------------------------------------------------------- families with special heads


def test_squeezenet_conv_head():
    torch.manual_seed(0)
    model = tvm.squeezenet1_1(weights=None)
    old = model.classifier[1]
    assert isinstance(old, nn.Conv2d) and old.out_channels == 1000
    _, groups, report = prepare(model, 5, "feature_extraction", lr=0.01)
    head = model.classifier[1]
    assert find_head(model)[2] is head
    assert isinstance(head, nn.Conv2d) and head.weight.shape == (5, 512, 1, 1)
    assert n_params(model, trainable=True) == 512 * 5 + 5
    assert {id(p) for p in groups[0]["params"]} == {id(p) for p in head.parameters()}
    assert body_blocks(model)[-1] == "features.12"
    model.train()
    assert model(torch.randn(2, 3, 64, 64)).shape == (2, 5)


@pytest.mark.parametrize("name,aux,main", [
    ("googlenet", ["aux1", "aux2"], "inception5b"), ("inception_v3", ["AuxLogits"], "Mixed_7c"),
])
def test_auxiliary_classifiers_are_removed(name, aux, main):
    with torch.device("meta"):
        model = getattr(tvm, name)(weights=None, aux_logits=True, init_weights=False)
    aux_count = sum(n_params(getattr(model, a)) for a in aux)
    total = n_params(model) - aux_count - n_params(model.fc) + model.fc.in_features * 3 + 3
    assert not any(b.split(".")[0] in aux for b in body_blocks(model))  # not part of the body
    _, _, report = prepare(model, 3, "fine_tuning", unfreeze=1)
    assert all(getattr(model, a) is None for a in aux) and model.aux_logits is False
    assert n_params(model) == total
    assert n_params(model, trainable=True) == n_params(getattr(model, main)) + n_params(model.fc)
    assert f"auxiliary classifiers {', '.join(aux)} removed" in report


def test_googlenet_trains_on_plain_logits():
    torch.manual_seed(0)
    model = tvm.googlenet(weights=None, aux_logits=True, init_weights=False)
    prepare(model, 3, "feature_extraction")
    model.train()
    out = model(torch.randn(2, 3, 64, 64))
    assert isinstance(out, torch.Tensor) and out.shape == (2, 3)  # not GoogLeNetOutputs


def test_regnet_blocks_and_head():
    torch.manual_seed(0)
    model = tvm.regnet_x_400mf(weights=None)  # RegNet cannot be built on the meta device
    assert body_blocks(model) == ["stem"] + [f"trunk_output.block{i}" for i in range(1, 5)]
    _, groups, _ = prepare(model, 4, "fine_tuning", unfreeze=1, lr=1e-3)
    assert n_params(model, trainable=True) == n_params(model.trunk_output.block4) + 400 * 4 + 4
    assert model.fc.weight.shape == (4, 400)
    assert model(torch.randn(1, 3, 64, 64)).shape == (1, 4)


# ---------------------------------------------------------------- BatchNorm in a frozen body


def _bn_model() -> nn.Module:
    torch.manual_seed(0)
    model = CifarCNN(batchnorm=True)
    for bn in (model.features[1], model.features[5]):  # statistics unlike a fresh layer's
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
    return model


def test_frozen_batchnorm_keeps_its_statistics_in_train_mode():
    model = _bn_model()
    keys = list(model.state_dict())
    _, _, report = prepare(model, 4, "feature_extraction")
    assert all(type(model.features[i]) is FrozenStatsBatchNorm2d for i in (1, 5))
    assert list(model.state_dict()) == keys  # checkpoints still load
    assert "2 frozen BatchNorm layers keep their statistics" in report
    stats = [b.clone() for b in model.features[1].buffers()]
    x = torch.randn(8, 3, 32, 32)
    model.eval()
    expected = model(x)
    model.train()
    got = model(x)
    torch.testing.assert_close(got, expected)  # train mode computes what eval mode computes
    for before, after in zip(stats, model.features[1].buffers()):
        assert torch.equal(before, after)
    # and the same as torch's own BatchNorm2d in eval mode
    reference = nn.BatchNorm2d(32).eval()
    reference.load_state_dict(model.features[1].state_dict())
    h = model.features[0](x)
    torch.testing.assert_close(model.features[1](h), reference(h))


def test_without_freeze_batchnorm_the_frozen_body_drifts():
    model = _bn_model()
    prepare(model, 4, "feature_extraction", freeze_batchnorm=False)
    assert type(model.features[1]) is nn.BatchNorm2d
    before = model.features[1].running_mean.clone()
    model.train()
    model(torch.randn(8, 3, 32, 32))
    assert not torch.equal(before, model.features[1].running_mean)


def test_fine_tuning_freezes_only_the_frozen_blocks_batchnorm():
    model = _bn_model()
    _, _, report = prepare(model, 4, "fine_tuning", unfreeze=2)  # [conv, bn] [conv, bn] [dense]
    assert type(model.features[1]) is FrozenStatsBatchNorm2d
    assert type(model.features[5]) is nn.BatchNorm2d
    assert all(p.requires_grad for p in model.features[4:6].parameters())
    assert not any(p.requires_grad for p in model.features[:2].parameters())
    assert "1 frozen BatchNorm layer keeps its statistics" in report
    whole = _bn_model()
    prepare(whole, 4, "fine_tuning")  # the whole body trains: no BatchNorm is frozen
    assert not any(type(m) is FrozenStatsBatchNorm2d for m in whole.modules())


# ---------------------------------------------------------------- errors


def test_bad_arguments_raise():
    model = build("LeNet5")
    with pytest.raises(ValueError, match=r"mode must be one of \('feature_extraction', "
                                         r"'fine_tuning'\); got 'finetune'"):
        prepare(model, 3, "finetune")
    with pytest.raises(ValueError, match="num_classes must be at least 1; got 0"):
        prepare(model, 0, "feature_extraction")
    with pytest.raises(TypeError, match="num_classes must be an int; got float"):
        prepare(model, 2.5, "feature_extraction")
    with pytest.raises(TypeError, match="num_classes must be an int; got bool"):
        prepare(model, True, "feature_extraction")
    with pytest.raises(ValueError, match="head_lr_factor must be a positive finite number; got 0"):
        prepare(model, 3, "fine_tuning", head_lr_factor=0)
    with pytest.raises(ValueError, match="unfreeze is for mode='fine_tuning'"):
        prepare(model, 3, "feature_extraction", unfreeze=1)
    with pytest.raises(ValueError, match="unfreeze must be between 0 and 4 .*got 5"):
        prepare(model, 3, "fine_tuning", unfreeze=5)
    with pytest.raises(ValueError, match=r"does not have: \['layer9'\]"):
        prepare(model, 3, "fine_tuning", unfreeze=["layer9"])
    with pytest.raises(TypeError, match="unfreeze must be None, an int"):
        prepare(model, 3, "fine_tuning", unfreeze="features")
    with pytest.raises(TypeError, match="model must be a torch.nn.Module; got str"):
        prepare("resnet18", 3, "feature_extraction")
    with pytest.raises(TypeError, match="freeze_batchnorm must be True or False; got 1"):
        prepare(model, 3, "feature_extraction", freeze_batchnorm=1)
    # nothing was changed by the failed calls
    assert find_head(model)[2].out_features == 10


class _Unknown(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Conv2d(3, 8, 3)
        self.out = nn.Linear(8, 2)  # not a known head attribute


@pytest.mark.parametrize("model", [_Unknown(), nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU())])
def test_unknown_architecture_names_what_it_looked_for(model):
    with pytest.raises(ValueError, match="cannot find the classifier head") as info:
        prepare(model, 3, "feature_extraction")
    for attr in HEAD_ATTRIBUTES:
        assert attr in str(info.value)
    for family in ("ResNet", "VGG", "MobileNet", "EfficientNet", "SqueezeNet", "ViT", "Swin"):
        assert family in str(info.value)
    with pytest.raises(ValueError, match="cannot find the classifier head"):
        find_head(model)
