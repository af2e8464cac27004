"""helpers.transfer_data: class selection (by hand on tiny data sets) and image folders round trip."""

from __future__ import annotations

import pytest
import torch

from helpers.data.core import Dataset
from helpers.data.folders import image_folder
from helpers.data.subsets import select_classes, write_image_folder


def tiny(n_per_class: int = 3) -> Dataset:
    """4 classes a..d; image i is filled with the value 10*i (so examples can be told apart)."""
    labels = torch.arange(4).repeat(n_per_class)  # 0 1 2 3 0 1 2 3 ...
    images = (torch.arange(len(labels)) * 10).to(torch.uint8)[:, None, None, None].expand(-1, 3, 4, 5)
    return Dataset(images.contiguous(), labels, ["a", "b", "c", "d"], "tiny")


def test_select_classes_relabels_in_the_given_order():
    data = tiny()
    got = select_classes(data, ["c", "a"])
    # by hand: examples 0, 2, 4, 6, 8, 10 have labels a, c, a, c, a, c -> new labels 1, 0, 1, 0, ...
    assert got.labels.tolist() == [1, 0, 1, 0, 1, 0]
    assert got.images[:, 0, 0, 0].tolist() == [0, 20, 40, 60, 80, 100]
    assert got.classes == ["c", "a"]
    assert got.source == "tiny | classes: c, a (6 images)"
    for k, name in enumerate(got.classes):  # every image keeps its class name
        old = data.classes.index(name)
        assert torch.equal(got.images[got.labels == k], data.images[data.labels == old])


def test_select_classes_errors():
    data = tiny()
    with pytest.raises(ValueError, match=r"classes \['e'\] are not in the data set, whose classes are a, b, c, d"):
        select_classes(data, ["a", "e"])
    with pytest.raises(ValueError, match=r"\['a'\] appear more than once"):
        select_classes(data, ["a", "b", "a"])
    with pytest.raises(ValueError, match="at least one class"):
        select_classes(data, [])
    with pytest.raises(TypeError, match="classes must be a list of class names"):
        select_classes(data, "a")
    with pytest.raises(TypeError, match="data must be a helpers.data.core.Dataset; got tuple"):
        select_classes((data.images, data.labels), ["a"])


def test_png_folder_reads_back_the_same_pixels(tmp_path):
    torch.manual_seed(0)
    data = Dataset(torch.randint(0, 256, (6, 3, 8, 8), dtype=torch.uint8), torch.tensor([1, 0, 1, 2, 2, 0]),
                   ["zebra", "apple", "mango"], "random")
    write_image_folder(data, tmp_path / "photos")
    back = image_folder(tmp_path / "photos", cache=False)
    assert back.classes == ["apple", "mango", "zebra"]  # image_folder sorts the class folders
    for name in data.classes:
        mine = data.images[data.labels == data.classes.index(name)]
        theirs = back.images[back.labels == back.classes.index(name)]
        assert torch.equal(mine, theirs)


def test_jpeg_folder_is_close(tmp_path):
    data = select_classes(tiny(2), ["b", "d"])
    write_image_folder(data, tmp_path, fmt="jpg")
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["00000.jpg", "00002.jpg"]
    back = image_folder(tmp_path, cache=False)
    assert back.classes == ["b", "d"] and back.images.shape == data.images.shape
    for k in range(2):  # folder b first, then d: compare class by class
        diff = back.images[back.labels == k].float() - data.images[data.labels == k].float()
        assert diff.abs().max() <= 3  # flat images: JPEG is almost lossless on them


def test_write_image_folder_errors(tmp_path):
    data = tiny(1)
    write_image_folder(data, tmp_path)
    with pytest.raises(FileExistsError, match="class folders already exist"):
        write_image_folder(data, tmp_path)
    with pytest.raises(ValueError, match="fmt must be one of"):
        write_image_folder(data, tmp_path / "x", fmt="gif")
    with pytest.raises(ValueError, match="1 or 3 channels"):
        write_image_folder(Dataset(torch.zeros(1, 2, 4, 4, dtype=torch.uint8), torch.zeros(1, dtype=torch.int64),
                                   ["a"], "two channels"), tmp_path / "y")
