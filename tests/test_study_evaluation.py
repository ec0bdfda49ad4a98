"""The study's evaluation on a fake workspace: tables, intervals, curves, examples, figures and the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import yaml

from photosynth import detect
from photosynth.report import figures
from photosynth.atomic import write_json
from photosynth.cli import main
from photosynth.metrics.bootstrap import GAP_MARGIN
from photosynth.runtime import Workspace
from photosynth.study import detectors
from photosynth.report import findings
from photosynth.report import results
from photosynth.study import scoring
from tiny_yolo import make_dataset

SETS = (("buckets", "0-all"), ("buckets", "0-5"), ("buckets", "0-10"), ("weather_eval", "daytime_foggy"))
#: Hand-made detectors: quality (share of objects found) per mix and training seed.
QUALITY = {"baseline": (0.5, 0.5), "cyclegan": (0.9, 0.85), "nst": (0.5, 0.45), "oracle": (0.95, 0.95)}
MIXES, SEEDS = ("baseline", "cyclegan", "nst"), (0, 1)


def fake_predictions(coco: dict, rng: np.random.Generator, quality: float) -> list[dict]:
    """Ground-truth boxes kept with probability ``quality`` (jittered) plus random false positives."""
    out = []
    for ann in coco["annotations"]:
        if rng.random() < quality:
            x, y, w, h = ann["bbox"]
            out.append({"image_id": ann["image_id"], "category_id": ann["category_id"],
                        "bbox": [x + rng.normal(0, 1), y + rng.normal(0, 1), w, h], "score": float(rng.random())})
    for image in coco["images"]:
        out.append({"image_id": image["id"], "category_id": 1, "bbox": [1, 1, 10, 10], "score": float(rng.random())})
    return out


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """Evaluation sets plus predictions of four mixes and two training seeds each (no training)."""
    ws = Workspace(tmp_path_factory.mktemp("study"))
    rng = np.random.default_rng(0)
    for i, (group, name) in enumerate(SETS):
        make_dataset(ws.root / "splits" / group / name, n_train=0, n_val=12, seed=i)
    for s in detectors.eval_sets(ws):
        coco = json.loads(s.coco.read_text())
        for mix, qualities in QUALITY.items():
            for seed, quality in zip(SEEDS, qualities):
                write_json(detectors.prediction_path(ws, mix, seed, s), fake_predictions(coco, rng, quality))
    return ws


@pytest.fixture(scope="module")
def metrics(workspace: Workspace) -> pd.DataFrame:
    sets = detectors.eval_sets(workspace)
    return pd.concat([detectors.evaluate_mix(workspace, m, seed, sets) for m in MIXES for seed in SEEDS])


def test_eval_sets_are_ordered_by_bucket(workspace: Workspace) -> None:
    sets = detectors.eval_sets(workspace)
    assert [(s.group, s.name) for s in sets] == [
        ("bucket", "0-5"), ("bucket", "0-10"), ("bucket", "0-all"), ("weather", "daytime_foggy")]
    with pytest.raises(FileNotFoundError, match="no evaluation sets"):
        detectors.eval_sets(Workspace(workspace.root / "empty"))


def test_metrics_rows_and_study_mean(metrics: pd.DataFrame) -> None:
    assert list(metrics.columns) == ["mix", "seed", "group", "split", "class", "ap50_standard", "ap50_legacy", "n_gt",
                                     "n_pred"]
    assert len(metrics) == 3 * 2 * 4 * 4  # mixes × seeds × sets × (3 classes + mean)
    van = metrics[metrics["class"] == "Van"]
    assert (van["n_gt"] == 0).all() and van["ap50_standard"].isna().all()
    scored = metrics[metrics["n_gt"] > 0]
    assert scored[["ap50_standard", "ap50_legacy"]].apply(lambda c: c.between(0, 1)).all().all()
    means = scoring.study_means(metrics)
    row = means[(means.mix == "baseline") & (means.split == "0-5")].iloc[0]
    per_class = metrics[(metrics.mix == "baseline") & (metrics.split == "0-5") & metrics["class"].isin(["Car", "Truck"])]
    per_seed = per_class.groupby("seed").ap50_legacy.mean()
    assert len(per_seed) == 2 and math.isclose(row.ap50_legacy, per_seed.mean()), "classes first, then seeds"
    assert list(dict.fromkeys(means.split)) == ["0-5", "0-10", "0-all", "daytime_foggy"]
    assert len(scoring.study_means(metrics, per_seed=True)) == 2 * len(means)


def test_study_table_and_published(metrics: pd.DataFrame) -> None:
    table = scoring.study_table(metrics)
    assert list(table.index) == ["baseline", "cyclegan", "nst"]
    assert list(table.columns) == [(m, s) for m in scoring.METRICS for s in ("0-5", "0-10", "0-all")]
    assert table.loc["cyclegan", ("ap50_standard", "0-5")] > table.loc["baseline", ("ap50_standard", "0-5")]
    both = results.side_by_side(metrics, "toy world, seed 0, profile test")
    assert both.loc["baseline", ("original study (real data)", "0-5")] == 0.379
    assert both.loc["cyclegan", ("ours (toy world, seed 0, profile test)", "0-all")] == pytest.approx(
        table.loc["cyclegan", ("ap50_legacy", "0-all")])
    assert scoring.most_occluded_bucket(metrics) == "0-all"  # by design, whatever the scores
    with pytest.raises(ValueError, match="no bucket rows"):
        scoring.most_occluded_bucket(metrics[metrics.group == "weather"])


def test_run_folders_per_seed(workspace: Workspace) -> None:
    assert detectors.run_dir(workspace, "nst", 2) == workspace.root / "detectors" / "nst" / "seed2"
    s = detectors.eval_sets(workspace)[0]
    predictions = detectors.prediction_path(workspace, "nst", 2, s).parent
    assert predictions == workspace.root / "detectors" / "nst" / "seed2" / "predictions"
    assert list(detectors.runs(workspace, ["a", "b"], [0, 1])) == [("a", 0), ("a", 1), ("b", 0), ("b", 1)]
    with pytest.raises(ValueError, match="non-negative integer"):
        detectors.run_dir(workspace, "nst", -1)
    with pytest.raises(FileNotFoundError, match="was not built"):
        detectors.train_mix(workspace, "nst", 0, detect.TrainSettings())


def test_bootstrap_intervals(workspace: Workspace, metrics: pd.DataFrame) -> None:
    intervals, diffs, gap, pairs, _ = scoring.bootstrap_study(workspace, MIXES, SEEDS, n_resamples=40, seed=1,
                                                              groups=("bucket", "weather"), progress=False)
    assert len(intervals) == 3 * 4 * 2 and len(diffs) == 2 * 4 * 2 and gap.empty, "no oracle among the mixes"
    assert len(pairs) == 3 * 2 * 4 * 2 and (pairs.n_seeds == 2).all() and (diffs.n_seeds == 2).all()
    keys = ["group", "split", "metric"]
    flipped = pairs.merge(pairs, left_on=["mix", "other", *keys], right_on=["other", "mix", *keys])
    np.testing.assert_allclose(flipped.diff_x, -flipped.diff_y, atol=1e-12)  # a − b = −(b − a), same resamples
    np.testing.assert_allclose(flipped.lo_x, -flipped.hi_y, atol=1e-12)
    pd.testing.assert_frame_equal(diffs.drop(columns="baseline").reset_index(drop=True),
                                  pairs[pairs.other == "baseline"].drop(columns="other").reset_index(drop=True))
    assert (intervals.lo <= intervals["map"] + 1e-9).all() and (intervals["map"] <= intervals.hi + 1e-9).all()
    assert diffs.share_positive.between(0, 1).all() and (diffs.lo <= diffs.hi).all()
    means = scoring.study_means(metrics)
    first = intervals[(intervals.mix == "nst") & (intervals.split == "0-10") & (intervals.metric == "ap50_legacy")]
    expected = means[(means.mix == "nst") & (means.split == "0-10")].ap50_legacy.iloc[0]
    assert first["map"].iloc[0] == pytest.approx(expected), "bootstrap observed value = the table's study mean"
    per_seed = scoring.study_means(metrics, per_seed=True)
    spread = per_seed[(per_seed.mix == "nst") & (per_seed.split == "0-10")].ap50_legacy.std(ddof=1)
    assert first["seed_sd"].iloc[0] == pytest.approx(spread) and (intervals.n_seeds == 2).all()
    assert (workspace.root / "results" / "bootstrap.csv").is_file()
    alone = scoring.bootstrap_study(workspace, ["baseline"], SEEDS, n_resamples=5, progress=False)
    assert len(alone[0]) == 3 * 2 and alone[1].empty and "share_positive" in alone[1].columns
    again = scoring.bootstrap_study(workspace, ["baseline", "cyclegan"], SEEDS, n_resamples=40, seed=1,
                                       groups=("bucket", "weather"), progress=False)[1]
    pd.testing.assert_frame_equal(again.reset_index(drop=True),
                                  diffs[diffs.mix == "cyclegan"].reset_index(drop=True))
    table = results.seed_table(intervals)
    assert list(table.index) == [(m, x) for m in scoring.METRICS for x in MIXES]
    assert list(table.columns) == [(s, st) for s in ("0-5", "0-10", "0-all") for st in ("mean", "seed s.d.", "lo", "hi")]
    assert table.loc[("ap50_legacy", "nst"), ("0-10", "mean")] == pytest.approx(expected)
    note = results.interval_note(intervals)
    assert "hierarchical" in note and "2 training seeds" in note
    assert "no sentence on these pages states a direction" in note
    one_seed = scoring.bootstrap_study(workspace, MIXES, [0], n_resamples=5, progress=False).intervals
    assert "leave out the seed-to-seed spread" in results.interval_note(one_seed) and one_seed.seed_sd.isna().all()
    assert list(results.seed_table(one_seed).columns.get_level_values(1)[:3]) == ["mean", "lo", "hi"]


def test_a_bootstrap_of_one_metric_elsewhere_keeps_its_resamples(workspace: Workspace, tmp_path: Path) -> None:
    """The sweep's use: one metric, the tables written to its own folder (``results/`` untouched), and the resampled
    means behind every interval kept for further statistics."""
    before = (workspace.root / "results" / "bootstrap.csv").read_bytes()
    study = scoring.bootstrap_study(workspace, ["baseline", "cyclegan"], SEEDS, n_resamples=30, seed=1,
                                    metrics=("ap50_standard",), out=tmp_path / "sweep", progress=False)
    assert set(study.intervals.metric) == {"ap50_standard"} and len(study.intervals) == 2 * 3
    assert sorted(p.name for p in (tmp_path / "sweep").iterdir()) == sorted(scoring.RESULT_FILES)
    assert (workspace.root / "results" / "bootstrap.csv").read_bytes() == before
    assert set(study.samples) == {("bucket", s, "ap50_standard") for s in ("0-5", "0-10", "0-all")}
    drawn = study.samples[("bucket", "0-all", "ap50_standard")]
    row = study.differences[(study.differences.split == "0-all") & (study.differences.mix == "cyclegan")].iloc[0]
    low, high = np.quantile(drawn["cyclegan"].samples - drawn["baseline"].samples, [0.025, 0.975])
    assert (row.lo, row.hi) == pytest.approx((low, high))  # the intervals come from these resamples
    with pytest.raises(ValueError, match="choose from ap50_standard, ap50_legacy"):
        scoring.bootstrap_study(workspace, ["baseline"], SEEDS, metrics=("ap50",), progress=False)


@pytest.mark.parametrize("executor, expected", [("local", None), ("processes", 1)])
def test_evaluate_study_runs_its_predictions_with_the_executor(workspace: Workspace, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch, executor: str,
                                                               expected: int | None) -> None:  # fmt: skip
    """Every mix and seed is one prediction job (one torch thread each side by side; the ones with every prediction
    file are marked done), and the scores go to ``out``."""
    seen: dict = {}

    def fake_run(calls, executor_, slurm, **kwargs):  # noqa: ANN001, ANN202 - stands in for jobs.run
        seen.update(executor=executor_, calls=calls)
        return {}

    monkeypatch.setattr(detectors.jobs, "run", fake_run)
    sets = detectors.eval_sets(workspace, ("bucket",))
    metrics = detectors.evaluate_study(workspace, ["baseline", "cyclegan"], SEEDS, detect.PredictSettings(), sets,
                                       progress=False, executor=executor, out=tmp_path / "sweep")
    assert seen["executor"] == executor and [c.name for c in seen["calls"]] == [
        "baseline seed 0", "baseline seed 1", "cyclegan seed 0", "cyclegan seed 1"]
    assert {c.args[4].threads for c in seen["calls"]} == {expected} and all(c.done() for c in seen["calls"])
    assert (tmp_path / "sweep" / "metrics.csv").is_file() and set(metrics.split) == {"0-5", "0-10", "0-all"}


def test_gap_closed_and_sentences(workspace: Workspace, metrics: pd.DataFrame) -> None:
    """cyclegan (hand-made quality 0.9) closes most of the gap to an oracle of quality 0.95; the oracle is far
    above the baseline (0.5). Two seeds state no direction; a third seed lets the clear ones be said; with the
    baseline's own detectors as the 'oracle' there is no gap."""
    study = scoring.bootstrap_study(workspace, [*MIXES, "oracle"], SEEDS, n_resamples=100, seed=0, progress=False)
    gap = study.gap_closed
    assert set(gap.mix) == {"cyclegan", "nst"} and len(gap) == 2 * 3 * 2
    row = gap[(gap.mix == "cyclegan") & (gap.split == "0-5") & (gap.metric == "ap50_standard")].iloc[0]
    assert row.verdict == "gap to close" and row.gap_lo >= GAP_MARGIN * (row.gap_hi - row.gap_lo)
    small = gap[gap.verdict == "gap too small to share out"]
    assert len(small) and (small.gap_lo > 0).all() and small.closed.isna().all(), "0-all's gap: just clear of 0"
    assert (small.gap_lo < GAP_MARGIN * (small.gap_hi - small.gap_lo)).all()
    iv = study.intervals.set_index(["mix", "split", "metric"])["map"]
    key = ("0-5", "ap50_standard")
    expected = (iv[("cyclegan", *key)] - iv[("baseline", *key)]) / (iv[("oracle", *key)] - iv[("baseline", *key)])
    assert row.closed == pytest.approx(expected) and row.lo <= row.closed <= row.hi
    table = results.gap_table(gap)
    assert table.index.names == ["metric", "split", "mix"]
    assert table.loc[("ap50_standard", "0-5", "cyclegan"), "gap closed"] == pytest.approx(expected)
    assert table.loc[("ap50_standard", "0-5", "cyclegan"), "reading"].endswith(
        "two training runs per mix cannot tell whether it closed any (a verdict needs ≥ 3 seeds)")
    assert (table.xs("every mix", level="mix").reading.str.startswith("gap too small to share out")).all()
    two = findings.comparison_sentences(study, split="0-5").sentences
    assert any("two training runs per mix cannot tell whether there is a gap" in s for s in two)
    assert not any(word in s for s in two for word in ("is above", "is below", "closed", "clear gap"))
    # a third training seed per mix: the directions the intervals show are said
    rng = np.random.default_rng(2)
    for s in detectors.eval_sets(workspace):
        coco = json.loads(s.coco.read_text())
        for mix, qualities in QUALITY.items():
            write_json(detectors.prediction_path(workspace, mix, 2, s), fake_predictions(coco, rng, qualities[-1]))
    three = scoring.bootstrap_study(workspace, [*MIXES, "oracle"], [*SEEDS, 2], n_resamples=100, seed=0,
                                    progress=False)
    on_05 = findings.comparison_sentences(three, split="0-5").sentences
    assert any("leaves a clear gap for a translator to close" in s and "**cyclegan** closed" in s for s in on_05)
    sentences = findings.comparison_sentences(three).sentences
    assert any(s.startswith("**cyclegan** is above **baseline** on bucket 0-all") for s in sentences)
    assert any(s.startswith("Over 3 training seeds") for s in sentences)
    d = three.differences[(three.differences.split == "0-all") & (three.differences.metric == "ap50_standard")]
    for r in d.itertuples():  # every sentence's direction is the one its interval shows
        words = "is above" if r.lo > 0 else "is below" if r.hi < 0 else "cannot be told apart"
        assert words in next(s for s in sentences if s.startswith(f"**{r.mix}**"))
    # the baseline's own predictions as the oracle: no gap to share out
    for s in detectors.eval_sets(workspace):
        for seed in SEEDS:
            target = detectors.prediction_path(workspace, "copy", seed, s)
            write_json(target, json.loads(detectors.prediction_path(workspace, "baseline", seed, s).read_text()))
    none = scoring.bootstrap_study(workspace, ["baseline", "cyclegan", "copy"], SEEDS, oracle="copy",
                                      n_resamples=30, progress=False)
    assert (none.gap_closed.verdict == "no gap to close").all() and none.gap_closed.closed.isna().all()
    collapsed = results.gap_table(none.gap_closed)
    assert len(collapsed) == 1 and collapsed.index[0][2] == "every mix"
    assert collapsed.reading.iloc[0].startswith("no gap to share out")
    assert any("no gap to share out" in s for s in findings.comparison_sentences(none).sentences)


def test_restrict_classes_keeps_per_class_ap(workspace: Workspace) -> None:
    from photosynth.metrics.ap import match, score

    s = detectors.eval_sets(workspace)[0]
    full = match(s.coco, detectors.prediction_path(workspace, "baseline", 0, s), "ap50_standard")
    only_car = scoring.restrict_classes(full, ["Car"])
    assert only_car.category_names == ("Car",)
    assert score(only_car).per_class["Car"] == pytest.approx(score(full).per_class["Car"])
    with pytest.raises(ValueError, match="none of"):
        scoring.restrict_classes(full, ["Bus"])


def test_curves_examples_and_figures(workspace: Workspace, metrics: pd.DataFrame) -> None:
    sets = {s.name: s for s in detectors.eval_sets(workspace)}
    curves = scoring.pr_curves(workspace, ["baseline", "cyclegan"], 0, sets["0-all"])
    assert set(curves["class"]) <= {"Car", "Truck"} and curves.recall.between(0, 1).all()
    assert curves.groupby(["mix", "class"]).precision.apply(lambda p: (np.diff(p.to_numpy()) <= 1e-12).all()).all()
    examples = scoring.detection_examples(workspace, "baseline", 1, sets["0-all"], count=3, min_score=0.5)
    assert len(examples) == 3 and all(Path(e["image"]).is_file() and e["gt"] for e in examples)
    assert all(score >= 0.5 for e in examples for _, score in e["pred"])
    caption = "toy world, seed 0, profile test"
    logs = pd.DataFrame({"mix": ["a", "a", "b", "b"], "epoch": [1, 2, 1, 2], "train/box_loss": [2, 1, 2, 1.5],
                         "metrics/mAP50(B)": [0, 0.1, 0, 0.2]})
    diffs = scoring.bootstrap_study(workspace, ["baseline", "cyclegan"], SEEDS, n_resamples=20,
                                    progress=False).differences
    means = scoring.study_means(metrics)
    for fig in (figures.training_curves(logs, caption),
                figures.metric_heatmap(scoring.study_table(metrics)["ap50_legacy"], "AP50 legacy", caption),
                figures.metric_bars(means, "ap50_standard", title="buckets", caption=caption),
                figures.interval_plot(diffs[diffs.metric == "ap50_standard"], caption),
                figures.pr_curves(curves, caption),
                figures.detection_examples(examples, caption)):
        assert caption in fig._suptitle.get_text()
        assert fig.axes
        plt.close(fig)
    with pytest.raises(ValueError, match="none of the columns"):
        figures.training_curves(pd.DataFrame({"mix": ["a"], "epoch": [1]}))


def test_metric_sentence_reads_its_direction_from_the_numbers(metrics: pd.DataFrame) -> None:
    means = scoring.study_means(metrics).melt(id_vars=["mix", "group", "split"], value_vars=list(scoring.METRICS),
                                              var_name="metric", value_name="map")
    sentence = findings.metric_sentence(means)
    table = scoring.study_table(metrics)
    mean = float((table["ap50_legacy"] - table["ap50_standard"]).to_numpy().mean())
    assert ("higher" if mean > 0 else "lower") in sentence and f"{abs(mean):.3f}" in sentence
    same = means.copy()
    same.loc[same.metric == "ap50_legacy", "map"] = same.loc[same.metric == "ap50_standard", "map"].to_numpy()
    assert "agreed with" in findings.metric_sentence(same)


@pytest.mark.parametrize("executor, threads, expected", [("local", None, None), ("processes", None, 1),
                                                        ("processes", 2, 2), ("local", 2, 2)])
def test_train_study_gives_each_process_one_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, executor: str,
                                                   threads: int | None, expected: int | None) -> None:
    """Side by side, a run gets one torch thread unless the settings name a count; every mix and seed is a call."""
    ws = Workspace(tmp_path)
    seen: dict = {}

    def fake_run(calls, executor_, slurm, **kwargs):  # noqa: ANN001, ANN202 - stands in for jobs.run
        seen.update(executor=executor_, calls=calls, name=kwargs["name"])
        return {c.name: c.args[3] for c in calls}

    monkeypatch.setattr(detectors.jobs, "run", fake_run)
    out = detectors.train_study(ws, ["baseline", "oracle"], [0, 2], detect.TrainSettings(threads=threads), executor)
    assert list(out) == ["baseline seed 0", "baseline seed 2", "oracle seed 0", "oracle seed 2"]
    assert seen["executor"] == executor and seen["name"] == "05_detectors"
    assert {c.args[3].threads for c in seen["calls"]} == {expected}
    assert [c.args[1:3] for c in seen["calls"]] == [("baseline", 0), ("baseline", 2), ("oracle", 0), ("oracle", 2)]
    assert not any(c.done() for c in seen["calls"])  # nothing trained yet


def test_study_cli_end_to_end(tmp_path: Path, project_root: Path, capsys: pytest.CaptureFixture) -> None:
    """1-epoch training of two mixes side by side (executor processes), predictions on every set, metrics.csv and bootstrap.csv (no accuracy check)."""
    ws = Workspace(tmp_path / "ws")
    for mix, seed in (("baseline", 0), ("cyclegan", 1)):
        make_dataset(ws.root / "mixes" / mix, n_train=4, n_val=2, seed=seed)
    make_dataset(ws.root / "splits" / "buckets" / "0-all", n_train=0, n_val=3, seed=5)
    make_dataset(ws.root / "splits" / "weather_eval" / "daytime_rainy", n_train=0, n_val=2, seed=6)
    profile = tmp_path / "tiny.yaml"
    profile.write_text(yaml.safe_dump({"common": {"seed": 0}, "notebooks": {
        "05_detectors": {"mixes": ["baseline", "cyclegan"], "model": "yolov5n", "imgsz": 64, "epochs": 1,
                         "batch": 4, "workers": 0, "optimizer": "SGD", "warmup_epochs": 0,
                         "executor": "processes"},
        "06_results": {"baseline": "baseline", "n_boot": 10}}}))
    common = ["--profile", str(profile), "--workspace", str(ws.root), "--root", str(project_root)]
    assert main(["study", *common]) == 0
    metrics = pd.read_csv(ws.root / "results" / "metrics.csv")
    assert set(metrics.mix) == {"baseline", "cyclegan"} and set(metrics.split) == {"0-all", "daytime_rainy"}
    assert (metrics.groupby(["mix", "split"]).size() == 4).all()
    for mix in ("baseline", "cyclegan"):
        assert (ws.root / "detectors" / mix / "seed0" / "predictions" / "0-all.json").is_file()
        assert detect.read_manifest(ws.root / "detectors" / mix / "seed0")["key"]["settings"]["imgsz"] == 64
    assert len(pd.read_csv(ws.root / "results" / "bootstrap.csv")) == 1 * 2  # bucket sets × metrics
    assert main(["train", *common, "--mix", "cyclegan"]) == 0
    assert "cyclegan seed 0: skipped" in capsys.readouterr().err
    assert main(["train", *common, "--mix", "nst"]) == 2
    assert "no such data.yaml" in capsys.readouterr().err


def test_provenance_names_the_profile_seed_and_the_training_seeds(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    assert results.provenance(ws, "demo", 0) == "real data, profile demo, seed 0"
    (ws.root / "data").mkdir(parents=True)
    (ws.root / "data" / "manifest.json").write_text("{}")
    assert results.provenance(ws, "demo", 0, [0, 1, 2]) == ("toy world, profile demo, seed 0, detectors trained "
                                                            "with seeds 0, 1, 2")
    assert results.provenance(ws, "smoke", 3, [0]).endswith("seed 3, detectors trained with seed 0")
