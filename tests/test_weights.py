"""Where a run looks for pretrained weights, and which of them are present."""

from __future__ import annotations

from pathlib import Path

import pytest

from photosynth import runtime, weights


def test_local_weights_reports_missing_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert weights.local_weights()["keras_vgg16_notop"] is None
    target = tmp_path / "models" / weights.VGG16_NOTOP
    target.parent.mkdir()
    target.write_bytes(b"x")
    assert weights.local_weights()["keras_vgg16_notop"] == target


def test_runs_look_for_torch_weights_where_torch_hub_keeps_them(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """``$XDG_CACHE_HOME`` moves torch.hub's cache: ``photosynth fetch`` (no :func:`runtime.configure`) and a run (after
    it) look in the same folder."""
    for key in ("YOLO_OFFLINE", "YOLO_AUTOINSTALL", "YOLO_VERBOSE", "KERAS_HOME", "TORCH_HOME", "TF_CPP_MIN_LOG_LEVEL",
                "NO_ALBUMENTATIONS_UPDATE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("YOLO_CONFIG_DIR", str(tmp_path / "config"))
    before = weights.torch_cache()
    runtime.configure()
    assert weights.torch_cache() == before == tmp_path / "cache" / "torch" / "hub" / "checkpoints"
