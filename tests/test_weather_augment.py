"""Classical weather augmentation: seeded presets, per-frame reproducibility, dataset guarantees, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photosynth import imageio
from photosynth.translate import frameset, weather


def scene(seed: int, height: int = 24, width: int = 64) -> np.ndarray:
    small = np.random.default_rng(seed).integers(0, 256, (3, 6, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((width, height), Image.Resampling.BILINEAR))


@pytest.mark.parametrize("name", sorted(weather.PRESETS))
def test_presets_change_the_frame_keep_its_shape_and_are_reproducible(name: str) -> None:
    frame = scene(0)
    out = weather.augment(frame, name, seed=3, key="Scene01/clone/a.jpg")
    assert out.shape == frame.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - frame.astype(int)).mean() > 1.0
    np.testing.assert_array_equal(out, weather.augment(frame, name, seed=3, key="Scene01/clone/a.jpg"))
    others = [weather.augment(frame, name, seed=s, key=k) for s, k in ((4, "Scene01/clone/a.jpg"), (3, "b.jpg"))]
    assert all(not np.array_equal(out, other) for other in others)


def test_preset_parameters_follow_albumentations_2_and_the_frame_size() -> None:
    small = weather.pipeline("sun", 64, 24, seed=0).transforms[0]
    large = weather.pipeline("sun", 1242, 375, seed=0).transforms[0]
    assert type(small).__name__ == "RandomSunFlare" and small.src_radius < large.src_radius
    fog = weather.pipeline("fog", 64, 24, seed=0).transforms[0]
    assert type(fog).__name__ == "RandomFog" and tuple(fog.fog_coef_range) == (0.3, 0.6)
    assert {type(t).__name__ for t in weather.pipeline("rain", 64, 24, 0).transforms} >= {"RandomRain"}
    assert {type(t).__name__ for t in weather.pipeline("snow", 64, 24, 0).transforms} >= {"RandomSnow"}


def test_bad_input_raises() -> None:
    with pytest.raises(ValueError, match="unknown weather preset 'hail'"):
        weather.augment(scene(0), "hail")
    with pytest.raises(ValueError, match="uint8"):
        weather.augment(scene(0).astype("float32"), "fog")
    with pytest.raises(ValueError, match="H×W×3"):
        weather.augment(scene(0)[..., 0], "fog")


def make_root(root: Path, frames: int = 14) -> Path:
    """vKITTI2 clone frames of two sizes (every weather slot of ``frame % 7`` twice)."""
    for i in range(frames):
        width, height = (48, 20) if i % 2 else (64, 24)
        path = root / "Scene02" / "clone" / "frames" / "rgb" / "Camera_0" / f"rgb_{i:05d}.jpg"
        imageio.write_image(path, scene(i, height, width))
    return root


def test_dataset_sizes_resume_atomic_and_shards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_root(tmp_path / "vkitti2")
    sources = sorted(root.rglob("rgb_*.jpg"))[:5]
    out = tmp_path / "augment" / "rain"
    real_augment, calls = weather.augment, []

    def dies_on_third(rgb: np.ndarray, *args: object) -> np.ndarray:
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # a killed run
        return real_augment(rgb, *args)

    monkeypatch.setattr(weather, "augment", dies_on_third)
    with pytest.raises(KeyboardInterrupt):
        weather.augment_dataset(sources, root, out, "rain", seed=1, progress=False)
    assert len(imageio.list_images(out)) == 2
    assert not [p for p in out.rglob(".*") if p.is_file()]  # no half-written file
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    monkeypatch.setattr(weather, "augment", real_augment)
    summary = weather.augment_dataset(sources, root, out, "rain", seed=1, progress=False)
    assert (summary["skipped_existing"], summary["written"]) == (2, 3)
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
    for src in sources:
        assert imageio.image_size(imageio.mirrored_path(src, root, out)) == imageio.image_size(src)
    # shards cover every frame once and give the same pixels as the unsharded run (per-frame seeds)
    sharded = tmp_path / "sharded"
    counts = [weather.augment_dataset(sources, root, sharded, "rain", seed=1, shard=f"{i}/3", progress=False)
              ["written"] for i in range(3)]
    assert counts == [2, 2, 1]
    for src in sources:
        a = imageio.read_rgb(imageio.mirrored_path(src, root, out))
        b = imageio.read_rgb(imageio.mirrored_path(src, root, sharded))
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="shard"):
        weather.augment_dataset(sources, root, sharded, "rain", shard="3/3", progress=False)
    with pytest.raises(ValueError, match="other settings"):  # never mixes stale outputs with new ones
        weather.augment_dataset(sources, root, out, "rain", seed=2, progress=False)
    redone = weather.augment_dataset(sources, root, out, "rain", seed=2, progress=False, overwrite=True)
    assert redone["written"] == 5 and redone["settings"]["seed"] == 2
    with pytest.raises(ValueError, match="not inside the input root"):
        weather.augment_dataset([tmp_path / "elsewhere.jpg"], root, sharded, "rain", progress=False)


def test_cli_stylize_augment(tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    from photosynth import cli

    for key in ("YOLO_OFFLINE", "YOLO_AUTOINSTALL", "YOLO_VERBOSE", "YOLO_CONFIG_DIR", "KERAS_HOME", "TORCH_HOME",
                "TF_CPP_MIN_LOG_LEVEL"):
        monkeypatch.delenv(key, raising=False)  # restored after the test (the CLI calls runtime.configure)
    ws = tmp_path / "ws"
    root = make_root(ws / "data" / "vkitti2")
    assert cli.main(["stylize", "augment", "fog", "--workspace", str(ws), "--no-progress"]) == 0
    out = ws / "translated" / "augment" / "fog"
    expected = frameset.frames_to_translate(root, "fog")
    assert sorted(imageio.list_images(out)) == sorted(imageio.mirrored_path(p, root, out) for p in expected)
    assert '"written": ' in capsys.readouterr().out
    assert cli.main(["stylize", "augment", "sun", "--workspace", str(ws), "--no-progress"]) == 0  # not a mix slot:
    assert len(imageio.list_images(ws / "translated" / "augment" / "sun")) == 14  # every clone frame
    assert cli.main(["stylize", "augment", "fog", "--workspace", str(ws), "--shard", "2/1"]) == 2
    assert "shard" in capsys.readouterr().err


def test_gallery_grid_gif_and_loss_curves(tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd

    from photosynth.report import gallery

    frames = [scene(i) for i in range(3)]
    fig = gallery.image_grid({"fog": {"a": frames[0], "b": frames[1]}, "rain": {"a": frames[2]}}, "t", "caption")
    assert len(fig.axes) == 4 and "caption" in fig._suptitle.get_text()
    gif = gallery.write_gif(frames, tmp_path / "x.gif", scale=2)
    back = gallery.gif_frames(gif)
    assert len(back) == 3 and back[0].shape == (48, 128, 3)
    assert gallery.gif_html(gif).startswith('<img src="data:image/gif;base64,')
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    rows = [{"weather": w, "step": s, "total": 10.0 / s, "content": 1.0, "style": 2.0, "tv": 7.0 / s}
            for w in ("fog", "rain") for s in (1, 2, 3)]
    assert len(gallery.loss_curves(pd.DataFrame(rows), "c").axes) == 2
    with pytest.raises(ValueError, match="lacks the column"):
        gallery.loss_curves(pd.DataFrame(rows).drop(columns="tv"))
    with pytest.raises(ValueError, match="at least one frame"):
        gallery.write_gif([], tmp_path / "y.gif")
