"""helpers.data.folders: image folders of PNG and JPEG files, resizing, and the decoded-images cache."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from imagefiles import save, smooth_image

from helpers.data import folders as data_module
from helpers.data.folders import image_folder


@pytest.fixture
def counting_decoder(monkeypatch):
    """Count the files the decoder really decodes."""
    decoded = []
    real = data_module._decode_file

    def counting(file):
        decoded.append(file)
        return real(file)

    monkeypatch.setattr(data_module, "_decode_file", counting)
    return decoded


def test_image_folder_reads_png_and_jpeg_with_sorted_classes(tmp_path):
    folder = tmp_path / "pets"
    dog = smooth_image(20, 24, (200, 30, 30))
    cat = np.random.default_rng(0).integers(0, 256, size=(20, 24, 3), dtype=np.uint8)
    save(folder / "zebra" / "b.jpeg", dog, quality=95)
    save(folder / "zebra" / "a.JPG", dog, quality=95)
    save(folder / "cat" / "x.png", cat)
    save(folder / "cat" / "nested" / "y.png", cat[::-1].copy())
    (folder / "cat" / "notes.txt").write_text("not an image")
    save(folder / "cat" / ".hidden.png", cat)
    save(folder / ".ipynb_checkpoints" / "z.png", cat)
    save(folder / "cat" / ".ipynb_checkpoints" / "x-checkpoint.png", cat)
    ds = image_folder(folder, cache=False)
    assert ds.classes == ["cat", "zebra"]
    assert ds.labels.tolist() == [0, 0, 1, 1]
    assert ds.images.shape == (4, 3, 20, 24) and ds.images.dtype == torch.uint8
    assert np.array_equal(ds.images[0].permute(1, 2, 0).numpy(), cat)  # PNG is lossless
    assert np.array_equal(ds.images[1].permute(1, 2, 0).numpy(), cat[::-1])  # from the sub-folder
    jpeg_error = np.abs(ds.images[2].permute(1, 2, 0).numpy().astype(int) - dog).max()
    assert jpeg_error <= 8
    assert ds.source == f"image folder {folder.resolve()} (4 JPEG/PNG images, 2 classes)"


def test_image_folder_channels(tmp_path):
    gray = np.arange(64, dtype=np.uint8).reshape(8, 8)
    save(tmp_path / "g" / "a" / "1.png", gray)
    save(tmp_path / "g" / "b" / "2.png", gray.T.copy())
    only_gray = image_folder(tmp_path / "g", cache=False)
    assert only_gray.images.shape == (2, 1, 8, 8)
    assert np.array_equal(only_gray.images[1, 0].numpy(), gray.T)
    rgba = np.dstack([smooth_image(8, 8, (10, 20, 30)), np.full((8, 8), 7, np.uint8)])
    save(tmp_path / "g" / "c" / "3.png", rgba)
    mixed = image_folder(tmp_path / "g", cache=False)
    assert mixed.images.shape == (3, 3, 8, 8)  # any colour image makes them all RGB
    assert all(np.array_equal(mixed.images[0, c].numpy(), gray) for c in range(3))
    assert np.array_equal(mixed.images[2].permute(1, 2, 0).numpy(), rgba[..., :3])  # alpha dropped


@pytest.mark.parametrize("size, error, words", [
    ((0, 4), ValueError, "size must be positive; got (0, 4)"),
    ("32", TypeError, "size must be None, an int or a pair of ints (H, W); got '32'"),
    ((1, 2, 3), TypeError, "pair of ints"),
])
def test_image_folder_rejects_bad_size(tmp_path, size, error, words):
    save(tmp_path / "f" / "a" / "1.png", smooth_image(4, 4, (0, 0, 0)))
    with pytest.raises(error) as info:
        image_folder(tmp_path / "f", size=size)
    assert words in str(info.value)


def test_cache_is_used_then_invalidated_when_the_folder_changes(tmp_path, counting_decoder):
    folder, cache = tmp_path / "f", tmp_path / "cache"
    for k in range(3):
        save(folder / "a" / f"{k}.png", smooth_image(6, 6, (10 * k, 0, 0)))
    first = image_folder(folder, cache_dir=cache)
    assert len(counting_decoder) == 3 and len(list(cache.glob("image_folder-*.pt"))) == 1

    second = image_folder(folder, cache_dir=cache)
    assert len(counting_decoder) == 3  # nothing decoded: read from the cache
    assert torch.equal(second.images, first.images) and torch.equal(second.labels, first.labels)
    assert second.source == first.source

    changed = folder / "a" / "1.png"
    save(changed, smooth_image(6, 6, (0, 200, 0)))
    os.utime(changed, ns=(os.stat(changed).st_atime_ns, os.stat(changed).st_mtime_ns + 10**9))
    third = image_folder(folder, cache_dir=cache)
    assert len(counting_decoder) == 6  # a file changed: all decoded again
    assert third.images[1, 1, 0, 0] == 200 and not torch.equal(third.images, first.images)

    save(folder / "b" / "new.png", smooth_image(6, 6, (0, 0, 0)))
    fourth = image_folder(folder, cache_dir=cache)
    assert len(counting_decoder) == 10 and len(fourth) == 4 and fourth.classes == ["a", "b"]
    assert len(list(cache.glob("image_folder-*.pt"))) == 1  # one cache file per folder, overwritten
    image_folder(folder, size=3, cache_dir=cache)
    assert len(list(cache.glob("image_folder-*.pt"))) == 2  # another size is another cache entry


def test_cache_defaults_to_the_data_root_and_can_be_off(tmp_path, monkeypatch, counting_decoder):
    monkeypatch.setenv("CNN_BOOK_DATA", str(tmp_path / "root"))
    save(tmp_path / "f" / "a" / "1.png", smooth_image(4, 4, (0, 0, 0)))
    image_folder(tmp_path / "f", cache=False)
    assert not (tmp_path / "root").exists()
    image_folder(tmp_path / "f")
    assert len(list((tmp_path / "root" / "cache").glob("image_folder-*.pt"))) == 1
    assert len(counting_decoder) == 2


def test_unreadable_cache_is_ignored_and_unwritable_cache_warns(tmp_path, counting_decoder):
    save(tmp_path / "f" / "a" / "1.png", smooth_image(4, 4, (0, 0, 0)))
    image_folder(tmp_path / "f", cache_dir=tmp_path / "cache")
    (cache_file,) = (tmp_path / "cache").glob("image_folder-*.pt")
    cache_file.write_bytes(b"garbage")
    assert len(image_folder(tmp_path / "f", cache_dir=tmp_path / "cache")) == 1
    assert len(counting_decoder) == 2  # decoded again instead of failing
    (tmp_path / "blocker").write_text("a file where the cache folder should be")
    with pytest.warns(UserWarning, match="could not cache the decoded images"):
        ds = image_folder(tmp_path / "f", cache_dir=tmp_path / "blocker" / "cache")
    assert len(ds) == 1


def test_pillow_decodes_when_torchvision_cannot(tmp_path, monkeypatch):
    import torchvision.io

    def unavailable(*args, **kwargs):
        raise RuntimeError("decoder unavailable")

    monkeypatch.setattr(torchvision.io, "decode_image", unavailable)
    rgb = np.random.default_rng(2).integers(0, 256, size=(5, 7, 3), dtype=np.uint8)
    save(tmp_path / "f" / "a" / "1.png", rgb)
    save(tmp_path / "f" / "b" / "2.png", np.dstack([rgb, np.full((5, 7), 9, np.uint8)]))  # RGBA
    ds = image_folder(tmp_path / "f", cache=False)
    assert ds.images.shape == (2, 3, 5, 7)
    assert np.array_equal(ds.images[0].permute(1, 2, 0).numpy(), rgb)
    assert np.array_equal(ds.images[1].permute(1, 2, 0).numpy(), rgb)
