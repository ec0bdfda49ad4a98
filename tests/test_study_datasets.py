"""The datasets stage: workspace roots (toy world or links to real roots), statistics, figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from photosynth.report import figures
from photosynth.study import datasets

TOY = dict(scenes=1, frames=2, scale=0.08, kitti_object=2, bdd_train=8, bdd_val=8, bdd_style_min=1, progress=False)


@pytest.fixture(scope="module")
def toy_ws(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    ws = tmp_path_factory.mktemp("ws")
    return ws, datasets.prepare_data(ws, {}, TOY, seed=1)


def test_toy_world_fills_the_workspace(toy_ws: tuple[Path, dict]) -> None:
    ws, data = toy_ws
    assert data["source"] == "toy world"
    assert data["roots"] == {n: (ws / "data" / n).resolve() for n in datasets.ROOTS}
    assert (ws / "data" / "manifest.json").is_file()
    assert datasets.prepare_data(ws, {"kitti_object": ""}, TOY, seed=1)["toyworld"]["skipped"] is True


def test_real_roots_are_linked(toy_ws: tuple[Path, dict], tmp_path: Path) -> None:
    _, toy = toy_ws
    given = {n: toy["roots"][n] for n in ("kitti_tracking", "vkitti2", "bdd100k")}
    data = datasets.prepare_data(tmp_path / "real", given)
    assert data["source"] == "real data" and set(data["roots"]) == set(given)
    for name, target in given.items():
        link = tmp_path / "real" / "data" / name
        assert link.is_symlink() and link.resolve() == Path(target).resolve()
    assert not (tmp_path / "real" / "data" / "kitti_object").exists()
    again = datasets.prepare_data(tmp_path / "real", given)  # re-linking is fine
    assert set(again["roots"]) == set(given)


def test_bad_roots_are_clear_errors(toy_ws: tuple[Path, dict], tmp_path: Path) -> None:
    ws, toy = toy_ws
    with pytest.raises(ValueError, match="vkitti2_root"):
        datasets.prepare_data(tmp_path, {"bdd100k": toy["roots"]["bdd100k"], "kitti_tracking": "x"})
    with pytest.raises(FileNotFoundError, match="vkitti2_root=/nonexistent"):
        datasets.prepare_data(tmp_path, {"kitti_tracking": toy["roots"]["kitti_tracking"], "vkitti2": "/nonexistent",
                                         "bdd100k": toy["roots"]["bdd100k"]})  # fmt: skip
    with pytest.raises(FileExistsError, match="toy world"):
        datasets.prepare_data(ws, {n: toy["roots"][n] for n in datasets.REQUIRED_REAL})
    with pytest.raises(ValueError, match="unknown dataset roots"):
        datasets.prepare_data(tmp_path, {"kitti2": "x"})


def test_statistics_and_examples(toy_ws: tuple[Path, dict]) -> None:
    _, data = toy_ws
    roots = {k: v for k, v in data["roots"].items() if k != "bdd100k"}
    stats = datasets.dataset_statistics(datasets.read_roots(roots))
    assert set(stats.dataset) == {"kitti_tracking", "kitti_object", "vkitti2"}
    vk = stats[stats.dataset == "vkitti2"]
    assert set(vk.weather) == set(datasets.SAMPLE_VARIATIONS) | {"15-deg-left", "15-deg-right", "30-deg-left", "30-deg-right"}
    assert vk.drop_duplicates("weather")["images"].tolist() == [2] * 10  # Camera_0, 2 frames per variation
    examples = datasets.sample_examples(data["roots"], seed=0)
    labels = [e["label"].split(" · ")[0] for e in examples]
    assert labels[:2] == ["kitti_tracking", "kitti_object"]
    assert [f"vKITTI2 {v}" for v in datasets.SAMPLE_VARIATIONS] == [lab for lab in labels if lab.startswith("vKITTI2")]
    assert any(lab.startswith("BDD daytime_") for lab in labels)
    assert all(Path(e["image"]).is_file() for e in examples)


def test_figures_show_the_counts(toy_ws: tuple[Path, dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    fig = figures.occlusion_histogram({"0": 2, "3": 5}, [1, 2], "caption")
    ax = fig.axes[0]
    assert [p.get_height() for p in ax.patches] == [2, 0, 0, 5]
    assert [line.get_xdata()[0] for line in ax.lines] == [1.5, 2.5]
    _, data = toy_ws
    stats = datasets.dataset_statistics(datasets.read_roots({"kitti_tracking": data["roots"]["kitti_tracking"]}))
    fig = figures.class_counts_plot(stats)
    heights = sorted(p.get_height() for p in fig.axes[0].patches if p.get_height() > 0)
    assert heights == sorted(v for v in stats.groupby("class")["boxes"].sum() if v > 0)
