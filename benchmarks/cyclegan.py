#!/usr/bin/env python3
"""CycleGAN throughput: training steps, generator forwards, end-to-end folder translation.

Runs on CUDA when present, else on the CPU (then with small repetition counts; CPU figures say nothing about
the GPU goals in ../shared/anchors/README.md). Prints one JSON line per measurement and appends them to
``--json`` when given. Reference-size model (resnet_9blocks, ngf 64, 70x70 PatchGAN) unless told otherwise.

    .venv/bin/python benchmarks/cyclegan.py                  # everything, default repetitions
    .venv/bin/python benchmarks/cyclegan.py --only generator --modes fp32,bf16
    .venv/bin/python benchmarks/cyclegan.py --compile reduce-overhead   # CUDA graphs for the training step
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from photosynth.imageio import write_image  # noqa: E402
from photosynth.translate.cyclegan.config import CycleGANConfig  # noqa: E402
from photosynth.translate.cyclegan.model import CycleGANModel  # noqa: E402
from photosynth.translate.cyclegan.networks import build_generator  # noqa: E402
from photosynth.translate.cyclegan.translate import translate_images  # noqa: E402


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench_device(device: str, threads: int = 0) -> tuple[torch.device, str]:
    """The device to time on (``threads`` torch CPU threads when > 0, cuDNN autotuning on) and its name."""
    if threads:
        torch.set_num_threads(threads)
    dev = torch.device(device)
    torch.backends.cudnn.benchmark = True
    return dev, torch.cuda.get_device_name(dev) if dev.type == "cuda" else f"CPU ({torch.get_num_threads()} threads)"


def timed(fn: Callable[[], object], device: torch.device, warmup: int, iters: int) -> float:
    """Seconds per call after ``warmup`` calls, ``iters`` calls back to back, synchronised at both ends."""
    for _ in range(warmup):
        fn()
    sync(device)
    start = time.perf_counter()
    for _ in range(iters):
        fn()
    sync(device)
    return (time.perf_counter() - start) / iters


def autocast(device: torch.device, mode: str) -> contextlib.AbstractContextManager:
    if mode == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def bench_training(args: argparse.Namespace, device: torch.device, cfg: CycleGANConfig) -> list[dict]:
    """Training step images/s (compute only: batches already on the device)."""
    results = []
    for batch in args.train_batches:
        for mode in args.train_modes:
            run_cfg = CycleGANConfig(**{**cfg.to_dict(), "batch_size": batch, "bf16": mode == "bf16",
                                        "compile": args.compile})  # fmt: skip
            model = CycleGANModel(run_cfg, str(device))
            a = torch.rand(batch, 3, args.crop, args.crop, device=device) * 2 - 1
            b = torch.rand(batch, 3, args.crop, args.crop, device=device) * 2 - 1
            seconds = timed(lambda: model.train_step(a, b), device, args.warmup, args.train_iters)
            results.append({
                "measure": "train_step", "batch": batch, "crop": args.crop, "mode": mode,
                "fused_adam": model.fused, "compile": args.compile or "off",
                "images_per_s": round(batch / seconds, 3), "ms_per_step": round(1000 * seconds, 1),
            })  # fmt: skip
            print(json.dumps(results[-1]), flush=True)
            del model
    return results


@torch.inference_mode()
def bench_generator(args: argparse.Namespace, device: torch.device, cfg: CycleGANConfig) -> list[dict]:
    """Generator forward images/s at driving resolutions (input already on the device)."""
    net = build_generator(cfg).to(device).eval()
    results = []
    for mode in args.modes:
        for shape in args.shapes:
            n, h, w = shape
            x = torch.rand(n, 3, h, w, device=device) * 2 - 1
            with autocast(device, mode):
                seconds = timed(lambda: net(x), device, args.warmup, args.gen_iters)
            results.append({
                "measure": "generator", "shape": f"{n}x3x{h}x{w}", "mode": mode,
                "images_per_s": round(n / seconds, 3), "ms_per_batch": round(1000 * seconds, 1),
            })  # fmt: skip
            print(json.dumps(results[-1]), flush=True)
    return results


def bench_translation(args: argparse.Namespace, device: torch.device, cfg: CycleGANConfig) -> list[dict]:
    """End to end: a folder of 1242x375 JPEGs → translated JPEGs at the original size (decode, run, encode, write)."""
    net = build_generator(cfg)
    rng = np.random.default_rng(0)
    results = []
    with tempfile.TemporaryDirectory(prefix="cyclegan-bench-") as tmp:
        src = Path(tmp) / "in"
        base = rng.integers(0, 256, (375, 1242, 3), dtype=np.uint8)
        for i in range(args.frames):
            write_image(src / f"{i:06d}.jpg", np.roll(base, i * 7, axis=1))
        for mode in args.modes:
            out = Path(tmp) / f"out-{mode}"
            start = time.perf_counter()
            report = translate_images(
                net, src, out, batch_size=args.translate_batch, num_workers=args.workers, writers=args.writers,
                device=str(device), bf16=mode == "bf16", progress=False,
            )  # fmt: skip
            sync(device)
            seconds = time.perf_counter() - start
            results.append({
                "measure": "translate_folder", "frames": report.translated, "size": "1242x375", "mode": mode,
                "batch": args.translate_batch, "workers": args.workers, "writers": args.writers,
                "images_per_s": round(report.translated / seconds, 3), "seconds": round(seconds, 2),
            })  # fmt: skip
            print(json.dumps(results[-1]), flush=True)
    return results


def parse_shapes(text: str) -> list[tuple[int, int, int]]:
    return [tuple(int(v) for v in s.split("x")) for s in text.split(",")]  # type: ignore[misc]


def main() -> None:
    cuda = torch.cuda.is_available()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda" if cuda else "cpu")
    ap.add_argument("--only", default="train,generator,translate", help="comma-separated parts to run")
    ap.add_argument("--ngf", type=int, default=64)
    ap.add_argument("--n-blocks", type=int, default=9)
    ap.add_argument("--crop", type=int, default=256)
    ap.add_argument("--train-batches", default="1,4")
    ap.add_argument("--train-modes", default="fp32,bf16" if cuda else "fp32", help="bf16 applies on CUDA only")
    ap.add_argument("--compile", default="", help="torch.compile mode for the training step ('' off)")
    ap.add_argument("--shapes", default="1x376x1240,1x720x1280", help="generator input shapes NxHxW")
    ap.add_argument("--modes", default="fp32,bf16")
    ap.add_argument("--frames", type=int, default=400 if cuda else 8, help="JPEGs in the translation folder")
    ap.add_argument("--translate-batch", type=int, default=4)
    ap.add_argument("--workers", type=int, default=8 if cuda else 1)
    ap.add_argument("--writers", type=int, default=8 if cuda else 2)
    ap.add_argument("--warmup", type=int, default=10 if cuda else 1)
    ap.add_argument("--train-iters", type=int, default=100 if cuda else 2)
    ap.add_argument("--gen-iters", type=int, default=100 if cuda else 2)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    ap.add_argument("--json", help="append the results as JSON lines here")
    args = ap.parse_args()
    args.train_batches = [int(b) for b in args.train_batches.split(",")]
    args.train_modes, args.modes = args.train_modes.split(","), args.modes.split(",")
    args.shapes = parse_shapes(args.shapes)
    device, name = bench_device(args.device, args.threads)
    print(f"# torch {torch.__version__}, {name}, ngf {args.ngf}, {args.n_blocks} blocks", flush=True)
    cfg = CycleGANConfig(ngf=args.ngf, n_blocks=args.n_blocks, crop_size=args.crop, load_size=max(args.crop, 286))
    parts = {"train": bench_training, "generator": bench_generator, "translate": bench_translation}
    results = []
    for part in args.only.split(","):
        results += parts[part](args, device, cfg)
    if args.json:
        with open(args.json, "a") as fh:
            fh.writelines(json.dumps({"device": name, **r}) + "\n" for r in results)


if __name__ == "__main__":
    main()
