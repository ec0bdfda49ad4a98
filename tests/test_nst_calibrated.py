"""The calibrated random-init VGG16 (``random_calibrated``): calibration, balanced loss, labels, and that it is
not the uniform blur the plain random network gives."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photosynth import imageio
from photosynth.translate import nst

SIZE = (32, 16)  # working (width, height): the smallest that reaches block5


def tiny(**overrides) -> nst.NSTConfig:
    return nst.preset("study", **{"size": SIZE, "iterations": 1, "lbfgs_maxfun": 6, **overrides})


def blocks(seed: int) -> np.ndarray:
    """A 'street' with sharp-edged coloured boxes (cars) on a flat background: structure a blur would erase."""
    rng = np.random.default_rng(seed)
    img = np.full((16, 32, 3), (90, 90, 100), np.uint8)
    img[:6] = (120, 160, 220)
    for _ in range(4):
        x, y = int(rng.integers(0, 26)), int(rng.integers(5, 11))
        img[y:y + 5, x:x + 6] = rng.integers(0, 256, 3)
    return img


def photo(seed: int) -> np.ndarray:
    """A low-contrast noisy grey 'weather photo'."""
    rng = np.random.default_rng(seed)
    small = rng.integers(100, 170, (4, 8, 3), dtype=np.uint8)
    img = np.asarray(Image.fromarray(small).resize((32, 16), Image.Resampling.BILINEAR)).astype(float)
    return np.clip(img + rng.normal(0, 12, img.shape), 0, 255).astype(np.uint8)


def edge_energy(rgb: np.ndarray) -> float:
    x = rgb.astype(float)
    return float(np.mean(np.abs(np.diff(x, axis=0))) + np.mean(np.abs(np.diff(x, axis=1))))


@pytest.fixture(scope="module")
def calibrated() -> nst.StyleTransfer:
    transfer = nst.StyleTransfer(tiny(), weights="random_calibrated", seed=1)
    transfer.calibrate([blocks(0), blocks(1), photo(0), photo(1)])
    return transfer


def test_weights_labels_say_which_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    weights = nst.resolve_weights("random_calibrated")
    assert weights.calibrated and weights.random_init and "random_calibrated" in weights.label
    assert weights.notice == nst.CALIBRATED_NOTICE and "not the ImageNet" in weights.notice
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # no ImageNet file here: auto takes the calibrated network
    auto = nst.resolve_weights("auto")
    assert auto.calibrated and "random_calibrated" in auto.label and "auto" in auto.label
    plain = nst.resolve_weights("none")
    assert not plain.calibrated and plain.notice == nst.RANDOM_INIT_NOTICE
    # the caveat is the notice without the description the label already gives
    for w in (weights, auto, plain):
        assert w.notice.endswith(": " + w.caveat) and w.caveat and "random init" not in w.caveat
    assert nst.Weights(tmp_path / "file.h5", "file").caveat == ""


def test_calibration_gives_unit_mean_activations_and_depends_only_on_seed_and_images(
    calibrated: nst.StyleTransfer,
) -> None:
    import keras
    from keras import ops

    images = [blocks(0), blocks(1), photo(0), photo(1)]
    x = nst.caffe(ops.convert_to_tensor(np.stack(images).astype("float32") / 255.0))
    for name in ("block1_conv1", "block3_conv3", "block5_conv3"):
        out = keras.Model(calibrated.extractor.input, calibrated.extractor.get_layer(name).output)(x)
        means = np.asarray(ops.convert_to_numpy(ops.mean(out, axis=(0, 1, 2))))
        assert np.median(means) == pytest.approx(1.0, abs=1e-3), name  # floored channels sit below 1
        assert means.max() <= 1.0 + 1e-3, name
    before = [w.copy() for w in calibrated.extractor.get_layer("block3_conv3").get_weights()]
    calibrated.calibrate(list(reversed(images)))  # starts from the seeded weights: same images, same network
    after = calibrated.extractor.get_layer("block3_conv3").get_weights()
    np.testing.assert_allclose(after[0], before[0], rtol=1e-4, atol=1e-7)
    with pytest.raises(ValueError, match="random_calibrated"):
        nst.StyleTransfer(tiny(), weights=None, seed=1).calibrate(images)
    with pytest.raises(RuntimeError, match="calibrate"):
        nst.StyleTransfer(tiny(), weights="random_calibrated", seed=1).stylize([blocks(0)], photo(0))


def test_balanced_terms_start_at_their_references(calibrated: nst.StyleTransfer) -> None:
    content = blocks(2)
    start = calibrated.terms(content[None].astype("float32") / 255.0, [content], photo(2))
    cfg = calibrated.config
    assert start["content"][0] == pytest.approx(0.0, abs=1e-6)
    assert start["tv"][0] == pytest.approx(cfg.tv_weight, rel=1e-4)  # TV relative to the content's own
    blank = calibrated.terms(np.zeros((1, 16, 32, 3), "float32") + 0.5, [content], photo(2))
    assert blank["style"][0] > 0 and np.isfinite(blank["style"][0])


def test_calibrated_loss_decreases_and_the_output_is_not_a_blur(calibrated: nst.StyleTransfer) -> None:
    content, style = blocks(3), photo(3)
    result = calibrated.stylize([content], style)
    totals = [row["total"] for row in result.history]
    assert len(totals) >= 3 and min(totals[1:]) < totals[0]
    out = result.images[0]
    assert out.shape == content.shape and not np.array_equal(out, content)
    plain = nst.StyleTransfer(tiny(), weights=None, seed=1).stylize([content], style).images[0]
    # the plain random network's TV term wins (a near-uniform image); the calibrated one keeps the structure
    assert edge_energy(out) > 0.5 * edge_energy(content)
    assert edge_energy(out) > 2.0 * edge_energy(plain)


def test_color_init_starts_at_the_style_colours_and_keeps_the_structure(calibrated: nst.StyleTransfer) -> None:
    content, style = blocks(4), photo(4)
    bigger = np.asarray(Image.fromarray(style).resize((64, 40)))  # any style size
    start = nst.match_color(content, bigger)
    for c in range(3):
        assert start[..., c].mean() == pytest.approx(bigger[..., c].mean(), abs=0.6)
        assert start[..., c].std() == pytest.approx(bigger[..., c].std(), rel=0.03)
    # a per-channel affine map: the edges are where they were
    assert np.corrcoef(start[..., 0].ravel(), content[..., 0].ravel())[0, 1] > 0.99
    flat = np.full((16, 32, 3), 7, np.uint8)  # zero deviation: no division by zero, the style's mean
    assert np.array_equal(nst.match_color(flat, style), np.broadcast_to(np.rint(style.mean((0, 1))), flat.shape))
    color = nst.StyleTransfer(dataclasses.replace(calibrated.config, init="color"), "random_calibrated", seed=1)
    color.calibrate([blocks(0), blocks(1), photo(0), photo(1)])  # the same seed and images: the same network
    result = color.stylize([content], style)
    first = result.history[0]
    assert first["content"] > 0  # evaluation 1 is the colour-matched start, not the content
    assert first["style"] < calibrated.stylize([content], style).history[0]["style"]  # closer to the style at once
    assert edge_energy(result.images[0]) > 0.2 * edge_energy(content)
    with pytest.raises(ValueError, match="init must be one of"):
        tiny(init="noise")
    with pytest.raises(ValueError, match="choose one"):
        tiny(init="color", preserve_color=True)


def test_dataset_manifest_records_the_network_and_its_calibration(calibrated: nst.StyleTransfer, tmp_path: Path
                                                                  ) -> None:
    root = tmp_path / "vkitti2"
    sources = [imageio.write_image(root / "Scene01" / "clone" / f"rgb_{i:05d}.png", blocks(10 + i)) for i in range(2)]
    styles = [imageio.write_image(tmp_path / "styles" / f"s{i}.png", photo(10 + i)) for i in range(2)]
    summary = nst.stylize_dataset(sources, root, tmp_path / "out", styles, calibrated.config,
                                          seed=1, batch_size=2, progress=False, transfer=calibrated)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["calibrated"] is True and manifest["notice"] == nst.CALIBRATED_NOTICE
    assert "random_calibrated" in manifest["settings"]["weights"]
    assert manifest["settings"]["calibration"]["images"] == 4 == len(nst.calibration_sample(sources, styles, 1))
    assert summary["written"] == 2
    again = nst.stylize_dataset(sources, root, tmp_path / "out", styles, calibrated.config,
                                        seed=1, batch_size=2, progress=False, transfer=calibrated)
    assert again["skipped_existing"] == 2  # same sample, same settings: resumes
