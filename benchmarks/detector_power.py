#!/usr/bin/env python3
"""Power of the study's comparison: the seed-to-seed spread and the smallest difference a setting can detect.

Trains ``--mixes`` (default: baseline and oracle, the toy world's ceiling) once per training seed with a
profile's ``05_detectors`` settings (``--set`` overrides them, as in ``photosynth study``), side by side
(``executor: processes``, one torch thread each), scores them on the workspace's occlusion buckets and
bootstraps over seeds and images (``photosynth.study.scoring.bootstrap_study``). Prints, per bucket, each mix's
AP@0.5 (standard, Car+Truck) per seed, mean and seed s.d., each mix minus the baseline with its interval, and the
interval's half-width: a true difference about that large is the smallest this setting tells from 0.

The workspace must hold the profile's data and mixes (notebooks 01 and 04), e.g.::

    .venv/bin/photosynth book --profile demo --runs /tmp/power --only 00_environment,01_datasets,04_training_sets \
        --no-build --set "04_training_sets.mixes=[baseline,oracle]"
    .venv/bin/python benchmarks/detector_power.py --workspace /tmp/power/demo --seeds 0,1,2 \
        --set 05_detectors.epochs=10

Never run by tests.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from photosynth import detect  # noqa: E402
from photosynth.report.pipeline import load_profile, project_root  # noqa: E402
from photosynth.runtime import Workspace, configure  # noqa: E402
from photosynth.study import detectors, scoring  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspace", required=True, help="workspace with the profile's data and mixes")
    parser.add_argument("--profile", default="demo")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="NOTEBOOK.PARAM=VALUE")
    parser.add_argument("--mixes", default="baseline,oracle")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--executor", default="processes", choices=["local", "processes"])
    parser.add_argument("--n-boot", type=int, default=1000)
    args = parser.parse_args()

    workspace = Workspace(Path(args.workspace).resolve())
    configure(workspace)
    profile = load_profile(args.profile, project_root(None), args.overrides)
    params = profile.parameters("05_detectors", workspace)
    settings = detect.TrainSettings.from_parameters(params)
    mixes = [m for m in args.mixes.split(",") if m]
    seeds = [int(s) for s in args.seeds.split(",") if s]
    print(f"settings: {settings.key()} executor {args.executor}; mixes {mixes}; seeds {seeds}")

    start = time.perf_counter()
    trained = detectors.train_study(workspace, mixes, seeds, settings, args.executor, progress=False)
    train_s = time.perf_counter() - start
    print(f"training: {train_s:.0f} s wall for {len(trained)} runs "
          f"({', '.join(f'{k} {r.status} {r.seconds:.0f} s' for k, r in trained.items())})")

    sets = detectors.eval_sets(workspace, ["bucket"])
    metrics = detectors.evaluate_study(workspace, mixes, seeds, detect.PredictSettings(), sets, progress=False)
    per_seed = scoring.study_means(metrics, per_seed=True)
    study = scoring.bootstrap_study(workspace, mixes, seeds, mixes[0], oracle=None, sets=sets,
                                    n_resamples=args.n_boot, progress=False)
    metric = "ap50_standard"
    print(f"\n{metric}, Car+Truck; test images per bucket: "
          + ", ".join(f"{s.name} {len(list((s.folder / 'images').iterdir()))}" for s in sets))
    print(per_seed.pivot_table(index=["mix", "seed"], columns="split", values=metric, sort=False).round(4))
    intervals = study.intervals[study.intervals.metric == metric]
    print("\n" + intervals[["mix", "split", "map", "seed_sd", "lo", "hi", "n_seeds"]].round(4).to_string(index=False))
    diffs = study.differences[study.differences.metric == metric].assign(
        half_width=lambda d: (d.hi - d.lo) / 2, excludes_0=lambda d: (d.lo > 0) | (d.hi < 0))
    print("\n" + diffs[["mix", "baseline", "split", "diff", "lo", "hi", "half_width", "excludes_0"]]
          .round(4).to_string(index=False))


if __name__ == "__main__":
    main()
