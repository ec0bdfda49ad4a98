"""Streaming BDD100K reader vs ``json.load``: wall time and peak memory on a full-size 2018 label file.

    .venv/bin/python benchmarks/bdd_convert.py                 # 70k frames from the toy world's label generator
    .venv/bin/python benchmarks/bdd_convert.py --labels FILE   # any 2018-style list file (e.g. the real one)

Each variant runs in its own process and turns every entry into Frames (``bdd_frames``); no images exist, so
both read labels only with the explicit ``image_size=BDD_IMAGE_SIZE`` option. (a) ``stream``:
``read_bdd100k`` (ijson, one frame dict at a time). (b) ``load``: ``json.load`` of the whole file, then the
same Frame construction. Reported: seconds spent reading (imports excluded) and peak RSS (``ru_maxrss``).
Goal (issue 3): (a) ≤ 10 % of (b)'s peak memory at ≤ 1.25× its time.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tqdm import tqdm


def make_labels(path: Path, frames: int, seed: int) -> tuple[int, int]:
    """Write a 2018-style list from ``toyworld.bdd_labels``, one frame at a time; ``(frames, labels)``."""
    from photosynth.datasets.toyworld import bdd_labels

    path.parent.mkdir(parents=True, exist_ok=True)
    n_frames = n_labels = 0
    with path.open("w") as fh:
        fh.write("[")
        for record in tqdm(bdd_labels(frames, seed, layout="2018"), total=frames, desc="labels", unit="frame"):
            fh.write(("," if n_frames else "") + json.dumps(record))
            n_frames += 1
            n_labels += len(record.get("labels") or [])
        fh.write("]\n")
    return n_frames, n_labels


def measure(variant: str, labels: Path) -> dict[str, float]:
    """Run one variant in this process: read every frame, count boxes; return time and peak RSS."""
    from photosynth.datasets.bdd100k import BDD_IMAGE_SIZE, bdd_frames, read_bdd100k

    start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    if variant == "stream":
        frames = read_bdd100k(labels.parent.parent, labels=labels, layout="2018", image_size=BDD_IMAGE_SIZE)
    else:
        with labels.open() as fh:
            records = json.load(fh)
        frames = bdd_frames(records, labels.parent, str(labels), {"split": "train", "layout": "2018"}, BDD_IMAGE_SIZE)
    n_frames = n_boxes = 0
    for frame in frames:
        n_frames += 1
        n_boxes += len(frame.boxes)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {"seconds": seconds, "peak_rss_mib": peak / 1024, "rss_before_mib": start_rss / 1024,
            "frames": n_frames, "boxes": n_boxes}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=70_000, help="frames to generate (default 70000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--labels", type=Path, help="use this 2018-style label file instead of generating one")
    parser.add_argument("--workdir", type=Path, help="where to write the generated file (default: a temp folder)")
    parser.add_argument("--measure", choices=("stream", "load"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.labels)))
        return
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        labels = args.labels
        if labels is None:
            labels = Path(tmp) / "labels" / "bdd100k_labels_images_train.json"
            n_frames, n_labels = make_labels(labels, args.frames, args.seed)
            print(f"generated {labels}: {n_frames} frames, {n_labels} labels")
        print(f"label file: {labels.stat().st_size / 2**20:.1f} MiB")
        results = {}
        for variant in ("stream", "load"):
            cmd = [sys.executable, __file__, "--measure", variant, "--labels", str(labels)]
            results[variant] = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    for variant, r in results.items():
        print(f"{variant:>6}: {r['seconds']:7.2f} s  peak RSS {r['peak_rss_mib']:8.1f} MiB "
              f"(after imports {r['rss_before_mib']:.1f} MiB)  {r['frames']} frames, {r['boxes']} boxes")  # fmt: skip
    s, b = results["stream"], results["load"]
    if (s["frames"], s["boxes"]) != (b["frames"], b["boxes"]):
        raise SystemExit("the two variants disagree on the frame/box counts")
    memory, speed = s["peak_rss_mib"] / b["peak_rss_mib"], s["seconds"] / b["seconds"]
    print(f"stream/load: memory {memory:.1%} (goal <= 10%), time {speed:.2f}x (goal <= 1.25x)")


if __name__ == "__main__":
    main()
