"""Translators by name: the registry's protocol and entry points (photosynth's own and a third party's),
``photosynth translate``, and folders of translations made elsewhere linked into a workspace."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photosynth.cli import main
from photosynth.design import STYLE_DOMAINS, WEATHER_SLOTS
from photosynth.imageio import find_output, list_images
from photosynth.study.mixes import build_workspace_mixes, reserved_names
from photosynth.translate import builtins, registry
from photosynth.translate.external import TranslationError, link_translations
from photosynth.translate.frameset import translation_sources

PLUGINS = Path(__file__).resolve().parent / "plugins"  # tinttool: a package registering `tint` (and `broken`)


@pytest.fixture()
def plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tinttool package "installed": its folder on the path, so its entry points are found."""
    monkeypatch.syspath_prepend(str(PLUGINS))
    yield
    sys.modules.pop("tinttool", None)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A toy-world workspace as notebook 01 leaves it: data/ and the weather style lists."""
    from photosynth.toyworld.world import make_toyworld

    root = tmp_path_factory.mktemp("ws")
    make_toyworld(root / "data", scenes=2, frames=14, scale=0.08, kitti_object=0, bdd_train=0, bdd_val=0,
                  progress=False)
    clones = list_images(root / "data" / "vkitti2")[:6]
    for domain in STYLE_DOMAINS.values():
        (root / "splits" / "weather").mkdir(parents=True, exist_ok=True)
        (root / "splits" / "weather" / f"{domain}.txt").write_text("".join(f"{p}\n" for p in clones))
    return root


def tinted_copy(vkitti: Path, out: Path, weathers=tuple(WEATHER_SLOTS)) -> int:
    """Translations made outside photosynth: each needed clone frame tinted blue with PIL, saved as PNG."""
    count = 0
    for weather in weathers:
        for src in translation_sources(vkitti, weather):
            rgb = np.asarray(Image.open(src).convert("RGB"), np.float64)
            dst = (out / weather / src.relative_to(vkitti)).with_suffix(".png")
            dst.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.uint8(0.7 * rgb + 0.3 * np.array([40, 60, 200]))).save(dst)
            count += 1
    return count


def test_photosynths_own_translators_are_registered_entry_points() -> None:
    found = registry.available()
    assert {"cyclegan", "cut", "nst", "augment"} <= set(found)
    assert found["cut"].value == "photosynth.translate.builtins:CUT"
    assert isinstance(registry.load("augment"), registry.Translator)
    cut = registry.load("cut", {"steps": 3, "decay_steps": 1, "mode": "fastcut"})
    assert isinstance(cut, builtins.CUT) and cut.config.total_steps == 4 and cut.config.mode == "fastcut"
    assert registry.load("nst", {"size": "32x16", "iterations": 1}).config.size == (32, 16)


def test_unknown_names_bad_options_and_objects_without_the_protocol_are_clear(plugin: None) -> None:
    with pytest.raises(ValueError, match=r"no translator 'nope'.*registered: .*augment, broken, cut, cyclegan"):
        registry.load("nope")
    with pytest.raises(ValueError, match=r"'cyclegan' .*rejected its options.*unknown CycleGANConfig option\(s\) stepz"):
        registry.load("cyclegan", {"stepz": 3})
    with pytest.raises(ValueError, match=r"'nst' .*unknown NST setting\(s\) colour"):
        registry.load("nst", {"colour": 1})
    with pytest.raises(ValueError, match=r"'broken' \(tinttool:NoMethods\) has no fit\(task\) and translate\(task\)"):
        registry.load("broken")


def test_a_third_party_translator_runs_through_the_registry_and_resumes(plugin: None, workspace: Path) -> None:
    assert registry.available()["tint"].dist.name == "tinttool"
    counts = registry.run(workspace, "tint", ["fog", "rain"], {"strength": 0.4}, seed=0, progress=False)
    vkitti = workspace / "data" / "vkitti2"
    assert counts == {w: len(translation_sources(vkitti, w)) for w in ("fog", "rain")} and counts["fog"] == 4
    assert (workspace / "models" / "tint" / "fog" / "colour.json").is_file()  # fit wrote into its work folder
    src = translation_sources(vkitti, "fog")[0]
    out = find_output(workspace / "translated" / "tint" / "fog", src.relative_to(vkitti))
    before = out.stat().st_mtime_ns
    clone, tinted = (np.asarray(Image.open(p).convert("RGB"), float) for p in (src, out))
    assert tinted.shape == clone.shape and 0 < np.abs(tinted - clone).mean()
    task = registry.task(workspace, "tint", "fog")
    assert task.pending() == [] and len(task.clones) == 28 and task.targets == list_images(task.targets)
    registry.run(workspace, "tint", ["fog"], {"strength": 0.4}, progress=False)  # resume: nothing redone
    assert out.stat().st_mtime_ns == before


def test_a_translator_that_leaves_frames_out_fails_with_the_list(plugin: None, workspace: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import tinttool

    shutil.rmtree(workspace / "translated" / "tint" / "overcast", ignore_errors=True)
    monkeypatch.setattr(tinttool.Tint, "translate", lambda self, task: None)  # writes nothing
    with pytest.raises(TranslationError, match=r"tint: 4 of 4 frames missing under .*overcast/Scene01/.*rgb_00005"):
        registry.run(workspace, "tint", ["overcast"], progress=False)


def test_photosynth_translate_lists_and_runs_translators(plugin: None, workspace: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["translate", "--list"]) == 0
    listed = capsys.readouterr().out
    assert "tint" in listed and "tinttool:Tint  (tinttool)" in listed and "photosynth.translate.builtins:NST" in listed
    args = ["translate", "--workspace", str(workspace), "--translator", "tint", "--weathers", "overcast"]
    assert main([*args, "--option", "strength=0.2"]) == 0
    assert "tint overcast: 4 frames" in capsys.readouterr().out
    assert main([*args, "--option", "strength"]) == 2
    assert "--option must be KEY=VALUE" in capsys.readouterr().err
    assert main([*args, "--option", "strength=2"]) == 1
    assert "strength must be in [0, 1]" in capsys.readouterr().err
    assert main(["translate", "--workspace", str(workspace), "--translator", "tint", "--weathers", "snowfall"]) == 2
    assert main(["translate", "--translator", "tint"]) == 2


def test_external_folders_are_checked_all_at_once_then_linked(workspace: Path, tmp_path: Path) -> None:
    vkitti = workspace / "data" / "vkitti2"
    good, bad = tmp_path / "good", tmp_path / "bad"
    assert tinted_copy(vkitti, good) == 12
    tinted_copy(vkitti, bad)
    rain = sorted((bad / "rain").rglob("*.png"))
    rain[0].unlink()
    rain[1].write_bytes(rain[1].read_bytes()[:60])  # truncated: the header reads, the pixels do not
    (bad / "notes.txt").write_text("x")
    with pytest.raises(TranslationError) as error:
        link_translations(workspace, {"good": good, "bad": bad, "cyclegan": good, "My Tool": good,
                                     "gone": tmp_path / "gone"}, reserved=reserved_names())
    message = str(error.value)
    for text in ("cyclegan: the name of a built-in or registered translator", "'My Tool': a translator name is",
                 "bad: 1 of 12 frames missing", "bad: 1 unreadable image(s)", str(rain[1]),
                 f"gone: {tmp_path / 'gone'} is not a folder"):
        assert text in message
    assert "good" not in message.replace(str(good), "") and not (workspace / "translated" / "good").exists()
    checks = link_translations(workspace, {"good": good}, reserved=reserved_names())
    assert checks["good"].found == 12 and checks["good"].stray == 0
    assert (workspace / "translated" / "good").resolve() == good.resolve()
    results = build_workspace_mixes(workspace, ["baseline", "good", "good+vkitti"])
    assert {r.mix: len(r.items) for r in results.values()} == {"baseline": 28, "good": 28, "good+vkitti": 28}
    fog = [i for i in results["good"].items if i.source == "fog"]
    assert all(i.translated and i.frame.image.is_relative_to(workspace / "translated" / "good") for i in fog)


def test_many_missing_frames_are_all_written_to_a_listing(workspace: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from photosynth.translate import external

    monkeypatch.setattr(external, "SHOW", 2)
    (tmp_path / "empty" / "fog").mkdir(parents=True)
    with pytest.raises(TranslationError, match=r"12 of 12 frames missing.*; … and 10 more") as error:
        link_translations(workspace, {"empty": tmp_path / "empty"})
    listing = workspace / "logs" / "translations_empty.txt"
    assert str(listing) in str(error.value) and len(listing.read_text().splitlines()) == 12


def test_builtin_augment_and_nst_run_through_the_registry_as_their_library_functions(workspace: Path,
                                                                                     tmp_path: Path) -> None:
    from photosynth.translate import nst, weather

    vkitti = workspace / "data" / "vkitti2"
    sources = translation_sources(vkitti, "fog")
    registry.run(workspace, "augment", ["fog"], seed=3, progress=False)
    weather.augment_dataset(sources, vkitti, tmp_path / "augment", "fog", seed=3, progress=False)
    for src in sources:
        rel = src.relative_to(vkitti)
        assert find_output(workspace / "translated" / "augment" / "fog", rel).read_bytes() == \
            find_output(tmp_path / "augment", rel).read_bytes()
    options = {"weights": "none", "size": "64x24", "iterations": 1, "lbfgs_maxfun": 2, "batch_size": 4}
    assert registry.run(workspace, "nst", ["fog"], options, progress=False) == {"fog": 4}
    manifest = (workspace / "translated" / "nst" / "fog" / "manifest.json").read_text()
    assert '"status": "complete"' in manifest and nst.preset("study").content_layers[0] in manifest
