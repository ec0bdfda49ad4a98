"""Which VGG16 the style transfer uses: ImageNet weights from the local Keras cache (never downloaded), a file,
plain random init, or the calibrated random network — and the sentence every output of each carries."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from photosynth.weights import VGG16_NOTOP, VGG16_NOTOP_BYTES, VGG16_NOTOP_URL, keras_models

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
                "Keras folder) or pass the file's path as weights; photosynth never downloads it at run time "
                "(`photosynth fetch` does, on purpose). "
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
