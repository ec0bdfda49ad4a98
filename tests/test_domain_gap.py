"""FID / KID: formula, behaviour on a tiny random CNN built in-process, and the missing-weights error."""

from __future__ import annotations

import numpy as np
import pytest

from photosynth.metrics.domain_gap import (
    INCEPTION_FILES,
    domain_gap,
    extract_features,
    feature_network,
    fid,
    frechet_distance,
    inception_network,
    kid,
)


def tiny_net():
    import torch

    torch.manual_seed(0)
    module = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, stride=2), torch.nn.ReLU(), torch.nn.Conv2d(8, 16, 3, stride=2), torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
    ).eval()
    return feature_network(module, "random-init tiny CNN — not comparable to published FID", (32, 32))


def images(seed: int, n: int, brightness: float) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    base = rng.normal(brightness, 30, (n, 40, 48, 3))
    return [im.clip(0, 255).astype(np.uint8) for im in base]


def test_frechet_distance_closed_form_diagonal() -> None:
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 4.0, 1.0])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected)


def test_fid_kid_on_features() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(0, 1, (400, 5)), rng.normal(0, 1, (400, 5))
    z = rng.normal(1.0, 1, (400, 5))
    assert fid(x, x) == pytest.approx(0.0, abs=1e-6)
    assert fid(x, y) < 0.2 < 4.0 < fid(x, z)  # shift of 1 in 5 dims ≈ 5
    same, _ = kid(x, y, n_subsets=20, subset_size=200)
    diff, std = kid(x, z, n_subsets=20, subset_size=200)
    assert abs(same) < 0.05 < diff and std >= 0
    with pytest.raises(ValueError):
        fid(x[:1], y)


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


def test_domain_gap_reads_paths(tmp_path) -> None:
    from photosynth.imageio import write_image

    paths = [write_image(tmp_path / f"{i}.png", im) for i, im in enumerate(images(4, 6, 120))]
    net = tiny_net()
    assert np.allclose(extract_features(paths, net), extract_features(images(4, 6, 120), net))


def test_missing_inception_weights_names_file_and_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError) as err:
        inception_network()
    message = str(err.value)
    assert str(tmp_path / "hub" / "checkpoints") in message
    assert all(name in message for name in INCEPTION_FILES)
    with pytest.raises(FileNotFoundError, match="nope.pth"):
        inception_network(tmp_path / "nope.pth")
    with pytest.raises(ValueError, match="needs a name"):
        feature_network(lambda x: x, "")


@pytest.mark.slow
def test_inception_loads_local_state_dict(tmp_path, monkeypatch) -> None:
    """A (random) torchvision Inception-v3 state dict placed in the torch cache is found and used."""
    import torch
    from torchvision.models import inception_v3

    target = tmp_path / "hub" / "checkpoints" / "inception_v3_google-0cc3c7bd.pth"
    target.parent.mkdir(parents=True)
    torch.save(inception_v3(weights=None, init_weights=False).state_dict(), target)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    net = inception_network()
    assert "torchvision ImageNet weights" in net.name
    assert extract_features(images(5, 2, 100), net).shape == (2, 2048)
