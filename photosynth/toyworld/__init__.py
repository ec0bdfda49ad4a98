"""The toy world (DESIGN §7): a procedural street world, rendered synthetic and "real", written in the real
datasets' on-disk layouts so that :mod:`photosynth.datasets` reads it like the real thing.

- :mod:`.scene`: the 3D scene, cameras and the rasterizer (exact occlusion from the render order);
- :mod:`.style`: the synthetic (vKITTI-like) and "real" (KITTI/BDD-like) renderers and their weathers;
- :mod:`.world`: the streets, the BDD frames, the label formats and :func:`~.world.make_toyworld`, the writer of
  the four layouts and the oracle.
"""
