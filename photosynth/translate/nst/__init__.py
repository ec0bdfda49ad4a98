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

Modules, one concern each (everything public is also importable from this package, e.g. ``nst.StyleTransfer``):

- :mod:`.config`: :class:`NSTConfig` and the presets (``study``, ``tutorial``).
- :mod:`.weights`: which VGG16 (ImageNet from the local Keras cache, a file, random, calibrated random), labelled.
- :mod:`.backend`: the Keras backend, the VGG16 feature extractor, the backend-specific gradient step.
- :mod:`.losses`: Caffe preprocessing, Gram matrices, the style / content / total-variation terms.
- :mod:`.images`: resizes, luminance and chroma, colour matching.
- :mod:`.transfer`: :class:`StyleTransfer`, the L-BFGS and Adam optimisations and the calibration.
- :mod:`.runner`: a whole dataset of frames, resumable and shardable, with its loss log.
"""

from photosynth.translate.nst.backend import BACKENDS, backend, build_extractor, seed_weights, use_backend
from photosynth.translate.nst.config import PRESETS, NSTConfig, parse_size, preset
from photosynth.translate.nst.images import match_color, resize
from photosynth.translate.nst.losses import (
    caffe,
    content_layer_loss,
    gram_matrix,
    style_layer_loss,
    total_variation_loss,
)
from photosynth.translate.nst.runner import calibration_sample, choose_style, read_losses, stylize_dataset
from photosynth.translate.nst.transfer import NSTResult, StyleTransfer
from photosynth.translate.nst.weights import (
    CALIBRATED_NOTICE,
    RANDOM_INIT_NOTICE,
    MissingWeightsError,
    Weights,
    resolve_weights,
)  # fmt: skip

__all__ = [
    "BACKENDS", "CALIBRATED_NOTICE", "PRESETS", "RANDOM_INIT_NOTICE", "MissingWeightsError", "NSTConfig", "NSTResult",
    "StyleTransfer", "Weights", "backend", "build_extractor", "caffe", "calibration_sample", "choose_style",
    "content_layer_loss", "gram_matrix", "match_color", "parse_size", "preset", "read_losses", "resize",
    "resolve_weights", "seed_weights", "stylize_dataset", "style_layer_loss", "total_variation_loss", "use_backend",
]  # fmt: skip
