"""The Gatys loss terms, backend-agnostic (``keras.ops``): Caffe preprocessing, Gram matrices, the style, content
and total-variation terms (the Keras NST example's definitions)."""

from __future__ import annotations

from typing import Any

import numpy as np

#: Caffe (VGG) channel means, BGR order.
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


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
