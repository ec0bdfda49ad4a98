#!/usr/bin/env python3
"""Neural style transfer speed: optimisation steps/s per Keras backend and image size, batched throughput.

For each backend (a subprocess each: the Keras backend is fixed at import) this times
``photosynth.translate.nst.StyleTransfer.stylize`` with a random-init VGG16 (timing does not depend on weights):

* steps/s, one image: Adam steps (forward + loss + backward + update; losses read once at the end), at each
  ``--sizes`` entry (H×W). ``--layers anchor`` uses the plain PyTorch anchor's layers (content relu4_2 =
  ``block4_conv2``, style relu1_1…relu5_1 = ``blockN_conv1``) so the figures compare with
  ``../shared/anchors/nst_gatys.py``; ``--layers study`` uses the study's (content ``block2_conv2``, style
  ``block1_conv2``…``block5_conv3``).
* batched throughput: frames/s of the study's L-BFGS stylization (``--lbfgs`` iterations×evaluations) of
  ``--batch`` frames at ``--batch-size-hw``.

With CUDA present, the anchor loop is timed in the same run and the ratio printed. On CPU use few steps: one
VGG16 step at 375×1242 takes seconds. Thread count matters a lot on a shared CPU: see ``--threads``.
Prints one JSON line per measurement; ``--json FILE`` appends them to a file too.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ANCHOR = ROOT.parent / "shared" / "anchors" / "nst_gatys.py"
LAYERS = {
    "anchor": {"content_layers": ("block4_conv2",),
               "style_layers": ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")},
    "study": {},  # filled from photosynth.translate.nst.PRESETS["study"]
}


def parse_hw(text: str) -> tuple[int, int]:
    h, w = (int(v) for v in text.lower().split("x"))
    return h, w


def device_name() -> str:
    """Where keras puts tensors in this process."""
    import keras

    if keras.backend.backend() == "torch":
        import torch

        return torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return gpus[0].name if gpus else "cpu"


def synced(fn):  # noqa: ANN001, ANN201 - tiny timing helper
    """Run ``fn`` and wait for the GPU (torch) before returning its value."""
    out = fn()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.synchronize()
    except ImportError:
        pass
    return out


def worker(args: argparse.Namespace) -> None:
    """Measure in this process (its Keras backend) and print JSON lines."""
    import numpy as np

    from photosynth.translate import nst

    if args.threads:
        _set_threads(args.threads)
    backend, device = nst.backend(), device_name()
    gpu = device != "cpu"
    warmup, steps = (args.warmup, args.steps) if gpu else (args.cpu_warmup, args.cpu_steps)
    rng = np.random.default_rng(0)
    study = nst.PRESETS["study"]
    LAYERS["study"] = {"content_layers": study.content_layers, "style_layers": study.style_layers}
    common = {"backend": backend, "device": device, "threads": args.threads or "default", "layers": args.layers}
    for size in args.sizes.split(","):
        h, w = parse_hw(size)
        content, style = rng.integers(0, 256, (h, w, 3), np.uint8), rng.integers(0, 256, (h, w, 3), np.uint8)
        config = nst.preset("tutorial", size=(w, h), iterations=max(1, warmup), log_every=10**9, **LAYERS[args.layers])
        transfer = nst.StyleTransfer(config, weights=None)
        synced(lambda: transfer.stylize([content], style))  # warm-up: tracing, allocation, style targets
        transfer.config = nst.preset("tutorial", size=(w, h), iterations=steps, log_every=10**9, **LAYERS[args.layers])
        t0 = time.perf_counter()
        synced(lambda: transfer.stylize([content], style))
        dt = time.perf_counter() - t0
        emit(args, {**common, "measure": "steps_per_s", "size_HxW": size, "batch": 1, "steps": steps,
                    "steps_per_s": round(steps / dt, 4), "s_per_step": round(dt / steps, 3)})
    h, w = parse_hw(args.batch_size_hw)
    iterations, maxfun = (int(v) for v in args.lbfgs.split("x"))
    config = nst.preset("study", size=(w, h), iterations=iterations, lbfgs_maxfun=maxfun)
    transfer = nst.StyleTransfer(config, weights=None)
    contents = [rng.integers(0, 256, (h, w, 3), np.uint8) for _ in range(args.batch)]
    styles = [rng.integers(0, 256, (h, w, 3), np.uint8) for _ in range(args.batch)]
    transfer.config = nst.preset("study", size=(w, h), iterations=1, lbfgs_maxfun=1)
    synced(lambda: transfer.stylize(contents, styles))  # warm-up
    transfer.config = config
    t0 = time.perf_counter()
    result = synced(lambda: transfer.stylize(contents, styles))
    dt = time.perf_counter() - t0
    emit(args, {**common, "measure": "batched_lbfgs", "size_HxW": args.batch_size_hw, "batch": args.batch,
                "lbfgs": args.lbfgs, "evaluations": len(result.history), "frames_per_s": round(args.batch / dt, 4),
                "s_per_evaluation": round(dt / len(result.history), 3)})


def _set_threads(n: int) -> None:
    import keras

    if keras.backend.backend() == "torch":
        import torch

        torch.set_num_threads(n)
    else:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(n)
        tf.config.threading.set_inter_op_parallelism_threads(n)


def emit(args: argparse.Namespace, record: dict) -> None:
    line = json.dumps(record)
    print(line, flush=True)
    if args.json:
        with open(args.json, "a") as fh:
            fh.write(line + "\n")


def run_backend(backend: str, argv: list[str]) -> list[dict]:
    """Run the worker under ``KERAS_BACKEND=backend``; returns its records."""
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, __file__, "--worker", *argv], env=env, capture_output=True, text=True)
    records = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    for record in records:
        print(json.dumps(record), flush=True)
    if proc.returncode != 0:
        print(f"{backend} worker failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}", file=sys.stderr)
    return records


def run_anchor(args: argparse.Namespace) -> list[dict]:
    """Time the plain PyTorch Gatys loop (CUDA only) at the same sizes, fp32."""
    out = Path(os.environ.get("TMPDIR", "/tmp")) / f"nst_anchor_{os.getpid()}.jsonl"
    cmd = [sys.executable, str(ANCHOR), "--sizes", args.sizes, "--modes", "fp32", "--warmup", str(args.warmup),
           "--steps", str(args.steps), "--json", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    print(proc.stdout, end="")
    if proc.returncode != 0:
        print(f"anchor failed:\n{proc.stderr[-3000:]}", file=sys.stderr)
        return []
    records = [json.loads(line) for line in out.read_text().splitlines()]
    out.unlink(missing_ok=True)
    return records


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backends", default="tensorflow,torch")
    ap.add_argument("--sizes", default="375x1242,512x512", help="H×W list for steps/s")
    ap.add_argument("--layers", choices=sorted(LAYERS), default="anchor")
    ap.add_argument("--warmup", type=int, default=10, help="GPU warm-up steps")
    ap.add_argument("--steps", type=int, default=100, help="GPU timed steps")
    ap.add_argument("--cpu-warmup", type=int, default=1)
    ap.add_argument("--cpu-steps", type=int, default=2)
    ap.add_argument("--batch", type=int, default=4, help="frames per batch for the throughput figure")
    ap.add_argument("--batch-size-hw", default="250x828", help="H×W of the batched throughput figure")
    ap.add_argument("--lbfgs", default="1x5", help="ITERATIONSxEVALUATIONS for the throughput figure (study: 5x20)")
    ap.add_argument("--threads", type=int, default=0, help="intra-op threads (0: library default)")
    ap.add_argument("--json", default=None)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args, _ = ap.parse_known_args()
    if args.worker:
        worker(args)
        return
    passthrough = [a for a in sys.argv[1:] if a != "--worker"]
    results = {b: run_backend(b, passthrough) for b in args.backends.split(",")}
    try:
        import torch

        cuda = torch.cuda.is_available()
    except ImportError:
        cuda = False
    if not cuda:
        print("no CUDA: the plain PyTorch anchor (../shared/anchors/nst_gatys.py) is GPU-only and was not run")
        return
    anchor = {r["size_HxW"]: r["steps_per_s"] for r in run_anchor(args)}
    for backend, records in results.items():
        for r in records:
            if r["measure"] == "steps_per_s" and r["size_HxW"] in anchor and r["device"] != "cpu":
                print(json.dumps({"backend": backend, "size_HxW": r["size_HxW"], "ours_steps_per_s": r["steps_per_s"],
                                  "anchor_steps_per_s": anchor[r["size_HxW"]],
                                  "ratio": round(r["steps_per_s"] / anchor[r["size_HxW"]], 3)}))


if __name__ == "__main__":
    main()
