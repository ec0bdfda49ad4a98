"""CycleGAN (Zhu et al. 2017) with the reference implementation's defaults, made resumable and fast, and CUT /
FastCUT (Park et al. 2020) on the same networks, data pipeline, checkpoints and translation.

Modules, one concern each:

- :mod:`.config`: :class:`CycleGANConfig`, every hyperparameter (reference defaults) in one dataclass.
- :mod:`.networks`: ResNet generator, PatchGAN discriminator, weight init.
- :mod:`.losses`: GAN (LSGAN / vanilla), cycle and identity losses.
- :mod:`.pool`: the 50-image history pool, with checkpointable state.
- :mod:`.data`: unaligned two-domain dataset and the resumable sampler.
- :mod:`.checkpoint`: atomic, ``weights_only``-safe checkpoints and RNG state capture.
- :mod:`.base`: what every model kind shares (optimisers, schedule, speed options, state) and checkpoint checks.
- :mod:`.model`: CycleGAN's model (four networks, image pools, the training step).
- :mod:`.cut_config` / :mod:`.cut`: CUT's options (the authors' defaults, layer mapping) and model (PatchNCE).
- :mod:`.kinds`: the model kinds by name: the class a config trains, the config a checkpoint holds, a generator.
- :mod:`.train`: the training loop of both kinds (:func:`train`), loss log, sample grids, speed options.
- :mod:`photosynth.translate.cyclegan.translate`: whole-dataset translation at the original size (:func:`translate_images`).
- :mod:`.study`: per-weather training / translation for the study's workspace (notebook 02).

torch is imported by the submodules only, so importing this package stays cheap.
"""

from photosynth.translate.cyclegan.config import CycleGANConfig

__all__ = ["CycleGANConfig"]
