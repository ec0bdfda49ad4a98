"""Benchmark: our AP@0.5 vs pycocotools COCOeval (IoU 0.5, evaluate + accumulate), and bootstrap speed.

    .venv/bin/python benchmarks/ap.py [--images 5000] [--resamples 1000] [--seed 0]

Prints per-class values from both (they must be equal), wall times and the speed-up. Never run by tests.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import time

import numpy as np


def synthetic(n_images: int, seed: int) -> tuple[dict, list]:
    """~20 detections per image over 3 classes: jittered true boxes plus false positives, random scores."""
    rng = np.random.default_rng(seed)
    anns, results = [], []
    for image_id in range(1, n_images + 1):
        n_obj = int(rng.integers(3, 10))
        xy, wh = rng.uniform(0, 1000, (n_obj, 2)), rng.uniform(20, 200, (n_obj, 2))
        cats = rng.integers(1, 4, n_obj)
        for j in range(n_obj):
            box = [*xy[j], *wh[j]]
            anns.append({"id": len(anns) + 1, "image_id": image_id, "category_id": int(cats[j]), "bbox": box,
                         "area": float(wh[j].prod()), "iscrowd": 0})
        n_det = int(rng.integers(15, 26))
        src = rng.integers(0, n_obj, n_det)
        boxes = np.c_[xy[src] + rng.normal(0, 8, (n_det, 2)), wh[src] * rng.uniform(0.8, 1.2, (n_det, 2))]
        fp = rng.random(n_det) < 0.4
        boxes[fp, :2] = rng.uniform(0, 1000, (int(fp.sum()), 2))
        det_cats = np.where(rng.random(n_det) < 0.9, cats[src], rng.integers(1, 4, n_det))
        for b, c, s in zip(boxes.tolist(), det_cats.tolist(), rng.random(n_det).tolist()):
            results.append({"image_id": image_id, "category_id": int(c), "bbox": b, "score": s})
    gt = {"images": [{"id": i} for i in range(1, n_images + 1)], "annotations": anns,
          "categories": [{"id": 1, "name": "Car"}, {"id": 2, "name": "Van"}, {"id": 3, "name": "Truck"}]}
    return gt, results


def pycocotools_ap50(gt: dict, results: list) -> tuple[dict[int, float], float]:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = copy.deepcopy(gt)
        coco.createIndex()
        dt = coco.loadRes(copy.deepcopy(results))
        start = time.perf_counter()
        ev = COCOeval(coco, dt, "bbox")
        ev.params.iouThrs = np.array([0.5])
        ev.evaluate()
        ev.accumulate()
        seconds = time.perf_counter() - start
    prec = ev.eval["precision"][0, :, :, 0, -1]
    return {cid: float(prec[:, k].mean()) for k, cid in enumerate(ev.params.catIds)}, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from photosynth.metrics.ap import GroundTruth, Detections, match, score
    from photosynth.metrics.bootstrap import bootstrap_ci, paired_bootstrap

    gt, results = synthetic(args.images, args.seed)
    print(f"{args.images} images, {len(gt['annotations'])} ground truth, {len(results)} detections, 3 classes")
    ref, t_ref = pycocotools_ap50(gt, results)

    start = time.perf_counter()
    g = GroundTruth.from_coco(gt)
    d = Detections.from_coco(results, g)
    t_parse = time.perf_counter() - start
    start = time.perf_counter()
    table = match(g, d, "ap50_standard")
    ours = score(table)
    t_ours = time.perf_counter() - start
    start = time.perf_counter()
    legacy_table = match(g, d, "ap50_legacy")
    legacy = score(legacy_table)
    t_legacy = time.perf_counter() - start

    worst = 0.0
    for c in ours.classes:
        worst = max(worst, abs(c.ap - ref[c.category_id]))
        print(f"  {c.name:6s} ours {c.ap:.9f}  pycocotools {ref[c.category_id]:.9f}  legacy {legacy.per_class[c.name]:.6f}")
    print(f"max |difference| = {worst:.2e}")
    print(f"pycocotools evaluate+accumulate: {t_ref:.2f} s")
    print(f"ours ap50_standard (match+score): {t_ours:.3f} s  -> {t_ref / t_ours:.1f}x faster "
          f"(json->arrays once: {t_parse:.3f} s; incl. that: {t_ref / (t_ours + t_parse):.1f}x)")
    print(f"ours ap50_legacy (match+score):   {t_legacy:.3f} s")

    other = [{**r, "score": float(np.clip(r["score"] + 0.1 * np.sin(i), 0, 1))} for i, r in enumerate(results)]
    table_b = match(g, Detections.from_coco(other, g), "ap50_standard")
    start = time.perf_counter()
    ci = bootstrap_ci(table, n_resamples=args.resamples, seed=args.seed)
    t_ci = time.perf_counter() - start
    start = time.perf_counter()
    pb = paired_bootstrap(table, table_b, n_resamples=args.resamples, seed=args.seed)
    t_pb = time.perf_counter() - start
    print(f"bootstrap_ci, {args.resamples} resamples: {t_ci:.2f} s  (mAP {ci.observed:.4f} "
          f"[{ci.low:.4f}, {ci.high:.4f}])")
    print(f"paired_bootstrap, {args.resamples} resamples (two models): {t_pb:.2f} s  (diff {pb.observed_diff:+.4f} "
          f"[{pb.low:+.4f}, {pb.high:+.4f}], share>0 {pb.share_positive:.3f})")


if __name__ == "__main__":
    main()
