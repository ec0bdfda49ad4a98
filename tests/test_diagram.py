"""The pipeline diagram: every stage drawn, every edge between known stages."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from photosynth.report.diagram import EDGES, STAGES, pipeline_diagram  # noqa: E402


def test_diagram_draws_every_stage_and_edge() -> None:
    fig = pipeline_diagram()
    texts = [t.get_text() for t in fig.axes[0].texts]
    for _, label, _, _, notebook in STAGES:
        assert label in texts and f"notebook {notebook}" in texts
    keys = {s[0] for s in STAGES}
    assert all(a in keys and b in keys for a, b in EDGES)
    arrows = [c for c in fig.axes[0].get_children() if type(c).__name__ == "Annotation"]
    assert len(arrows) == len(EDGES)
