"""Dataset translation: exact sizes, mirrored paths, resume, shards, atomic outputs, errors, CLI, workspace."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from cyclegan_toy import make_images, single_thread, tiny_config  # noqa: F401 (autouse fixture)
from PIL import Image

from photosynth.design import STYLE_DOMAINS
from photosynth import cli
from photosynth.datasets.vkitti2 import clone_frames
from photosynth.imageio import ImageError, image_size, read_rgb
from photosynth.runtime import Workspace
from photosynth.translate import frameset
from photosynth.translate.cyclegan import study
from photosynth.translate.cyclegan.config import CycleGANConfig
from photosynth.translate.cyclegan.networks import build_generator
from photosynth.translate.cyclegan.translate import size_batches, translate_images

SIZES = [(1242, 375), (1224, 370), (1242, 375), (61, 37)]


@pytest.fixture(scope="module")
def generator() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_generator(CycleGANConfig(ngf=2, n_blocks=1)).eval()


@pytest.fixture()
def frames(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    make_images(root / "Scene01", SIZES[:2], seed=3)
    make_images(root / "Scene02", SIZES[2:], seed=4, suffix=".png")
    return root


def outputs(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_outputs_mirror_inputs_at_exactly_the_original_size(generator, frames: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = translate_images(generator, frames, out, batch_size=2, num_workers=1, progress=False)
    assert (report.inputs, report.translated, report.skipped) == (4, 4, 0)
    names = [p.relative_to(out).as_posix() for p in outputs(out)]
    assert names == ["Scene01/img_000.jpg", "Scene01/img_001.jpg", "Scene02/img_000.jpg", "Scene02/img_001.jpg"]
    for p, size in zip(outputs(out), SIZES):
        assert image_size(p) == size
        assert read_rgb(p).std() > 0


def test_png_output_is_the_generator_output_bit_for_bit(generator, frames: Path, tmp_path: Path) -> None:
    src = frames / "Scene02" / "img_001.png"
    translate_images(generator, [src], tmp_path / "png", input_root=frames, fmt="png", num_workers=0, progress=False)
    got = read_rgb(tmp_path / "png" / "Scene02" / "img_001.png")
    x = torch.from_numpy(np.array(read_rgb(src))).permute(2, 0, 1)[None].float() / 127.5 - 1
    x = torch.nn.functional.pad(x, (0, 3, 0, 3), mode="reflect")  # 61x37 -> 64x40
    with torch.inference_mode():
        y = generator(x)[..., :37, :61]
    expected = ((y + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)[0].permute(1, 2, 0).numpy()
    assert np.array_equal(got, expected)


def test_rerun_skips_finished_frames_and_shards_partition(generator, frames: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = translate_images(generator, frames, out, shard_spec="0/2", num_workers=0, progress=False)
    assert (first.inputs, first.translated) == (2, 2)
    second = translate_images(generator, frames, out, shard_spec="1/2", num_workers=0, progress=False)
    assert (second.inputs, second.translated) == (2, 2)
    again = translate_images(generator, frames, out, num_workers=0, progress=False)
    assert (again.translated, again.skipped) == (0, 4)
    assert len(outputs(out)) == 4


def test_killed_run_leaves_no_partial_file_and_rerun_completes(
    generator, frames: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    real_save, calls = Image.Image.save, []

    def dying_save(self, fp, *args, **kwargs):
        calls.append(fp)
        if len(calls) == 3:
            fp.write(b"\xff\xd8\xff partial jpeg")  # the process dies in the middle of this write
            raise KeyboardInterrupt
        return real_save(self, fp, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", dying_save)
    with pytest.raises(KeyboardInterrupt):
        translate_images(generator, frames, out, batch_size=1, num_workers=0, writers=1, progress=False)
    monkeypatch.setattr(Image.Image, "save", real_save)
    done = outputs(out)
    assert 2 <= len(done) < 4 and not [p for p in done if p.name.startswith(".")]  # the dying write left nothing
    assert all(read_rgb(p).size for p in done)  # every file present decodes completely
    # a SIGKILL would leave the temporary behind: the rerun removes it
    missing = next(p for p in (out / "Scene01" / "img_001.jpg", out / "Scene02" / "img_001.jpg") if not p.exists())
    missing.parent.mkdir(parents=True, exist_ok=True)
    stale = missing.parent / f".{missing.stem}.abcd1234.jpg"
    stale.write_bytes(b"partial")
    report = translate_images(generator, frames, out, num_workers=0, progress=False)
    assert (report.translated, report.skipped) == (4 - len(done), len(done))
    assert not stale.exists()
    assert [image_size(p) for p in outputs(out)] == SIZES


def test_bad_inputs_are_clear_errors(generator, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no images found"):
        translate_images(generator, tmp_path / "empty", tmp_path / "out", progress=False)
    make_images(tmp_path / "bad", [(20, 12)])
    (tmp_path / "bad" / "broken.jpg").write_bytes(b"nope")
    with pytest.raises(ImageError, match="broken.jpg"):
        translate_images(generator, tmp_path / "bad", tmp_path / "out", num_workers=0, progress=False)
    listing = tmp_path / "list.txt"
    listing.write_text(f"{tmp_path / 'bad' / 'img_000.jpg'}\n{tmp_path / 'missing.jpg'}\n")
    with pytest.raises(FileNotFoundError, match="missing.jpg"):
        translate_images(generator, listing, tmp_path / "out", num_workers=0, progress=False)
    with pytest.raises(ValueError, match="not inside the input root"):
        translate_images(generator, listing, tmp_path / "o", input_root=tmp_path / "bad" / "x", progress=False)


def test_size_batches_group_equal_sizes_only() -> None:
    sizes = [(4, 4), (8, 4), (4, 4), (4, 4), (8, 4)]
    assert size_batches(sizes, 2) == [[0, 2], [3], [1, 4]]


def test_cli_train_then_translate(frames: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    a, b, out = frames / "Scene02", tmp_path / "B", tmp_path / "model"
    make_images(b, [(40, 30), (36, 28)], seed=5)
    small = ["--ngf", "2", "--ndf", "2", "--n-blocks", "1", "--n-layers-d", "2", "--load-size", "20",
             "--crop-size", "16", "--preprocess", "scale_width_and_crop", "--quiet"]  # fmt: skip
    argv = ["cyclegan", "train", "--a", str(a), "--b", str(b), "--out", str(out), "--steps", "1", "--decay-steps", "1"]
    assert cli.main([*argv, *small]) == 0
    assert "finished at step 2/2" in capsys.readouterr().out
    assert cli.main([*argv, *small, "--ngf", "4", "--resume"]) == 1
    assert "ngf: checkpoint 2 vs options 4" in capsys.readouterr().err
    translate = ["cyclegan", "translate", "--checkpoint", str(out / "checkpoint.pt"), "--input", str(frames),
                 "--out", str(tmp_path / "t"), "--format", "png", "--workers", "0", "--quiet"]  # fmt: skip
    assert cli.main(translate) == 0
    assert [image_size(p) for p in outputs(tmp_path / "t")] == SIZES
    assert cli.main([*translate[:3], str(out / "losses.csv"), *translate[4:]]) == 1
    assert "not a readable checkpoint" in capsys.readouterr().err
    assert cli.main(["cyclegan", "train", "--a", str(a), "--quiet"]) == 2


def test_workspace_weather_train_and_translate(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    clone = study.vkitti_root(ws) / "vkitti_2.0.3_rgb" / "Scene01" / "clone" / "frames" / "rgb" / "Camera_0"
    for i, path in enumerate(make_images(clone, [(50, 20)] * 3, seed=6)):
        path.rename(clone / f"rgb_{i:05d}.jpg")
    style = make_images(tmp_path / "bdd", [(40, 24)] * 2, seed=7)
    with pytest.raises(FileNotFoundError, match="daytime_foggy.txt"):
        frameset.style_list(ws.root, "fog")
    domains = ws.stage("splits/weather")
    (domains / f"{STYLE_DOMAINS['fog']}.txt").write_text("".join(f"{p}\n" for p in style))
    result = study.train_weather(ws, "fog", tiny_config(steps=1, decay_steps=1), progress=False)
    assert result.finished and result.out_dir == ws.root / "models" / "cyclegan" / "fog"
    frames = clone_frames(study.vkitti_root(ws))
    report = study.translate_weather(ws, "fog", frames=frames, num_workers=0, progress=False)
    assert report.translated == 3
    rel = frames[0].relative_to(study.vkitti_root(ws))
    assert image_size(study.translated_dir(ws, "fog") / rel) == (50, 20)
