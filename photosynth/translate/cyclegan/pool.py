"""The history of generated images the discriminators see (Shrivastava et al.), with checkpointable state."""

from __future__ import annotations

import random

import torch


class ImagePool:
    """Holds up to ``size`` generated images.

    ``query`` returns a batch of the same size: while the pool fills, the new images themselves (and they are
    stored); once full, each image is, with probability 1/2, swapped with a random stored one (the stored one
    is returned, the new one takes its place), otherwise returned as is. ``size`` 0 disables the pool.
    The pool draws from its own :class:`random.Random`, so its state is saved and restored with it.
    """

    def __init__(self, size: int = 50, seed: int = 0) -> None:
        self.size = size
        self.images: list[torch.Tensor] = []
        self.rng = random.Random(seed)

    def __len__(self) -> int:
        return len(self.images)

    @torch.no_grad()
    def query(self, images: torch.Tensor) -> torch.Tensor:
        """Mix ``images`` (N×C×H×W) with the history; see the class docstring."""
        if self.size == 0:
            return images
        out = []
        for image in images.detach():
            image = image.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif self.rng.uniform(0, 1) > 0.5:
                index = self.rng.randint(0, self.size - 1)
                out.append(self.images[index].clone())
                self.images[index] = image.clone()
            else:
                out.append(image)
        return torch.cat(out, 0)

    def state_dict(self) -> dict:
        """Images (on CPU) and the RNG state, as tensors and primitive containers only."""
        version, internal, gauss = self.rng.getstate()
        return {
            "size": self.size,
            "images": [img.cpu() for img in self.images],
            "rng": [version, list(internal), gauss],
        }

    def load_state_dict(self, state: dict, device: torch.device | str = "cpu") -> None:
        """Restore what :meth:`state_dict` returned."""
        if state["size"] != self.size:
            raise ValueError(f"image pool size differs: checkpoint {state['size']}, options {self.size}")
        self.images = [img.to(device) for img in state["images"]]
        version, internal, gauss = state["rng"]
        self.rng.setstate((version, tuple(internal), gauss))
