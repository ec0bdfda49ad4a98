"""Dataset readers (KITTI object/tracking, Virtual KITTI 2, BDD100K) and writers (YOLO, COCO).

Every reader is a generator ``read_<dataset>(root, *, …, report=None) -> Iterator[Frame]``; the
:class:`~photosynth.datasets.report.ConversionReport` passed in holds the error policy (strict/lenient) and
the counts. To add a dataset, copy a neighbouring reader module and add a ``convert_<dataset>`` function in
:mod:`photosynth.datasets.convert`. Import the submodules directly (``from photosynth.datasets.kitti import …``).
"""
