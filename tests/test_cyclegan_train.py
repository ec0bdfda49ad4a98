"""Training: exact resume, checkpoint format, logs, samples, data sampling, clear errors."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch
from cyclegan_toy import make_images, single_thread, tiny_config  # noqa: F401 (autouse fixture)

from photosynth.imageio import ImageError, image_size
from photosynth.translate.cyclegan.checkpoint import CheckpointError, load_checkpoint
from photosynth.translate.cyclegan.data import UnalignedDataset, UnalignedSampler
from photosynth.translate.cyclegan.cut_config import CUTConfig
from photosynth.translate.cyclegan.train import CHECKPOINT, LOSSES, is_finished, train, train_schedules


@pytest.fixture(scope="module")
def domains(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("domains")
    a, b = root / "A", root / "B"
    make_images(a, [(41, 27), (34, 20), (41, 27), (30, 19), (41, 27)], seed=1)
    make_images(b, [(43, 24), (43, 24), (32, 18)], seed=2)
    return a, b


@pytest.fixture(scope="module")
def finished(domains, tmp_path_factory: pytest.TempPathFactory):
    """One uninterrupted run of the tiny config (6 steps, checkpoints every 2)."""
    a, b = domains
    return train(tiny_config(), a, b, tmp_path_factory.mktemp("full") / "run", progress=False)


def loss_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return [{k: v for k, v in row.items() if k != "images_per_s"} for row in csv.DictReader(fh)]


def test_resumed_run_matches_uninterrupted_run_step_for_step(domains, finished, tmp_path: Path) -> None:
    a, b = domains
    cfg = tiny_config()
    full = finished
    assert full.finished and full.step == cfg.total_steps == 6
    part = train(cfg, a, b, tmp_path / "part", until_step=3, progress=False)  # "killed" after step 3
    assert part.step == 3 and not part.finished
    resumed = train(cfg, a, b, tmp_path / "part", resume=True, progress=False)
    assert resumed.step == 6

    rows_full, rows_part = loss_rows(full.losses), loss_rows(resumed.losses)
    assert [r["step"] for r in rows_full] == [str(s) for s in range(1, 7)]
    assert rows_full == rows_part  # every loss and learning rate, bit for bit
    s_full, s_part = load_checkpoint(full.checkpoint), load_checkpoint(resumed.checkpoint)
    for net in ("G_A", "G_B", "D_A", "D_B"):
        for key, value in s_full["models"][net].items():
            assert torch.equal(value, s_part["models"][net][key]), (net, key)
    assert s_full["optimizers"]["G"]["state"][0]["step"] == s_part["optimizers"]["G"]["state"][0]["step"]
    for p, q in zip(s_full["ranks"][0]["pools"]["A"]["images"], s_part["ranks"][0]["pools"]["A"]["images"]):
        assert torch.equal(p, q)


def same_weights(a: Path, b: Path) -> bool:
    s_a, s_b = load_checkpoint(a), load_checkpoint(b)
    return all(torch.equal(v, s_b["models"][net][k]) for net in s_a["models"] for k, v in s_a["models"][net].items())


@pytest.mark.parametrize("kind", ["cyclegan", "cut"])
def test_a_branch_of_a_longer_schedule_is_the_shorter_run_bit_for_bit(domains, tmp_path: Path, kind: str) -> None:
    """Budgets share their constant phase: the short schedule started from the long one's checkpoint at its own
    ``steps`` equals the short schedule trained from scratch (weights, losses, learning rates)."""
    a, b = domains
    make = tiny_config if kind == "cyclegan" else lambda **o: CUTConfig(**{
        **tiny_config(**o).to_dict(), "pool_size": 0, "nce_layers": (0, 4, 7, 10), "num_patches": 16, "netF_nc": 8})
    short, long = make(steps=2, decay_steps=2), make(steps=4, decay_steps=3, checkpoint_every=3)
    alone = train(short, a, b, tmp_path / "alone", progress=False)
    branched, trunk = train_schedules([short, long], a, b, [tmp_path / "short", tmp_path / "long"], progress=False)
    assert branched.finished and branched.step == 4 and trunk.finished and trunk.step == 7
    assert loss_rows(alone.losses) == loss_rows(branched.losses)  # the trunk's first 2 rows, then its own decay
    assert same_weights(alone.checkpoint, branched.checkpoint)
    assert same_weights(train(long, a, b, tmp_path / "long_alone", progress=False).checkpoint, trunk.checkpoint)
    before = (tmp_path / "short" / CHECKPOINT).stat().st_mtime_ns  # finished: a rerun trains nothing
    train_schedules([short, long], a, b, [tmp_path / "short", tmp_path / "long"], progress=False)
    assert (tmp_path / "short" / CHECKPOINT).stat().st_mtime_ns == before


def test_a_budget_added_after_the_trunk_passed_its_point_trains_from_scratch(domains, tmp_path: Path) -> None:
    a, b = domains
    short, long = tiny_config(steps=1, decay_steps=1), tiny_config(steps=4, decay_steps=2)
    train(long, a, b, tmp_path / "long", until_step=3, progress=False)  # an earlier sweep without the short budget
    branched, _ = train_schedules([short, long], a, b, [tmp_path / "short", tmp_path / "long"], progress=False)
    assert same_weights(train(short, a, b, tmp_path / "alone", progress=False).checkpoint, branched.checkpoint)


def test_branches_refuse_other_options_and_late_checkpoints(domains, tmp_path: Path) -> None:
    a, b = domains
    with pytest.raises(ValueError, match="differ only in steps.*also differ in lr"):
        train_schedules([tiny_config(lr=1e-3), tiny_config(steps=5)], a, b, [tmp_path / "x", tmp_path / "y"])
    with pytest.raises(ValueError, match="its own folder"):
        train_schedules([tiny_config(), tiny_config(steps=5)], a, b, [tmp_path / "x", tmp_path / "x"])
    train(tiny_config(steps=4, decay_steps=2), a, b, tmp_path / "trunk", until_step=3, progress=False)
    with pytest.raises(CheckpointError, match="step 3 is past the constant phase"):
        train(tiny_config(steps=2, decay_steps=2), a, b, tmp_path / "late", start_from=tmp_path / "trunk" / CHECKPOINT,
              progress=False)


def test_log_rows_after_the_checkpoint_are_dropped_on_resume(domains, tmp_path: Path) -> None:
    a, b = domains
    cfg = tiny_config(checkpoint_every=2, decay_steps=0, steps=3)
    out = tmp_path / "run"
    train(cfg, a, b, out, until_step=2, progress=False)
    with (out / LOSSES).open("a") as fh:  # a row a killed run wrote after its last checkpoint, one a full disk cut
        fh.write("3,0.0002,9,9,9,9,9,9,9,9,1\n1")
    train(cfg, a, b, out, resume=True, progress=False)
    assert [r["step"] for r in loss_rows(out / LOSSES)] == ["1", "2", "3"]
    assert "9.0" not in {r["D_A"] for r in loss_rows(out / LOSSES)}


def test_checkpoint_is_weights_only_safe_and_complete(finished) -> None:
    result = finished
    state = torch.load(result.checkpoint, weights_only=True)
    assert {"config", "step", "models", "optimizers", "schedulers", "ranks", "world"} <= set(state)
    assert set(state["ranks"][0]) == {"pools", "rng"}
    assert set(state["ranks"][0]["rng"]) >= {"python", "numpy", "torch"}
    assert state["schedulers"]["G"]["last_epoch"] == 6
    assert is_finished(result.out_dir)
    assert not list(result.out_dir.glob(".*"))  # no temporaries left
    samples = sorted((result.out_dir / "samples").glob("*.png"))
    assert [p.name for p in samples] == ["step_0000002.png", "step_0000004.png", "step_0000006.png"]
    assert image_size(samples[0]) == (3 * 16, 2 * 16)


def test_finished_run_is_not_trained_again(domains, finished) -> None:
    a, b = domains
    before = (finished.out_dir / CHECKPOINT).stat().st_mtime_ns
    assert train(tiny_config(), a, b, finished.out_dir, resume=True, progress=False).finished
    assert (finished.out_dir / CHECKPOINT).stat().st_mtime_ns == before


def test_existing_checkpoint_needs_resume_or_overwrite(domains, tmp_path: Path) -> None:
    a, b = domains
    train(tiny_config(), a, b, tmp_path / "run", until_step=1, progress=False)
    with pytest.raises(FileExistsError, match="resume"):
        train(tiny_config(), a, b, tmp_path / "run", resume=False, progress=False)
    again = train(tiny_config(), a, b, tmp_path / "run", resume=False, overwrite=True, until_step=1, progress=False)
    assert again.step == 1


def test_mismatched_checkpoint_names_the_differing_options(domains, tmp_path: Path) -> None:
    a, b = domains
    train(tiny_config(), a, b, tmp_path / "run", until_step=1, progress=False)
    with pytest.raises(CheckpointError, match=r"ngf: checkpoint 4 vs options 8"):
        train(tiny_config(ngf=8), a, b, tmp_path / "run", resume=True, progress=False)
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="bad.pt"):
        load_checkpoint(tmp_path / "bad.pt")


def test_empty_domain_and_unreadable_image_are_clear_errors(domains, tmp_path: Path) -> None:
    a, b = domains
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="domain B: .*no images found"):
        train(tiny_config(), a, tmp_path / "empty", tmp_path / "run", progress=False)
    broken = tmp_path / "broken"
    make_images(broken, [(40, 30)])
    (broken / "zz_broken.jpg").write_bytes(b"\xff\xd8 truncated")
    with pytest.raises(ImageError, match="zz_broken.jpg"):
        train(tiny_config(steps=4, decay_steps=0, batch_size=4), a, broken, tmp_path / "run2", progress=False)


def test_sampler_is_a_pure_function_of_seed_and_position() -> None:
    full = UnalignedSampler(5, 3, batch_size=2, seed=7)
    stream = [item for _, item in zip(range(20), iter(full))]
    later = UnalignedSampler(5, 3, batch_size=2, seed=7, start_step=4)
    assert [item for _, item in zip(range(12), iter(later))] == stream[8:]
    assert sorted(a for a, _, _ in stream[:5]) == list(range(5))  # A: a permutation per epoch
    ranks = [UnalignedSampler(5, 3, 2, 7, rank=r, world=2) for r in (0, 1)]
    r0, r1 = (list(zip(range(4), iter(s))) for s in ranks)
    assert [i for _, i in r0[:2]] == stream[0:2] and [i for _, i in r1[:2]] == stream[2:4]


def test_dataset_crops_flips_and_scales_width(domains) -> None:
    a, b = domains
    cfg = tiny_config(load_size=40, crop_size=24)
    ds = UnalignedDataset(sorted(a.iterdir()), sorted(b.iterdir()), cfg)
    item = ds[(0, 1, 123)]
    assert item["A"].shape == item["B"].shape == (3, 24, 24)
    assert not torch.equal(ds[(0, 1, 124)]["A"], item["A"]) or not torch.equal(ds[(0, 1, 125)]["A"], item["A"])
    assert -1 <= item["A"].min() and item["A"].max() <= 1
    assert torch.equal(ds[(0, 1, 123)]["A"], item["A"])  # same seed, same crop
    crop_cfg = tiny_config(preprocess="crop", crop_size=40, load_size=40)
    with pytest.raises(ValueError, match="smaller than crop_size"):
        UnalignedDataset(sorted(a.iterdir()), sorted(b.iterdir()), crop_cfg)[(1, 0, 1)]
