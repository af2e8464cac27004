"""helpers.train and helpers.models on tiny problems whose answers are known (CPU, no data files).
"""

from __future__ import annotations
import pytest
import torch
from toydata import halves
from helpers.models.classic import CifarCNN, LeNet5
from helpers.training.checkpoints import load_checkpoint, save_checkpoint
from helpers.training.devices import set_seed
from helpers.training.inputs import to_input


def test_checkpoint_round_trip(tmp_path):
    set_seed(3)
    model = LeNet5()
    path = save_checkpoint(tmp_path / "ckpt" / "lenet5.pt", model, source="test data", accuracy=0.5,
                           epochs=1, settings={"lr": 0.1})
    other = LeNet5()
    meta = load_checkpoint(path, other)
    assert meta == {"source": "test data", "accuracy": 0.5, "epochs": 1, "settings": {"lr": 0.1}}
    x = to_input(halves(4)[0])
    assert torch.equal(model.eval()(x), other.eval()(x))
    with pytest.raises(ValueError, match="holds a LeNet5, not a CifarCNN"):
        load_checkpoint(path, CifarCNN())
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "missing.pt", model)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        load_checkpoint(tmp_path / "junk.pt", model)
