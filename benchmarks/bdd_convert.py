"""Streaming BDD100K reader vs ``json.load``: wall time and peak memory on a full-size 2018 label file.

    .venv/bin/python benchmarks/bdd_convert.py                 # 70k frames from the toy world's label generator
    .venv/bin/python benchmarks/bdd_convert.py --workdir DIR   # keep the generated file in DIR, reuse it next time
    .venv/bin/python benchmarks/bdd_convert.py --labels FILE   # any 2018-style list file (e.g. the real one)

Each variant runs in its own process and turns every entry into Frames (``bdd_frames``); no images exist, so
both read labels only with the explicit ``image_size=BDD_IMAGE_SIZE`` option. (a) ``stream``:
``read_bdd100k`` (ijson, one frame dict at a time). (b) ``load``: ``json.load`` of the whole file, then the
same Frame construction. Reported per variant: best wall and CPU seconds spent reading (imports excluded)
over ``--repeat`` alternating runs, and peak RSS (``VmHWM``). On a shared machine, CPU time is the steadier figure.
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


def make_labels(path: Path, frames: int, unique: int, seed: int) -> tuple[int, int]:
    """Write a 2018-style list of ``frames`` frames from ``photosynth.toyworld.labels.bdd_labels``; ``(frames, labels)``.

    The toy world renders ``unique`` frames (20–130 per second on the shared 2-core machine); they are
    repeated with fresh names (``<id>-r<k>.jpg``) and label ids until ``frames`` entries are written.
    """
    from photosynth.toyworld.labels import bdd_labels

    source = list(tqdm(bdd_labels(min(unique, frames), seed, layout="2018"), total=min(unique, frames),
                       desc="toy world labels", unit="frame"))  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    n_labels = 0
    with path.open("w") as fh:
        fh.write("[")
        for index in tqdm(range(frames), desc="label file", unit="frame"):
            record = dict(source[index % len(source)])
            repeat = index // len(source)
            if repeat:
                record["name"] = record["name"].replace(".jpg", f"-r{repeat}.jpg")
            labels = []
            for label in record.get("labels") or []:
                labels.append({**label, "id": n_labels})
                n_labels += 1
            if "labels" in record:
                record["labels"] = labels if record["labels"] is not None else None
            fh.write(("," if index else "") + json.dumps(record))
        fh.write("]\n")
    return frames, n_labels


def peak_rss_kib() -> int:
    """Peak resident set size of this process in KiB: ``VmHWM`` (Linux), else ``ru_maxrss``.

    ``ru_maxrss`` survives ``execve`` on Linux, so a child would report its parent's peak; ``VmHWM`` does not.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(variant: str, labels: Path) -> dict[str, float]:
    """Run one variant in this process: read every frame, count boxes; return time and peak RSS."""
    from photosynth.datasets.bdd100k import BDD_IMAGE_SIZE, bdd_frames, read_bdd100k

    start_rss = peak_rss_kib()
    start, start_cpu = time.perf_counter(), cpu_seconds()
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
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - start_cpu
    peak = peak_rss_kib()
    return {"seconds": seconds, "cpu_seconds": cpu, "peak_rss_mib": peak / 1024, "rss_before_mib": start_rss / 1024,
            "frames": n_frames, "boxes": n_boxes}  # fmt: skip


def cpu_seconds() -> float:
    """User + system CPU time of this process (less sensitive than wall time to a busy machine)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=70_000, help="frames to generate (default 70000)")
    parser.add_argument("--unique", type=int, default=5_000,
                        help="frames the toy world renders; repeated with fresh names up to --frames (default 5000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=2, help="runs per variant, order alternating (default 2)")
    parser.add_argument("--labels", type=Path, help="use this 2018-style label file instead of generating one")
    parser.add_argument("--workdir", type=Path,
                        help="keep the generated file here and reuse it on the next run (default: a temp folder)")
    parser.add_argument("--measure", choices=("stream", "load"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.labels)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        labels = args.labels
        if labels is None:
            folder = args.workdir / f"toy_{args.frames}_{args.unique}_{args.seed}" if args.workdir else Path(tmp)
            labels = folder / "labels" / "bdd100k_labels_images_train.json"
            if labels.is_file():
                print(f"reusing {labels}")
            else:
                partial = labels.with_suffix(".partial")
                n_frames, n_labels = make_labels(partial, args.frames, args.unique, args.seed)
                partial.replace(labels)
                print(f"generated {labels}: {n_frames} frames, {n_labels} labels (boxes + poly2d entries)")
        print(f"label file: {labels.stat().st_size / 2**20:.1f} MiB")
        runs: dict[str, list[dict[str, float]]] = {"stream": [], "load": []}
        for repeat in range(args.repeat):  # alternate the order so neither variant always runs first
            for variant in ("stream", "load") if repeat % 2 == 0 else ("load", "stream"):
                cmd = [sys.executable, __file__, "--measure", variant, "--labels", str(labels)]
                out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
                runs[variant].append(json.loads(out))
    best = {}
    for variant, results in runs.items():
        best[variant] = {"seconds": min(r["seconds"] for r in results), "cpu": min(r["cpu_seconds"] for r in results),
                         "peak": max(r["peak_rss_mib"] for r in results)}  # fmt: skip
        r = results[0]
        walls = ", ".join(f"{x['seconds']:.2f}" for x in results)
        print(f"{variant:>6}: wall {best[variant]['seconds']:7.2f} s (runs: {walls})  cpu {best[variant]['cpu']:7.2f} s  "
              f"peak RSS {best[variant]['peak']:8.1f} MiB (after imports {r['rss_before_mib']:.1f} MiB)  "
              f"{r['frames']} frames, {r['boxes']} boxes")  # fmt: skip
    counts = {(r["frames"], r["boxes"]) for results in runs.values() for r in results}
    if len(counts) != 1:
        raise SystemExit(f"the variants disagree on the frame/box counts: {counts}")
    s, b = best["stream"], best["load"]
    print(f"stream/load: peak memory {s['peak'] / b['peak']:.1%} (goal <= 10%), wall time {s['seconds'] / b['seconds']:.2f}x, "
          f"cpu time {s['cpu'] / b['cpu']:.2f}x (goal <= 1.25x; best of {args.repeat} runs each)")  # fmt: skip


if __name__ == "__main__":
    main()
