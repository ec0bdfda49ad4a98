"""The study itself: BDD weather domains and occlusion buckets (``splits``), the training mixes (``mixes``)."""
