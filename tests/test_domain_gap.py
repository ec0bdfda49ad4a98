"""FID / KID: equal to independent implementations, the whole image → FID path equal to torchmetrics' own, FID only
where the sample allows it, labelled feature networks (the detector's pooled backbone equal to a forward hook), the
domain-gap table, and the missing-weights error."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from photosynth.metrics import domain_gap as gap_metric
from photosynth.runtime import Workspace

from photosynth.metrics.domain_gap import (
    detector_network, domain_gap, extract_features, feature_network, fid, fid_allowed, inception_network, kid,
    kid_subset_size,
)
from photosynth.weights import INCEPTION_FILE, INCEPTION_FILES, inception_weights


def tiny_net():
    import torch

    torch.manual_seed(0)
    module = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, stride=2), torch.nn.ReLU(), torch.nn.Conv2d(8, 16, 3, stride=2), torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
    ).eval()
    return feature_network(module, "random-init tiny CNN — not comparable to published FID", (32, 32))


def images(seed: int, n: int, brightness: float, size: tuple[int, int] = (40, 48)) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    base = rng.normal(brightness, 30, (n, *size, 3))
    return [im.clip(0, 255).astype(np.uint8) for im in base]


def correlated(seed: int, n: int, dim: int, shift: float) -> np.ndarray:
    """``n`` samples of a Gaussian with a random, far from diagonal covariance."""
    rng = np.random.default_rng(seed)
    mixing = rng.normal(0, 1, (dim, dim))
    return rng.normal(0, 1, (n, dim)) @ mixing + shift


@pytest.mark.filterwarnings("ignore:The `disp` argument is deprecated:DeprecationWarning")  # inside pytorch-fid
def test_fid_equals_pytorch_fid_on_non_diagonal_covariances() -> None:
    from pytorch_fid.fid_score import calculate_frechet_distance
    from scipy import linalg

    x, y = correlated(0, 300, 6, 0.0), correlated(1, 250, 6, 0.5)
    mu1, s1, mu2, s2 = x.mean(0), np.cov(x, rowvar=False), y.mean(0), np.cov(y, rowvar=False)
    reference = calculate_frechet_distance(mu1, s1, mu2, s2)
    assert fid(x, y) == pytest.approx(reference, abs=1e-6)
    assert fid(x, x) == pytest.approx(0.0, abs=1e-6)
    # the data tells the right formula from a wrong one: sqrtm(S1) @ sqrtm(S2) in place of sqrtm(S1 @ S2)
    wrong = (mu1 - mu2) @ (mu1 - mu2) + np.trace(s1 + s2 - 2 * (linalg.sqrtm(s1) @ linalg.sqrtm(s2)).real)
    assert abs(wrong - reference) > 1.0
    with pytest.raises(ValueError, match="at least 2"):
        fid(x[:1], y)


def test_kid_equals_clean_fid() -> None:
    """With subsets of every row (the MMD estimate is order-free) torchmetrics' KID equals clean-fid's."""
    from cleanfid.fid import kernel_distance

    x, y = correlated(2, 60, 8, 0.0) / 3, correlated(3, 60, 8, 0.3) / 3
    mean, std = kid(x, y, n_subsets=3, subset_size=1000)
    assert mean == pytest.approx(kernel_distance(x, y, num_subsets=3, max_subset_size=1000), abs=1e-6)
    assert std == pytest.approx(0.0, abs=1e-9)
    d = x.shape[1]
    biased = ((x @ x.T / d + 1) ** 3).mean() + ((y @ y.T / d + 1) ** 3).mean() - 2 * ((x @ y.T / d + 1) ** 3).mean()
    assert abs(biased - mean) > 1e-3  # the diagonal terms matter: a biased estimate would not pass


def test_kid_subsets_are_seeded_and_leave_torch_alone() -> None:
    import torch

    x, y = correlated(4, 80, 5, 0.0), correlated(5, 80, 5, 1.0)
    torch.manual_seed(7)
    expected = torch.rand(1)
    torch.manual_seed(7)
    first = kid(x, y, n_subsets=10, subset_size=20, seed=1)
    assert torch.rand(1) == expected  # the global generator is restored
    assert kid(x, y, n_subsets=10, subset_size=20, seed=1) == first != kid(x, y, n_subsets=10, subset_size=20, seed=2)
    assert first[1] > 0
    with pytest.raises(ValueError, match="at least 2"):
        kid(x[:1], y)


def test_image_to_fid_path_equals_torchmetrics_own_on_a_custom_network() -> None:
    """The labelled fallback network goes to torchmetrics as a custom feature module: our image → FID / KID path
    gives what torchmetrics computes when fed the same uint8 batches."""
    import torch
    from torchmetrics.image.fid import FrechetInceptionDistance
    from torchmetrics.image.kid import KernelInceptionDistance

    from photosynth.metrics.domain_gap import feature_net

    net = feature_net("random_cnn", seed=0)
    a, b = images(1, 131, 90, (18, 32)), images(2, 129, 150, (24, 40))  # more images than its 128 dimensions
    ours = domain_gap(a, b, net, kid_subsets=4, kid_subset_size=10)
    as_tensor = lambda ims: torch.from_numpy(np.stack(ims)).permute(0, 3, 1, 2)  # noqa: E731
    theirs = FrechetInceptionDistance(feature=net.module)
    theirs.update(as_tensor(a), real=True)
    theirs.update(as_tensor(b), real=False)
    assert ours.fid == pytest.approx(float(theirs.compute()), rel=1e-5)
    with pytest.warns(UserWarning, match="save all extracted features"):
        kid_theirs = KernelInceptionDistance(feature=net.module, subsets=4, subset_size=10)
    kid_theirs.update(as_tensor(a), real=True)
    kid_theirs.update(as_tensor(b), real=False)
    torch.manual_seed(0)
    assert ours.kid_mean == pytest.approx(float(kid_theirs.compute()[0]), rel=1e-5)
    assert (ours.features, ours.comparable, ours.n_a, ours.n_b, ours.fid_note) == (net.name, False, 131, 129, "")
    assert "not comparable" in ours.features
    few = domain_gap(a[:128], b, net, kid_subsets=4, kid_subset_size=10)  # 128 images, 128 dimensions
    assert np.isnan(few.fid)
    assert few.fid_note == "no FID: 128 images on a side, not more than the 128 feature dimensions"
    assert few.kid_mean == pytest.approx(ours.kid_mean, abs=0.5)  # KID still reported
    assert fid_allowed(129, 129, 128) and not fid_allowed(129, 128, 128)


def test_kid_subsets_are_half_the_smaller_set() -> None:
    assert [kid_subset_size(n, 50) for n in (2, 3, 4, 9, 40, 200)] == [2, 2, 2, 4, 20, 25]
    assert kid_subset_size(5000, 4000) == 1000 and kid_subset_size(5000, 4000, cap=100) == 100


def test_domain_gap_tiny_cnn_labels_and_orders() -> None:
    net = tiny_net()
    a1, a2, b = images(1, 24, 100), images(2, 24, 100), images(3, 24, 180)
    feats = extract_features(a1, net, batch_size=10)
    assert feats.shape == (24, 16) and feats.dtype == np.float64
    near = domain_gap(a1, a2, net, kid_subsets=10, kid_subset_size=20)
    far = domain_gap(a1, b, net, kid_subsets=10, kid_subset_size=20)
    assert near.fid < far.fid and near.kid_mean < far.kid_mean
    assert far.features.startswith("random-init tiny CNN") and not far.comparable
    assert far.as_row()["n_a"] == 24


def test_features_of_paths_and_mixed_sizes(tmp_path: Path) -> None:
    from photosynth.imageio import write_image

    mixed = images(4, 3, 120) + images(5, 2, 120, (30, 90)) + images(6, 1, 120)
    paths = [write_image(tmp_path / f"{i}.png", im) for i, im in enumerate(mixed)]
    net = tiny_net()
    one_by_one = np.concatenate([extract_features([im], net) for im in mixed])
    assert np.allclose(extract_features(paths, net, batch_size=2), one_by_one)


def test_missing_inception_weights_names_file_size_and_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError) as err:
        inception_network()
    message = str(err.value)
    folder = tmp_path / "hub" / "checkpoints"
    assert str(folder) in message and INCEPTION_FILE in message and "96 MB" in message
    assert "Nothing is downloaded" in message
    with pytest.raises(FileNotFoundError, match="nope.pth"):
        inception_network(tmp_path / "nope.pth")
    with pytest.raises(ValueError, match="needs a name"):
        feature_network(lambda x: x, "")
    folder.mkdir(parents=True)
    (folder / INCEPTION_FILES[1]).write_bytes(b"")  # pytorch-fid's name is found too, torch-fidelity's first
    assert inception_weights() == folder / INCEPTION_FILES[1]
    (folder / INCEPTION_FILE).write_bytes(b"")
    assert inception_weights() == folder / INCEPTION_FILE


@pytest.mark.slow
def test_inception_from_the_torch_cache_equals_torchmetrics_own(tmp_path: Path, monkeypatch) -> None:
    """A random-init Inception-v3 saved as the standard weights file in a temporary ``$TORCH_HOME``: our whole
    image → FID path equals torchmetrics' ``FrechetInceptionDistance(feature=2048, antialias=False)`` on that file."""
    import torch
    from torchmetrics.image.fid import FrechetInceptionDistance
    from torchvision.models.inception import Inception3

    torch.manual_seed(0)
    inception = Inception3(num_classes=1008, aux_logits=False, init_weights=False)
    for module in inception.modules():
        if isinstance(module, torch.nn.Conv2d):  # activations of order 1 through the random network
            torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
    weights = tmp_path / "hub" / "checkpoints" / INCEPTION_FILE
    weights.parent.mkdir(parents=True)
    torch.save(inception.state_dict(), weights)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    net = inception_network()
    assert net.comparable and INCEPTION_FILE in net.name and "sha256" in net.name
    a, b = images(7, 3, 90, (72, 128)), images(8, 3, 160, (75, 248))  # non-square, resized inside the network
    ours = domain_gap(a, b, net, kid_subsets=2, kid_subset_size=3)
    assert np.isnan(ours.fid) and "2048 feature dimensions" in ours.fid_note  # 3 images: no FID in the table
    theirs = FrechetInceptionDistance(feature=2048, feature_extractor_weights_path=str(weights), antialias=False)
    for ims, real in ((a, True), (b, False)):
        theirs.update(torch.from_numpy(np.stack(ims)).permute(0, 3, 1, 2), real=real)
    assert fid(extract_features(a, net), extract_features(b, net)) == pytest.approx(float(theirs.compute()), rel=1e-6)
    assert extract_features(a, net).shape == (3, 2048)
    torch.save({"conv.weight": torch.zeros(1)}, tmp_path / "other.pth")
    with pytest.raises(ValueError, match="not Inception-v3 FID weights"):
        inception_network(tmp_path / "other.pth")


def test_detector_network_pools_a_backbone_layer_like_a_forward_hook(tmp_path: Path) -> None:
    """A random-init yolov5n built in-process: our features are the global average of layer 9's output (SPPF)
    as a forward hook sees it in a full forward pass, on the frame scaled to long side 64, sides a multiple of 32."""
    import torch

    from photosynth.runtime import ultralytics_module

    torch.manual_seed(0)
    ultralytics_module().YOLO("yolov5n.yaml").save(tmp_path / "tiny.pt")
    net = detector_network(tmp_path / "tiny.pt", layer=9, imgsz=64)
    assert net.name.startswith("yolov5n layer 9 (SPPF, 256-d, global-average-pooled, long side 64 px)")
    assert "tiny.pt" in net.name and "sha256" in net.name and not net.comparable
    wide, tall = images(3, 3, 120, (30, 90)), images(4, 2, 120, (48, 40))
    feats = extract_features(wide + tall, net, batch_size=2)
    assert feats.shape == (5, 256) and np.isfinite(feats).all() and feats.std(axis=0).max() > 0

    model = ultralytics_module().YOLO(str(tmp_path / "tiny.pt")).model.float().eval()
    pooled: list[torch.Tensor] = []
    model.model[9].register_forward_hook(lambda module, args, out: pooled.append(out.mean(dim=(2, 3))))
    sizes = {(30, 90): (32, 64), (48, 40): (64, 64)}  # 64/90 · 30 = 21 → 32; 64/48 · 40 = 53 → 64
    with torch.no_grad():
        for image in wide + tall:
            x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255.0
            model(torch.nn.functional.interpolate(x, size=sizes[image.shape[:2]], mode="bilinear",
                                                  align_corners=False, antialias=True))  # fmt: skip
    assert np.allclose(feats, torch.cat(pooled).double().numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="layer 24 is not a feature layer"):
        detector_network(tmp_path / "tiny.pt", layer=24)
    with pytest.raises(FileNotFoundError, match="no such detector weights file"):
        detector_network(tmp_path / "missing.pt")


def _domain_gap_workspace(root: Path, sizes: dict[str, int]) -> Workspace:
    """vKITTI clone and fog frames, cyclegan's fog translations and BDD foggy photos, ``sizes`` images each."""
    from PIL import Image

    ws = Workspace(root)
    rng = np.random.default_rng(0)
    folders = {"clone": ws.root / "data/vkitti2/Scene01/clone/frames/rgb/Camera_0",
               "fog": ws.root / "data/vkitti2/Scene01/fog/frames/rgb/Camera_0",
               "cyclegan": ws.root / "translated/cyclegan/fog/Scene01", "bdd": ws.root / "bdd"}  # fmt: skip
    levels = {"clone": 60, "fog": 200, "cyclegan": 190, "bdd": 195}
    for name, folder in folders.items():
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(sizes[name]):
            pixels = np.clip(rng.normal(levels[name], 30, (24, 40, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"rgb_{i:05d}.jpg")
    (ws.root / "splits/weather").mkdir(parents=True)
    photos = "".join(f"{p}\n" for p in sorted(folders["bdd"].iterdir()))
    (ws.root / "splits/weather/daytime_foggy.txt").write_text(photos)
    return ws


@pytest.mark.filterwarnings("error")  # nothing is filtered away wholesale: any warning fails the test
def test_domain_gap_table_reports_fid_only_where_the_sample_allows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    from photosynth.metrics.domain_gap import feature_net
    from photosynth.study import domain_gap as study

    ws = _domain_gap_workspace(tmp_path, {"clone": 20, "fog": 20, "cyclegan": 6, "bdd": 24})
    net = tiny_net()  # 16 features
    table = study.domain_gap_table(ws, ["cyclegan", "nst"], net, {"fog": "daytime_foggy"}, max_images=20,
                                   progress=False)  # fmt: skip
    assert list(table.source) == ["vKITTI clone", "vKITTI rendered fog", "cyclegan translated"]  # nst: no frames
    assert table.n_a.tolist() == [20, 20, 6] and (table.n_b == 20).all() and (table.features == net.name).all()
    assert (table.fid.iloc[:2] > 0).all() and table.fid_note.iloc[:2].eq("").all()  # 20 images > 16 dimensions
    assert np.isnan(table.fid.iloc[2]) and table.fid_note.iloc[2] == (
        "no FID: 6 images on a side, not more than the 16 feature dimensions")
    assert table.kid_mean.notna().all() and (table.kid_std > 0).all()  # half-size subsets: a real spread
    assert table.kid_mean.iloc[0] > table.kid_mean.iloc[1]  # the clone (dark) is farther from foggy photos
    written = pd.read_csv(ws.root / "results" / "domain_gap.csv")
    assert written.fid.isna().tolist() == [False, False, True]
    random = study.domain_gap_table(ws, ["cyclegan"], feature_net("random_cnn", seed=0), {"fog": "daytime_foggy"},
                                    max_images=20, progress=False)  # fmt: skip
    assert random.fid.isna().all() and "not comparable" in random.features.iloc[0]  # 20 images, 128 dimensions

    def noisy(*args: object, **kwargs: object) -> object:
        warnings.warn("an unexpected warning", UserWarning)
        return gap_metric.domain_gap(*args, **kwargs)

    monkeypatch.setattr(study, "domain_gap", noisy)
    with pytest.warns(UserWarning, match="an unexpected warning"):  # reaches the caller: not swallowed
        study.domain_gap_table(ws, [], net, {"fog": "daytime_foggy"}, max_images=4, progress=False)
    with pytest.raises(ValueError, match="unknown feature network"):
        feature_net("vgg")
