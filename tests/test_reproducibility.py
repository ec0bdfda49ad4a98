"""Pinned reproducibility: which toy-world frames a seed puts in train/val/test, and the report's reconciliation.

The golden table below was produced by the code on 2026-12-01 and is written out in full: a change in how a
random generator is called (a new draw in the toy world's scene stream, another split permutation) reshuffles the
study silently, and this test is what notices. Each row: scene, frame index, source (``frame % 7``), split, and
the frame's boxes as one letter per box (C/V/T; ``-`` for a box outside the study classes, e.g. KITTI
DontCare) — the letters pin the toy world's geometry too. If a change is *meant* to alter the toy world, bump
``toyworld.VERSION`` and regenerate the table on purpose (say so in the commit).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from photosynth.datasets.report import ConversionReport
from photosynth.toyworld.world import make_toyworld
from photosynth.study.mixes import load_sources, plan_mix
from photosynth.design import SOURCES, VARIATION_SOURCES

#: (scene, frame, source, split, boxes) of the baseline mix over a toy world of 5 scenes × 8 frames, seed 0.
GOLDEN: list[tuple[str, int, str, str, int, str]] = [
    ('Scene01', 0, 'kitti', 'train', 10, '-CC-CC--C-'),
    ('Scene01', 1, 'clone', 'train', 9, 'CCCCCCCCC'),
    ('Scene01', 2, 'morning', 'train', 9, 'CCCCCCCCC'),
    ('Scene01', 3, 'sunset', 'train', 9, 'CCCCCCCCC'),
    ('Scene01', 4, 'fog', 'train', 9, 'CCCCCCCCC'),
    ('Scene01', 5, 'overcast', 'val', 9, 'CCCCCCCCC'),
    ('Scene01', 6, 'rain', 'train', 9, 'CCCCCCCCC'),
    ('Scene01', 7, 'kitti', 'val', 9, '-CCCCC---'),
    ('Scene02', 0, 'kitti', 'train', 9, 'TVC-CCCV-'),
    ('Scene02', 1, 'clone', 'train', 8, 'TCCVVCCC'),
    ('Scene02', 2, 'morning', 'train', 9, 'CTCVCVCCC'),
    ('Scene02', 3, 'sunset', 'train', 9, 'CTCVCVCCT'),
    ('Scene02', 4, 'fog', 'train', 9, 'CTCVCVCTC'),
    ('Scene02', 5, 'overcast', 'train', 9, 'TCCVCVCTC'),
    ('Scene02', 6, 'rain', 'val', 9, 'TCCVCVTCC'),
    ('Scene02', 7, 'kitti', 'test', 9, 'T-VCCCV--'),
    ('Scene06', 0, 'kitti', 'train', 12, 'TC-TVCVVT---'),
    ('Scene06', 1, 'clone', 'train', 13, 'CCVTCTCVVVCCT'),
    ('Scene06', 2, 'morning', 'train', 13, 'CCVTTCCVVCVCT'),
    ('Scene06', 3, 'sunset', 'train', 12, 'CCVTTCCVVCVC'),
    ('Scene06', 4, 'fog', 'train', 12, 'CCCVTCTCVVCV'),
    ('Scene06', 5, 'overcast', 'train', 12, 'CCCTCVTCVVCV'),
    ('Scene06', 6, 'rain', 'train', 12, 'CCCTCVTCVVCV'),
    ('Scene06', 7, 'kitti', 'train', 12, 'TC-VVVT-VC--'),
    ('Scene18', 0, 'kitti', 'train', 13, 'T-CCC----CCV-'),
    ('Scene18', 1, 'clone', 'train', 13, 'CCCVCCVCCTVCC'),
    ('Scene18', 2, 'morning', 'train', 12, 'CCCVCCVCTCVC'),
    ('Scene18', 3, 'sunset', 'train', 11, 'CCCVCCVCTCV'),
    ('Scene18', 4, 'fog', 'train', 11, 'CCCVCCVCTCV'),
    ('Scene18', 5, 'overcast', 'test', 11, 'CCCVCCVCTCV'),
    ('Scene18', 6, 'rain', 'train', 12, 'CCCCVCCVCTVC'),
    ('Scene18', 7, 'kitti', 'test', 12, 'VTCCV---CV--'),
    ('Scene20', 0, 'kitti', 'train', 9, 'VTTCTTCC-'),
    ('Scene20', 1, 'clone', 'test', 9, 'TTVCCTTCC'),
    ('Scene20', 2, 'morning', 'train', 9, 'TTVCCTTCC'),
    ('Scene20', 3, 'sunset', 'train', 10, 'CTTVCCTTCC'),
    ('Scene20', 4, 'fog', 'train', 10, 'CTVTCCTTCC'),
    ('Scene20', 5, 'overcast', 'train', 9, 'CTVTCCTTC'),
    ('Scene20', 6, 'rain', 'train', 9, 'CTVTCCTTC'),
    ('Scene20', 7, 'kitti', 'val', 9, 'VTTTTC---'),
]


def test_seed_0_puts_the_same_toy_world_frames_in_the_same_splits(tmp_path: Path) -> None:
    world = make_toyworld(tmp_path / "data", scenes=5, frames=8, scale=0.05, kitti_object=1, bdd_train=0,
                          bdd_val=0, seed=0, variations=list(VARIATION_SOURCES), progress=False)  # fmt: skip
    vkitti, kitti = load_sources(world["vkitti2"], world["kitti_tracking"])
    items = plan_mix("baseline", vkitti, kitti, vkitti_root=world["vkitti2"], seed=0)
    got = [(i.scene, i.index, i.source, i.split, len(i.frame.boxes),
            "".join(b.cls[0] if b.cls else "-" for b in i.frame.boxes)) for i in items]  # fmt: skip
    assert got == GOLDEN
    assert all(source == SOURCES[index % 7] for _, index, source, *_ in GOLDEN)
    assert [sum(row[3] == s for row in GOLDEN) for s in ("train", "val", "test")] == [32, 4, 4]


def test_report_check_raises_on_a_count_mismatch() -> None:
    report = ConversionReport(strict=False)
    report.boxes_in = 4
    report.wrote(2)
    report.reject("a.txt:3", "bad_number", "expected numbers")
    report.unmapped["Pedestrian"] += 1
    report.check()  # 4 == 2 written + 1 rejected + 1 unmapped
    report.boxes_in += 1  # a box read but neither written, rejected nor counted as unmapped
    with pytest.raises(RuntimeError, match=r"boxes_in=5 but boxes_out=2 \+ rejected=1 \+ unmapped=1 = 4"):
        report.check()
    assert report.to_dict()["reconciled"] is False
