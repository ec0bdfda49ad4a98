"""Detection metrics and domain-gap measures.

* :mod:`~photosynth.metrics.ap` — ``ap50_standard`` (pycocotools AP@0.5) and ``ap50_legacy`` (YOLOv5
  ``val.py`` AP@0.5, the original study's number); ``match`` gives a reusable per-detection table.
* :mod:`~photosynth.metrics.bootstrap` — ``bootstrap_ci`` and ``paired_bootstrap`` over images.
* :mod:`~photosynth.metrics.evaluate` — ``evaluate_predictions`` → the ``metrics.csv`` table.
* :mod:`~photosynth.metrics.domain_gap` — FID / KID by torchmetrics on torch-fidelity's Inception-v3 (local
  weights) or any labelled network.

Submodules are imported on use (``from photosynth.metrics.ap import ap50_standard``); torch is only
imported by the domain-gap functions (on use).
"""
