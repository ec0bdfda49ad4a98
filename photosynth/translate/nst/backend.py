"""The Keras backend the style transfer runs on (TensorFlow or torch), the VGG16 feature extractor built on it, and
the only backend-specific code: the gradient step and ``no_grad``."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from photosynth.translate.nst.weights import Weights

BACKENDS = ("tensorflow", "torch")


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


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    if backend() == "torch":
        import torch

        with torch.no_grad():
            yield
    else:
        yield


def gradient_function(loss: Callable[..., tuple[Any, dict[str, Any]]]) -> Callable[..., tuple[Any, dict, Any]]:
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
