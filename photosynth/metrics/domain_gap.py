"""Domain gap between two image sets: FID and KID computed by torchmetrics, on pluggable features.

The numbers come from the standard implementation: torchmetrics' ``FrechetInceptionDistance`` and
``KernelInceptionDistance`` (cubic polynomial kernel, unbiased MMD² over random subsets). The standard features are
torch-fidelity's TF-faithful port of the Inception-v3 FID network (pool3, 2048-d; images fed at their own size as
uint8 and resized inside the network the way TensorFlow 1 did), loaded from a local weights file — never downloaded:
:data:`photosynth.weights.INCEPTION_FILE` in ``$TORCH_HOME/hub/checkpoints/`` (torch-fidelity's name;
pytorch-fid's copy of the same conversion, :data:`photosynth.weights.INCEPTION_FILES`\\[1], is accepted too) or an
explicit path. With that file the FID is the kind
papers publish. Any other network can be passed instead (:func:`feature_network`, e.g. the toy world's seeded
random CNN); every result carries the network's name and a ``comparable`` flag, so a table never passes such a
network off as a published-comparable FID.

A third kind of features is task-aware: :func:`detector_network` pools a backbone layer of a trained ultralytics
detector, so the distance is measured in what a detector of real-style frames looks at.

Features are extracted once per image set and handed to both metrics (an identity feature module), so FID and KID
share one pass through the network. FID is computed only when both sets have more images than the features have
dimensions (:func:`fid_allowed`): below that the covariance estimates are rank-deficient, the matrix square root is
ill-conditioned and the small-sample bias dominates; KID is unbiased at any sample size.
"""

from __future__ import annotations

import hashlib
import math
import pickle
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from photosynth.imageio import read_rgb
from photosynth.lockfile import file_digest
from photosynth.runtime import device as pick_device, ultralytics_module
from photosynth.weights import inception_weights


@dataclass(frozen=True)
class FeatureNet:
    """A feature extractor: ``module`` maps a uint8 batch ``(N, 3, H, W)`` (any size) to ``(N, D)`` features."""

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
    fid_note: str = ""

    def as_row(self) -> dict[str, float | int | str | bool]:
        return dict(self.__dict__)


def feature_network(module: Any, name: str, input_size: tuple[int, int] = (299, 299),
                    comparable: bool = False) -> FeatureNet:  # fmt: skip
    """Wrap a ``torch.nn.Module`` that maps float RGB in [0, 1] at ``input_size`` (W, H) to ``(N, D)`` as a labelled
    feature extractor (images are scaled to [0, 1] and resized bilinearly, antialiased, before it)."""
    if not name:
        raise ValueError("a feature network needs a name: it labels every table that uses it")
    import torch

    class Resized(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = module

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = x.float() / 255.0
            if tuple(x.shape[-2:]) != (input_size[1], input_size[0]):
                x = torch.nn.functional.interpolate(x, size=(input_size[1], input_size[0]), mode="bilinear",
                                                    align_corners=False, antialias=True)  # fmt: skip
            return self.net(x).reshape(len(x), -1)

    return FeatureNet(name, Resized().eval(), input_size, comparable)


def inception_network(weights: str | Path | None = None) -> FeatureNet:
    """torch-fidelity's TF-faithful Inception-v3 pool3 features (2048-d) from local weights
    (:func:`photosynth.weights.inception_weights`), exactly the network torchmetrics' FID builds for ``feature=2048, antialias=False``."""
    path = inception_weights(weights)  # fail fast, before importing torch
    from torchmetrics.image.fid import NoTrainInceptionV3

    try:
        module = NoTrainInceptionV3("inception-v3-compat", ["2048"], str(path), antialias=False)
    except (RuntimeError, KeyError, ValueError, pickle.UnpicklingError) as exc:
        raise ValueError(f"{path}: not Inception-v3 FID weights ({str(exc).splitlines()[0]})") from exc
    digest = file_digest(path)
    name = (f"Inception-v3 pool3, TF FID weights ({path.name}, sha256 {digest}…; torchmetrics / torch-fidelity, "
            "TF-faithful resize) — comparable to published FID")  # fmt: skip
    return FeatureNet(name, module, (299, 299), comparable=True)


def feature_net(kind: str = "inception", weights: str | Path | None = None, seed: int = 0) -> FeatureNet:
    """A labelled feature network for FID/KID: ``"inception"`` (local weights, see
    :func:`photosynth.weights.inception_weights`) or ``"random_cnn"`` (a seeded random-init
    3-layer CNN for the toy world, labelled as not comparable to published FID)."""
    if kind == "inception":
        return inception_network(weights)
    if kind != "random_cnn":
        raise ValueError(f"unknown feature network {kind!r}; choose 'inception' or 'random_cnn'")
    import torch

    generator = torch.Generator().manual_seed(seed)
    layers: list[Any] = []
    for c_in, c_out in ((3, 32), (32, 64), (64, 128)):
        conv = torch.nn.Conv2d(c_in, c_out, 3, stride=2, padding=1)
        with torch.no_grad():
            conv.weight.copy_(torch.randn(conv.weight.shape, generator=generator) * (2 / (9 * c_in)) ** 0.5)
            conv.bias.zero_()
        layers += [conv, torch.nn.ReLU()]
    module = torch.nn.Sequential(*layers, torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()).eval()
    return feature_network(
        module, f"random-init 3-layer CNN (seed {seed}) — toy-world only, not comparable to published FID", (128, 128))


def detector_network(weights: str | Path, layer: int = 9, imgsz: int = 640) -> FeatureNet:
    """The global-average-pooled output of layer ``layer`` of an ultralytics detector (a local weights file) as a
    labelled feature network: ultralytics' own ``embed`` path (``DetectionModel(x, embed=[layer])``).

    Each batch is scaled (bilinear, antialiased) so its long side is ``imgsz`` and each side a multiple of the model's
    largest stride — the detector's rectangular inference, without letterbox padding, whose grey bars would otherwise
    weigh in the pooled features of one aspect ratio more than another's. In the YOLOv5 (v5u) YAMLs layers 0–9 are the
    backbone and layer 9 its last (SPPF, stride 32: 1024 × the width multiple channels, 256 for yolov5n).
    """
    path = Path(weights)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such detector weights file")
    model = ultralytics_module().YOLO(str(path)).model.float().eval()
    layers = len(model.model) - 1  # the last is the detection head
    if not 0 <= layer < layers:
        raise ValueError(f"{path}: layer {layer} is not a feature layer of this model (0–{layers - 1})")
    stride = int(max(model.stride))
    import torch

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = model

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h, w = x.shape[-2:]
            scale = imgsz / max(h, w)
            size = [max(stride, round(side * scale / stride) * stride) for side in (h, w)]
            x = torch.nn.functional.interpolate(x.float() / 255.0, size=size, mode="bilinear", align_corners=False,
                                                antialias=True)  # fmt: skip
            return torch.stack(self.net(x, embed=[layer]))

    # The weights' own digest: the checkpoint file also stores its save date, so its hash differs per training run
    hasher = hashlib.sha256()
    for key, tensor in model.state_dict().items():
        hasher.update(key.encode())
        hasher.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    digest = hasher.hexdigest()[:12]
    with torch.no_grad():
        dim = model(torch.zeros(1, 3, stride, stride), embed=[layer])[0].numel()
    kind = model.model[layer].type.rsplit(".", 1)[-1]
    arch = Path(model.yaml.get("yaml_file", "detector")).stem
    name = (f"{arch} layer {layer} ({kind}, {dim}-d, global-average-pooled, long side {imgsz} px) of the detector "
            f"{path.name} (weights sha256 {digest}…) — task-aware, not comparable to published FID")  # fmt: skip
    return FeatureNet(name, Pooled().eval(), (imgsz, imgsz))


def _load(image: str | Path | np.ndarray) -> np.ndarray:
    rgb = read_rgb(image) if isinstance(image, (str, Path)) else np.asarray(image)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an H×W×3 uint8 image, got {rgb.dtype} {rgb.shape}")
    return rgb


def _batches(images: Sequence[str | Path | np.ndarray], batch_size: int) -> Iterator[np.ndarray]:
    """``(N, H, W, 3)`` uint8 batches of at most ``batch_size`` consecutive images of one size."""
    batch: list[np.ndarray] = []
    for image in images:
        rgb = _load(image)
        if batch and (len(batch) == batch_size or rgb.shape != batch[0].shape):
            yield np.stack(batch)
            batch = []
        batch.append(rgb)
    if batch:
        yield np.stack(batch)


def extract_features(images: Sequence[str | Path | np.ndarray], net: FeatureNet, batch_size: int = 32,
                     device: str | None = None) -> np.ndarray:  # fmt: skip
    """``(N, D)`` float64 features of ``images`` (paths or RGB uint8 arrays, any size) on ``net``."""
    import torch

    if not len(images):
        raise ValueError("no images to extract features from")
    dev = pick_device(device)
    module = net.module.to(dev)
    out = []
    with torch.no_grad():
        for batch in _batches(images, batch_size):
            x = torch.from_numpy(batch).to(dev).permute(0, 3, 1, 2)
            out.append(module(x).reshape(len(batch), -1).double().cpu().numpy())
    return np.concatenate(out)


def _given_features(dim: int) -> Any:
    """A feature module for torchmetrics that passes precomputed features through."""
    import torch

    module = torch.nn.Identity()
    module.num_features = dim  # torchmetrics reads the feature size from here instead of probing with an image
    return module


def fid_allowed(n_a: int, n_b: int, dim: int) -> bool:
    """FID is reported only when both sets have more images than the features have dimensions."""
    return min(n_a, n_b) > dim


def fid_note(n_a: int, n_b: int, dim: int) -> str:
    """Why FID is not reported for sets of ``n_a`` and ``n_b`` images on ``dim``-d features ("" when it is)."""
    if fid_allowed(n_a, n_b, dim):
        return ""
    return f"no FID: {min(n_a, n_b)} images on a side, not more than the {dim} feature dimensions"


def fid(feats_a: np.ndarray, feats_b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (at least 2 rows each), by torchmetrics."""
    import torch
    from torchmetrics.image.fid import FrechetInceptionDistance

    if len(feats_a) < 2 or len(feats_b) < 2:
        raise ValueError("FID needs at least 2 images per set")
    metric = FrechetInceptionDistance(feature=_given_features(feats_a.shape[1]))
    metric.update(torch.as_tensor(np.asarray(feats_a, np.float64)), real=True)
    metric.update(torch.as_tensor(np.asarray(feats_b, np.float64)), real=False)
    return float(metric.compute())


def kid_subset_size(n_a: int, n_b: int, cap: int = 1000) -> int:
    """KID's subset size for sets of ``n_a`` and ``n_b`` images: half the smaller set (at least 2, at most ``cap``),
    so that the subsets differ and their spread (the KID std) says how much a KID of that sample size varies —
    subsets of a whole set are all equal and would give a spread of 0."""
    return max(2, min(n_a // 2, n_b // 2, cap))


def kid(feats_a: np.ndarray, feats_b: np.ndarray, n_subsets: int = 100, subset_size: int = 1000,
        seed: int = 0) -> tuple[float, float]:  # fmt: skip
    """KID by torchmetrics: unbiased MMD² with the kernel ``(x·y/d + 1)³`` over ``n_subsets`` random subsets of
    ``min(subset_size, len(a), len(b))`` rows each (drawn from a torch generator seeded with ``seed``): (mean, std)."""
    import torch
    from torchmetrics.image.kid import KernelInceptionDistance

    m = min(len(feats_a), len(feats_b), subset_size)
    if m < 2:
        raise ValueError("KID needs at least 2 images per set")
    with warnings.catch_warnings():  # "will save all extracted features in buffer": they are already in memory
        warnings.filterwarnings("ignore", message=".*save all extracted features.*")
        metric = KernelInceptionDistance(feature=_given_features(feats_a.shape[1]), subsets=n_subsets, subset_size=m)
    metric.update(torch.as_tensor(np.asarray(feats_a, np.float64)), real=True)
    metric.update(torch.as_tensor(np.asarray(feats_b, np.float64)), real=False)
    with torch.random.fork_rng(devices=[]):  # the subsets come from torch's global generator: seed it, then restore
        torch.manual_seed(seed)
        mean, std = metric.compute()
    return float(mean), float(std)


def domain_gap(images_a: Sequence[str | Path | np.ndarray], images_b: Sequence[str | Path | np.ndarray],
               net: FeatureNet, *, batch_size: int = 32, device: str | None = None, kid_subsets: int = 100,
               kid_subset_size: int = 1000, seed: int = 0) -> DomainGap:  # fmt: skip
    """FID and KID between two image sets on ``net``'s features (labelled with ``net.name``); FID is NaN, with the
    reason in ``fid_note``, unless :func:`fid_allowed`."""
    fa = extract_features(images_a, net, batch_size, device)
    fb = extract_features(images_b, net, batch_size, device)
    kid_mean, kid_std = kid(fa, fb, kid_subsets, kid_subset_size, seed)
    note = fid_note(len(fa), len(fb), fa.shape[1])
    value = math.nan if note else fid(fa, fb)
    return DomainGap(value if math.isfinite(value) else math.nan, kid_mean, kid_std, len(fa), len(fb), net.name,
                     net.comparable, note)  # fmt: skip
