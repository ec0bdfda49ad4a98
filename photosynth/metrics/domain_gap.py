"""Domain gap between two image sets: FID and KID on pluggable features.

Standard Inception-v3 features need weights on local disk (never downloaded): an explicit path, or one of
:data:`INCEPTION_FILES` in ``$TORCH_HOME/hub/checkpoints/``. Any other network can be passed instead
(:func:`feature_network`); every result carries the network's label so a table never passes a
random-init tiny CNN off as a published-comparable FID.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from photosynth.imageio import read_rgb

#: Local Inception-v3 weight files we can load, and how each is labelled / preprocessed.
INCEPTION_FILES: dict[str, dict[str, Any]] = {
    "pt_inception-2015-12-05-6726825d.pth": {
        "label": "Inception-v3 (pytorch-fid weights, torchvision blocks) pool3 — close to, not equal to, TF FID",
        "num_classes": 1008, "scale": "minus_one_one"},
    "inception_v3_google-0cc3c7bd.pth": {
        "label": "Inception-v3 (torchvision ImageNet weights) pool3 — not comparable to published FID",
        "num_classes": 1000, "scale": "imagenet"},
}


@dataclass(frozen=True)
class FeatureNet:
    """A feature extractor: ``module`` maps a float batch ``(N, 3, H, W)`` in [0, 1] to ``(N, D)``."""

    name: str
    module: Any
    input_size: tuple[int, int]
    comparable: bool = False


@dataclass(frozen=True)
class DomainGap:
    """FID and KID (mean ± std over subsets) between two image sets, labelled with the features used."""

    fid: float
    kid_mean: float
    kid_std: float
    n_a: int
    n_b: int
    features: str
    comparable: bool

    def as_row(self) -> dict[str, float | int | str | bool]:
        return dict(self.__dict__)


def feature_network(module: Any, name: str, input_size: tuple[int, int] = (299, 299),
                    comparable: bool = False) -> FeatureNet:
    """Wrap any ``torch.nn.Module`` (or callable on tensors) as a labelled feature extractor."""
    if not name:
        raise ValueError("a feature network needs a name: it labels every table that uses it")
    return FeatureNet(name, module, input_size, comparable)


def inception_weights(weights: str | Path | None = None) -> Path:
    """The Inception weight file to use: ``weights`` or the first of :data:`INCEPTION_FILES` in the torch cache."""
    if weights is not None:
        path = Path(weights)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: Inception weights file not found")
        return path
    folder = Path(os.environ.get("TORCH_HOME", Path.home() / ".cache" / "torch")) / "hub" / "checkpoints"
    for name in INCEPTION_FILES:
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(
        f"Inception weights not found: looked for {' or '.join(INCEPTION_FILES)} in {folder} "
        "($TORCH_HOME/hub/checkpoints). Nothing is downloaded at run time: copy one of those files there, "
        "pass weights=PATH, or pass another feature network (feature_network(module, name))."
    )


def inception_network(weights: str | Path | None = None) -> FeatureNet:
    """Inception-v3 pool3 (2048-d) features from local weights; see :func:`inception_weights`."""
    path = inception_weights(weights)  # fail fast, before importing torch
    import torch
    from torchvision.models import inception_v3

    spec = INCEPTION_FILES.get(path.name, {"label": f"Inception-v3 ({path.name}) pool3", "num_classes": 1000,
                                           "scale": "imagenet"})
    net = inception_v3(weights=None, aux_logits=False, init_weights=False, num_classes=spec["num_classes"])
    state = torch.load(path, map_location="cpu", weights_only=True)
    state = {k: v for k, v in state.items() if not k.startswith("AuxLogits.")}
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"{path}: not Inception-v3 weights ({str(exc).splitlines()[0]})") from exc
    net.fc = torch.nn.Identity()
    if spec["scale"] == "minus_one_one":  # pytorch-fid: [0, 1] -> [-1, 1]
        scale, shift = torch.full((1, 3, 1, 1), 2.0), torch.full((1, 3, 1, 1), -1.0)
    else:  # ImageNet mean/std
        std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
        scale, shift = 1 / std, -torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1) / std
    norm = torch.nn.Conv2d(3, 3, 1)  # per-channel affine as a frozen 1×1 conv
    with torch.no_grad():
        norm.weight.copy_(torch.diag_embed(scale.view(3)).view(3, 3, 1, 1))
        norm.bias.copy_(shift.view(3))
    module = torch.nn.Sequential(norm, net).eval().requires_grad_(False)
    return FeatureNet(spec["label"], module, (299, 299), comparable=False)


def _load(image: str | Path | np.ndarray, size: tuple[int, int]) -> np.ndarray:
    rgb = read_rgb(image) if isinstance(image, (str, Path)) else np.asarray(image)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an H×W×3 uint8 image, got {rgb.dtype} {rgb.shape}")
    if rgb.shape[:2] != (size[1], size[0]):
        rgb = np.asarray(Image.fromarray(rgb).resize(size, Image.BILINEAR))
    return rgb


def extract_features(images: Sequence[str | Path | np.ndarray], net: FeatureNet, batch_size: int = 32,
                     device: str | None = None) -> np.ndarray:
    """``(N, D)`` float64 features of ``images`` (paths or RGB uint8 arrays), resized to the net's input."""
    import torch

    from photosynth.runtime import device as pick_device

    if not len(images):
        raise ValueError("no images to extract features from")
    dev = pick_device(device)
    module = net.module.to(dev) if hasattr(net.module, "to") else net.module
    out = []
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            batch = np.stack([_load(im, net.input_size) for im in images[start:start + batch_size]])
            x = torch.from_numpy(batch).to(dev).permute(0, 3, 1, 2).float() / 255.0
            feats = module(x)
            out.append(feats.reshape(len(batch), -1).double().cpu().numpy())
    return np.concatenate(out)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray,
                     eps: float = 1e-6) -> float:
    """``‖μ1−μ2‖² + Tr(Σ1 + Σ2 − 2 (Σ1 Σ2)^½)`` with ``scipy.linalg.sqrtm`` (offset when singular)."""
    import warnings

    from scipy import linalg

    with warnings.catch_warnings():  # singular products are handled by the offset below
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(sigma1 @ sigma2)
        if not np.isfinite(covmean).all():
            offset = np.eye(len(sigma1)) * eps
            covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def fid(feats_a: np.ndarray, feats_b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (at least 2 rows each)."""
    if len(feats_a) < 2 or len(feats_b) < 2:
        raise ValueError("FID needs at least 2 images per set")
    return frechet_distance(feats_a.mean(0), np.cov(feats_a, rowvar=False),
                            feats_b.mean(0), np.cov(feats_b, rowvar=False))


def kid(feats_a: np.ndarray, feats_b: np.ndarray, n_subsets: int = 100, subset_size: int = 1000,
        seed: int = 0) -> tuple[float, float]:
    """Unbiased MMD² with the cubic polynomial kernel ``(x·y/d + 1)³`` over random subsets: (mean, std)."""
    m = min(len(feats_a), len(feats_b), subset_size)
    if m < 2:
        raise ValueError("KID needs at least 2 images per set")
    rng = np.random.default_rng(seed)
    d = feats_a.shape[1]
    values = np.empty(n_subsets)
    for i in range(n_subsets):
        x = feats_a[rng.choice(len(feats_a), m, replace=False)]
        y = feats_b[rng.choice(len(feats_b), m, replace=False)]
        kxx, kyy, kxy = ((x @ x.T) / d + 1) ** 3, ((y @ y.T) / d + 1) ** 3, ((x @ y.T) / d + 1) ** 3
        values[i] = ((kxx.sum() - np.trace(kxx)) + (kyy.sum() - np.trace(kyy))) / (m * (m - 1)) - 2 * kxy.mean()
    return float(values.mean()), float(values.std())


def domain_gap(images_a: Sequence[str | Path | np.ndarray], images_b: Sequence[str | Path | np.ndarray],
               net: FeatureNet, *, batch_size: int = 32, device: str | None = None, kid_subsets: int = 100,
               kid_subset_size: int = 1000, seed: int = 0) -> DomainGap:
    """FID and KID between two image sets on ``net``'s features (labelled with ``net.name``)."""
    fa = extract_features(images_a, net, batch_size, device)
    fb = extract_features(images_b, net, batch_size, device)
    kid_mean, kid_std = kid(fa, fb, kid_subsets, kid_subset_size, seed)
    value = fid(fa, fb)
    return DomainGap(value if math.isfinite(value) else math.nan, kid_mean, kid_std, len(fa), len(fb), net.name,
                     net.comparable)
