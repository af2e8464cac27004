"""helpers.pretrained: torchvision's weights="DEFAULT" with a clear error offline.

No test touches the network: torch's download function is replaced by one that fails the way an
offline machine fails, and TORCH_HOME points at a temporary folder.
"""

from __future__ import annotations

from urllib.error import URLError

import pytest
import torch
import torch.hub
import torchvision.models as tvm

from helpers.training.pretrained import (classification_models, pretrained, weights_file, WeightsUnavailableError)


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """An empty torch cache in tmp_path and a download that fails like a machine with no network."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    calls = []

    def no_network(url, dst, *args, **kwargs):
        calls.append(url)
        raise URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    return calls


def test_weights_file_is_in_torch_cache(offline, tmp_path):
    url = tvm.ResNet18_Weights.DEFAULT.url
    assert weights_file("resnet18") == tmp_path / "hub" / "checkpoints" / url.rsplit("/", 1)[1]


def test_offline_gives_one_clear_error(offline, tmp_path):
    with pytest.raises(WeightsUnavailableError) as info:
        pretrained("resnet18")
    message = str(info.value)
    weights = tvm.ResNet18_Weights.DEFAULT
    assert offline == [weights.url]  # it did try to download, once
    assert "could not load the pre-trained weights" in message.lower()
    assert str(weights_file("resnet18")) in message and weights.url in message
    assert "does not exist" in message and "URLError" in message
    assert "Connect to the internet" in message and "TORCH_HOME" in message
    assert "weights=None" in message
    # no chain of tracebacks: neither a cause nor a shown context
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_cached_weights_load_without_network(offline):
    torch.manual_seed(0)
    reference = tvm.squeezenet1_1(weights=None)
    path = weights_file("squeezenet1_1")
    path.parent.mkdir(parents=True)
    torch.save(reference.state_dict(), path)
    model = pretrained("squeezenet1_1")
    assert offline == []  # read from the cache, no download tried
    assert not model.training
    for (name, p), q in zip(model.state_dict().items(), reference.state_dict().values()):
        assert torch.equal(p, q), name


def test_damaged_cache_file_says_delete_it(offline):
    path = weights_file("squeezenet1_1")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsUnavailableError, match="is there but could not be read") as info:
        pretrained("squeezenet1_1")
    assert "Delete it" in str(info.value) and str(path) in str(info.value)


def test_names():
    names = classification_models()
    assert {"resnet18", "vgg16", "mobilenet_v3_small", "efficientnet_b0"} <= set(names)
    with pytest.raises(ValueError, match="Did you mean resnet18"):
        pretrained("resnet_18")
    with pytest.raises(ValueError, match="got 'fasterrcnn_resnet50_fpn'"):
        pretrained("fasterrcnn_resnet50_fpn")  # a detection model, not a classifier
    with pytest.raises(TypeError, match="name must be a str"):
        pretrained(18)
