"""How far each source of weather frames is from the BDD weather domain it stands in for: FID/KID
(:mod:`photosynth.metrics.domain_gap`) of vKITTI's clone and rendered weather and of each translator's frames
against the BDD domain's photos.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from photosynth.atomic import atomic_open
from photosynth.design import STYLE_DOMAINS
from photosynth.imageio import IMAGE_SUFFIXES, list_images
from photosynth.metrics.domain_gap import FeatureNet, domain_gap, kid_subset_size
from photosynth.runtime import Workspace


def _subsample(paths: Sequence[Path], count: int, seed: int) -> list[Path]:
    paths = sorted(paths)
    if len(paths) <= count:
        return paths
    rng = np.random.default_rng(seed)
    return [paths[i] for i in sorted(rng.choice(len(paths), count, replace=False))]


def domain_gap_sets(workspace: Workspace, methods: Sequence[str], domains: Mapping[str, str] | None = None,
                    vkitti_root: str | Path | None = None) -> list[dict[str, Any]]:
    """The image sets to compare: per weather, vKITTI's clone and rendered weather and each method's
    translations (``translated/<method>/<weather>``) against the BDD domain (``splits/weather/<domain>.txt``).

    ``domains`` maps vKITTI weather → BDD domain (default :data:`photosynth.design.STYLE_DOMAINS`).
    """
    domains = STYLE_DOMAINS if domains is None else domains
    root = Path(vkitti_root) if vkitti_root else workspace.root / "data" / "vkitti2"
    out = []
    for weather, domain in domains.items():
        target = workspace.root / "splits" / "weather" / f"{domain}.txt"
        if not target.is_file():
            raise FileNotFoundError(f"{target}: no BDD image list for {domain} (run the datasets notebook first)")
        sources = {"vKITTI clone": "clone", f"vKITTI rendered {weather}": weather}
        for label, variation in sources.items():
            images = sorted(p for p in root.glob(f"**/Scene*/{variation}/frames/rgb/Camera_0/*")
                            if p.suffix.lower() in IMAGE_SUFFIXES)
            out.append({"weather": weather, "domain": domain, "source": label, "images": images, "target": target})
        for method in methods:
            folder = workspace.root / "translated" / method / weather
            images = list_images(folder) if folder.is_dir() else []
            out.append({"weather": weather, "domain": domain, "source": f"{method} translated", "images": images,
                        "target": target})
    return out


def domain_gap_table(
    workspace: Workspace,
    methods: Sequence[str],
    net: FeatureNet,
    domains: Mapping[str, str] | None = None,
    max_images: int = 200,
    seed: int = 0,
    vkitti_root: str | Path | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """FID/KID of every source set vs its BDD weather domain (``max_images`` per set, seeded subsample; KID over 50
    subsets of half the smaller set, at most 100).

    Sets with fewer than 2 images (e.g. a method that did not translate this weather) are left out. FID is NaN where
    the sets are not larger than the features are wide (:func:`~photosynth.metrics.domain_gap.fid_allowed`;
    ``fid_note`` says why). The ``features`` column names the network; writes ``results/domain_gap.csv``.
    """
    rows = []
    jobs = [j for j in domain_gap_sets(workspace, methods, domains, vkitti_root) if len(j["images"]) >= 2]
    for job in tqdm(jobs, desc="domain gap", unit="set", disable=not progress):
        a = _subsample(job["images"], max_images, seed)
        b = _subsample(list_images(job["target"]), max_images, seed)
        gap = domain_gap(a, b, net, kid_subsets=50, kid_subset_size=kid_subset_size(len(a), len(b), 100), seed=seed)
        rows.append({"weather": job["weather"], "bdd_domain": job["domain"], "source": job["source"],
                     **gap.as_row()})
    table = pd.DataFrame(rows)
    if not table.empty:
        with atomic_open(workspace.stage("results") / "domain_gap.csv", newline="") as fh:
            table.to_csv(fh, index=False)
    return table
