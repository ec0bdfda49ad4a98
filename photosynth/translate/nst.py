"""Gatys neural style transfer with a Keras 3 VGG16, as the study ran it, batched and backend-agnostic.

The feature extractor (``keras.applications.VGG16(include_top=False)``, Caffe preprocessing) and the
losses are written with ``keras.ops``, so the same code runs on the TensorFlow backend (default) and on
``KERAS_BACKEND=torch`` (torch GPU without a TensorFlow GPU build). Only the gradient call is
backend-specific (``tf.GradientTape`` in a ``tf.function`` / ``torch.autograd.grad``).

Loss (the Keras NST example, which the study used): for each frame

* content: ``Σ (F_l(x) − F_l(c))²`` over the content layers (mean over layers),
* style: ``Σ (G_l(x) − G_l(s))² / (4 C_l² N²)`` with ``G = Fᵀ F`` (unnormalised Gram matrix), ``C_l`` the
  layer's channels and ``N`` the working image's pixel count (mean over layers),
* total variation: ``Σ ((x_{i,j} − x_{i+1,j})² + (x_{i,j} − x_{i,j+1})²) ^ power`` on the Caffe image,

weighted by ``content_weight``, ``style_weight``, ``tv_weight``. The optimisation variable is the RGB image in
[0, 1], initialised from the content (or from the content in the style's colours: ``init``). L-BFGS runs
``scipy.optimize`` on the flattened batch, ``iterations`` times with ``lbfgs_maxfun`` evaluations each, like the
Keras example's loop of ``fmin_l_bfgs_b(maxfun=20)`` calls; the frames of a batch then share the line search (the
summed loss is minimised). Adam runs on the device with the variable clipped to [0, 1] after each step, like the
TensorFlow tutorial.

Weights: ``"imagenet"`` is read from ``$KERAS_HOME/models/`` and never downloaded; ``None`` (random init,
seeded He-uniform so both backends and every run get the same network) only when asked, and then every
output says so. ``"random_calibrated"`` (also what ``"auto"`` falls back to) is the random network made usable
for style transfer: each conv channel is scaled to unit mean activation on a calibration set of frames and
style photos (the "normalized" VGG of Gatys, Ecker, Bethge, CVPR 2016; random filters synthesize textures once
scaled — Ustyuzhaninov, Brendel, Gatys, Bethge, ICLR 2017), and each loss term is made dimensionless per frame
(:meth:`StyleTransfer.calibrate`, :meth:`StyleTransfer._balanced_loss`), so no layer and not the TV term wins by
scale alone. Its outputs are labelled as such.
"""

from __future__ import annotations

import contextlib
import os
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image

from photosynth import imageio
from photosynth.weights import VGG16_NOTOP, VGG16_NOTOP_BYTES, VGG16_NOTOP_URL, keras_models

#: Caffe (VGG) channel means, BGR order.
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
#: What the outputs of a random-init VGG16 are, beside the weights' label.
RANDOM_INIT_CAVEAT = "these images show the method's mechanics, not a real style transfer"
#: What every output made with a random-init VGG16 says about itself.
RANDOM_INIT_NOTICE = f"VGG16 weights=None (random init): {RANDOM_INIT_CAVEAT}"
#: What the outputs of the calibrated random VGG16 are, beside the weights' label.
CALIBRATED_CAVEAT = "a style transfer with random features, not the ImageNet-trained VGG16 the study used"
#: What every output made with the calibrated random VGG16 says about itself.
CALIBRATED_NOTICE = (
    "VGG16 random_calibrated (random init, each channel scaled to unit mean activation, loss terms balanced per "
    f"frame): {CALIBRATED_CAVEAT}"
)
#: Calibration images per kind (frames, style photos) that ``nst_dataset`` draws.
CALIBRATION_IMAGES = 16
#: A channel whose mean activation is below this fraction of its layer's mean is scaled like one at the floor:
#: dividing a nearly silent random filter by its tiny mean would make it explode on any other image.
CALIBRATION_FLOOR = 0.1
BACKENDS = ("tensorflow", "torch")

ImageLike = np.ndarray | str | Path
#: Starting images of the optimisation (:attr:`NSTConfig.init`).
INITS = ("content", "color")


@dataclass(frozen=True)
class NSTConfig:
    """Everything that shapes a stylization. ``size`` is the working ``(width, height)``; ``None`` keeps the frame's."""

    content_layers: tuple[str, ...] = ("block2_conv2",)
    style_layers: tuple[str, ...] = ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3", "block5_conv3")
    content_weight: float = 0.01
    style_weight: float = 4.0
    tv_weight: float = 0.995
    tv_power: float = 1.25
    optimizer: Literal["lbfgs", "adam"] = "lbfgs"
    #: L-BFGS: outer iterations (each up to ``lbfgs_maxfun`` evaluations); Adam: steps.
    iterations: int = 5
    lbfgs_maxfun: int = 20
    learning_rate: float = 0.02
    adam_beta1: float = 0.99
    adam_beta2: float = 0.999
    adam_epsilon: float = 1e-8
    size: tuple[int, int] | None = (828, 250)
    #: Keep the content's colours: transfer on luminance, then put the content's chroma back.
    preserve_color: bool = False
    #: Starting image: ``content`` (the study, the Keras example) or ``color`` — the content with each RGB
    #: channel's mean and standard deviation set to its style photo's (Reinhard et al. 2001, "Color Transfer
    #: between Images"), so a short optimisation starts at the style's colours and spends its steps on texture.
    init: Literal["content", "color"] = "content"
    #: Adam: record losses (and call the callback) every this many steps (each record syncs the device).
    log_every: int = 10

    def __post_init__(self) -> None:
        if self.init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {self.init!r}")
        if self.init == "color" and self.preserve_color:
            raise ValueError("init='color' takes the style's colours, preserve_color keeps the content's: choose one")
        if self.optimizer not in ("lbfgs", "adam"):
            raise ValueError(f"optimizer must be 'lbfgs' or 'adam', got {self.optimizer!r}")
        if not self.content_layers or not self.style_layers:
            raise ValueError("NST needs at least one content layer and one style layer")
        for name in ("iterations", "lbfgs_maxfun", "log_every"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("content_weight", "style_weight", "tv_weight", "learning_rate"):
            if float(getattr(self, name)) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.tv_power <= 0:
            raise ValueError(f"tv_power must be > 0, got {self.tv_power}")
        if self.size is not None and (len(self.size) != 2 or min(self.size) < 2):
            raise ValueError(f"size must be (width, height) with both >= 2, got {self.size}")


#: ``study``: the original study (Keras example, L-BFGS, 828×250). ``tutorial``: the TensorFlow tutorial's
#: layers and optimiser (Adam lr 0.02 on the [0, 1] image, β1 0.99, 1,000 steps) with the study's loss weights.
PRESETS: dict[str, NSTConfig] = {
    "study": NSTConfig(),
    "tutorial": NSTConfig(
        content_layers=("block5_conv2",),
        style_layers=("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1"),
        optimizer="adam",
        iterations=1000,
        learning_rate=0.02,
    ),
}


def preset(name: str, **overrides: Any) -> NSTConfig:
    """A named preset with some fields replaced (``None`` values are ignored)."""
    if name not in PRESETS:
        raise ValueError(f"unknown NST preset {name!r}; choose one of {', '.join(PRESETS)}")
    fields = NSTConfig.__dataclass_fields__
    unknown = sorted(set(overrides) - set(fields))
    if unknown:
        raise ValueError(f"unknown NST setting(s) {', '.join(unknown)}; known: {', '.join(fields)}")
    given = {k: (tuple(v) if isinstance(v, list) else v) for k, v in overrides.items() if v is not None}
    return replace(PRESETS[name], **given)


def parse_size(text: str | None) -> tuple[int, int] | None:
    """``"828x250"`` → ``(828, 250)`` (width × height); ``None``/``""``/``"original"`` → ``None``."""
    if text is None or str(text).strip().lower() in ("", "none", "original"):
        return None
    try:
        width, height = (int(part) for part in str(text).lower().split("x"))
    except ValueError as exc:
        raise ValueError(f"size must look like WIDTHxHEIGHT (e.g. 828x250), got {text!r}") from exc
    return width, height


# --- weights -------------------------------------------------------------------------------------------


class MissingWeightsError(FileNotFoundError):
    """The VGG16 ImageNet weights are not on this machine (they are never downloaded)."""


@dataclass(frozen=True)
class Weights:
    """Resolved weights: the file to load (``None`` = random init) and how outputs describe it."""

    path: Path | None
    label: str
    #: Random init made usable: per-channel calibration and balanced loss terms (see the module docstring).
    calibrated: bool = False

    @property
    def random_init(self) -> bool:
        return self.path is None

    @property
    def notice(self) -> str:
        """The sentence every output of these weights carries ("" for trained weights)."""
        if self.calibrated:
            return CALIBRATED_NOTICE
        return RANDOM_INIT_NOTICE if self.random_init else ""

    @property
    def caveat(self) -> str:
        """What :attr:`notice` adds to :attr:`label`, for text that shows both ("" for trained weights)."""
        if self.calibrated:
            return CALIBRATED_CAVEAT
        return RANDOM_INIT_CAVEAT if self.random_init else ""


def default_weights_path() -> Path:
    """``$KERAS_HOME/models/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5`` (``~/.keras`` by default)."""
    return keras_models() / VGG16_NOTOP


CALIBRATED_LABEL = "random_calibrated (random init, per-channel unit-mean calibration, balanced loss terms)"


def resolve_weights(weights: str | Path | None) -> Weights:
    """``"imagenet"`` (local Keras cache), ``"auto"`` (imagenet if present, else random_calibrated), a file path,
    ``"random_calibrated"``, or ``None``/``"none"`` (plain random init). Missing files raise
    :class:`MissingWeightsError`; keras is not touched."""
    if weights is None or str(weights).lower() == "none":
        return Weights(None, "none (random init)")
    if str(weights).lower() == "random_calibrated":
        return Weights(None, CALIBRATED_LABEL, calibrated=True)
    if str(weights).lower() == "auto":
        path = default_weights_path()
        if path.is_file():
            return resolve_weights("imagenet")
        return Weights(None, f"{CALIBRATED_LABEL[:-1]}; auto: no ImageNet file)", calibrated=True)
    if str(weights).lower() == "imagenet":
        path = default_weights_path()
        if not path.is_file():
            raise MissingWeightsError(
                f"VGG16 ImageNet weights not found: {path} does not exist. Put the file {VGG16_NOTOP} "
                f"({VGG16_NOTOP_BYTES:,} bytes, from {VGG16_NOTOP_URL}) at {path} (set KERAS_HOME to use another "
                "Keras folder) or pass the file's path as weights; photosynth never downloads it. "
                "weights=None (random init) is for tests and the toy world only."
            )
        size = path.stat().st_size
        if size != VGG16_NOTOP_BYTES:
            raise MissingWeightsError(
                f"{path}: {size:,} bytes, expected {VGG16_NOTOP_BYTES:,} for {VGG16_NOTOP} (incomplete copy?). "
                f"Replace it with the genuine file from {VGG16_NOTOP_URL}."
            )
        return Weights(path, f"imagenet ({path})")
    path = Path(weights).expanduser()
    if not path.is_file():
        raise MissingWeightsError(
            f"VGG16 weights file {path} not found (expected a Keras .h5 like {VGG16_NOTOP}, {VGG16_NOTOP_BYTES:,} bytes)"
        )
    if path.suffix.lower() not in (".h5", ".hdf5"):
        raise ValueError(f"{path}: VGG16 weights must be a legacy Keras .h5 file like {VGG16_NOTOP}")
    return Weights(path, f"file ({path})")


# --- model and losses (backend-agnostic, keras.ops) ----------------------------------------------------


def backend() -> str:
    """The active Keras backend; raises for backends this module has no gradient step for."""
    import keras

    name = keras.backend.backend()
    if name not in BACKENDS:
        raise RuntimeError(f"NST supports the Keras backends {BACKENDS}, not {name!r} (set KERAS_BACKEND)")
    return name


def use_backend(name: str | None) -> str:
    """Choose the Keras backend (``tensorflow`` or ``torch``) before keras is imported; returns the active one.

    Empty/``None`` keeps ``$KERAS_BACKEND`` (default tensorflow). Once keras is imported the backend is fixed:
    asking for another raises ``RuntimeError``.
    """
    import sys

    if name:
        if name not in BACKENDS:
            raise ValueError(f"Keras backend must be one of {BACKENDS}, got {name!r}")
        if "keras" not in sys.modules:
            os.environ["KERAS_BACKEND"] = name
    active = backend()
    if name and active != name:
        raise RuntimeError(f"keras is already imported with the {active!r} backend; start a new process for {name!r}")
    return active


def build_extractor(layers: Sequence[str], weights: Weights, seed: int = 0) -> Any:
    """A Keras model from a Caffe-preprocessed batch to the VGG16 activations of ``layers`` (in that order)."""
    import keras

    vgg = keras.applications.VGG16(
        include_top=False, weights=str(weights.path) if weights.path else None, input_shape=(None, None, 3)
    )
    if weights.random_init:
        seed_weights(vgg, seed)
    names = [layer.name for layer in vgg.layers]
    unknown = [name for name in layers if name not in names]
    if unknown:
        known = ", ".join(n for n in names if "conv" in n)
        raise ValueError(f"unknown VGG16 layer(s) {', '.join(unknown)}; known: {known}")
    model = keras.Model(vgg.input, [vgg.get_layer(name).output for name in layers], name="vgg16_features")
    model.trainable = False
    return model


def seed_weights(model: Any, seed: int) -> None:
    """Seeded He-uniform kernels and zero biases from numpy: the same random network on every backend."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        current = layer.get_weights()
        if len(current) != 2:
            continue
        kernel, bias = current
        limit = np.sqrt(6.0 / float(np.prod(kernel.shape[:-1])))
        layer.set_weights([rng.uniform(-limit, limit, kernel.shape).astype("float32"), np.zeros_like(bias)])


def caffe(x01: Any) -> Any:
    """RGB in [0, 1] → Caffe input: ×255, RGB→BGR, minus the ImageNet channel means."""
    from keras import ops

    return ops.flip(x01 * 255.0, axis=-1) - ops.convert_to_tensor(np.array(CAFFE_MEAN_BGR, "float32"))


def gram_matrix(features: Any) -> Any:
    """``(B, H, W, C)`` → ``(B, C, C)``: ``Fᵀ F`` summed over positions (not normalised)."""
    from keras import ops

    return ops.einsum("bhwc,bhwd->bcd", features, features)


def style_layer_loss(gram: Any, target: Any, pixels: int) -> Any:
    """Per frame ``Σ (G − T)² / (4 C² N²)`` (``N`` = working image pixels, as in the Keras example)."""
    from keras import ops

    channels = int(gram.shape[-1])
    return ops.sum(ops.square(gram - target), axis=(1, 2)) / (4.0 * channels**2 * float(pixels) ** 2)


def content_layer_loss(features: Any, target: Any) -> Any:
    """Per frame ``Σ (F − T)²``."""
    from keras import ops

    return ops.sum(ops.square(features - target), axis=(1, 2, 3))


def total_variation_loss(x: Any, power: float = 1.25) -> Any:
    """Per frame ``Σ ((x_{i,j}−x_{i+1,j})² + (x_{i,j}−x_{i,j+1})²) ^ power`` over the top-left ``(H−1)×(W−1)``."""
    from keras import ops

    a = ops.square(x[:, :-1, :-1, :] - x[:, 1:, :-1, :])
    b = ops.square(x[:, :-1, :-1, :] - x[:, :-1, 1:, :])
    return ops.sum(ops.power(a + b, power), axis=(1, 2, 3))


# --- images ----------------------------------------------------------------------------------------------


def resize(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bicubic resize of an H×W×3 uint8 image to ``size`` = (width, height)."""
    if (rgb.shape[1], rgb.shape[0]) == tuple(size):
        return rgb
    return np.asarray(Image.fromarray(rgb).resize(tuple(size), Image.Resampling.BICUBIC))


def luminance_rgb(rgb: np.ndarray) -> np.ndarray:
    """The image's luminance (ITU-R 601) repeated in three channels."""
    y = np.asarray(Image.fromarray(rgb).convert("L"))
    return np.repeat(y[..., None], 3, axis=2)


def with_chroma_of(luma_source: np.ndarray, chroma_source: np.ndarray) -> np.ndarray:
    """Luminance of ``luma_source`` with the chroma (Cb, Cr) of ``chroma_source`` (same size)."""
    y = Image.fromarray(luma_source).convert("YCbCr").split()[0]
    _, cb, cr = Image.fromarray(chroma_source).convert("YCbCr").split()
    return np.asarray(Image.merge("YCbCr", (y, cb, cr)).convert("RGB"))


def match_color(rgb: np.ndarray, style: np.ndarray) -> np.ndarray:
    """``rgb`` (H×W×3 uint8) with each channel's mean and standard deviation set to ``style``'s (any size)."""
    x, ref = rgb.astype("float64"), style.astype("float64")
    mean, std = x.mean(axis=(0, 1)), x.std(axis=(0, 1))
    out = (x - mean) / np.maximum(std, 1e-6) * ref.std(axis=(0, 1)) + ref.mean(axis=(0, 1))
    return np.clip(np.rint(out), 0, 255).astype("uint8")


def _load(image: ImageLike) -> np.ndarray:
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"expected an H×W×3 uint8 RGB image, got {image.dtype} {image.shape}")
        return image
    return imageio.read_rgb(image)


# --- the optimisation ------------------------------------------------------------------------------------


@dataclass
class NSTResult:
    """Stylized frames (uint8 RGB, each at its content's original size) and the loss history.

    ``history`` rows: ``step`` (L-BFGS: loss evaluation; Adam: step), ``iteration``, and the batch means of the weighted
    ``content``, ``style``, ``tv`` terms and their ``total``."""

    images: list[np.ndarray]
    history: list[dict[str, float]] = field(default_factory=list)


@contextlib.contextmanager
def _no_grad() -> Iterator[None]:
    if backend() == "torch":
        import torch

        with torch.no_grad():
            yield
    else:
        yield


class StyleTransfer:
    """One VGG16 feature extractor and a cache of style targets; stylizes batches of frames."""

    def __init__(self, config: NSTConfig, weights: str | Path | Weights | None = "imagenet", seed: int = 0,
                 style_cache_size: int = 128):
        self.config = config
        self.style_cache_size = style_cache_size
        self.weights = weights if isinstance(weights, Weights) else resolve_weights(weights)
        self.seed = seed
        self.backend = backend()
        self.layers = list(dict.fromkeys((*config.content_layers, *config.style_layers)))
        self.extractor = build_extractor(self.layers, self.weights, seed)
        self._style_cache: OrderedDict[tuple, list[Any]] = OrderedDict()
        #: What :meth:`calibrate` used (``None`` until then; only for ``random_calibrated`` weights).
        self.calibration: dict[str, Any] | None = None
        self._convs = [layer for layer in self.extractor.layers if len(layer.get_weights()) == 2]
        self._seeded = [layer.get_weights() for layer in self._convs] if self.weights.calibrated else []
        self._probes: list[Any] = []
        self._grad_fn = _gradient_function(self._balanced_loss if self.weights.calibrated else self._loss)

    def calibrate(self, images: Sequence[ImageLike], size: tuple[int, int] | None = None, chunk: int = 8) -> None:
        """Scale each conv channel of the seeded random VGG16 to unit mean activation on ``images``.

        Layer by layer in network order (each layer sees the already calibrated ones below it), the kernel and
        bias of every channel are divided by the channel's mean ReLU activation over the images and positions
        (at least :data:`CALIBRATION_FLOOR` × the layer's mean activation, so nearly silent filters are not blown up). Images are resized to ``size`` (default: the config's
        working size, else the first image's). Starts from the seeded weights each time, so the network depends
        only on the seed and the images. Only for ``random_calibrated`` weights; clears the style cache.
        """
        import hashlib

        import keras
        from keras import ops

        if not self.weights.calibrated:
            raise ValueError(f"calibrate() is for random_calibrated weights, not {self.weights.label}")
        if not images:
            raise ValueError("calibrate() needs at least one image")
        pixels = [_load(image) for image in images]
        size = tuple(size or self.config.size or (pixels[0].shape[1], pixels[0].shape[0]))
        batch = np.stack([resize(p, size) for p in pixels]).astype("float32") / 255.0
        for layer, weights in zip(self._convs, self._seeded):
            layer.set_weights(weights)
        if not self._probes:  # one model per conv layer, built once
            self._probes = [keras.Model(self.extractor.input, layer.output) for layer in self._convs]
        for layer, probe in zip(self._convs, self._probes):
            total, count = np.zeros(layer.get_weights()[1].shape, "float64"), 0
            with _no_grad():
                for start in range(0, len(batch), chunk):
                    out = probe(caffe(ops.convert_to_tensor(batch[start:start + chunk])), training=False)
                    total += np.asarray(ops.convert_to_numpy(ops.sum(out, axis=(0, 1, 2))), "float64")
                    count += int(np.prod(out.shape[:3]))
            mean = total / count
            scale = (1.0 / np.maximum(mean, CALIBRATION_FLOOR * mean.mean())).astype("float32")
            kernel, bias = layer.get_weights()
            layer.set_weights([kernel * scale, bias * scale])
        keys = sorted(str(i) if not isinstance(i, np.ndarray) else hashlib.sha1(i.tobytes()).hexdigest()
                      for i in images)
        self.calibration = {"images": len(images), "size": list(size),
                            "sha1": hashlib.sha1("\n".join(keys).encode()).hexdigest()}
        self._style_cache.clear()

    # targets
    def _features(self, x01: np.ndarray) -> dict[str, Any]:
        from keras import ops

        with _no_grad():
            outputs = self.extractor(caffe(ops.convert_to_tensor(x01.astype("float32"))), training=False)
        return dict(zip(self.layers, outputs if isinstance(outputs, list) else [outputs]))

    def style_targets(self, style: ImageLike, size: tuple[int, int]) -> list[Any]:
        """Gram matrices ``(C, C)`` of one style image at working ``size``; cached per image (path or pixels),
        the ``style_cache_size`` most recently used."""
        key = (str(style) if not isinstance(style, np.ndarray) else hash(style.tobytes()), tuple(size),
               self.config.preserve_color)
        if key in self._style_cache:
            self._style_cache.move_to_end(key)
            return self._style_cache[key]
        rgb = resize(_load(style), size)
        if self.config.preserve_color:
            rgb = luminance_rgb(rgb)
        feats = self._features(rgb[None].astype("float32") / 255.0)
        with _no_grad():
            self._style_cache[key] = [gram_matrix(feats[name])[0] for name in self.config.style_layers]
        while len(self._style_cache) > self.style_cache_size:  # least recently used first (~2.4 MB each, study)
            self._style_cache.popitem(last=False)
        return self._style_cache[key]

    @property
    def cached_styles(self) -> int:
        """How many style images have targets in the cache."""
        return len(self._style_cache)

    def _layer_terms(self, x: Any, content_targets: list[Any], style_targets: list[Any]
                     ) -> tuple[list[Any], list[Any], Any]:
        """Per-frame content loss of each content layer, style loss of each style layer, and the TV term."""
        cfg = self.config
        x_caffe = caffe(x)
        outputs = self.extractor(x_caffe, training=False)
        feats = dict(zip(self.layers, outputs if isinstance(outputs, list) else [outputs]))
        pixels = int(x.shape[1]) * int(x.shape[2])
        content = [content_layer_loss(feats[name], target) for name, target in zip(cfg.content_layers, content_targets)]
        style = [style_layer_loss(gram_matrix(feats[name]), target, pixels)
                 for name, target in zip(cfg.style_layers, style_targets)]
        return content, style, total_variation_loss(x_caffe, cfg.tv_power)

    def _weighted(self, content: Any, style: Any, tv: Any) -> tuple[Any, dict[str, Any]]:
        from keras import ops

        cfg = self.config
        terms = {"content": cfg.content_weight * content, "style": cfg.style_weight * style, "tv": cfg.tv_weight * tv}
        terms["total"] = terms["content"] + terms["style"] + terms["tv"]
        return ops.sum(terms["total"]), terms

    def _loss(self, x: Any, content_targets: list[Any], style_targets: list[Any]) -> tuple[Any, dict[str, Any]]:
        content, style, tv = self._layer_terms(x, content_targets, style_targets)
        return self._weighted(sum(content) / len(content), sum(style) / len(style), tv)

    def _balanced_loss(self, x: Any, content_targets: list[Any], style_targets: list[Any], norms: dict[str, Any]
                       ) -> tuple[Any, dict[str, Any]]:
        """The ``random_calibrated`` loss: every term divided by its per-frame reference (:meth:`_references`):
        relative Gram error per style layer, relative feature error per content layer, TV relative to the start."""
        content, style, tv = self._layer_terms(x, content_targets, style_targets)
        content = sum(c / r for c, r in zip(content, norms["content"])) / len(content)
        style = sum(s / r for s, r in zip(style, norms["style"])) / len(style)
        return self._weighted(content, style, tv / norms["tv"])

    def _references(self, x0: np.ndarray, content_targets: list[Any], style_targets: list[Any]) -> dict[str, Any]:
        """Per-frame scales of the balanced loss, each the loss of a blank image or of the start: ``Σ F_l(c)²`` per
        content layer, ``Σ G_l(s)² / (4 C² N²)`` per style layer (so each scores its relative Gram error, whatever
        the layer's scale), and the TV term of the starting image (the content); floored at a tiny positive value."""
        from keras import ops

        tiny = 1e-12
        pixels = int(x0.shape[1]) * int(x0.shape[2])
        with _no_grad():
            return {
                "content": [ops.maximum(ops.sum(ops.square(t), axis=(1, 2, 3)), tiny) for t in content_targets],
                "style": [ops.maximum(style_layer_loss(ops.zeros_like(t), t, pixels), tiny) for t in style_targets],
                "tv": ops.maximum(total_variation_loss(caffe(ops.convert_to_tensor(x0)), self.config.tv_power), tiny),
            }

    def _prepare(
        self, contents: Sequence[ImageLike], styles: Sequence[ImageLike] | ImageLike
    ) -> tuple[list[np.ndarray], np.ndarray, tuple[Any, ...]]:
        """Originals, the starting batch in [0, 1] (:attr:`NSTConfig.init`), and the loss's targets: content
        targets, stacked per-frame style targets (and, for ``random_calibrated`` weights, the per-frame references)."""
        from keras import ops

        if self.weights.calibrated and self.calibration is None:
            raise RuntimeError("random_calibrated VGG16: call calibrate(images) first (stylize_dataset does)")
        originals = [_load(c) for c in contents]
        if not originals:
            raise ValueError("no content frames given")
        if isinstance(styles, (str, Path, np.ndarray)):
            styles = [styles] * len(originals)
        if len(styles) != len(originals):
            raise ValueError(f"{len(originals)} content frames but {len(styles)} style images")
        size = self.config.size or (originals[0].shape[1], originals[0].shape[0])
        work = [resize(o, size) for o in originals]
        if any(w.shape != work[0].shape for w in work):
            raise ValueError("frames of different sizes need a working size (config.size)")
        batch = np.stack(work).astype("float32") / 255.0
        content_in = np.stack([luminance_rgb(w) for w in work]).astype("float32") / 255.0 if (
            self.config.preserve_color) else batch
        feats = self._features(content_in)
        content_targets = [feats[name] for name in self.config.content_layers]
        per_frame = [self.style_targets(s, size) for s in styles]
        with _no_grad():
            style_targets = [ops.stack([t[i] for t in per_frame]) for i in range(len(self.config.style_layers))]
        start = content_in
        if self.config.init == "color":
            start = np.stack([match_color(w, _load(s)) for w, s in zip(work, styles)]).astype("float32") / 255.0
        if self.weights.calibrated:
            norms = self._references(content_in, content_targets, style_targets)
            return originals, start, (content_targets, style_targets, norms)
        return originals, start, (content_targets, style_targets)

    def terms(self, x01: np.ndarray, contents: Sequence[ImageLike], styles: Sequence[ImageLike] | ImageLike
              ) -> dict[str, np.ndarray]:
        """Per-frame weighted loss terms of the image batch ``x01`` (B×H×W×3 in [0, 1], working size)."""
        from keras import ops

        _, _, targets = self._prepare(contents, styles)
        loss = self._balanced_loss if self.weights.calibrated else self._loss
        with _no_grad():
            _, terms = loss(ops.convert_to_tensor(np.asarray(x01, "float32")), *targets)
        return {k: np.asarray(ops.convert_to_numpy(v), "float64") for k, v in terms.items()}

    def stylize(
        self,
        contents: Sequence[ImageLike],
        styles: Sequence[ImageLike] | ImageLike,
        callback: Callable[[int, np.ndarray], None] | None = None,
    ) -> NSTResult:
        """Stylize a batch of frames (each with its style image, or one style for all).

        Frames are stylized at ``config.size`` and resized back to their own size. ``callback(iteration,
        images)`` gets the working-size uint8 batch after each L-BFGS iteration / each logged Adam step.
        """
        originals, x0, targets = self._prepare(contents, styles)
        run = self._lbfgs if self.config.optimizer == "lbfgs" else self._adam
        history: list[dict[str, float]] = []
        x = run(x0, targets, history, callback)
        work = _to_uint8(x)
        out = []
        for i, original in enumerate(originals):
            img = work[i]
            if self.config.preserve_color:
                img = with_chroma_of(img, resize(original, (img.shape[1], img.shape[0])))
            out.append(resize(img, (original.shape[1], original.shape[0])))
        return NSTResult(out, history)

    def _record(self, history: list[dict[str, float]], step: int, iteration: int, terms: dict[str, Any]) -> None:
        from keras import ops

        row = {"step": step, "iteration": iteration}
        row.update({k: float(np.mean(ops.convert_to_numpy(v))) for k, v in terms.items()})
        history.append(row)

    def _lbfgs(self, x0: np.ndarray, targets: tuple[Any, ...], history: list[dict[str, float]],
               callback: Callable[[int, np.ndarray], None] | None) -> np.ndarray:
        from keras import ops
        from scipy.optimize import minimize

        shape, iteration = x0.shape, 0
        last: list[Any] = [None, None]  # the previous point and its value: each restart re-evaluates it

        def value_and_grad(flat: np.ndarray) -> tuple[float, np.ndarray]:
            if last[0] is not None and np.array_equal(flat, last[0]):
                return last[1]
            x = ops.convert_to_tensor(flat.reshape(shape).astype("float32"))
            total, terms, grad = self._grad_fn(x, *targets)
            self._record(history, len(history) + 1, iteration, terms)
            last[:] = [flat.copy(), (float(ops.convert_to_numpy(total)),
                                     np.asarray(ops.convert_to_numpy(grad), "float64").ravel())]
            return last[1]

        flat = x0.astype("float64").ravel()
        for iteration in range(1, self.config.iterations + 1):
            flat = minimize(value_and_grad, flat, jac=True, method="L-BFGS-B",
                            options={"maxfun": self.config.lbfgs_maxfun, "maxiter": self.config.lbfgs_maxfun}).x
            if callback is not None:
                callback(iteration, _to_uint8(flat.reshape(shape)))
        return flat.reshape(shape)

    def _adam(self, x0: np.ndarray, targets: tuple[Any, ...], history: list[dict[str, float]],
              callback: Callable[[int, np.ndarray], None] | None) -> np.ndarray:
        from keras import ops

        cfg = self.config
        x = ops.convert_to_tensor(x0)
        m, v = ops.zeros_like(x), ops.zeros_like(x)
        for step in range(1, cfg.iterations + 1):
            _, terms, grad = self._grad_fn(x, *targets)
            with _no_grad():
                m = cfg.adam_beta1 * m + (1 - cfg.adam_beta1) * grad
                v = cfg.adam_beta2 * v + (1 - cfg.adam_beta2) * ops.square(grad)
                m_hat = m / (1 - cfg.adam_beta1**step)
                v_hat = v / (1 - cfg.adam_beta2**step)
                x = ops.clip(x - cfg.learning_rate * m_hat / (ops.sqrt(v_hat) + cfg.adam_epsilon), 0.0, 1.0)
            if step % cfg.log_every == 0 or step == cfg.iterations:
                self._record(history, step, step, terms)
                if callback is not None:
                    callback(step, _to_uint8(ops.convert_to_numpy(x)))
        return np.asarray(ops.convert_to_numpy(x))


def _to_uint8(x01: np.ndarray) -> np.ndarray:
    return (np.clip(np.asarray(x01), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _gradient_function(loss: Callable[..., tuple[Any, dict[str, Any]]]) -> Callable[..., tuple[Any, dict, Any]]:
    """``f(x, *targets) → (total, terms, ∂total/∂x)`` for the active backend (``targets`` as ``loss`` takes them)."""
    if backend() == "tensorflow":
        import tensorflow as tf

        @tf.function
        def tf_step(x: Any, *targets: Any) -> tuple[Any, dict, Any]:
            with tf.GradientTape() as tape:
                tape.watch(x)
                total, terms = loss(x, *targets)
            return total, terms, tape.gradient(total, x)

        return tf_step

    import torch

    def torch_step(x: Any, *targets: Any) -> tuple[Any, dict, Any]:
        x = x.detach().requires_grad_(True)
        total, terms = loss(x, *targets)
        (grad,) = torch.autograd.grad(total, x)
        return total.detach(), {k: t.detach() for k, t in terms.items()}, grad

    return torch_step
