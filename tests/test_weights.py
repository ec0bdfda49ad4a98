"""Where a run looks for pretrained weights, and which of them are present."""

from __future__ import annotations

from pathlib import Path

import pytest

from photosynth import weights


def test_local_weights_reports_missing_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert weights.local_weights()["keras_vgg16_notop"] is None
    target = tmp_path / "models" / weights.VGG16_NOTOP
    target.parent.mkdir()
    target.write_bytes(b"x")
    assert weights.local_weights()["keras_vgg16_notop"] == target
