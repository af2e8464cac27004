"""helpers.config: the data folder, the run mode, paths printed without machine folders."""

from pathlib import Path

import pytest

from helpers import config


def test_data_root_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv("CNN_BOOK_DATA", raising=False)
    assert config.data_root() == Path.home() / ".cache" / "cnn-book"
    monkeypatch.setenv("CNN_BOOK_DATA", str(tmp_path))
    assert config.data_root() == tmp_path
    assert config.data_root(tmp_path / "explicit") == tmp_path / "explicit"


def test_mode(monkeypatch):
    monkeypatch.delenv("CNN_BOOK_MODE", raising=False)
    assert config.mode() == "full" and not config.is_quick()
    monkeypatch.setenv("CNN_BOOK_MODE", " Quick ")
    assert config.mode() == "quick" and config.is_quick()
    monkeypatch.setenv("CNN_BOOK_MODE", "fast")
    with pytest.raises(ValueError, match=r"CNN_BOOK_MODE must be one of \('full', 'quick'\); got 'fast'"):
        config.mode()


def test_display_path_names_no_machine_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("CNN_BOOK_DATA", str(tmp_path / "data"))
    assert config.display_path(tmp_path / "data" / "cifar10" / "train") == "$CNN_BOOK_DATA/cifar10/train"
    assert config.display_path(tmp_path / "data") == "$CNN_BOOK_DATA"
    assert config.describe().endswith("data folder: $CNN_BOOK_DATA")
    monkeypatch.delenv("CNN_BOOK_DATA")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert config.display_path(tmp_path / ".cache" / "cnn-book" / "MNIST") == "~/.cache/cnn-book/MNIST"
    assert config.display_path(tmp_path / "elsewhere") == "~/elsewhere"
