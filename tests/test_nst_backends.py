"""NST on both Keras backends (the ``full`` profile runs ``nst_backend: torch``): the loss composed term by term by
hand, finite-difference checks of the gradient step (``tf_step`` / ``torch_step``) of both losses (``_loss``, and
``_balanced_loss`` of the calibrated random network), and the two backends agreeing on the gradient and on short
L-BFGS and Adam runs.

Keras fixes its backend per process, so the backend this process does not run is probed in a subprocess
(``KERAS_BACKEND``). Tolerances: the backends' float32 convolutions differ in rounding only, so gradients agree to
1e-3 of their largest entry, losses to a relative 1e-4 and short L-BFGS / Adam runs' losses to 1e-3; a central
difference (step 1e-3 on the [0, 1] image, float32) matches the analytic directional derivative to 0.1 % along
the gradient and to 2 % along smooth random directions (those cross ReLU kinks and the TV power's).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
from PIL import Image

from photosynth.translate import nst

SIZE = (24, 16)  # working (width, height); block5 still sees a 1×1 map
#: The study's style layers up to block 3 (the network is cut after the deepest layer asked for: a fast probe).
PROBE_STYLE = ("block1_conv2", "block2_conv2", "block3_conv3")
#: Two content and two style layers, so "mean over layers" is exercised; distinct weights for every term.
COMPOSED = dict(content_layers=("block1_conv2", "block2_conv1"), style_layers=("block1_conv1", "block3_conv1"),
                content_weight=0.3, style_weight=2.0, tv_weight=0.7, tv_power=1.25)  # fmt: skip


def smooth(seed: int, height: int, width: int) -> np.ndarray:
    small = np.random.default_rng(seed).integers(0, 256, (3, 5, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((width, height), Image.Resampling.BILINEAR))


class GradientCheck(NamedTuple):
    """How one loss is checked: the network whose ``_grad_fn`` differentiates it, the central difference's step
    and the relative tolerances along the gradient and along the smooth random directions."""

    weights: str | None
    step: float
    along: float
    smooth: float


#: ``_grad_fn`` of a plain random network differentiates ``_loss``, of a ``random_calibrated`` one
#: ``_balanced_loss``. The balanced style term is a relative Gram error, quartic in the features and far from its
#: target at the start: along the (unit-max) gradient its second difference is ~5·10³ against a slope of ~47, so a
#: 1e-3 step is 5 % off and the check takes 1e-4 (0.4 % off, and shrinking with the step). There float32 rounding of a
#: loss near 5 moves the smooth directions' small slopes (~2.5) by about 1 %: 1 % along the gradient, 3 % along those.
LOSSES = {"_loss": GradientCheck(None, 1e-3, 1e-3, 2e-2),
          "_balanced_loss": GradientCheck("random_calibrated", 1e-4, 1e-2, 3e-2)}


def gradient_checks(st: nst.StyleTransfer, loss: str, contents: list, styles: list, x: np.ndarray,
                    eps: float = 1e-3) -> tuple[float, np.ndarray, list[dict]]:
    """``st``'s loss (the method named ``loss``, which ``st._grad_fn`` differentiates) and gradient at ``x``, and
    central differences of it along the gradient and along two smooth random directions, each beside the analytic
    directional derivative (step ``eps`` on the [0, 1] image)."""
    from keras import ops

    _, _, targets = st._prepare(contents, styles)
    direct = float(ops.convert_to_numpy(getattr(st, loss)(ops.convert_to_tensor(x), *targets)[0]))

    def total_and_grad(point: np.ndarray) -> tuple[float, np.ndarray]:
        total, _, grad = st._grad_fn(ops.convert_to_tensor(point.astype("float32")), *targets)
        return float(ops.convert_to_numpy(total)), np.asarray(ops.convert_to_numpy(grad), "float64")

    total, grad = total_and_grad(x)
    assert total == pytest.approx(direct, rel=1e-5), f"_grad_fn does not differentiate {loss}"
    fields = [np.stack([smooth(20 + k, 16, 24), smooth(30 + k, 16, 24)]) / 127.5 - 1.0 for k in range(2)]
    checks = []
    for v in [grad / np.abs(grad).max(), *fields]:  # steepest ascent, then two smooth random directions
        plus, minus = total_and_grad(x + eps * v)[0], total_and_grad(x - eps * v)[0]
        checks.append({"finite_difference": (plus - minus) / (2 * eps), "analytic": float((grad * v).sum())})
    return total, grad, checks


def probe() -> dict:
    """Loss, gradient and finite differences of both losses, and short L-BFGS and Adam runs on the active backend
    (JSON-ready)."""
    config = nst.preset("study", size=SIZE, iterations=1, lbfgs_maxfun=5, style_layers=PROBE_STYLE)
    contents, styles = [smooth(1, 16, 24), smooth(2, 16, 24)], [smooth(3, 16, 24), smooth(4, 16, 24)]
    x = (np.stack([smooth(5, 16, 24), smooth(6, 16, 24)]).astype("float32") / 255.0) * 0.8 + 0.1
    transfers = {loss: nst.StyleTransfer(config, weights=check.weights, seed=7) for loss, check in LOSSES.items()}
    transfers["_balanced_loss"].calibrate([*contents, *styles])
    found = {loss: gradient_checks(t, loss, contents, styles, x, LOSSES[loss].step) for loss, t in transfers.items()}
    total, grad, _ = found["_loss"]
    checks = {loss: result[2] for loss, result in found.items()}
    st = transfers["_loss"]
    run = st.stylize(contents, styles)
    adam_config = nst.preset("tutorial", size=SIZE, iterations=4, log_every=1, content_layers=("block2_conv2",),
                             style_layers=PROBE_STYLE)  # fmt: skip
    adam = nst.StyleTransfer(adam_config, weights=None, seed=7).stylize(contents, styles)
    return {"backend": st.backend, "total": total, "grad": grad.ravel().tolist(), "checks": checks,
            "lbfgs": [row["total"] for row in run.history], "images": [im.tolist() for im in run.images],
            "adam": [row["total"] for row in adam.history]}  # fmt: skip


def _other_backend() -> dict:
    other = "torch" if nst.backend() == "tensorflow" else "tensorflow"
    code = (f"import sys, json; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
            "from test_nst_backends import probe; print('PROBE' + json.dumps(probe()))")  # fmt: skip
    env = {**os.environ, "KERAS_BACKEND": other, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(next(ln for ln in proc.stdout.splitlines() if ln.startswith("PROBE"))[len("PROBE"):])


@pytest.fixture(scope="module")
def probes() -> dict[str, dict]:
    here = probe()
    there = _other_backend()
    return {here["backend"]: here, there["backend"]: there}


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("backend", nst.BACKENDS)
def test_gradient_matches_finite_differences(probes: dict[str, dict], backend: str, loss: str) -> None:
    result = probes[backend]
    assert result["backend"] == backend
    along_gradient, *smooth_fields = result["checks"][loss]
    tolerance = LOSSES[loss]
    assert along_gradient["analytic"] == pytest.approx(along_gradient["finite_difference"], rel=tolerance.along)
    assert along_gradient["analytic"] > 0
    for check in smooth_fields:  # these cross ReLU kinks of the network and the TV power
        assert check["analytic"] == pytest.approx(check["finite_difference"], rel=tolerance.smooth), check


def test_backends_agree_on_gradient_and_a_short_lbfgs_run(probes: dict[str, dict]) -> None:
    tf_run, torch_run = probes["tensorflow"], probes["torch"]
    assert tf_run["total"] == pytest.approx(torch_run["total"], rel=1e-4)
    g_tf, g_torch = np.array(tf_run["grad"]), np.array(torch_run["grad"])
    np.testing.assert_allclose(g_torch, g_tf, rtol=0, atol=1e-3 * np.abs(g_tf).max())
    np.testing.assert_allclose(torch_run["lbfgs"], tf_run["lbfgs"], rtol=1e-3)
    assert tf_run["lbfgs"][-1] < tf_run["lbfgs"][0]
    np.testing.assert_allclose(torch_run["adam"], tf_run["adam"], rtol=1e-3)
    assert len(tf_run["adam"]) == 4 and tf_run["adam"][-1] < tf_run["adam"][0]
    diff = np.abs(np.array(tf_run["images"], float) - np.array(torch_run["images"], float))
    assert diff.max() <= 2 and diff.mean() < 0.1  # uint8 results: rounding of near-equal optima at most


def test_loss_is_composed_as_documented_term_by_term() -> None:
    """Weights, the mean over content and style layers, the style term's normalisation by the *working image's*
    pixel count (not the layer's), and total variation on the Caffe-space image, recomputed with numpy."""
    from keras import ops

    cfg = nst.preset("study", size=SIZE, **COMPOSED)
    st = nst.StyleTransfer(cfg, weights=None, seed=3)
    contents, styles = [smooth(11, 16, 24), smooth(12, 16, 24)], [smooth(13, 16, 24), smooth(14, 16, 24)]
    x = np.stack([smooth(15, 16, 24), smooth(16, 16, 24)]).astype("float32") / 255.0

    def caffe(x01: np.ndarray) -> np.ndarray:
        return (x01 * 255.0)[..., ::-1] - np.array([103.939, 116.779, 123.68], "float32")

    def features(x01: np.ndarray) -> dict[str, np.ndarray]:
        out = st.extractor(ops.convert_to_tensor(caffe(x01).astype("float32")), training=False)
        return {name: np.asarray(ops.convert_to_numpy(f), "float64") for name, f in zip(st.layers, out)}

    def gram(f: np.ndarray) -> np.ndarray:
        flat = f.reshape(len(f), -1, f.shape[-1])
        return np.einsum("bpc,bpd->bcd", flat, flat)

    fx = features(x)
    fc = features(np.stack(contents).astype("float32") / 255.0)
    fs = features(np.stack(styles).astype("float32") / 255.0)
    pixels = SIZE[0] * SIZE[1]
    content = np.mean([((fx[n] - fc[n]) ** 2).sum(axis=(1, 2, 3)) for n in cfg.content_layers], axis=0)
    style = np.mean([((gram(fx[n]) - gram(fs[n])) ** 2).sum(axis=(1, 2)) / (4 * fx[n].shape[-1] ** 2 * pixels**2)
                     for n in cfg.style_layers], axis=0)  # fmt: skip
    c = caffe(x).astype("float64")
    a = (c[:, :-1, :-1] - c[:, 1:, :-1]) ** 2
    b = (c[:, :-1, :-1] - c[:, :-1, 1:]) ** 2
    tv = ((a + b) ** 1.25).sum(axis=(1, 2, 3))
    terms = st.terms(x, contents, styles)
    np.testing.assert_allclose(terms["content"], 0.3 * content, rtol=1e-4)
    np.testing.assert_allclose(terms["style"], 2.0 * style, rtol=1e-4)
    np.testing.assert_allclose(terms["tv"], 0.7 * tv, rtol=1e-4)
    np.testing.assert_allclose(terms["total"], 0.3 * content + 2.0 * style + 0.7 * tv, rtol=1e-4)
    assert min(content) > 0 and min(style) > 0
    # the layers' own pixel counts differ from the working image's: that normalisation would be far off
    layer_pixels = [fx[n].shape[1] * fx[n].shape[2] for n in cfg.style_layers]
    assert layer_pixels[1] != pixels
