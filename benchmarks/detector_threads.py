#!/usr/bin/env python3
"""Detector training with ultralytics' thread count (cpu_count − 1) against ours (every core), on the CPU.

Builds the demo profile's baseline mix (toy world: 5 scenes × 60 frames at scale 0.25, the frame%7 mix) in a
workspace folder unless it is already there, then trains the demo's detector (yolov5n, image size 256, batch 8,
SGD, ``nbs`` 8) for ``--epochs`` epochs once per thread setting and prints one JSON line per run with the wall
seconds per epoch (ultralytics' ``results.csv`` time column) and the load average before the run. The machine
may be shared: the load average says how busy it was.

    .venv/bin/python benchmarks/detector_threads.py --workspace /tmp/bench-threads --epochs 2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from photosynth import detect, runtime  # noqa: E402
from photosynth.toyworld.world import make_toyworld  # noqa: E402
from photosynth.study.mixes import build_mix  # noqa: E402


def ultralytics_threads() -> int:
    """The count ultralytics' select_device sets on the CPU."""
    runtime.ultralytics_module()
    from ultralytics.utils import torch_utils

    return int(torch_utils.NUM_THREADS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/bench-detector-threads"))
    parser.add_argument("--epochs", type=int, default=2, help="epochs per run (the first includes warm-up costs)")
    parser.add_argument("--threads", default="", help="comma-separated counts (default: ultralytics', all cores)")
    args = parser.parse_args()
    ws = runtime.Workspace(args.workspace)
    runtime.configure(ws)
    data = ws.root / "data"
    make_toyworld(data, scenes=5, frames=60, scale=0.25, kitti_object=60, bdd_train=240, bdd_val=300,
                  bdd_style_min=15, seed=0)
    mix = build_mix("baseline", data / "vkitti2", data / "kitti_tracking", ws.root / "mixes" / "baseline", seed=0)
    counts = [int(c) for c in args.threads.split(",") if c] or [ultralytics_threads(), detect.cpu_threads()]
    for threads in counts:
        settings = detect.TrainSettings(model="yolov5n", imgsz=256, epochs=args.epochs, batch=8, optimizer="SGD",
                                        warmup_epochs=1, extra={"nbs": 8}, workers=2, threads=threads)
        run = ws.root / "detectors" / f"threads{threads}"
        shutil.rmtree(run, ignore_errors=True)
        load = os.getloadavg()[0]
        started = time.time()
        result = detect.train(mix.data_yaml, run, settings, ws, progress=False)
        log = detect.read_results(result.run_dir)
        print(json.dumps({"threads": threads, "ultralytics_default": ultralytics_threads(), "epochs": args.epochs,
                          "s_per_epoch": round(detect.seconds_per_epoch(log), 2),
                          "first_epoch_s": round(float(log["time"].iloc[0]), 2),
                          "wall_s": round(time.time() - started, 1), "cores": os.cpu_count(),
                          "load_avg_1min_before": round(load, 2)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
