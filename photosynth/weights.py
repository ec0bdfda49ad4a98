"""The pretrained weight files photosynth can use, and where a run looks for them (DESIGN §5).

Nothing here downloads: a run only reads these files from the libraries' own caches (or an explicit path), and a
missing file is an error that names it and its place. What each file is, its size and where the owning library
publishes it are kept here, so the error messages, the preflight check and ``photosynth info`` agree.

- Keras VGG16 ImageNet "notop" weights (:data:`VGG16_NOTOP`), which the study's neural style transfer loads with
  ``weights="imagenet"`` from ``$KERAS_HOME/models/`` (:func:`keras_models`).
- The TF Inception-v3 FID weights of torch-fidelity (:data:`INCEPTION_FILE`), which torchmetrics' FID/KID load from
  ``$TORCH_HOME/hub/checkpoints/`` (:func:`torch_cache`).
- ultralytics' AMP-check checkpoint (:data:`AMP_CHECK_WEIGHTS`), without which detector training keeps AMP off, from
  ultralytics' ``weights_dir`` setting (:func:`photosynth.runtime.ultralytics_weights`).

``photosynth fetch`` (:mod:`photosynth.fetch`) is the one step that downloads them, on purpose, into these places.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The Keras VGG16 weights file the NST needs (``weights="imagenet"``), its size and where Keras publishes it.
VGG16_NOTOP = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
VGG16_NOTOP_BYTES = 58_889_256
VGG16_NOTOP_URL = f"https://storage.googleapis.com/tensorflow/keras-applications/vgg16/{VGG16_NOTOP}"
#: Its md5, the ``file_hash`` ``keras.applications.vgg16.VGG16`` checks (Keras re-downloads a file that differs).
VGG16_NOTOP_MD5 = "6d6bbae143d832006294945121d1f1fc"
#: torch-fidelity's (and so torchmetrics') file name for the TF Inception-v3 FID weights, as ``torch.hub`` caches it.
INCEPTION_FILE = "weights-inception-2015-12-05-6726825d.pth"
#: Accepted names, in search order: torch-fidelity's, then pytorch-fid's (same conversion, same parameter names).
INCEPTION_FILES: tuple[str, ...] = (INCEPTION_FILE, "pt_inception-2015-12-05-6726825d.pth")
#: Approximate size of the weights file (23.9 M float32 parameters).
INCEPTION_SIZE = "about 96 MB"
#: Where torch-fidelity downloads it from (for the error message and ``photosynth fetch``; runs never download).
INCEPTION_URL = "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/" + INCEPTION_FILE
#: The start of its sha256: the digits in its name, as ``torch.hub.load_state_dict_from_url(check_hash=True)`` reads
#: them (torch-fidelity itself loads it without checking).
INCEPTION_SHA256_PREFIX = "6726825d"
#: The checkpoint ultralytics' AMP check loads (it downloads it when missing, so AMP stays off without it).
AMP_CHECK_WEIGHTS = "yolo26n.pt"
#: Where ultralytics publishes it: the assets release ``attempt_download_asset`` downloads from (no hash published).
AMP_CHECK_URL = "https://github.com/ultralytics/assets/releases/download/v8.4.0/" + AMP_CHECK_WEIGHTS


def keras_models() -> Path:
    """``$KERAS_HOME/models`` (``~/.keras/models`` by default): where Keras keeps downloaded weights."""
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser() / "models"


def torch_home() -> Path:
    """``$TORCH_HOME`` as ``torch.hub`` resolves it (else ``$XDG_CACHE_HOME/torch``, else ``~/.cache/torch``)."""
    home = os.environ.get("TORCH_HOME") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "torch"
    return Path(home).expanduser()


def torch_cache() -> Path:
    """``$TORCH_HOME/hub/checkpoints`` (:func:`torch_home`): where ``torch.hub`` keeps downloaded weights."""
    return torch_home() / "hub" / "checkpoints"


def inception_weights(weights: str | Path | None = None) -> Path:
    """The Inception weight file to use: ``weights`` or the first of :data:`INCEPTION_FILES` in :func:`torch_cache`."""
    if weights is not None:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"{path}: Inception weights file not found")
        return path
    folder = torch_cache()
    for name in INCEPTION_FILES:
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(
        f"Inception-v3 FID weights not found: looked for {' or '.join(INCEPTION_FILES)} in {folder} "
        f"($TORCH_HOME/hub/checkpoints). Nothing is downloaded at run time: run `photosynth fetch` (with a network, "
        f"--dest to carry it to this machine) or copy {INCEPTION_FILE} ({INCEPTION_SIZE}, "
        f"torch-fidelity's release {INCEPTION_URL}) into that folder, pass weights=PATH, or use another feature "
        "network (gap_features: random_cnn; feature_network(module, name))."
    )


def local_weights() -> dict[str, Path | None]:
    """Which optional pretrained weights are present locally (never downloaded)."""
    inception = [torch_cache() / name for name in INCEPTION_FILES]
    candidates = {
        "keras_vgg16_notop": keras_models() / VGG16_NOTOP,
        "torch_inception_fid": next((p for p in inception if p.is_file()), inception[0]),
    }
    return {name: (path if path.is_file() else None) for name, path in candidates.items()}
