"""``photosynth cut {train,translate}``: CUT / FastCUT (``--mode``), the one-sided contrastive translator.

Same paths, resume, workspace and translation flags as ``photosynth cyclegan`` (shared from
:mod:`photosynth.commands.cyclegan`); the model flags are those of
:class:`~photosynth.translate.cyclegan.cut_config.CUTConfig`.
"""

from __future__ import annotations

import argparse

from photosynth.commands.cyclegan import (
    OPTION_HELP,
    add_config_options,
    add_train_arguments,
    add_translate_arguments,
    handle_train,
    handle_translate,
)
from photosynth.translate.cyclegan.cut_config import CUT_MODES, INIT_TYPES, MODE_DEFAULTS, CUTConfig

#: Help for CUT's own options (the shared ones come from ``photosynth cyclegan``'s table).
CUT_OPTION_HELP: dict[str, str] = {
    **OPTION_HELP,
    "mode": "cut (NCE identity loss) or fastcut (larger NCE weight, no identity, flip equivariance)",
    "lambda_GAN": "weight of the adversarial loss",
    "lambda_NCE": "weight of the PatchNCE loss",
    "nce_idt": "PatchNCE identity loss on domain B images",
    "nce_layers": "comma-separated generator layer indices for PatchNCE (ours: 0,4,7,10,14 = the authors' 0,4,8,12,16)",
    "nce_T": "PatchNCE temperature",
    "num_patches": "patches sampled per layer",
    "netF_nc": "width of the PatchSampleF MLP head",
    "nce_includes_all_negatives_from_minibatch": "negatives from every image of the batch (single-image translation)",
    "flip_equivariance": "flip the input at random and the fake's features back",
    "init_type": "xavier (the authors' CUT default) or normal (CycleGAN's)",
}
#: CycleGAN options CUT does not use.
HIDDEN: tuple[str, ...] = ("lambda_cycle", "lambda_identity", "pool_size")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``cut train`` and ``cut translate``."""
    parser = subparsers.add_parser(
        "cut",
        help="train CUT / FastCUT models and translate datasets with them",
        description="CUT and FastCUT (Park et al., ECCV 2020) with the authors' defaults, on the CycleGAN networks: "
        "one generator A→B, one PatchGAN, PatchNCE over encoder patches. Resumable training, whole-dataset "
        "translation at the original image size.",
    )
    sub = parser.add_subparsers(dest="cut_command", metavar="ACTION", required=True)
    train = sub.add_parser(
        "train",
        help="train a CUT or FastCUT (A → B); resumable",
        description="Train G: A→B with a discriminator on B and the PatchNCE head. Writes OUT/checkpoint.pt, "
        "OUT/losses.csv, OUT/samples/*.png. With --workspace and --weather, A is the workspace's vKITTI2 clone "
        "Camera_0 frames, B the weather's BDD style list, OUT models/cut/<weather>.",
    )
    add_train_arguments(train)
    add_config_options(
        train, CUTConfig, CUT_OPTION_HELP, hidden=HIDDEN, choices={"mode": CUT_MODES, "init_type": INIT_TYPES},
        mode_defaults=MODE_DEFAULTS,
    )  # fmt: skip
    train.set_defaults(func=handle_train, method="cut", config_cls=CUTConfig)

    tr = sub.add_parser(
        "translate",
        help="translate a folder or list of images at their original size",
        description="Translate every image with a CUT checkpoint's generator (A→B). Outputs mirror the inputs' "
        "paths relative to --input-root under OUT, are written atomically and skipped when they exist. With "
        "--workspace and --weather: models/cut/<weather> → translated/cut/<weather>, the frames the mixes need.",
    )
    add_translate_arguments(tr)
    tr.set_defaults(func=handle_translate, method="cut")
