"""Subcommands of the ``photosynth`` CLI, one module per topic (see :mod:`photosynth.cli`)."""
