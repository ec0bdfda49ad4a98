"""photosynth: can translating synthetic driving frames into real weather close a detector's sim-to-real gap?"""

__version__ = "0.1.0"
