#!/usr/bin/env python3
"""CUT / FastCUT training step against our CycleGAN's, in one process (issue 11, item 4).

Follows ../shared/anchors/README.md's protocol: warm-up (>= 10 steps on CUDA, cuDNN autotune first), then >= 100
steps back to back synchronised at both ends; batches already on the device (compute only); images/s per model,
batch and precision, and the ratio to CycleGAN's step measured in the same call. Full settings by default
(resnet_9blocks ngf 64, 70x70 PatchGAN, 256 crops; CUT: 5 NCE layers, 256 patches, MLP head 256). CUT should be
faster per image: one generator and one discriminator instead of two of each (but its G also runs its encoder
for PatchNCE, and CUT's identity term doubles G's batch). Prints one JSON line per measurement; ``--json`` appends.

    .venv/bin/python benchmarks/cut.py                                # GPU: batch 1 and 4, fp32 (+ bf16)
    .venv/bin/python benchmarks/cut.py --device cpu --ngf 4 --n-blocks 2 --crop 32 --nce-layers 0,4,7,10
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cyclegan import bench_device, timed  # noqa: E402  (benchmarks/cyclegan.py: the shared timing protocol)

from photosynth.translate.cyclegan.config import CycleGANConfig  # noqa: E402
from photosynth.translate.cyclegan.cut_config import DEFAULT_NCE_LAYERS, CUTConfig  # noqa: E402
from photosynth.translate.cyclegan.kinds import model_class  # noqa: E402

MODELS = ("cyclegan", "cut", "fastcut")


def config(name: str, args: argparse.Namespace, batch: int, precision: str) -> CycleGANConfig:
    shared = dict(
        ngf=args.ngf, ndf=args.ndf, n_blocks=args.n_blocks, crop_size=args.crop, load_size=max(args.crop, 286),
        batch_size=batch, bf16=precision == "bf16", compile=args.compile,
    )
    if name == "cyclegan":
        return CycleGANConfig(**shared)
    return CUTConfig(mode=name, nce_layers=args.nce_layers, num_patches=args.num_patches, **shared)


def bench(args: argparse.Namespace, device: torch.device) -> list[dict]:
    """Every model at every batch and precision; CycleGAN first in each group so ratios share the conditions."""
    results = []
    for batch in args.batches:
        for precision in args.precisions:
            base = None
            for name in args.models:
                cfg = config(name, args, batch, precision)
                torch.manual_seed(0)
                model = model_class(cfg)(cfg, str(device))
                a = torch.rand(batch, 3, args.crop, args.crop, device=device) * 2 - 1
                b = torch.rand(batch, 3, args.crop, args.crop, device=device) * 2 - 1
                seconds = timed(lambda: model.train_step(a, b), device, args.warmup, args.iters)
                rate = batch / seconds
                base = rate if name == "cyclegan" else base
                params = sum(p.numel() for net in model.nets for p in net.parameters())
                results.append({
                    "measure": "train_step", "model": name, "batch": batch, "crop": args.crop, "precision": precision,
                    "compile": args.compile or "off", "parameters": params, "images_per_s": round(rate, 3),
                    "ms_per_step": round(1000 * seconds, 2),
                    "vs_cyclegan": round(rate / base, 3) if base and name != "cyclegan" else None,
                })  # fmt: skip
                print(json.dumps(results[-1]), flush=True)
                del model
                if device.type == "cuda":
                    torch.cuda.empty_cache()
    return results


def main() -> None:
    cuda = torch.cuda.is_available()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda" if cuda else "cpu")
    ap.add_argument("--models", default=",".join(MODELS), help=f"comma-separated, of {MODELS}")
    ap.add_argument("--ngf", type=int, default=64)
    ap.add_argument("--ndf", type=int, default=64)
    ap.add_argument("--n-blocks", type=int, default=9)
    ap.add_argument("--crop", type=int, default=256)
    ap.add_argument("--nce-layers", default=",".join(map(str, DEFAULT_NCE_LAYERS)))
    ap.add_argument("--num-patches", type=int, default=256)
    ap.add_argument("--batches", default="1,4")
    ap.add_argument("--precisions", default="fp32,bf16" if cuda else "fp32", help="bf16 applies on CUDA only")
    ap.add_argument("--compile", default="", help="torch.compile mode for G and D ('' off)")
    ap.add_argument("--warmup", type=int, default=10 if cuda else 1)
    ap.add_argument("--iters", type=int, default=100 if cuda else 2)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    ap.add_argument("--json", help="append the results as JSON lines here")
    args = ap.parse_args()
    args.models = args.models.split(",")
    unknown = sorted(set(args.models) - set(MODELS))
    if unknown:
        ap.error(f"unknown models {unknown}; expected some of {MODELS}")
    args.batches = [int(b) for b in args.batches.split(",")]
    args.precisions = args.precisions.split(",")
    device, name = bench_device(args.device, args.threads)
    print(f"# torch {torch.__version__}, {name}, ngf {args.ngf}, {args.n_blocks} blocks, crop {args.crop}", flush=True)
    results = bench(args, device)
    if args.json:
        with open(args.json, "a") as fh:
            fh.writelines(json.dumps({"device": name, **r}) + "\n" for r in results)


if __name__ == "__main__":
    main()
