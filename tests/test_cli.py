"""The `photosynth` console script: --version, --help on every subcommand, errors."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from photosynth import __version__
from photosynth.cli import build_parser, main


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"photosynth {__version__}"


def test_help_lists_every_subcommand() -> None:
    out = subprocess.run([sys.executable, "-m", "photosynth.cli", "--help"], capture_output=True, text=True, check=True).stdout
    names = _subcommands(build_parser())
    assert {"book", "info"} <= set(names)
    for name in names:
        assert name in out


def _leaf_parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path
    for action in subs:
        for name, child in action.choices.items():
            yield from _leaf_parsers(child, path + (name,))


@pytest.mark.parametrize("path", sorted(set(_leaf_parsers(build_parser()))))
def test_every_subcommand_has_help(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([*path, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: photosynth " + " ".join(path))
    assert len(out.splitlines()) > 3


def test_unknown_subcommand_fails(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_info_prints_versions_and_device(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    for word in ("photosynth", "numpy", "ultralytics", "device", "keras_vgg16_notop"):
        assert word in out
