"""The study's fixed design (DESIGN §1), in one place every layer may read: which source fills each ``frame % 7``
slot of a training mix, which KITTI sequence each vKITTI2 scene clones, which BDD100K weather domain each
translated weather stands in for, how BDD domains are named, and which classes the headline number averages.

Nothing here reads a file: the readers (:mod:`photosynth.datasets`), the toy world, the translators and the study
all take these names from here, so they cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from photosynth.frames import Frame

#: The seven sources of a training mix, in slot order: ``SOURCES[frame % 7]``.
SOURCES: tuple[str, ...] = ("kitti", "clone", "morning", "sunset", "fog", "overcast", "rain")
#: The slot of each translated weather (vKITTI2 variation names).
WEATHER_SLOTS: dict[str, int] = {"fog": 4, "overcast": 5, "rain": 6}
#: vKITTI2 variations a mix reads (clone also labels the translated frames).
VARIATION_SOURCES: tuple[str, ...] = SOURCES[1:]
#: vKITTI2 scene → the KITTI tracking sequence it clones.
SCENE_SEQUENCES: dict[str, str] = {
    "Scene01": "0001", "Scene02": "0002", "Scene06": "0006", "Scene18": "0018", "Scene20": "0020",
}  # fmt: skip
#: vKITTI2 weather → the BDD domain whose images are its style (and its target weather).
STYLE_DOMAINS: dict[str, str] = {"fog": "daytime_foggy", "overcast": "daytime_overcast", "rain": "daytime_rainy"}
#: The mix (and the toy world's folder) of the oracle renders: a perfect translation, no translator makes it.
ORACLE = "oracle"
#: Suffix of a training mix that adds a translator's frames beside vKITTI's rendered weather (``cyclegan+vkitti``;
#: :mod:`photosynth.study.mixes`).
ADD_SUFFIX = "+vkitti"


def is_plain_name(name: str) -> bool:
    """Whether ``name`` can name a translator or mix: lowercase letters, digits, ``_`` and ``-``, not empty."""
    plain = name.replace("_", "").replace("-", "")
    return bool(plain) and plain.isalnum() and name == name.lower()
#: Classes the study's headline number averages (BDD has no vans).
STUDY_CLASSES: tuple[str, ...] = ("Car", "Truck")
#: BDD100K's ``timeofday`` and ``weather`` attribute values.
BDD_TIMES: tuple[str, ...] = ("daytime", "night", "dawn/dusk", "undefined")
BDD_WEATHERS: tuple[str, ...] = ("clear", "partly cloudy", "overcast", "rainy", "snowy", "foggy", "undefined")


def source_of(index: int) -> str:
    """The source of vKITTI2 frame ``index``: ``SOURCES[index % 7]``."""
    if index < 0:
        raise ValueError(f"frame index must be >= 0, got {index}")
    return SOURCES[index % len(SOURCES)]


def _slug(value: str) -> str:
    return re.sub(r"[ /]+", "_", value)


@dataclass(frozen=True)
class Domain:
    """A BDD weather × time-of-day filter; ``None`` matches any value."""

    timeofday: str | None
    weather: str | None

    @property
    def name(self) -> str:
        parts = [_slug(v) for v in (self.timeofday, self.weather) if v is not None]
        return "_".join(parts) or "all"

    @classmethod
    def parse(cls, name: str) -> "Domain":
        """``daytime_foggy`` → (daytime, foggy); ``night`` → (night, any);
        ``dawn_dusk_rainy`` → (dawn/dusk, rainy)."""
        for time in sorted(BDD_TIMES, key=len, reverse=True):
            slug = _slug(time)
            if name == slug:
                return cls(time, None)
            if name.startswith(slug + "_"):
                rest = name[len(slug) + 1:]
                weather = {_slug(w): w for w in BDD_WEATHERS}.get(rest)
                if weather is None:
                    break
                return cls(time, weather)
        raise ValueError(
            f"unknown weather domain {name!r}; expected <timeofday>[_<weather>] with timeofday in "
            f"{[_slug(t) for t in BDD_TIMES]} and weather in {[_slug(w) for w in BDD_WEATHERS]}, e.g. daytime_foggy"
        )

    def matches(self, frame: Frame) -> bool:
        return (self.timeofday is None or frame.timeofday == self.timeofday) and (
            self.weather is None or frame.weather == self.weather
        )
