"""helpers.training.pretrained: ImageNet weights from a file you pass, the data folder, or torchvision.

No test touches the network or ../shared: weights files are randomly initialised state_dicts the
tests save themselves, torch's cache is a temporary TORCH_HOME, and torch's download function is
replaced by one that fails like an offline machine (or, for the "online" path, writes a file).
"""

from __future__ import annotations

from urllib.error import URLError

import pytest
import torch
import torch.hub
import torchvision.models as tvm

from helpers.data.imagenet import imagenet_categories, imagenet_crop, normalize_imagenet
from helpers.data.photos import sample_photo
from helpers.config import data_root
from helpers.training.pretrained import (classification_models, frozen_features, local_weights_file, pretrained,
                                         weights_file, WeightsUnavailableError)


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """An empty data folder and torch cache under tmp_path, and a download that fails like a
    machine with no network; returns the list of URLs it was asked for."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("CNN_BOOK_DATA", str(tmp_path / "data"))
    calls = []

    def no_network(url, dst, *args, **kwargs):
        calls.append(url)
        raise URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    return calls


def random_squeezenet(seed: int = 0) -> dict:
    torch.manual_seed(seed)
    return tvm.squeezenet1_1(weights=None).state_dict()


def same_weights(model, state) -> bool:
    mine = model.state_dict()
    return mine.keys() == state.keys() and all(torch.equal(mine[k], state[k]) for k in state)


def test_where_it_looks(offline, tmp_path):
    assert local_weights_file("squeezenet1_1") == tmp_path / "data" / "weights" / "squeezenet1_1.pth"
    url = tvm.SqueezeNet1_1_Weights.DEFAULT.url
    assert weights_file("squeezenet1_1") == tmp_path / "torch" / "hub" / "checkpoints" / url.rsplit("/", 1)[1]


def test_file_in_the_data_folder_loads_without_network(offline, capsys):
    state = random_squeezenet()
    file = local_weights_file("squeezenet1_1")
    file.parent.mkdir(parents=True)
    torch.save(state, file)
    model = pretrained("squeezenet1_1")
    assert offline == []  # no download tried
    assert same_weights(model, state) and not model.training
    assert model.weights_source == "the file $CNN_BOOK_DATA/weights/squeezenet1_1.pth"
    assert "ImageNet weights: the file $CNN_BOOK_DATA/weights/squeezenet1_1.pth" in capsys.readouterr().out
    assert model(torch.zeros(1, 3, 64, 64)).shape == (1, 1000)


def test_explicit_path_wins_and_wrapped_state_dicts_load(offline, tmp_path):
    in_folder, explicit = random_squeezenet(0), random_squeezenet(1)
    file = local_weights_file("squeezenet1_1")
    file.parent.mkdir(parents=True)
    torch.save(in_folder, file)
    mine = tmp_path / "elsewhere" / "my_squeezenet.pt"
    mine.parent.mkdir()
    torch.save({"state_dict": {f"module.{k}": v for k, v in explicit.items()}, "epoch": 3}, mine)
    model = pretrained("squeezenet1_1", path=mine, verbose=False)
    assert same_weights(model, explicit) and offline == []
    assert model.weights_source.startswith("the file ") and "my_squeezenet.pt" in model.weights_source
    with pytest.raises(WeightsUnavailableError, match="No weights file for squeezenet1_1 at"):
        pretrained("squeezenet1_1", path=tmp_path / "missing.pth")


def test_torchvision_weights_are_downloaded_once_then_read_from_the_cache(offline, monkeypatch):
    state = random_squeezenet(2)
    calls = []

    def fake_download(url, dst, *args, **kwargs):  # what torchvision's download leaves behind
        calls.append(url)
        torch.save(state, dst)

    monkeypatch.setattr(torch.hub, "download_url_to_file", fake_download)
    first = pretrained("squeezenet1_1", verbose=False)
    assert calls == [tvm.SqueezeNet1_1_Weights.DEFAULT.url] and same_weights(first, state)
    assert first.weights_source.startswith("torchvision's SqueezeNet1_1_Weights.IMAGENET1K_V1")
    assert weights_file("squeezenet1_1").is_file()
    second = pretrained("squeezenet1_1", download=False, verbose=False)  # the cache is enough
    assert calls == [tvm.SqueezeNet1_1_Weights.DEFAULT.url] and same_weights(second, state)
    assert "torch's cache" in second.weights_source


def test_no_weights_anywhere_is_one_clear_error(offline):
    with pytest.raises(WeightsUnavailableError) as info:
        pretrained("squeezenet1_1")
    message = str(info.value)
    weights = tvm.SqueezeNet1_1_Weights.DEFAULT
    assert offline == [weights.url]  # it did try to download, once
    assert "No ImageNet weights for squeezenet1_1" in message
    assert "$CNN_BOOK_DATA/weights/squeezenet1_1.pth does not exist" in message
    assert weights_file("squeezenet1_1").name in message and weights.url in message and "URLError" in message
    assert "pretrained('squeezenet1_1', path=...)" in message and "Connect to the internet" in message
    assert "weights=None" in message
    assert info.value.__cause__ is None and info.value.__suppress_context__  # no chain of tracebacks


def test_download_false_never_tries_the_network(offline):
    with pytest.raises(WeightsUnavailableError, match="download=False, so no download was tried"):
        pretrained("squeezenet1_1", download=False)
    assert offline == []


def test_stand_in_is_random_and_says_so(offline, capsys):
    model = pretrained("squeezenet1_1", download=False, stand_in=True)
    assert model.weights_source.startswith("STAND-IN") and not model.training
    assert "STAND-IN WEIGHTS" in capsys.readouterr().out and offline == []


def test_damaged_or_foreign_files_say_what_to_do(offline):
    file = local_weights_file("squeezenet1_1")
    file.parent.mkdir(parents=True)
    file.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsUnavailableError, match="is there but could not be read") as info:
        pretrained("squeezenet1_1")
    assert "delete it" in str(info.value) and "squeezenet1_1.pth" in str(info.value)
    torch.save(tvm.resnet18(weights=None).state_dict(), file)
    with pytest.raises(WeightsUnavailableError, match="does not fit torchvision's squeezenet1_1"):
        pretrained("squeezenet1_1")
    cached = weights_file("resnet18")
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"half a download")
    with pytest.raises(WeightsUnavailableError, match="unreadable"):
        pretrained("resnet18")


def test_names():
    names = classification_models()
    assert {"resnet18", "vgg16", "squeezenet1_1", "efficientnet_b0"} <= set(names)
    with pytest.raises(ValueError, match="Did you mean resnet18"):
        pretrained("resnet_18")
    with pytest.raises(ValueError, match="got 'fasterrcnn_resnet50_fpn'"):
        pretrained("fasterrcnn_resnet50_fpn")  # a detection model, not a classifier
    with pytest.raises(TypeError, match="name must be a str"):
        pretrained(18)


def test_frozen_features_are_the_bodys_output_in_eval_mode():
    torch.manual_seed(0)
    body = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Dropout(0.5), torch.nn.ReLU())
    body.train()
    x = torch.randn(10, 3, 8, 8)
    out = frozen_features(body, x, batch_size=3)
    assert body.training and all(m.training for m in body.modules())  # mode restored
    body.eval()
    with torch.no_grad():
        torch.testing.assert_close(out, body(x))
    assert not out.requires_grad
    with pytest.raises(TypeError, match="float tensor"):
        frozen_features(body, x.to(torch.uint8))
    with pytest.raises(ValueError, match="batch_size"):
        frozen_features(body, x, batch_size=0)


@pytest.mark.skipif(not (data_root() / "weights" / "squeezenet1_1.pth").is_file(),
                    reason="no ImageNet weights file in the data folder (a real one, not made here)")
def test_real_weights_in_the_data_folder_see_a_cat():
    model = pretrained("squeezenet1_1", verbose=False)
    x = normalize_imagenet(imagenet_crop(sample_photo("chelsea")))[None]
    with torch.no_grad():
        top3 = model(x).topk(3).indices[0].tolist()
    categories = imagenet_categories()
    assert {"tabby", "tiger cat", "Egyptian cat"} & {categories[i] for i in top3}
