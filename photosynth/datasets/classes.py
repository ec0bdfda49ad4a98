"""Source class → study class maps (DESIGN §4).

KITTI and vKITTI2 ``Car``/``Van``/``Truck`` map directly; BDD100K ``car``→``Car`` and ``truck``→``Truck``.
BDD's ``bus``, ``train``, ``other vehicle`` and ``trailer`` can be mapped on request (default: not
mapped). Every other class (``Pedestrian``, ``person``, ``DontCare`` …) stays unmapped: readers keep such
boxes with ``cls=None`` and the conversion report counts them per source class.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from photosynth.frames import CLASSES

#: KITTI (object and tracking) and vKITTI2 ``info.txt`` labels that are study classes.
KITTI_MAPPING: dict[str, str] = {"Car": "Car", "Van": "Van", "Truck": "Truck"}
#: BDD100K categories mapped by default.
BDD_MAPPING: dict[str, str] = {"car": "Car", "truck": "Truck"}
#: BDD100K categories that may be mapped through ``extra`` (default: unmapped).
BDD_OPTIONAL: tuple[str, ...] = ("bus", "train", "other vehicle", "trailer")


@dataclass(frozen=True)
class ClassMap:
    """Maps a dataset's class names to study classes; unknown names map to ``None``."""

    mapping: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        bad = {k: v for k, v in self.mapping.items() if v not in CLASSES}
        if bad:
            raise ValueError(f"class map targets must be one of {CLASSES}, got {bad}")

    def __call__(self, source_class: str) -> str | None:
        return self.mapping.get(source_class)


def kitti_class_map() -> ClassMap:
    """The class map of KITTI object/tracking and vKITTI2."""
    return ClassMap(dict(KITTI_MAPPING))


def bdd_class_map(extra: Mapping[str, str] | None = None) -> ClassMap:
    """The BDD100K class map, plus optional mappings of :data:`BDD_OPTIONAL` categories (e.g. ``{"bus": "Truck"}``)."""
    extra = dict(extra or {})
    unknown = sorted(set(extra) - set(BDD_OPTIONAL))
    if unknown:
        raise ValueError(f"only {', '.join(BDD_OPTIONAL)} can be mapped additionally, got {unknown}")
    return ClassMap({**BDD_MAPPING, **extra})


def parse_mapping(specs: list[str] | None) -> dict[str, str]:
    """Parse ``["bus=Truck", "other vehicle=Car"]`` (CLI ``--map``) into a dict."""
    out: dict[str, str] = {}
    for spec in specs or []:
        source, sep, target = spec.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise ValueError(f"class mapping must look like 'source=Target', got {spec!r}")
        out[source.strip()] = target.strip()
    return out
