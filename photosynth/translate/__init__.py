"""Translators that turn vKITTI2 clone frames into other weathers: CycleGAN (:mod:`.cyclegan`),
neural style transfer (:mod:`.nst`) and classical augmentation (:mod:`.weather`).

Every translator writes through :mod:`photosynth.imageio` (atomic writes, mirrored paths, resume).
"""
