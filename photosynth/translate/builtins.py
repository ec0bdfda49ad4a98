"""photosynth's own translators behind the :mod:`~photosynth.translate.registry` protocol (``fit(task)``,
``translate(task)``), registered in ``pyproject.toml`` under ``photosynth.translators``: ``cyclegan``, ``cut``,
``nst`` and ``augment``. Each is built from keyword options (a profile's ``translator_options``) and calls the
same library functions notebooks 02 and 03 run.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from photosynth import runtime
from photosynth.translate import nst, weather
from photosynth.translate.cyclegan.config import CycleGANConfig
from photosynth.translate.cyclegan.cut_config import CUTConfig
from photosynth.translate.registry import Task


class CycleGAN:
    """CycleGAN per weather: ``fit`` trains (or resumes) clone → weather in ``task.work``, ``translate`` runs its
    A→B generator over ``task.sources``. Options: any :class:`CycleGANConfig` field, or ``config`` itself, plus
    ``device`` and the translation's ``batch_size``, ``num_workers``, ``fmt``, ``quality``."""

    config_class: type[CycleGANConfig] = CycleGANConfig

    def __init__(self, config: CycleGANConfig | None = None, *, device: str | None = None, batch_size: int = 4,
                 num_workers: int = 0, fmt: str = "jpg", quality: int = 95, **fields: Any) -> None:
        if config is not None and fields:
            raise TypeError(f"give either config or its fields, not both ({', '.join(fields)})")
        known = {f.name for f in dataclasses.fields(self.config_class)}
        unknown = sorted(set(fields) - known)
        if unknown:
            raise TypeError(f"unknown {self.config_class.__name__} option(s) {', '.join(unknown)}")
        self.config = config if config is not None else self.config_class(**fields)
        self.device = device
        self.translate_options = dict(batch_size=batch_size, num_workers=num_workers, fmt=fmt, quality=quality)

    def fit(self, task: Task) -> Any:
        """Train (or resume; a finished checkpoint returns at once); returns the ``TranslatorRun``."""
        from photosynth.translate.cyclegan.train import train

        return train(self.config, task.clones, task.targets, task.work, resume=True, device=self.device,
                     progress=task.progress)

    def translate(self, task: Task) -> Any:
        """Translate ``task.sources`` with the trained generator; returns the ``TranslateReport``."""
        from photosynth.translate.cyclegan.kinds import load_generator
        from photosynth.translate.cyclegan.train import CHECKPOINT
        from photosynth.translate.cyclegan.translate import translate_images

        device = runtime.device(self.device)
        generator, _ = load_generator(task.work / CHECKPOINT, "AtoB", device)
        return translate_images(generator, task.sources, task.out, input_root=task.source_root, device=device,
                                progress=task.progress, **self.translate_options)


class CUT(CycleGAN):
    """CUT / FastCUT per weather (Park et al. 2020): as :class:`CycleGAN`, options of :class:`CUTConfig`."""

    config_class = CUTConfig


class NST:
    """Neural style transfer (the study's Keras VGG16 NST): no fitting; each frame takes a seeded style photo of
    ``task.targets``. Options: ``preset`` (study, tutorial), ``weights`` (imagenet, auto, random_calibrated, none,
    or a path), ``batch_size``, ``size`` (``WIDTHxHEIGHT``) and any :class:`~photosynth.translate.nst.NSTConfig`
    field."""

    def __init__(self, preset: str = "study", weights: str = "auto", batch_size: int = 4, size: str = "",
                 **fields: Any) -> None:
        try:
            self.config = nst.preset(preset, **fields)
        except ValueError as exc:
            raise TypeError(str(exc)) from exc
        if size:
            self.config = dataclasses.replace(self.config, size=nst.parse_size(size))
        self.weights, self.batch_size = weights, batch_size

    def fit(self, task: Task) -> None:
        """Nothing to learn (the random-calibrated weights calibrate inside ``translate``)."""

    def translate(self, task: Task) -> dict[str, Any]:
        """Stylize ``task.sources``; returns the manifest's payload."""
        return nst.stylize_dataset(task.sources, task.source_root, task.out, task.targets, self.config,
                                   weights=self.weights, seed=task.seed, batch_size=self.batch_size,
                                   progress=task.progress)


class Augment:
    """albumentations' weather effects (the classical baseline): no fitting, no options."""

    def fit(self, task: Task) -> None:
        """Nothing to learn."""

    def translate(self, task: Task) -> dict[str, Any]:
        """Augment ``task.sources`` with the weather's preset; returns the manifest's payload."""
        return weather.augment_dataset(task.sources, task.source_root, task.out, task.weather, seed=task.seed,
                                       progress=task.progress)
