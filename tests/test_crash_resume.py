"""The crash matrix: every long stage killed with SIGKILL at its first checkpoint or output, rerun, and compared
with an uninterrupted run (:func:`crash.kill_and_rerun` does the killing and checks that nothing partial is left
under a final name).

| stage | killed when | compared with an uninterrupted run |
|---|---|---|
| CycleGAN, CUT training | the first ``checkpoint.pt`` | checkpoint tensors and values, losses, samples: bit for bit |
| CycleGAN translation, NST (torch), augmentation | the first output image | every file, byte for byte |
| NST (TensorFlow) | the first output image | the same files, whole images of their sizes, finished ones kept |
| detector training | the first ``weights/last.pt`` | 3 epochs: resumed, logged once; 1 epoch: weights bit for bit |
| predictions (``photosynth study``) | the first finished predictions | predictions, results/: bytes |
| fidelity | the first file of its work folder | the table, the reference detector's predictions: bytes |
| ``photosynth book`` | inside notebook 02, the first CycleGAN checkpoint | models and translations: bit for bit |
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import torch
from crash import ROOT, assert_same_state, files, kill_and_rerun, kept, photosynth, run, stats, without_columns
from cyclegan_toy import TINY_FLAGS, make_images, tiny_generator

from photosynth import runtime
from photosynth.imageio import image_size, list_images
from photosynth.translate.cyclegan.checkpoint import load_checkpoint

TRAINERS: dict[str, list[str]] = {
    "cyclegan": [*TINY_FLAGS, "--pool-size", "3"],
    "cut": [*TINY_FLAGS, "--nce-layers", "0,4,7", "--num-patches", "8", "--netF-nc", "8"],
}
#: The smoke profile's detector settings, one torch thread (the profile's parameters, as `photosynth train` reads them).
DETECTOR = ["--profile", "smoke", "--root", ROOT, "--set", "05_detectors.threads=1", "--set", "05_detectors.batch=8"]


def count_tensors(state: Any) -> int:
    if isinstance(state, torch.Tensor):
        return 1
    if isinstance(state, dict):
        state = list(state.values())
    return sum(count_tensors(v) for v in state) if isinstance(state, (list, tuple)) else 0


def images_of(folder: dict[str, bytes]) -> dict[str, bytes]:
    return {name: data for name, data in folder.items() if name.endswith(".jpg")}


def finished_images(killed: dict[str, Any]) -> list[str]:
    return [name for name in killed if name.endswith(".jpg")]


# ------------------------------------------------------------------------------------------ translators


@pytest.mark.slow
@pytest.mark.parametrize("method", sorted(TRAINERS))
def test_translator_training_killed_between_checkpoints_resumes_bit_for_bit(method: str, tmp_path: Path) -> None:
    a, b = tmp_path / "A", tmp_path / "B"
    make_images(a, [(41, 27), (34, 20), (41, 27), (30, 19), (41, 27), (36, 24)], seed=1)
    make_images(b, [(43, 24), (43, 24), (32, 18), (40, 22)], seed=2)
    # 12 steps, checkpoints at 3, 6, 9, 12: killed right after the first one appears
    schedule = ["--steps", "6", "--decay-steps", "6", "--checkpoint-every", "3", "--sample-every", "3"]

    def command(out: Path) -> list[str]:
        return photosynth(method, "train", "--a", a, "--b", b, *TRAINERS[method], *schedule, "--resume", "--out", out)

    reference, crashed = tmp_path / "reference", tmp_path / "crashed"
    run(command(reference))
    killed = kill_and_rerun(command(crashed), crashed, "checkpoint.pt").killed
    assert "losses.csv" in killed and killed["checkpoint.pt"] != stats(crashed)["checkpoint.pt"]  # not the last one

    done, expected = load_checkpoint(crashed / "checkpoint.pt"), load_checkpoint(reference / "checkpoint.pt")
    assert int(expected["step"]) == 12
    assert count_tensors(expected) > 30  # weights, Adam moments, (history pools,) RNG states
    assert_same_state(done, expected)  # every tensor and value of the checkpoint, bit for bit
    assert (without_columns((crashed / "losses.csv").read_text(), "images_per_s")
            == without_columns((reference / "losses.csv").read_text(), "images_per_s"))
    rest = {"checkpoint.pt", "losses.csv"}
    assert ({k: v for k, v in files(crashed).items() if k not in rest}
            == {k: v for k, v in files(reference).items() if k not in rest})  # samples, options, no temporaries


@pytest.mark.slow
def test_cyclegan_translation_killed_mid_folder_completes_identically(tmp_path: Path) -> None:
    generator_checkpoint = tiny_generator(tmp_path)
    frames = tmp_path / "frames"
    for scene in range(3):
        make_images(frames / f"Scene0{scene}", [(160, 64)] * 12, seed=10 + scene)

    def command(out: Path) -> list[str]:
        return photosynth("cyclegan", "translate", "--checkpoint", generator_checkpoint, "--input", frames,
                          "--batch-size", "1", "--workers", "1", "--writers", "1", "--quiet", "--out", out)

    run(command(tmp_path / "reference"))
    expected = files(tmp_path / "reference")
    assert len(expected) == 36
    killed = kill_and_rerun(command(tmp_path / "out"), tmp_path / "out", "**/img_*.jpg").killed
    assert 0 < len(killed) < 36  # killed mid-folder
    assert files(tmp_path / "out") == expected  # every output, byte for byte, and no temporaries left


@pytest.fixture()
def vkitti(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A vKITTI2-like root with clone frames, and a folder of style images."""
    root = tmp_path / "vkitti2"
    clone = root / "Scene01" / "clone" / "frames" / "rgb" / "Camera_0"
    make_images(clone, [(64, 24)] * 10, seed=7)
    styles = tmp_path / "styles"
    make_images(styles, [(40, 30)] * 3, seed=8)
    return root, clone, styles


def _stylize_command(args: list[Any]) -> Callable[[Path], list[str]]:
    return lambda out: photosynth("stylize", *args, "--no-progress", "--out", out)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["torch", "tensorflow"])
def test_nst_killed_mid_folder_completes(backend: str, vkitti, tmp_path: Path) -> None:
    """torch: every image byte for byte. TensorFlow's CPU NST gives other pixels in every process (tests/pinned.py),
    so there: the same files, each a whole image of its frame's size, and the frames finished before the kill
    untouched by the rerun."""
    root, clone, styles = vkitti
    command = _stylize_command(["nst", "fog", "--workspace", tmp_path / "ws", "--vkitti-root", root, "--sources",
                                clone, "--styles", styles, "--weights", "none", "--size", "32x16", "--iterations",
                                "2", "--lbfgs-maxfun", "2", "--batch-size", "1", "--backend", backend])
    run(command(tmp_path / "reference"))
    expected = images_of(files(tmp_path / "reference"))
    assert len(expected) == 10
    out = tmp_path / "out"
    killed = kill_and_rerun(command(out), out, "**/img_*.jpg").killed
    assert 0 < len(finished_images(killed)) < 10  # killed mid-folder
    got = files(out)
    assert sorted(got) == sorted(files(tmp_path / "reference"))  # same files, no temporaries left
    if backend == "torch":
        assert images_of(got) == expected
    else:
        assert all(image_size(out / name) == image_size(tmp_path / "reference" / name) for name in expected)
        kept(killed, out, lambda name: name.endswith(".jpg"))


def test_augment_killed_mid_folder_completes_identically(vkitti, tmp_path: Path) -> None:
    from photosynth.translate.weather import augment_dataset

    root, clone, styles = vkitti
    make_images(clone, [(480, 180)] * 20, seed=9)  # bigger frames: the kill must land mid-folder
    augment_dataset(list_images(clone), root, tmp_path / "reference", "rain", seed=0, progress=False)
    expected = images_of(files(tmp_path / "reference"))
    command = _stylize_command(["augment", "rain", "--workspace", tmp_path / "ws", "--vkitti-root", root,
                                "--sources", clone])
    killed = kill_and_rerun(command(tmp_path / "out"), tmp_path / "out", "**/img_*.jpg").killed
    assert 0 < len(finished_images(killed)) < 20  # killed mid-folder
    got = files(tmp_path / "out")
    assert sorted(got) == sorted(files(tmp_path / "reference")) and images_of(got) == expected


# ------------------------------------------------------------------------------------------ the study


@pytest.fixture(scope="module")
def toy_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny study workspace: the toy world (2 scenes × 14 frames), BDD splits and the baseline and oracle mixes."""
    from photosynth.study import datasets, mixes, splits

    ws = runtime.Workspace(tmp_path_factory.mktemp("study") / "ws")
    toy = {"scenes": 2, "frames": 14, "scale": 0.12, "kitti_object": 0, "bdd_train": 16, "bdd_val": 8,
           "bdd_style_min": 3}
    data = datasets.prepare_data(ws.root, {}, toy, seed=0)
    splits.build_splits(data["roots"]["bdd100k"], ws.root / "splits", style_images=3, seed=0,
                        eval_domains=["daytime_clear"])
    mixes.link_oracle(ws.root)
    mixes.build_workspace_mixes(ws.root, ["baseline", "oracle"])
    return ws.root


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu", weights_only=False)["model"].state_dict()


@pytest.mark.slow
@pytest.mark.parametrize("epochs", [3, 1])
def test_detector_training_killed_after_an_epoch(epochs: int, toy_study: Path, tmp_path: Path) -> None:
    """Killed when ``weights/last.pt`` first appears (epoch 1 done), then the same ``photosynth train`` again.

    3 epochs: ultralytics resumes at epoch 2. Its resume is not bit-exact (it restarts from its EMA weights, saved in
    fp16, and its data order from the start), so compared: the rerun says resumed, every epoch is logged once, and
    epoch 1's row (time aside) equals the uninterrupted run's. 1 epoch: the checkpoint is the last epoch's, which
    ultralytics refuses to resume, so the run starts over: its log (time aside) and weights equal the uninterrupted
    run's, bit for bit."""

    def command(out: Path) -> list[str]:
        return photosynth("train", *DETECTOR, "--set", f"05_detectors.epochs={epochs}", "--workspace", toy_study,
                          "--data", toy_study / "mixes" / "baseline" / "data.yaml", "--out", out)

    reference, out = tmp_path / "reference", tmp_path / "out"
    run(command(reference))
    crash = kill_and_rerun(command(out), out, "weights/last.pt")
    assert "weights/last.pt" in crash.killed
    assert f"baseline seed 0: {'resumed' if epochs > 1 else 'trained'}" in crash.stderr
    log, expected = (without_columns((folder / "results.csv").read_text(), "time") for folder in (out, reference))
    assert [row[0] for row in log[1:]] == [str(e) for e in range(1, epochs + 1)]
    assert log[:2] == expected[:2]
    if epochs == 1:
        assert log == expected
        for name in ("best.pt", "last.pt"):
            theirs = _weights(reference / "weights" / name)
            assert all(torch.equal(w, theirs[k]) for k, w in _weights(out / "weights" / name).items())


@pytest.mark.slow
def test_predictions_killed_mid_study_complete_identically(toy_study: Path, tmp_path: Path) -> None:
    """``photosynth study`` with trained detectors, killed when the first predictions file is finished (its
    manifest appears): every predictions file, its manifest, the metrics and the intervals equal an uninterrupted
    run's, byte for byte, and the predictions finished before the kill were not redone."""
    command = photosynth("study", "--profile", "smoke", "--root", ROOT, "--workspace", toy_study, "--mixes",
                         "baseline,oracle", "--set", "05_detectors.seeds=[0]", "--set", "05_detectors.threads=1")
    run(command)  # trains both detectors, then the uninterrupted predictions and scores
    outputs = [*toy_study.glob("detectors/*/seed0/predictions"), toy_study / "results"]
    expected = {folder: files(folder) for folder in outputs}
    for folder in outputs:
        shutil.rmtree(folder)
    killed = kill_and_rerun(command, toy_study, "detectors/*/seed0/predictions/*.manifest.json").killed
    predicted = [name for name in killed if "/predictions/" in name]
    assert len(predicted) < sum(len(v) for k, v in expected.items() if k.name == "predictions")
    assert {folder: files(folder) for folder in outputs} == expected
    finished = {name.replace(".manifest", "") for name in predicted if name.endswith(".manifest.json")}
    assert finished
    kept(killed, toy_study, lambda name: name.replace(".manifest", "") in finished)


@pytest.mark.slow
def test_fidelity_killed_mid_stage_completes_identically(toy_study: Path, tmp_path: Path) -> None:
    """``photosynth fidelity`` with a reference detector, killed when the first file of its work folder appears:
    the table and the detector's predictions equal an uninterrupted run's, byte for byte."""
    from photosynth import detect
    from photosynth.study import fidelity
    from photosynth.translate.frameset import translation_sources
    from photosynth.translate.weather import augment_dataset

    vkitti = toy_study / "data" / "vkitti2"
    augmented = tmp_path / "translated" / "augment" / "fog"
    augment_dataset(translation_sources(vkitti, "fog"), vkitti, augmented, "fog", seed=0, progress=False)
    frames = fidelity.reference_frames(vkitti, toy_study / "data" / "kitti_tracking", toy_study / "translated/oracle")
    split = fidelity.ReferenceSplit.of(frames).write(tmp_path / "split.json")
    settings = detect.TrainSettings(imgsz=64, epochs=1, batch=8, optimizer="SGD", warmup_epochs=0, workers=0,
                                    threads=1)
    best = detect.train(fidelity.write_frames(frames, tmp_path / "reference_data", "train"),
                        tmp_path / "reference_detector", settings, runtime.Workspace(toy_study), progress=False).best

    def command(out: Path) -> list[str]:
        return photosynth("fidelity", "--translated", augmented, "--oracle", toy_study / "translated/oracle/fog",
                          "--targets", toy_study / "splits/weather/daytime_foggy.txt", "--vkitti2", vkitti,
                          "--features", "random_cnn", "--detector", best, "--split", split, "--min-score", "0",
                          "--out", out / "fog.csv", "--work", out / "work")

    reference, out = tmp_path / "reference", tmp_path / "out"
    run(command(reference))
    killed = kill_and_rerun(command(out), out, "work/**/*.txt").killed
    assert "fog.csv" not in killed
    assert (out / "fog.csv").read_bytes() == (reference / "fog.csv").read_bytes()
    assert (out / "work/predictions.json").read_bytes() == (reference / "work/predictions.json").read_bytes()
    assert (pd.read_csv(out / "fog.csv").n_boxes > 0).all()  # the detector scored every set's held-out boxes


def _report_sources(root: Path) -> Path:
    """A copy of the project's report sources (no executed notebooks) in ``root``."""
    root.mkdir()
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, root / name)
    for name in ("book", "notebooks", "profiles"):
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("executed", ".ipynb_checkpoints"))
    return root


@pytest.mark.slow
def test_book_killed_inside_a_notebook_completes_identically(tmp_path: Path) -> None:
    """``photosynth book`` (smoke, notebooks 00–02, no build) killed inside 02 when the first CycleGAN checkpoint
    appears, then the same command again: no half-run notebook was ever under its final name, and every model and
    translated frame equals an uninterrupted run's (checkpoints tensor for tensor, losses time aside, the rest byte
    for byte)."""
    notebooks = ["00_environment", "01_datasets", "02_cyclegan"]

    def command(root: Path) -> list[str]:
        return photosynth("book", "--profile", "smoke", "--only", ",".join(notebooks), "--no-build", "--root", root,
                          "--runs", root / "runs")

    reference, out = _report_sources(tmp_path / "reference"), _report_sources(tmp_path / "out")
    run(command(reference), one_thread=False)
    killed = kill_and_rerun(command(out), out, "runs/smoke/models/cyclegan/fog/checkpoint.pt", one_thread=False).killed
    assert sorted(n for n in killed if n.startswith("book/executed/")) == [f"book/executed/{n}.ipynb" for n in
                                                                            notebooks[:2]]
    assert sorted(p.name for p in (out / "book/executed").iterdir()) == [f"{n}.ipynb" for n in notebooks]
    produced = {root: {name: data for name, data in files(root / "runs/smoke").items()
                       if name.split("/")[0] in ("models", "translated")} for root in (out, reference)}
    assert produced[out].keys() == produced[reference].keys()
    for name, data in produced[out].items():
        if name.endswith("checkpoint.pt"):
            assert_same_state(*(load_checkpoint(root / "runs/smoke" / name) for root in (out, reference)))
        elif name.endswith("losses.csv"):
            assert without_columns(data.decode(), "images_per_s") == without_columns(
                produced[reference][name].decode(), "images_per_s"), name
        else:
            assert data == produced[reference][name], name
