"""Neural style transfer: loss terms by hand, optimisation, sizes, backends, weights, dataset guarantees, CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photosynth.design import STYLE_DOMAINS
from photosynth import imageio
from photosynth.weights import VGG16_NOTOP
from photosynth.translate import frameset, nst

SIZE = (32, 16)  # working (width, height): the smallest that reaches block5 with a 1×2 map


def tiny(**overrides) -> nst.NSTConfig:
    return nst.preset("study", **{"size": SIZE, "iterations": 2, "lbfgs_maxfun": 4, **overrides})


@pytest.fixture(scope="module")
def transfer() -> nst.StyleTransfer:
    return nst.StyleTransfer(tiny(), weights=None, seed=1)


def rgb(seed: int, height: int, width: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def smooth(seed: int, height: int, width: int) -> np.ndarray:
    """A smooth colourful image (so TV does not dominate everything)."""
    small = rgb(seed, 3, 5)
    return np.asarray(Image.fromarray(small).resize((width, height), Image.Resampling.BILINEAR))


# --- loss terms against a hand computation --------------------------------------------------------------


def test_gram_matrix_matches_hand_computation() -> None:
    from keras import ops

    f = np.random.default_rng(0).normal(size=(2, 3, 4, 5)).astype("float32")
    expected = np.stack([f[b].reshape(-1, 5).T @ f[b].reshape(-1, 5) for b in range(2)])
    got = ops.convert_to_numpy(nst.gram_matrix(ops.convert_to_tensor(f)))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    assert got.shape == (2, 5, 5)


def test_style_and_content_losses_match_hand_computation() -> None:
    from keras import ops

    rng = np.random.default_rng(1)
    g, t = rng.normal(size=(2, 4, 4)).astype("float32"), rng.normal(size=(2, 4, 4)).astype("float32")
    pixels = 12 * 7
    expected = ((g - t) ** 2).sum(axis=(1, 2)) / (4 * 4**2 * pixels**2)
    got = ops.convert_to_numpy(nst.style_layer_loss(ops.convert_to_tensor(g), ops.convert_to_tensor(t), pixels))
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    f, c = rng.normal(size=(2, 3, 3, 2)).astype("float32"), rng.normal(size=(2, 3, 3, 2)).astype("float32")
    got = ops.convert_to_numpy(nst.content_layer_loss(ops.convert_to_tensor(f), ops.convert_to_tensor(c)))
    np.testing.assert_allclose(got, ((f - c) ** 2).sum(axis=(1, 2, 3)), rtol=1e-5)


def test_total_variation_with_power_1_25_matches_hand_computation() -> None:
    from keras import ops

    x = np.random.default_rng(2).normal(size=(2, 4, 5, 3)).astype("float32")
    expected = np.zeros(2)
    for b in range(2):
        for i in range(3):
            for j in range(4):
                for ch in range(3):
                    a = (x[b, i, j, ch] - x[b, i + 1, j, ch]) ** 2
                    d = (x[b, i, j, ch] - x[b, i, j + 1, ch]) ** 2
                    expected[b] += (a + d) ** 1.25
    got = ops.convert_to_numpy(nst.total_variation_loss(ops.convert_to_tensor(x), 1.25))
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_caffe_preprocessing_is_bgr_minus_mean() -> None:
    from keras import ops

    x = np.array([[[[0.0, 0.5, 1.0]]]], "float32")
    got = ops.convert_to_numpy(nst.caffe(ops.convert_to_tensor(x)))[0, 0, 0]
    np.testing.assert_allclose(got, [255.0 - 103.939, 127.5 - 116.779, 0.0 - 123.68], rtol=1e-5)


def test_weighted_terms_add_up_and_content_is_zero_at_the_content(transfer: nst.StyleTransfer) -> None:
    content, style = smooth(3, 16, 32), smooth(4, 20, 20)
    x = content[None].astype("float32") / 255.0
    terms = transfer.terms(x, [content], style)
    assert terms["content"][0] == pytest.approx(0.0, abs=1e-6)
    assert terms["style"][0] > 0 and terms["tv"][0] > 0
    np.testing.assert_allclose(terms["total"], terms["content"] + terms["style"] + terms["tv"], rtol=1e-6)


# --- optimisation ----------------------------------------------------------------------------------------


def test_lbfgs_loss_decreases_and_sizes_are_kept(transfer: nst.StyleTransfer) -> None:
    contents = [smooth(5, 24, 50), smooth(6, 30, 70)]  # different original sizes in one batch
    seen: list[int] = []
    result = transfer.stylize(contents, [smooth(7, 40, 40), smooth(8, 25, 60)], callback=lambda i, b: seen.append(i))
    assert [im.shape for im in result.images] == [(24, 50, 3), (30, 70, 3)]
    assert all(im.dtype == np.uint8 for im in result.images)
    totals = [row["total"] for row in result.history]
    assert totals[-1] < totals[0]
    assert seen == [1, 2]
    assert {row["iteration"] for row in result.history} == {1, 2}


def test_adam_loss_decreases() -> None:
    adam = nst.StyleTransfer(nst.preset("tutorial", size=SIZE, iterations=12, log_every=3), weights=None, seed=1)
    result = adam.stylize([smooth(9, 16, 32)], smooth(10, 16, 32))
    assert [row["step"] for row in result.history] == [3, 6, 9, 12]
    assert result.history[-1]["total"] < result.history[0]["total"]


def test_style_targets_are_cached_per_image(tmp_path: Path) -> None:
    st = nst.StyleTransfer(tiny(iterations=1, lbfgs_maxfun=1), weights=None)
    style = imageio.write_image(tmp_path / "s.png", smooth(11, 20, 30))
    st.stylize([smooth(12, 16, 32), smooth(13, 16, 32)], style)
    st.stylize([smooth(14, 16, 32)], style)
    assert st.cached_styles == 1
    st.style_cache_size = 1  # least recently used targets are dropped beyond the cache size
    st.stylize([smooth(14, 16, 32)], smooth(15, 16, 32))
    assert st.cached_styles == 1


def test_preserve_color_keeps_the_content_chroma() -> None:
    st = nst.StyleTransfer(tiny(preserve_color=True), weights=None)
    content = smooth(15, 16, 32)
    out = st.stylize([content], smooth(16, 16, 32)).images[0]
    chroma = lambda im: np.asarray(Image.fromarray(im).convert("YCbCr"), "float32")[..., 1:]  # noqa: E731
    assert np.abs(chroma(out) - chroma(content)).mean() < 2.0


def test_backend_choice_is_fixed_once_keras_is_imported() -> None:
    here = nst.backend()
    assert nst.use_backend(here) == here and nst.use_backend("") == here
    with pytest.raises(RuntimeError, match="already imported"):
        nst.use_backend("torch" if here == "tensorflow" else "tensorflow")
    with pytest.raises(ValueError, match="backend must be one of"):
        nst.use_backend("jax")


def test_random_init_is_the_same_network_for_the_same_seed() -> None:
    a = nst.build_extractor(["block1_conv1"], nst.Weights(None, "none"), seed=5)
    b = nst.build_extractor(["block1_conv1"], nst.Weights(None, "none"), seed=5)
    np.testing.assert_array_equal(a.get_weights()[0], b.get_weights()[0])


BACKEND_PROBE = """
import json, numpy as np
from PIL import Image
from photosynth.translate import nst
def smooth(seed, h, w):
    small = np.random.default_rng(seed).integers(0, 256, (3, 5, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((w, h), Image.Resampling.BILINEAR))
st = nst.StyleTransfer(nst.preset("study", size=(32, 16)), weights=None, seed=7)
contents = [smooth(1, 16, 32), smooth(2, 16, 32)]
x = np.stack([smooth(3, 16, 32), smooth(4, 16, 32)]).astype("float32") / 255.0
terms = st.terms(x, contents, [smooth(5, 16, 32), smooth(6, 16, 32)])
print("TERMS" + json.dumps({"backend": st.backend, **{k: v.tolist() for k, v in terms.items()}}))
"""


def _probe(backend: str) -> dict:
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, "-c", BACKEND_PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(line for line in proc.stdout.splitlines() if line.startswith("TERMS"))
    return json.loads(line[len("TERMS"):])


def test_tensorflow_and_torch_backends_give_the_same_loss() -> None:
    here = nst.backend()
    other = "torch" if here == "tensorflow" else "tensorflow"
    namespace: dict = {}
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()) as out:
        exec(BACKEND_PROBE, namespace)
    local = json.loads(out.getvalue().split("TERMS", 1)[1])
    remote = _probe(other)
    assert {local["backend"], remote["backend"]} == {"tensorflow", "torch"}
    for key in ("content", "style", "tv", "total"):
        np.testing.assert_allclose(local[key], remote[key], rtol=1e-3, err_msg=key)
    assert min(local["content"]) > 0 and min(local["style"]) > 0


# --- weights -------------------------------------------------------------------------------------------


def test_missing_imagenet_weights_raise_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    with pytest.raises(nst.MissingWeightsError) as err:
        nst.StyleTransfer(tiny(), weights="imagenet")
    message = str(err.value)
    assert VGG16_NOTOP in message and "58,889,256" in message
    assert str(tmp_path / "keras" / "models" / VGG16_NOTOP) in message and "never downloads" in message
    assert not (tmp_path / "keras" / "models").exists()  # keras was never asked (it would create the folder)


def test_incomplete_weights_file_and_missing_path_raise(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / VGG16_NOTOP).write_bytes(b"\0" * 100)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(nst.MissingWeightsError, match="100 bytes, expected 58,889,256"):
        nst.resolve_weights("imagenet")
    with pytest.raises(nst.MissingWeightsError, match="not found"):
        nst.resolve_weights(tmp_path / "nope.h5")
    with pytest.raises(nst.MissingWeightsError, match="incomplete"):  # auto never hides a broken file …
        nst.resolve_weights("auto")
    (models / VGG16_NOTOP).unlink()
    auto = nst.resolve_weights("auto")  # … absent → random init, and the label says so
    assert auto.random_init and "random init" in auto.label


def test_explicit_weights_file_is_loaded(tmp_path: Path) -> None:
    import keras
    from keras.src.legacy.saving import legacy_h5_format
    import h5py

    source = keras.applications.VGG16(include_top=False, weights=None, input_shape=(None, None, 3))
    nst.seed_weights(source, 42)
    path = tmp_path / "vgg.h5"
    with h5py.File(path, "w") as fh:
        legacy_h5_format.save_weights_to_hdf5_group(fh, source)
    loaded = nst.build_extractor(["block1_conv1"], nst.resolve_weights(path))
    np.testing.assert_array_equal(loaded.get_weights()[0], source.get_layer("block1_conv1").get_weights()[0])


# --- presets and bad input -----------------------------------------------------------------------------


def test_presets_and_bad_settings() -> None:
    study = nst.PRESETS["study"]
    assert study.content_layers == ("block2_conv2",) and len(study.style_layers) == 5
    assert (study.content_weight, study.style_weight, study.tv_weight, study.tv_power) == (0.01, 4.0, 0.995, 1.25)
    assert study.size == (828, 250) and study.optimizer == "lbfgs" and study.iterations == 5
    assert nst.PRESETS["tutorial"].optimizer == "adam" and nst.PRESETS["tutorial"].learning_rate == 0.02
    assert nst.parse_size("64x24") == (64, 24) and nst.parse_size("original") is None
    with pytest.raises(ValueError, match="unknown NST preset"):
        nst.preset("gatys")
    with pytest.raises(ValueError, match="unknown NST setting"):
        nst.preset("study", lr=1)
    with pytest.raises(ValueError, match="optimizer"):
        nst.preset("study", optimizer="sgd")
    with pytest.raises(ValueError, match="WIDTHxHEIGHT"):
        nst.parse_size("64")
    with pytest.raises(ValueError, match="unknown VGG16 layer"):
        nst.StyleTransfer(tiny(style_layers=("block9_conv1",)), weights=None)


def test_bad_images_name_the_file(transfer: nst.StyleTransfer, tmp_path: Path) -> None:
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not a jpeg")
    with pytest.raises(imageio.ImageError, match="broken.jpg"):
        transfer.stylize([bad], smooth(1, 16, 32))
    with pytest.raises(ValueError, match="uint8"):
        transfer.stylize([np.zeros((16, 32), "float32")], smooth(1, 16, 32))
    with pytest.raises(ValueError, match="2 content frames but 3 style"):
        transfer.stylize([smooth(1, 16, 32)] * 2, [smooth(1, 16, 32)] * 3)


def test_style_choice_is_seeded_per_frame() -> None:
    styles = [Path(f"/s/{i}.jpg") for i in range(50)]
    picks = [nst.choose_style(styles, 0, f"Scene01/clone/{i}.jpg") for i in range(20)]
    assert picks == [nst.choose_style(styles, 0, f"Scene01/clone/{i}.jpg") for i in range(20)]
    assert len(set(picks)) > 5
    assert picks != [nst.choose_style(styles, 1, f"Scene01/clone/{i}.jpg") for i in range(20)]


# --- datasets and CLI ----------------------------------------------------------------------------------


def keep_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Restore what ``runtime.configure`` (called by the CLI) sets in ``os.environ`` after the test."""
    for key in ("YOLO_OFFLINE", "YOLO_AUTOINSTALL", "YOLO_VERBOSE", "YOLO_CONFIG_DIR", "KERAS_HOME", "TORCH_HOME",
                "TF_CPP_MIN_LOG_LEVEL"):
        monkeypatch.delenv(key, raising=False)


def make_workspace(root: Path, frames: int = 14) -> Path:
    """A minimal workspace: vKITTI2 clone frames (two sizes; every weather slot twice) and BDD style lists."""
    for i in range(frames):
        size = (36, 18) if i % 2 else (40, 16)
        path = root / "data" / "vkitti2" / "Scene01" / "clone" / "frames" / "rgb" / "Camera_0" / f"rgb_{i:05d}.jpg"
        imageio.write_image(path, smooth(100 + i, size[1], size[0]))
    styles = [imageio.write_image(root / "bdd" / f"fog{i}.jpg", smooth(200 + i, 24, 40)) for i in range(3)]
    lists = root / "splits" / "weather"
    lists.mkdir(parents=True)
    for domain in STYLE_DOMAINS.values():
        (lists / f"{domain}.txt").write_text("\n".join(str(p) for p in styles) + "\n")
    return root


def test_dataset_stylization_sizes_resume_shards_and_metadata(transfer: nst.StyleTransfer, tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    root = ws / "data" / "vkitti2"
    sources = sorted(root.rglob("rgb_*.jpg"))[:3]
    styles = imageio.list_images(frameset.style_list(ws, "fog"))
    out = ws / "translated" / "nst" / "fog"
    first = nst.stylize_dataset(sources[:2], root, out, styles, transfer.config, seed=0, batch_size=2,
                                progress=False, transfer=transfer)
    assert first["written"] == 2 and first["random_init"] is True
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["notice"] == nst.RANDOM_INIT_NOTICE
    for src in sources[:2]:
        dst = imageio.mirrored_path(src, root, out)
        assert imageio.image_size(dst) == imageio.image_size(src)
    again = nst.stylize_dataset(sources, root, out, styles, transfer.config, batch_size=2, progress=False,
                                transfer=transfer)
    assert (again["skipped_existing"], again["written"]) == (2, 1)
    rows = nst.read_losses(out / "losses.csv")
    assert len({r["batch_first_frame"] for r in rows}) == 2 and all(r["total"] > 0 for r in rows)
    assert not [p for p in out.rglob(".*") if p.is_file()]  # no temporary files left behind
    sharded = tmp_path / "sharded"
    done = [nst.stylize_dataset(sources, root, sharded, styles, transfer.config, shard=f"{i}/2", progress=False,
                                transfer=transfer)["written"] for i in range(2)]
    assert done == [2, 1] and (sharded / "manifest.shard-1-of-2.json").is_file()


def test_cli_stylize_nst(tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    from photosynth import cli

    ws = make_workspace(tmp_path / "ws")
    keep_environment(monkeypatch)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    args = ["stylize", "nst", "rain", "--workspace", str(ws), "--size", "32x16", "--iterations", "1",
            "--lbfgs-maxfun", "2", "--no-progress"]
    assert cli.main(args) == 2  # default weights=imagenet is absent: a usage error, not a download
    assert VGG16_NOTOP in capsys.readouterr().err
    assert cli.main([*args, "--weights", "none"]) == 0
    assert "random init" in capsys.readouterr().out
    assert len(imageio.list_images(ws / "translated" / "nst" / "rain")) == 2
    assert cli.main([*args[:3], "--workspace", str(tmp_path / "empty")]) == 2
