"""The budget sweep (issue 22) on hand-made numbers: its spec and clear errors, each point's options (the base run's
but the budget), the sweep table, Kendall's τ with its bootstrap interval and permutation test, the sentences under the
book's rule, the figures, the profile, and notebook 08's "not run" path."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from photosynth.metrics.bootstrap import GAP_OPEN, NO_GAP, SeedSamples, difference, gap_closed
from photosynth.report import pipeline
from photosynth.report import sweep as report
from photosynth.study import sweep
from photosynth.study.scoring import StudyBootstrap
from photosynth.translate import registry
from photosynth.translate.cyclegan.config import CycleGANConfig
from photosynth.translate.cyclegan.cut_config import CUTConfig

BASE = {"cyclegan": 700, "cut": 700, "nst": 8}


# ------------------------------------------------------------------------------------------------ the spec


def test_a_spec_names_its_points_and_reuses_the_base_runs() -> None:
    spec = sweep.parse_spec({"cyclegan": {"budgets": [700, 1400, 2800]}, "nst": {"budgets": [8, 32],
                             "options": {"batch_size": 16}}}, BASE, ["cyclegan+vkitti", "nst_e32+vkitti"])
    assert [p.name for p in spec.points] == ["cyclegan", "cyclegan_s1400", "cyclegan_s2800", "nst", "nst_e32"]
    assert [p.reused for p in spec.points] == [True, False, False, True, False]
    assert [p.name for p in spec.new] == ["cyclegan_s1400", "cyclegan_s2800", "nst_e32"]
    assert spec.mixes[-2:] == ["cyclegan+vkitti", "nst_e32+vkitti"]
    assert spec.point_of("nst_e32+vkitti").budget == 32 and spec.point_of("cyclegan").unit == "steps"
    assert spec.options == {"cyclegan": {}, "nst": {"batch_size": 16}}


@pytest.mark.parametrize(("entry", "extras", "message"), [
    ({"pix2pix": {"budgets": [1, 2]}}, [], r"unknown translator 'pix2pix' in the sweep: it sweeps cyclegan \(steps\)"),
    ({"cyclegan": {"budgets": [700, 700]}}, [], r"budgets must increase, got \[700, 700\]"),
    ({"cyclegan": {"budgets": [2800, 1400]}}, [], "budgets must increase"),
    ({"cyclegan": {"budgets": [700, 1.5e3]}}, [], "positive whole steps"),
    ({"cyclegan": {"budgets": []}}, [], "positive whole steps"),
    ({"cyclegan": {"budgets": [0, 700]}}, [], "positive whole steps"),
    ({"cyclegan": [700, 1400]}, [], r"expected \{budgets"),
    ({"cyclegan": {"budgets": [700], "steps": 3}}, [], r"expected \{budgets"),
    ({"nst": {"budgets": [8], "options": {"size": "10x10"}}}, [], "unknown option.*size.*weights, batch_size"),
    ({"cyclegan": {"budgets": [700]}}, ["cut+vkitti"], "translator 'cut' is not a point"),
    ({"cyclegan": {"budgets": [700]}}, ["cyclegan"], "already a point"),
    ({"cyclegan": {"budgets": [700]}}, ["Bad Name"], "bad mix name"),
])  # fmt: skip
def test_bad_specs_are_clear_errors(entry: dict, extras: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sweep.parse_spec(entry, BASE, extras)


def test_points_take_every_option_of_the_base_run_but_the_budget() -> None:
    base = CycleGANConfig(ngf=16, steps=400, decay_steps=300, residual=True, lambda_identity=0.0, crop_size=64)
    for budget, (steps, decay) in {700: (400, 300), 1400: (800, 600), 2800: (1600, 1200), 2100: (1200, 900)}.items():
        config = sweep.gan_config(base, budget)
        assert (config.steps, config.decay_steps, config.total_steps) == (steps, decay, budget)
        assert {k: v for k, v in config.to_dict().items() if k not in ("steps", "decay_steps")} == \
            {k: v for k, v in base.to_dict().items() if k not in ("steps", "decay_steps")}
    rain = CUTConfig.from_cyclegan(base, steps=400, decay_steps=300, lr=1e-4, n_layers_d=2, nce_layers=(0, 4, 7, 10, 12))
    config = sweep.gan_config(rain, 1400)
    assert isinstance(config, CUTConfig) and (config.n_layers_d, config.lr, config.steps) == (2, 1e-4, 800)


def nst_manifest(weights_label: str) -> dict:
    config = {"content_layers": ["block2_conv2"], "style_layers": ["block1_conv2", "block2_conv2"],
              "content_weight": 0.01, "style_weight": 4.0, "tv_weight": 0.995, "tv_power": 1.25, "optimizer": "lbfgs",
              "iterations": 2, "lbfgs_maxfun": 4, "learning_rate": 0.02, "adam_beta1": 0.99, "adam_beta2": 0.999,
              "adam_epsilon": 1e-8, "size": [96, 30], "preserve_color": False, "init": "color", "log_every": 10}
    return {"settings": {"method": "nst", "weights": weights_label, "config": config, "seed": 3}, "backend": "tensorflow",
            "status": "complete"}


def test_nst_points_keep_the_base_configuration_and_weights() -> None:
    from photosynth.translate.nst.weights import resolve_weights

    base = nst_manifest(resolve_weights("none").label)
    options = sweep.nst_options(base, 32, {"weights": "none", "batch_size": 16})
    translator = registry.load("nst", options)  # the registered translator takes them as they are
    assert translator.batch_size == 16 and translator.weights == "none"
    assert (translator.config.iterations, translator.config.lbfgs_maxfun, translator.config.size) == (2, 16, (96, 30))
    assert translator.config.init == "color" and translator.config.style_layers == ("block1_conv2", "block2_conv2")
    with pytest.raises(ValueError, match="not a multiple of the base run's 2 L-BFGS iteration"):
        sweep.nst_options(base, 33, {"weights": "none"})
    with pytest.raises(ValueError, match="resolve to .*random_calibrated.*the base run used 'none"):
        sweep.nst_options(base, 32, {"weights": "random_calibrated"})


def test_the_base_runs_set_the_budgets(tmp_path: Path) -> None:
    for weather, maxfun in (("fog", 4), ("rain", 4)):
        folder = tmp_path / "translated" / "nst" / weather
        folder.mkdir(parents=True)
        manifest = nst_manifest("none (random init)")
        manifest["settings"]["config"]["lbfgs_maxfun"] = maxfun
        (folder / "manifest.json").write_text(json.dumps(manifest))
    assert sweep.base_budget(tmp_path, "nst", ["fog", "rain"]) == 8
    spec = sweep.workspace_spec(tmp_path, {"nst": {"budgets": [8, 16]}}, weathers=["fog", "rain"])
    assert [p.name for p in spec.points] == ["nst", "nst_e16"]
    with pytest.raises(FileNotFoundError, match="overcast: no NST manifest"):
        sweep.base_budget(tmp_path, "nst", ["overcast"])
    with pytest.raises(FileNotFoundError, match="no cyclegan model for fog, the sweep's base run"):
        sweep.base_budget(tmp_path, "cyclegan", ["fog"])
    with pytest.raises(ValueError, match="unknown translator\\(s\\) 'pix2pix'"):
        sweep.workspace_spec(tmp_path, {"pix2pix": {"budgets": [1]}})


# ------------------------------------------------------------------------------------------ hand-made study


BUCKETS = ["0-5", "0-all"]
RESAMPLES = 400


def samples(mean: float, spread: float, seed: int, n_seeds: int = 3) -> SeedSamples:
    rng = np.random.default_rng(seed)
    return SeedSamples(mean + rng.normal(0, spread, n_seeds), mean + rng.normal(0, spread, RESAMPLES))


def hand_made(means: dict[str, float], spread: float = 0.002, n_seeds: int = 3, oracle: str | None = "oracle",
              ) -> tuple[pd.DataFrame, StudyBootstrap]:  # fmt: skip
    """Per-seed metrics and a bootstrap of ``means`` (mix → AP on every bucket; 0-5 is 0.1 higher)."""
    seeds = range(n_seeds)
    metrics = pd.DataFrame([{"mix": mix, "seed": s, "group": "bucket", "split": split, "class": cls, "n_gt": 5,
                             "ap50_standard": value + (0.1 if split == "0-5" else 0) + 0.01 * s,
                             "ap50_legacy": value}
                            for mix, value in means.items() for s in seeds for split in BUCKETS
                            for cls in ("Car", "Truck")])
    where = {"group": "bucket", "metric": "ap50_standard", "n_seeds": n_seeds}
    meta = {"level": 0.95, "n_resamples": RESAMPLES}
    singles, pairs, gaps, resampled = [], [], [], {}
    for split in BUCKETS:
        drawn = {m: samples(v + (0.1 if split == "0-5" else 0), spread, i, n_seeds) for i, (m, v) in enumerate(
            means.items())}
        resampled[("bucket", split, "ap50_standard")] = drawn
        for mix, one in drawn.items():
            low, high = one.interval()
            singles.append({"mix": mix, "split": split, **where, "map": one.observed, "seed_sd": one.spread,
                            "lo": low, "hi": high})
            for other in drawn:
                if other != mix:
                    d = difference(drawn[other], one)
                    pairs.append({"mix": mix, "other": other, "split": split, **where, "diff": d.observed,
                                  "lo": d.low, "hi": d.high, "share_positive": d.share_positive})
            if oracle and mix not in ("baseline", oracle):
                g = gap_closed(drawn["baseline"], one, drawn[oracle])
                gaps.append({"mix": mix, "split": split, **where, "closed": g.observed, "lo": g.low, "hi": g.high,
                             "gap": g.gap, "gap_lo": g.gap_low, "gap_hi": g.gap_high, "verdict": g.verdict})
    pair_table = pd.DataFrame(pairs).assign(**meta)
    differences = pair_table[pair_table.other == "baseline"].rename(columns={"other": "baseline"})
    gap_table = pd.DataFrame(gaps, columns=["mix", "split", *where, "closed", "lo", "hi", "gap", "gap_lo", "gap_hi",
                                            "verdict"]).assign(**meta)
    return metrics, StudyBootstrap(pd.DataFrame(singles).assign(**meta), differences.reset_index(drop=True),
                                   gap_table, pair_table, resampled)


def fidelity_of(values: dict[str, dict[str, float]]) -> pd.DataFrame:
    """A fidelity table: each set's measures on two weathers (fog: as given, rain: + 0.1)."""
    return pd.DataFrame([{"translator": name, "weather": weather, "n_frames": 5,
                          **{m: v.get(m, np.nan) + shift for m in sweep.MEASURES}}
                         for name, v in values.items() for weather, shift in (("fog", 0.0), ("rain", 0.1))])


SPEC = sweep.parse_spec({"cyclegan": {"budgets": [8, 16, 32]}, "nst": {"budgets": [6, 12]}},
                        {"cyclegan": 8, "nst": 6}, ["cyclegan+vkitti"])
MEANS = {"baseline": 0.30, "oracle": 0.50, "cyclegan": 0.34, "cyclegan_s16": 0.38, "cyclegan_s32": 0.42,
         "nst": 0.31, "nst_e12": 0.36, "cyclegan+vkitti": 0.35}
FIDELITY = {"clone": {"kid": 0.9}, "vkitti": {"kid": 0.5, "content_kept": 0.9}, "oracle": {"kid": 0.1, "content_kept": 1.0},
            "cyclegan": {"kid": 0.4, "content_kept": 0.7, "ssim": 0.5}, "cyclegan_s16": {"kid": 0.3, "content_kept": 0.8, "ssim": 0.5},
            "cyclegan_s32": {"kid": 0.2, "content_kept": 0.9, "ssim": 0.5}, "nst": {"kid": 0.6, "content_kept": 0.6, "ssim": 0.4},
            "nst_e12": {"kid": 0.5, "content_kept": 0.75, "ssim": 0.6}}  # fmt: skip


def test_the_sweep_table_has_a_row_per_mix_seed_and_bucket() -> None:
    metrics, study = hand_made(MEANS)
    table = sweep.sweep_table(SPEC, metrics, study, fidelity_of(FIDELITY))
    assert list(table.columns) == list(sweep.COLUMNS)
    assert len(table) == len(MEANS) * 3 * len(BUCKETS)
    one = table[(table.mix == "cyclegan_s16") & (table.bucket == "0-all")].set_index("seed")
    assert (one.translator.unique(), one.budget.unique(), one.unit.unique(), one.kind.unique()) == (
        ["cyclegan"], [16], ["steps"], ["point"])
    assert one.ap.tolist() == pytest.approx([0.38, 0.39, 0.40])  # each seed's own mean over Car and Truck
    assert one.ap_mean.nunique() == 1 and one["diff"].iloc[0] == pytest.approx(0.08, abs=0.01)
    assert one.gap_verdict.iloc[0] == GAP_OPEN and one.gap_closed.iloc[0] == pytest.approx(0.4, abs=0.05)
    assert one.kid.iloc[0] == pytest.approx(0.35) and one.content_kept.iloc[0] == pytest.approx(0.85)  # weathers' mean
    kinds = table.drop_duplicates("mix").set_index("mix")
    assert kinds.loc["cyclegan+vkitti", ["kind", "translator", "budget"]].tolist() == ["extra", "cyclegan+vkitti", 8]
    assert kinds.loc["cyclegan+vkitti", "kid"] == kinds.loc["cyclegan", "kid"]  # the same frames
    assert kinds.loc["baseline", "kid"] == pytest.approx(0.55)  # vKITTI's renders
    assert kinds.loc["baseline", "diff"] == 0 and kinds.loc["oracle", "kind"] == "oracle"
    assert np.isnan(kinds.loc["oracle", "ssim"])


def test_kendall_finds_a_clear_ordering_and_its_uncertainty() -> None:
    measure, change = np.arange(6.0), np.arange(6.0) * 0.01
    noise = np.random.default_rng(0).normal(0, 0.001, (300, 6))
    found = sweep.kendall(measure, change, change + noise, seed=1)
    assert found.tau == pytest.approx(1.0) and found.n_points == 6
    assert found.p_value == pytest.approx(2 / 720)  # exact: both perfect orderings of 720
    assert 0.5 < found.lo <= found.hi <= 1.0


def test_kendall_with_no_clear_ordering_states_its_uncertainty() -> None:
    measure = np.arange(8.0)
    change = np.array([0.03, 0.01, 0.04, 0.00, 0.05, 0.02, 0.00, 0.03])  # no ordering
    noise = np.random.default_rng(0).normal(0, 0.02, (300, 8))
    found = sweep.kendall(measure, change, change + noise, seed=1)
    assert abs(found.tau) < 0.3 and found.p_value > 0.3 and found.lo < 0 < found.hi


def test_kendall_needs_three_varying_points() -> None:
    assert np.isnan(sweep.kendall([1.0, 2.0], [0.1, 0.2]).tau)
    few = sweep.kendall([1.0, np.nan, 2.0, np.nan], [0.1, 0.2, 0.3, 0.4])
    assert few.n_points == 2 and np.isnan(few.p_value)
    assert np.isnan(sweep.kendall([1.0, 1.0, 1.0], [0.1, 0.2, 0.3]).tau)  # a measure that does not vary
    four = sweep.kendall([1.0, 2.0, 3.0, 4.0], [0.1, 0.2, 0.3, 0.4])
    assert four.tau == pytest.approx(1.0) and four.p_value == pytest.approx(1 / 12) and np.isnan(four.lo)  # never below 0.05
    with pytest.raises(ValueError, match="one measure and one change per point"):
        sweep.kendall([1.0, 2.0, 3.0], [0.1, 0.2])


def test_the_kendall_table_orients_each_measure_and_counts_its_points() -> None:
    metrics, study = hand_made(MEANS)
    table = sweep.sweep_table(SPEC, metrics, study, fidelity_of(FIDELITY))
    found = sweep.kendall_table(table, study, "0-all", n_permutations=999).set_index("measure")
    assert found.loc["kid", "orientation"] == "lower is closer" and found.loc["kid", "tau"] == pytest.approx(0.8)
    assert found.loc["content_kept", "tau"] > 0.9 and found.loc["content_kept", "n_points"] == 5  # the extra is not one
    assert found.loc["content_kept", "lo"] > 0 and found.loc["content_kept", "p_value"] < 0.05
    assert np.isnan(found.loc["psnr", "tau"]) and found.loc["psnr", "n_points"] == 0
    assert set(found.n_seeds) == {3} and set(found.bucket) == {"0-all"}


# ---------------------------------------------------------------------------------------------- sentences


def sweep_findings(means: dict[str, float], spread: float, n_seeds: int = 3) -> list[str]:
    metrics, study = hand_made(means, spread, n_seeds)
    table = sweep.sweep_table(SPEC, metrics, study, fidelity_of(FIDELITY))
    kendall = sweep.kendall_table(table, study, "0-all", n_permutations=999)
    return report.sentences(table, study, kendall, "0-all").sentences


def test_a_clear_rise_is_said_and_the_measure_that_orders_the_points_is_named() -> None:
    cyclegan, nst, measures = sweep_findings(MEANS, 0.002)
    assert cyclegan.startswith("**cyclegan** from 8 steps to 32 steps") and "rises with the budget" in cyclegan
    assert re.search(r"moved by \+0\.0[78]\d \(95% interval \[\+0\.0\d\d, \+0\.0\d\d\]\); its share of the "
                     r"oracle's gap went from (19|20|21)% to (59|60|61)%", cyclegan)
    assert "rises with the budget" in nst
    assert "**content kept** τ = +" in measures and "orders the points as the detector does" in measures
    assert "5 points" in measures


def test_an_interval_that_contains_0_states_no_direction() -> None:
    flat = {**MEANS, "cyclegan_s16": 0.341, "cyclegan_s32": 0.342, "nst_e12": 0.309}
    cyclegan, nst, measures = sweep_findings(flat, 0.05)
    for sentence in (cyclegan, nst):
        assert "cannot tell whether more" in sentence and "interval contains 0" in sentence
        assert not re.search(r"rises|falls", sentence)
    assert "No fidelity measure orders the points" in measures and "the strongest is" in measures


def test_two_seeds_state_no_direction_however_clear_the_interval() -> None:
    cyclegan, _, measures = sweep_findings(MEANS, 0.002, n_seeds=2)
    assert "two training runs per mix cannot tell whether more steps help" in cyclegan and "rises" not in cyclegan
    assert "cannot tell which measure orders the points" in measures and "orders the points as the" not in measures


def test_one_budget_and_too_few_points_are_said_plainly() -> None:
    kendall = pd.DataFrame([{"measure": "kid", "tau": np.nan, "lo": np.nan, "hi": np.nan, "p_value": np.nan,
                             "n_points": 2, "n_seeds": 3, "bucket": "0-all", "level": 0.95}])
    assert "With 2 points no Kendall τ is computed" in report.measure_sentence(kendall)
    points = pd.DataFrame([{"kind": "point", "translator": "nst", "budget": 8, "unit": "evaluations", "mix": "nst"}])
    assert report.budget_sentence(points, pd.DataFrame(), "nst", "95%") == \
        "**nst** has one budget in this sweep: nothing to compare."


def test_the_sweep_figures_and_tables_render() -> None:
    import matplotlib.pyplot as plt

    metrics, study = hand_made(MEANS)
    table = sweep.sweep_table(SPEC, metrics, study, fidelity_of(FIDELITY))
    kendall = sweep.kendall_table(table, study, "0-all", n_permutations=99)
    budget = report.budget_figure(table, "0-all", "hand-made")
    assert [ax.get_xlabel() for ax in budget.axes[:2]] == ["budget (steps, log scale)",
                                                           "budget (evaluations, log scale)"]
    assert budget.axes[0].get_xscale() == "log" and budget.axes[0].get_ylabel() == "gap closed (%)"
    measures = report.measures_figure(table, kendall, "0-all", "hand-made")
    assert sum(ax.get_visible() for ax in measures.axes) == 3  # ssim, kid, content kept have values
    differences, gaps = report.interval_tables(table, "hand-made")
    assert "cyclegan_s16 (16 steps)" in differences.cells.index and "oracle" in differences.cells.index
    assert differences.caption.startswith("Difference to the baseline, AP@0.5 standard over 3 training seeds")
    assert "oracle" not in gaps.cells.index and "baseline" not in differences.cells.index
    assert "Kendall τ" in report.kendall_shown(kendall).to_html()
    _, no_gap = hand_made({**MEANS, "oracle": 0.30}, oracle="oracle")
    flat = sweep.sweep_table(SPEC, metrics, no_gap, fidelity_of(FIDELITY))
    assert set(flat.gap_verdict.dropna()) == {NO_GAP}
    assert report.budget_figure(flat, "0-all").axes[0].get_ylabel() == "AP@0.5 standard − baseline"
    plt.close("all")


# ------------------------------------------------------------------------------------- profile and notebook


def test_the_sweep_profile_is_the_demo_in_the_demos_workspace(project_root: Path) -> None:
    demo, swept = pipeline.load_profile("demo", project_root), pipeline.load_profile("sweep", project_root)
    assert swept.workspace_name == "demo" and demo.workspace_name == "demo"
    assert list(swept.notebooks) == list(demo.notebooks) and swept.common == demo.common
    for name in demo.notebooks:  # 00-07 exactly the demo's: its workspace stays valid, everything is reused
        if name != "08_sweep":
            assert swept.notebooks[name] == demo.notebooks[name], name
    assert demo.notebooks["08_sweep"]["sweep"] == {}
    budgets = {t: e["budgets"] for t, e in swept.notebooks["08_sweep"]["sweep"].items()}
    assert budgets == {"cyclegan": [700, 1400, 2800], "cut": [700, 1400, 2800], "nst": [8, 16, 32]}
    gan = demo.notebooks["02_cyclegan"]
    assert gan["steps"] + gan["decay_steps"] == gan["cut_steps"] + gan["cut_decay_steps"] == 700  # the reused points
    nst = demo.notebooks["03_style_transfer"]
    assert nst["nst_iterations"] * nst["nst_lbfgs_maxfun"] == 8
    options = swept.notebooks["08_sweep"]["sweep"]["nst"]["options"]
    assert (options["weights"], options["batch_size"]) == (nst["nst_weights"], nst["nst_batch_size"])
    seeds = swept.notebooks["08_sweep"]["seeds"]
    assert seeds == demo.notebooks["05_detectors"]["seeds"] == [0, 1, 2]
    smoke = pipeline.load_profile("smoke", project_root).notebooks["08_sweep"]
    assert smoke["sweep"]["cyclegan"]["budgets"][0] == 8 and smoke["seeds"] == [0, 1]


def test_not_run_the_notebook_glues_what_the_results_page_pastes(project_root: Path, tmp_path: Path) -> None:
    """A profile without a sweep (demo, full): notebook 08 needs no workspace and every key the Results page pastes
    is glued, the note saying how to run it."""
    import papermill

    out = tmp_path / "08.ipynb"
    papermill.execute_notebook(str(project_root / "notebooks" / "08_sweep.ipynb"), str(out), kernel_name="python3",
                               parameters={"profile": "demo", "workspace": str(tmp_path / "empty")},
                               progress_bar=False, cwd=str(project_root))
    executed = json.loads(out.read_text())
    glued = {}
    for cell in executed["cells"]:
        for output in cell.get("outputs", []):
            scrap = output.get("metadata", {}).get("scrapbook", {})
            if scrap:
                glued[scrap["name"]] = "".join(output["data"].get(scrap["mime_prefix"] + "text/html", ""))
    page = (project_root / "book" / "results.md").read_text()
    pasted = set(re.findall(r"nb08_\w+", page))
    assert pasted and pasted <= set(glued), pasted - set(glued)
    assert "not run in this build" in glued["nb08_note"] and "make book PROFILE=sweep" in glued["nb08_note"]
    assert not (tmp_path / "empty").exists()  # nothing was written
