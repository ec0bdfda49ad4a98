"""A full disk: a translation, a mix build and a checkpoint write that run out of space fail with a message that
says the disk is full and which file, leave nothing truncated under a final name, and end like an uninterrupted
run once space is freed (a filler file deleted). The disk is a small tmpfs; mounting one needs root, and without
it these tests skip and say so."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from crash import assert_complete, assert_same_state, env, files, final_names, photosynth, run, without_columns
from cyclegan_toy import TINY_FLAGS, make_images, tiny_generator

from photosynth.design import VARIATION_SOURCES
from photosynth.imageio import read_rgb
from photosynth.translate.cyclegan.checkpoint import load_checkpoint

pytestmark = pytest.mark.slow


@pytest.fixture()
def disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MB tmpfs mounted at ``tmp_path/disk``, unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.skip(f"full-disk tests not run: cannot mount a tmpfs at {mount} (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def fill(disk: Path, leave: int) -> Path:
    """A file that leaves ``leave`` bytes free on ``disk``."""
    stat = os.statvfs(disk)
    filler = disk / "filler"
    filler.write_bytes(b"\0" * (stat.f_bavail * stat.f_frsize - leave))
    return filler


def fails_for_space(command: list[str], where: Path) -> None:
    """``command`` fails with the disk-full message naming a file under ``where``, and no temporary file is left."""
    done = subprocess.run(command, env=env(), capture_output=True, text=True)
    assert done.returncode == 1, done.stderr[-3000:]
    assert f"error: [Errno 28] disk full: no space left to write {where}/" in done.stderr, done.stderr[-3000:]
    assert "free in" in done.stderr
    assert not list(where.rglob(".*.tmp"))  # the failed writes' temporaries are gone


def size(folder: Path) -> int:
    return sum(len(data) for data in files(folder).values())


def test_translation_on_a_full_disk(disk: Path, tmp_path: Path) -> None:
    frames = tmp_path / "frames"
    make_images(frames / "Scene01", [(160, 64)] * 24, seed=10)
    command = photosynth("cyclegan", "translate", "--checkpoint", tiny_generator(tmp_path), "--input", frames,
                         "--batch-size", "2", "--workers", "0", "--writers", "2", "--quiet", "--out")
    run([*command, tmp_path / "reference"])
    expected = files(tmp_path / "reference")
    out = disk / "out"
    filler = fill(disk, size(tmp_path / "reference") // 2)
    fails_for_space([*command, out], out)
    written = final_names(out)
    assert 0 < len(written) < len(expected)
    for image in written:  # whole images only: the encoder's output is never cut short under a final name
        assert read_rgb(image).size and image.read_bytes() == expected[image.relative_to(out).as_posix()]
    filler.unlink()
    run([*command, out])
    assert files(out) == expected


def test_mix_build_on_a_full_disk(disk: Path, tmp_path: Path) -> None:
    from photosynth.toyworld.world import make_toyworld

    world = make_toyworld(tmp_path / "data", scenes=2, frames=14, scale=0.1, kitti_object=0, bdd_train=0,
                          bdd_val=0, variations=list(VARIATION_SOURCES), progress=False)
    out = disk / "mix"
    command = photosynth("mix", "--mix", "baseline", "--vkitti2", world["vkitti2"], "--kitti-tracking",
                         world["kitti_tracking"], "--out", out)

    def contents() -> dict[str, str | bytes]:
        """Every file of the mix (an image link by its target), the manifest without its time of writing."""
        found = {p.relative_to(out).as_posix(): os.readlink(p) if p.is_symlink() else p.read_bytes()
                 for p in out.rglob("*") if p.is_file() or p.is_symlink()}
        manifest = found.pop("manifest.json", b"").decode()
        return {**found, "manifest.json": "\n".join(x for x in manifest.splitlines() if '"written"' not in x)}

    run(command)  # uninterrupted, on a disk with room
    expected = contents()
    used = sum(os.lstat(p).st_blocks * 512 for p in out.rglob("*"))
    subprocess.run(["rm", "-rf", str(out)], check=True)
    filler = fill(disk, used // 2)
    fails_for_space(command, out)
    assert not (out / "manifest.json").exists() and not (out / "data.yaml").exists()  # not taken as finished
    partial = contents()
    assert len(partial) < len(expected)
    assert all(partial[name] == expected[name] for name in partial if name != "manifest.json")
    filler.unlink()
    run(command)
    assert contents() == expected


def test_checkpoint_write_on_a_full_disk(disk: Path, tmp_path: Path) -> None:
    """Room for the first checkpoint (step 3) but not for the second beside it: training stops at step 6 with the
    step-3 checkpoint intact, then resumes from it to the same final state as an uninterrupted run."""
    a, b = tmp_path / "A", tmp_path / "B"
    make_images(a, [(41, 27), (34, 20), (41, 27), (30, 19)], seed=1)
    make_images(b, [(43, 24), (43, 24), (32, 18)], seed=2)
    command = photosynth("cyclegan", "train", "--a", a, "--b", b, *TINY_FLAGS, "--steps", "6", "--decay-steps", "6",
                         "--checkpoint-every", "3", "--sample-every", "100", "--resume", "--out")
    reference, out = tmp_path / "reference", disk / "model"
    run([*command, reference])
    checkpoint = (reference / "checkpoint.pt").stat().st_size
    filler = fill(disk, checkpoint * 3 // 2 + 8192)  # + a page each for options.json and losses.csv
    fails_for_space([*command, out], out)
    assert_complete(out)
    assert int(load_checkpoint(out / "checkpoint.pt")["step"]) == 3
    filler.unlink()
    run([*command, out])
    assert_same_state(load_checkpoint(out / "checkpoint.pt"), load_checkpoint(reference / "checkpoint.pt"))
    assert (without_columns((out / "losses.csv").read_text(), "images_per_s")
            == without_columns((reference / "losses.csv").read_text(), "images_per_s"))
