"""CUT / FastCUT: PatchNCE by hand, the patch head, options per mode, exact resume, translation, clear errors."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
import torch
from cyclegan_toy import make_images, single_thread  # noqa: F401 (autouse fixture)

from photosynth.cli import main
from photosynth.imageio import image_size
from photosynth.report import translators
from photosynth.translate.cyclegan.checkpoint import CheckpointError, load_checkpoint
from photosynth.translate.cyclegan.config import CycleGANConfig
from photosynth.translate.cyclegan.cut import PatchSampleF, encoder_features, layer_channels, patch_nce_loss
from photosynth.translate.cyclegan.cut_config import DEFAULT_NCE_LAYERS, CUTConfig, weather_configs
from photosynth.translate.cyclegan.kinds import load_generator
from photosynth.translate.cyclegan.networks import ResnetGenerator
from photosynth.translate.cyclegan.train import CHECKPOINT, is_finished, train
from photosynth.translate.cyclegan.translate import translate_images


def tiny_cut(**overrides) -> CUTConfig:
    values = dict(
        ngf=4, ndf=4, n_blocks=1, n_layers_d=2, preprocess="scale_width_and_crop", load_size=24, crop_size=16,
        steps=3, decay_steps=3, batch_size=2, checkpoint_every=2, sample_every=2, nce_layers=(0, 4, 7, 10),
        num_patches=16, netF_nc=8,
    )
    values.update(overrides)
    return CUTConfig(**values)


@pytest.fixture(scope="module")
def domains(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("domains")
    make_images(root / "A", [(41, 27), (34, 20), (41, 27), (30, 19)], seed=1)
    make_images(root / "B", [(43, 24), (43, 24), (32, 18)], seed=2)
    return root / "A", root / "B"


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return [{k: v for k, v in r.items() if k != "images_per_s"} for r in csv.DictReader(fh)]


# ---- PatchNCE ------------------------------------------------------------------------------------------------
def test_patch_nce_matches_a_hand_computation() -> None:
    q = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    k = torch.tensor([[0.6, 0.8], [1.0, 0.0]])
    t = 0.5
    # patch 0: positive q0·k0 = 0.6, negative q0·k1 = 1 (q0·k0 in the negatives is masked to -10)
    # patch 1: positive q1·k1 = 0, negative q1·k0 = 0.8
    by_hand = [
        -math.log(math.exp(0.6 / t) / (math.exp(0.6 / t) + math.exp(-10 / t) + math.exp(1.0 / t))),
        -math.log(math.exp(0.0 / t) / (math.exp(0.0 / t) + math.exp(0.8 / t) + math.exp(-10 / t))),
    ]
    got = patch_nce_loss(q, k, t, batch=1)
    assert got.tolist() == pytest.approx(by_hand, rel=1e-6)


def test_patch_nce_negatives_stay_within_each_image_unless_asked() -> None:
    q = torch.nn.functional.normalize(torch.randn(6, 4, generator=torch.Generator().manual_seed(0)), dim=1)
    k = torch.nn.functional.normalize(torch.randn(6, 4, generator=torch.Generator().manual_seed(1)), dim=1)
    per_image = patch_nce_loss(q, k, 0.07, batch=2)  # 2 images × 3 patches: 2 negatives per patch
    separately = torch.cat([patch_nce_loss(q[:3], k[:3], 0.07, 1), patch_nce_loss(q[3:], k[3:], 0.07, 1)])
    assert torch.allclose(per_image, separately)
    pooled = patch_nce_loss(q, k, 0.07, batch=1)  # 5 negatives per patch: never a smaller loss
    assert torch.all(pooled >= per_image - 1e-6)
    q.requires_grad_(True)
    k.requires_grad_(True)
    patch_nce_loss(q, k, 0.07, 2).mean().backward()
    assert q.grad is not None and k.grad is None  # keys are targets, not trained through


def test_patch_nce_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match="two equal"):
        patch_nce_loss(torch.zeros(4, 3), torch.zeros(4, 2), 0.07, 1)
    with pytest.raises(ValueError, match="do not split into 3"):
        patch_nce_loss(torch.zeros(4, 3), torch.zeros(4, 3), 0.07, 3)


def test_patch_sampler_shares_locations_and_normalises() -> None:
    torch.manual_seed(0)
    feats = [torch.randn(2, 3, 6, 6), torch.randn(2, 5, 3, 3)]
    head = PatchSampleF([3, 5], nc=7)
    keys, ids = head(feats, num_patches=4)
    assert [k.shape for k in keys] == [(8, 7), (8, 7)]
    assert [len(i) for i in ids] == [4, 4] and len(set(ids[0].tolist())) == 4
    assert torch.allclose(keys[0].norm(dim=1), torch.ones(8), atol=1e-5)
    queries, same = head(feats, num_patches=4, patch_ids=ids)
    assert all(torch.equal(a, b) for a, b in zip(same, ids))
    assert torch.allclose(queries[1], keys[1])  # same features, same locations → same embeddings
    few, ids_few = head(feats, num_patches=100)  # at most H·W locations
    assert [len(i) for i in ids_few] == [36, 9] and few[1].shape == (18, 7)


def test_default_layers_are_the_authors_features_on_our_generator() -> None:
    g = ResnetGenerator(ngf=4, n_blocks=9)
    names = [type(g.model[i]).__name__ for i in DEFAULT_NCE_LAYERS]
    assert names == ["ReflectionPad2d", "Conv2d", "Conv2d", "ResnetBlock", "ResnetBlock"]
    assert g.model[4].stride == (2, 2) and g.model[7].stride == (2, 2)
    assert layer_channels(g, DEFAULT_NCE_LAYERS) == [3, 8, 16, 16, 16]
    feats = encoder_features(g, torch.zeros(1, 3, 16, 20), DEFAULT_NCE_LAYERS)
    assert [tuple(f.shape[1:]) for f in feats] == [(3, 22, 26), (8, 8, 10), (16, 4, 5), (16, 4, 5), (16, 4, 5)]


# ---- options ---------------------------------------------------------------------------------------------------
def test_cut_and_fastcut_defaults_are_the_authors() -> None:
    cut, fast = CUTConfig(), CUTConfig(mode="fastcut")
    assert (cut.lambda_NCE, cut.nce_idt, cut.flip_equivariance) == (1.0, True, False)
    assert (fast.lambda_NCE, fast.nce_idt, fast.flip_equivariance) == (10.0, False, True)
    assert (cut.steps, cut.decay_steps, fast.steps, fast.decay_steps) == (1000, 1000, 1500, 500)
    for c in (cut, fast):
        assert (c.lambda_GAN, c.nce_T, c.num_patches, c.netF_nc, c.pool_size) == (1.0, 0.07, 256, 256, 0)
        assert c.nce_layers == (0, 4, 7, 10, 14) and not c.nce_includes_all_negatives_from_minibatch
        assert (c.gan_mode, c.lr, c.beta1, c.init_type, c.init_gain) == ("lsgan", 2e-4, 0.5, "xavier", 0.02)
    mixed = CUTConfig(mode="fastcut", nce_idt=True, lambda_NCE=2.0, nce_layers="0, 4,7")
    assert (mixed.nce_idt, mixed.lambda_NCE, mixed.flip_equivariance, mixed.nce_layers) == (True, 2.0, True, (0, 4, 7))
    again = CUTConfig.from_dict(fast.to_dict())
    assert again == fast and again.architecture()["nce_layers"] == [0, 4, 7, 10, 14]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"mode": "fast"}, "mode must be one of"),
        ({"n_blocks": 3}, r"nce_layers \[14\] are outside the generator's encoder \(layers 0..12"),
        ({"nce_layers": (4, 0)}, "increasing"),
        ({"nce_layers": ()}, "at least one layer"),
        ({"nce_T": 0.0}, "nce_T must be > 0"),
        ({"pool_size": 50}, "pool_size must be 0"),
        ({"lambda_GAN": 0.0, "lambda_NCE": 0.0}, "nothing would train"),
        ({"init_type": "kaiming"}, "init_type"),
        ({"crop_size": 30}, "multiple of 4"),
    ],
)
def test_bad_options_are_clear_errors(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CUTConfig(**options)


def test_cut_takes_the_cyclegan_networks_but_its_own_schedule_and_per_weather_options() -> None:
    base = CycleGANConfig(ngf=16, ndf=32, n_blocks=3, residual=True, crop_size=64, steps=50, decay_steps=50, lr=1e-3,
                          lambda_identity=0.0, seed=7)
    shared = dict(mode="cut", steps=4, decay_steps=3, lr=1e-4, nce_layers=(0, 4, 7, 10, 12))
    configs = weather_configs(base, ["fog", "rain"], shared, {"rain": {"n_layers_d": 2, "lambda_NCE": 2.0}})
    fog, rain = configs["fog"], configs["rain"]
    assert (fog.ngf, fog.ndf, fog.n_blocks, fog.residual, fog.crop_size, fog.seed) == (16, 32, 3, True, 64, 7)
    assert (fog.steps, fog.decay_steps, fog.lr, fog.n_layers_d, fog.lambda_NCE) == (4, 3, 1e-4, 3, 1.0)
    assert (rain.n_layers_d, rain.lambda_NCE, rain.lr, rain.nce_layers) == (2, 2.0, 1e-4, (0, 4, 7, 10, 12))
    table = translators.option_table(configs, base=base)
    assert list(table.columns) == ["fog", "rain"]
    assert table.loc["n_layers_d"].tolist() == ["3", "2"] and table.loc["lr"].tolist() == ["0.0001", "0.0001"]
    assert "ngf" not in table.index and "mode" in table.index  # shared options are the CycleGAN table's
    assert len(translators.option_table({"CycleGAN": base})) == len(base.to_dict())
    with pytest.raises(ValueError, match=r"per-weather CUT options for \['snow'\], which are not trained"):
        weather_configs(base, ["fog"], shared, {"snow": {"lr": 1.0}})
    with pytest.raises(ValueError, match=r"unknown \['n_layers_D'\]"):
        weather_configs(base, ["fog"], shared, {"fog": {"n_layers_D": 2}})
    with pytest.raises(ValueError, match="nce_T must be > 0"):
        CUTConfig.from_cyclegan(base, nce_T=0.0, nce_layers=(0, 4))


# ---- training --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["cut", "fastcut"])
def test_resumed_run_matches_uninterrupted_run_bit_for_bit(domains, tmp_path: Path, mode: str) -> None:
    a, b = domains
    cfg = tiny_cut(mode=mode)
    full = train(cfg, a, b, tmp_path / "full", progress=False)
    part = train(cfg, a, b, tmp_path / "part", until_step=3, progress=False)  # "killed" after step 3
    assert part.step == 3 and not part.finished
    resumed = train(cfg, a, b, tmp_path / "part", resume=True, progress=False)
    assert full.finished and resumed.step == 6 and is_finished(resumed.out_dir)
    assert rows(full.losses) == rows(resumed.losses)  # every loss and learning rate
    s_full, s_part = load_checkpoint(full.checkpoint), load_checkpoint(resumed.checkpoint)
    assert s_full["kind"] == "cut" and set(s_full["models"]) == {"G", "F", "D"}
    for net in ("G", "F", "D"):
        for key, value in s_full["models"][net].items():
            assert torch.equal(value, s_part["models"][net][key]), (net, key)
    nce_y = {float(r["NCE_Y"]) for r in rows(full.losses)}
    assert (nce_y == {0.0}) == (mode == "fastcut")  # FastCUT has no identity term
    panels = 4 if mode == "cut" else 3  # real A, A→B, real B (, B→B identity)
    assert image_size(sorted((full.out_dir / "samples").glob("*.png"))[0]) == (panels * 16, 16)


def test_trained_cut_translates_at_full_size_and_is_not_cyclegan(domains, tmp_path: Path) -> None:
    a, b = domains
    run = train(tiny_cut(steps=1, decay_steps=0), a, b, tmp_path / "run", progress=False)
    generator, cfg = load_generator(run.checkpoint)
    assert isinstance(cfg, CUTConfig)
    report = translate_images(generator, a, tmp_path / "out", fmt="png", num_workers=0, progress=False)
    assert report.translated == 4 and image_size(tmp_path / "out" / "img_003.png") == (30, 19)
    with pytest.raises(ValueError, match="one generator"):
        load_generator(run.checkpoint, "BtoA")
    shared = {k: v for k, v in tiny_cut().to_dict().items() if k in CycleGANConfig.__dataclass_fields__}
    cyclegan = CycleGANConfig(**shared)
    with pytest.raises(CheckpointError, match="holds a cut model"):
        train(cyclegan, a, b, run.out_dir, resume=True, progress=False)
    with pytest.raises(CheckpointError, match=r"nce_layers: checkpoint \[0, 4, 7, 10\] vs options \[0, 4\]"):
        train(tiny_cut(nce_layers=(0, 4)), a, b, run.out_dir, resume=True, progress=False)


def test_cli_trains_and_translates(domains, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    a, b = domains
    out = tmp_path / "model"
    flags = [
        "--ngf", "4", "--ndf", "4", "--n-blocks", "1", "--n-layers-d", "2", "--load-size", "24", "--crop-size", "16",
        "--steps", "1", "--decay-steps", "1", "--nce-layers", "0,4,7", "--num-patches", "8", "--netF-nc", "8",
    ]  # fmt: skip
    paths = ["--a", str(a), "--b", str(b), "--out", str(out)]
    assert main(["cut", "train", *paths, "--mode", "fastcut", "--quiet", *flags]) == 0
    state = load_checkpoint(out / CHECKPOINT)
    assert state["config"]["mode"] == "fastcut" and state["config"]["lambda_NCE"] == 10.0
    assert main(["cut", "translate", "--checkpoint", str(out / CHECKPOINT), "--input", str(a), "--out",
                 str(tmp_path / "t"), "--workers", "0", "--quiet"]) == 0  # fmt: skip
    assert len(list((tmp_path / "t").glob("*.jpg"))) == 4
    assert main(["cut", "train", "--a", str(a), "--b", str(b), "--out", str(tmp_path / "x"), "--n-blocks", "1"]) == 2
    assert "nce_layers [14] are outside" in capsys.readouterr().err
