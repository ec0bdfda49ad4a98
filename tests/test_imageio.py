"""Shared image I/O: header sizes, clear errors, atomic writes, lists, shards, mirrored outputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from photosynth import imageio


def _rgb(h: int = 5, w: int = 7) -> np.ndarray:
    return np.arange(h * w * 3, dtype=np.uint8).reshape(h, w, 3)


def test_png_round_trip_and_header_size(tmp_path: Path) -> None:
    path = imageio.write_image(tmp_path / "a" / "x.png", _rgb())
    assert imageio.image_size(path) == (7, 5)
    np.testing.assert_array_equal(imageio.read_rgb(path), _rgb())
    assert [p.name for p in path.parent.iterdir()] == ["x.png"]  # no temporary left behind


def test_jpeg_write_keeps_size(tmp_path: Path) -> None:
    path = imageio.write_image(tmp_path / "x.jpg", np.full((375, 1242, 3), 128, np.uint8), quality=80)
    assert imageio.image_size(path) == (1242, 375)


def test_unreadable_image_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not an image")
    with pytest.raises(imageio.ImageError, match="broken.jpg"):
        imageio.read_rgb(bad)
    with pytest.raises(imageio.ImageError, match="broken.jpg"):
        imageio.image_size(bad)


def test_write_rejects_bad_arrays_and_suffixes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="uint8"):
        imageio.write_image(tmp_path / "x.png", np.zeros((2, 2, 3), np.float32))
    with pytest.raises(ValueError, match="suffix"):
        imageio.write_image(tmp_path / "x.bmp", _rgb())


def test_failed_write_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    def explode(self, fh, format=None, **kw):  # noqa: A002 - PIL's signature
        fh.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", explode)
    with pytest.raises(KeyboardInterrupt):
        imageio.write_image(tmp_path / "x.png", _rgb())
    assert list(tmp_path.iterdir()) == []


def test_list_images_from_folder_list_file_and_errors(tmp_path: Path) -> None:
    for name in ("b/2.png", "a/1.jpg", "c.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    assert imageio.list_images(tmp_path) == [tmp_path / "a/1.jpg", tmp_path / "b/2.png"]
    listing = tmp_path / "list.txt"
    listing.write_text(f"# comment\n{tmp_path / 'a/1.jpg'}\n\n")
    assert imageio.list_images(listing) == [tmp_path / "a/1.jpg"]
    with pytest.raises(FileNotFoundError):
        imageio.list_images(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no images"):
        imageio.list_images(tmp_path / "empty")


def test_shards_partition_the_items() -> None:
    items = list(range(10))
    shards = [imageio.shard(items, f"{i}/3") for i in range(3)]
    assert sorted(sum(shards, [])) == items
    assert imageio.shard(items, None) == items
    for bad in ("3/3", "a/b", "1", "0/0"):
        with pytest.raises(ValueError):
            imageio.parse_shard(bad)


def test_mirrored_path_and_find_output(tmp_path: Path) -> None:
    src_root = tmp_path / "vkitti"
    src = src_root / "Scene01/clone/frames/rgb/Camera_0/rgb_00001.jpg"
    out = imageio.mirrored_path(src, src_root, tmp_path / "out", ".png")
    assert out == tmp_path / "out/Scene01/clone/frames/rgb/Camera_0/rgb_00001.png"
    with pytest.raises(ValueError, match="not inside"):
        imageio.mirrored_path(tmp_path / "elsewhere.jpg", src_root, tmp_path / "out")
    rel = src.relative_to(src_root)
    assert imageio.find_output(tmp_path / "out", rel) is None
    imageio.write_image(out, _rgb())
    assert imageio.find_output(tmp_path / "out", rel) == out
    assert imageio.pending([(src, out), (src, out.with_suffix(".jpg"))]) == [(src, out.with_suffix(".jpg"))]
