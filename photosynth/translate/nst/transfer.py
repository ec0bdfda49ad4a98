"""The optimisation: :class:`StyleTransfer` holds one VGG16 feature extractor and a cache of style targets, and
stylizes batches of frames with L-BFGS (scipy, on the flattened batch) or Adam (on the device)."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from photosynth.translate.nst.backend import backend, build_extractor, gradient_function, no_grad
from photosynth.translate.nst.config import NSTConfig
from photosynth.translate.nst.images import (
    ImageLike,
    load,
    luminance_rgb,
    match_color,
    resize,
    to_uint8,
    with_chroma_of,
)
from photosynth.translate.nst.losses import (
    caffe,
    content_layer_loss,
    gram_matrix,
    style_layer_loss,
    total_variation_loss,
)
from photosynth.translate.nst.weights import Weights, resolve_weights

#: Calibration images per kind (frames, style photos) that ``nst_dataset`` draws.
CALIBRATION_IMAGES = 16
#: A channel whose mean activation is below this fraction of its layer's mean is scaled like one at the floor:
#: dividing a nearly silent random filter by its tiny mean would make it explode on any other image.
CALIBRATION_FLOOR = 0.1


@dataclass
class NSTResult:
    """Stylized frames (uint8 RGB, each at its content's original size) and the loss history.

    ``history`` rows: ``step`` (L-BFGS: loss evaluation; Adam: step), ``iteration``, and the batch means of the weighted
    ``content``, ``style``, ``tv`` terms and their ``total``."""

    images: list[np.ndarray]
    history: list[dict[str, float]] = field(default_factory=list)


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
        self._grad_fn = gradient_function(self._balanced_loss if self.weights.calibrated else self._loss)

    def calibrate(self, images: Sequence[ImageLike], size: tuple[int, int] | None = None, chunk: int = 8) -> None:
        """Scale each conv channel of the seeded random VGG16 to unit mean activation on ``images``.

        Layer by layer in network order (each layer sees the already calibrated ones below it), the kernel and
        bias of every channel are divided by the channel's mean ReLU activation over the images and positions
        (at least :data:`CALIBRATION_FLOOR` × the layer's mean activation, so nearly silent filters are not blown up). Images are resized to ``size`` (default: the config's
        working size, else the first image's). Starts from the seeded weights each time, so the network depends
        only on the seed and the images. Only for ``random_calibrated`` weights; clears the style cache.
        """
        import keras
        from keras import ops

        if not self.weights.calibrated:
            raise ValueError(f"calibrate() is for random_calibrated weights, not {self.weights.label}")
        if not images:
            raise ValueError("calibrate() needs at least one image")
        pixels = [load(image) for image in images]
        size = tuple(size or self.config.size or (pixels[0].shape[1], pixels[0].shape[0]))
        batch = np.stack([resize(p, size) for p in pixels]).astype("float32") / 255.0
        for layer, weights in zip(self._convs, self._seeded):
            layer.set_weights(weights)
        if not self._probes:  # one model per conv layer, built once
            self._probes = [keras.Model(self.extractor.input, layer.output) for layer in self._convs]
        for layer, probe in zip(self._convs, self._probes):
            total, count = np.zeros(layer.get_weights()[1].shape, "float64"), 0
            with no_grad():
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

        with no_grad():
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
        rgb = resize(load(style), size)
        if self.config.preserve_color:
            rgb = luminance_rgb(rgb)
        feats = self._features(rgb[None].astype("float32") / 255.0)
        with no_grad():
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
        with no_grad():
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
        originals = [load(c) for c in contents]
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
        with no_grad():
            style_targets = [ops.stack([t[i] for t in per_frame]) for i in range(len(self.config.style_layers))]
        start = content_in
        if self.config.init == "color":
            start = np.stack([match_color(w, load(s)) for w, s in zip(work, styles)]).astype("float32") / 255.0
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
        with no_grad():
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
        work = to_uint8(x)
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
                callback(iteration, to_uint8(flat.reshape(shape)))
        return flat.reshape(shape)

    def _adam(self, x0: np.ndarray, targets: tuple[Any, ...], history: list[dict[str, float]],
              callback: Callable[[int, np.ndarray], None] | None) -> np.ndarray:
        from keras import ops

        cfg = self.config
        x = ops.convert_to_tensor(x0)
        m, v = ops.zeros_like(x), ops.zeros_like(x)
        for step in range(1, cfg.iterations + 1):
            _, terms, grad = self._grad_fn(x, *targets)
            with no_grad():
                m = cfg.adam_beta1 * m + (1 - cfg.adam_beta1) * grad
                v = cfg.adam_beta2 * v + (1 - cfg.adam_beta2) * ops.square(grad)
                m_hat = m / (1 - cfg.adam_beta1**step)
                v_hat = v / (1 - cfg.adam_beta2**step)
                x = ops.clip(x - cfg.learning_rate * m_hat / (ops.sqrt(v_hat) + cfg.adam_epsilon), 0.0, 1.0)
            if step % cfg.log_every == 0 or step == cfg.iterations:
                self._record(history, step, step, terms)
                if callback is not None:
                    callback(step, to_uint8(ops.convert_to_numpy(x)))
        return np.asarray(ops.convert_to_numpy(x))
