"""Fail in the first minute: check every input a profile's notebooks will need before executing any of them.

``photosynth book`` calls :func:`check` first and lists every missing item at once, each with where to put it:
dataset roots and their on-disk layouts (01), the VGG16 ImageNet file for ``nst_weights: imagenet`` (03), the
Inception file for ``gap_features: inception`` (06), the folders of ``translations`` made elsewhere and their
names (04), a CUDA device where a ``device`` setting names one (02, 05,
06), and free disk for the translated frames (02, 03). Only the notebooks that will run are checked. The toy
world (all dataset roots empty) needs no input and a few MB of disk, so it has no data or disk item.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from photosynth import weights as local
from photosynth.design import SOURCES
from photosynth.runtime import Workspace
from photosynth.study.datasets import REQUIRED_REAL
from photosynth.study.mixes import reserved_names
from photosynth.translate.external import name_problem
from photosynth.translate.nst.weights import MissingWeightsError, resolve_weights

#: Head-room on top of the estimated size of the translated frames.
DISK_MARGIN = 1.25


@dataclass(frozen=True)
class Missing:
    """One input a run needs and does not have: what, which setting asks for it, and where to put it."""

    what: str
    setting: str
    fix: str

    def __str__(self) -> str:
        return f"{self.what} [{self.setting}]: {self.fix}"


def check(notebooks: dict[str, dict[str, Any]], workspace: Workspace) -> list[Missing]:
    """Every missing input of ``notebooks`` (name → parameters, the ones about to run), in notebook order."""
    missing: list[Missing] = []
    data = notebooks.get("01_datasets")
    if data is not None:
        missing += dataset_roots(data)
    nst = notebooks.get("03_style_transfer")
    if nst is not None:
        missing += vgg16_weights(nst.get("nst_weights", "imagenet"))
    results = notebooks.get("06_results")
    if results is not None and results.get("gap_features") == "inception":
        missing += inception_weights(results.get("gap_weights") or "")
    training = notebooks.get("04_training_sets")
    if training is not None:
        missing += translation_folders(training.get("translations") or {})
    for name, params in notebooks.items():
        missing += cuda_device(name, params.get("device") or "")
    missing += translation_disk(notebooks, workspace)
    return missing


def report(profile: str, missing: Sequence[Missing]) -> str:
    """The error message: every missing item on its own line."""
    lines = [f"profile {profile!r} needs {len(missing)} input(s) that are missing; nothing was executed:"]
    return "\n".join(lines + [f"  - {item}" for item in missing])


#: Each dataset root: (parameter, what, layout globs that must each match, how to get it).
LAYOUTS: dict[str, tuple[str, str, tuple[str, ...], str]] = {
    "kitti_tracking": ("kitti_tracking_root", "KITTI tracking", ("training/image_02/*", "training/label_02/*.txt"),
                       "extract KITTI tracking (data_tracking_image_2.zip, data_tracking_label_2.zip) so that it "
                       "holds training/image_02/SSSS/ and training/label_02/SSSS.txt"),
    "kitti_object": ("kitti_root", "KITTI object", ("training/image_2/*", "training/label_2/*.txt"),
                     "extract KITTI object (data_object_image_2.zip, data_object_label_2.zip) so that it holds "
                     "training/image_2/ and training/label_2/"),
    "vkitti2": ("vkitti2_root", "Virtual KITTI 2",
                ("Scene??/clone/bbox.txt|*/Scene??/clone/bbox.txt",
                 "Scene??/clone/frames/rgb/Camera_0/rgb_*|*/Scene??/clone/frames/rgb/Camera_0/rgb_*"),
                "extract vkitti_2.0.3_textgt.tar and vkitti_2.0.3_rgb.tar side by side in it "
                "(SceneXX/clone/bbox.txt and SceneXX/clone/frames/rgb/Camera_0/rgb_NNNNN.jpg)"),
    "bdd100k": ("bdd100k_root", "BDD100K", ("images/100k/train/*", "images/100k/val/*",
                                            "labels/bdd100k_labels_images_train.json|labels/det_20/det_train.json"
                                            "|labels/100k/train/*.json",
                                            "labels/bdd100k_labels_images_val.json|labels/det_20/det_val.json"
                                            "|labels/100k/val/*.json"),
                "extract the 100K images and the detection labels so that it holds images/100k/{train,val}/ and "
                "labels/ (bdd100k_labels_images_{train,val}.json, det_20/det_{train,val}.json or 100k/{train,val}/)"),
}


def dataset_roots(params: dict[str, Any]) -> list[Missing]:
    """Notebook 01's roots: all empty (the toy world), or each required one present in its real layout."""
    given = {name: str(params.get(param) or "") for name, (param, *_) in LAYOUTS.items()}
    if not any(given.values()):
        return []
    missing = []
    for name, (param, what, globs, fix) in LAYOUTS.items():
        setting = f"01_datasets.{param}"
        if not given[name]:
            if name in REQUIRED_REAL:
                missing.append(Missing(f"{what} root not set", setting, f"{fix}; then set {setting}=PATH "
                                       "(or leave every root empty for the toy world)"))
            continue
        root = Path(given[name]).expanduser()
        if not root.is_dir():
            missing.append(Missing(f"{what} root {root} does not exist", setting, f"{fix}, or set {setting}=PATH"))
            continue
        # notebook 01 may take vKITTI2's rgb tree from a separate root
        roots = [root] + ([Path(params["vkitti2_rgb_root"]).expanduser()]
                          if name == "vkitti2" and params.get("vkitti2_rgb_root") else [])
        absent = [g.split("|")[0] for g in globs
                  if not any(next(r.glob(p), None) for r in roots for p in g.split("|"))]
        if absent:
            missing.append(Missing(f"{what} root {root} lacks {', '.join(absent)}", setting, fix))
    return missing


def vgg16_weights(weights: Any) -> list[Missing]:
    """The VGG16 file notebook 03's NST loads (``imagenet``: the Keras cache; a path; ``none``/``auto``: none)."""
    try:
        resolve_weights(None if weights in (None, "") else weights)
    except (MissingWeightsError, ValueError) as exc:
        return [Missing("VGG16 weights for the style transfer", f"03_style_transfer.nst_weights={weights}", str(exc))]
    return []


def inception_weights(weights: str) -> list[Missing]:
    """The Inception-v3 file notebook 06's FID/KID loads with ``gap_features: inception`` (found as
    :func:`photosynth.weights.inception_weights` finds it)."""
    try:
        local.inception_weights(weights or None)
    except FileNotFoundError as exc:
        path = Path(weights).expanduser() if weights else local.torch_cache() / local.INCEPTION_FILE
        return [Missing(f"Inception weights {path} not found", "06_results.gap_features=inception", str(exc))]
    return []


def translation_folders(translations: dict[str, Any]) -> list[Missing]:
    """Translations made elsewhere (``translations``, notebooks 04–07): each name free and plain, each folder there.
    Their frames are read by notebook 04, once the vKITTI2 root exists, before any detector trains."""
    missing = []
    for name, folder in translations.items():
        problem = name_problem(name, reserved_names())
        if problem:
            missing.append(Missing(f"translator name {problem}", "translations", "rename it in the mapping"))
        elif not Path(str(folder)).expanduser().is_dir():
            missing.append(Missing(f"{name}: no folder {folder}", "translations",
                                   "the folder of translated clone frames, <folder>/<weather>/<path in vKITTI2>"))
    return missing


def cuda_device(notebook: str, device: str) -> list[Missing]:
    """A ``device`` setting that names a GPU (``cuda``, ``cuda:1``, ``0``, ``0,1``) needs torch to see it."""
    device = str(device).strip()
    if not device or device in ("cpu", "mps"):
        return []
    indices = [int(d) for d in device.split(",") if d.strip().isdigit()] or (
        [int(device.split(":")[1])] if device.startswith("cuda:") else [0])
    import torch

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if max(indices) < count:
        return []
    return [Missing(f"CUDA device {device!r} not available (torch sees {count} GPU(s))", f"{notebook}.device",
                    f"run on a machine with {max(indices) + 1} GPU(s) and a CUDA build of torch, or set "
                    f"{notebook}.device='' (the GPU when there is one, else the CPU)")]


def translation_disk(notebooks: dict[str, dict[str, Any]], workspace: Workspace) -> list[Missing]:
    """Free disk for the frames 02 (CycleGAN) and 03 (NST, augmentation) will write, estimated from the real
    vKITTI2 clone frames: each weather translates one frame index in ``len(SOURCES)``, at their mean file size."""
    params = notebooks.get("01_datasets", {})
    roots = [Path(str(params[k])).expanduser() for k in ("vkitti2_root", "vkitti2_rgb_root") if params.get(k)]
    methods = {"02_cyclegan": 1, "03_style_transfer": 2}  # 03 writes NST and augmented frames
    outputs = sum(len(notebooks[n].get("weathers") or []) * m for n, m in methods.items() if n in notebooks)
    clone = [p for r in roots for pattern in ("Scene??/clone/frames/rgb/Camera_0/rgb_*",
                                              "*/Scene??/clone/frames/rgb/Camera_0/rgb_*") for p in r.glob(pattern)]
    if not clone or not outputs:
        return []  # the toy world (a few MB), or no translation in this run
    sample = clone[:: max(1, len(clone) // 50)]
    mean_bytes = sum(p.stat().st_size for p in sample) / len(sample)
    need = DISK_MARGIN * mean_bytes * outputs * len(clone) / len(SOURCES)
    folder = workspace.root
    while not folder.exists():
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    if free >= need:
        return []
    return [Missing(f"{_gb(need)} of free disk for the translated frames, {_gb(free)} free at {folder}",
                    "02_cyclegan / 03_style_transfer", "free space there, or point --runs / $PHOTOSYNTH_RUNS at a "
                    "larger disk")]


def _gb(size: float) -> str:
    return f"{size / 1e9:.1f} GB"
