"""Data-parallel training under ``torchrun``: process group, gradient averaging, gathering state to rank 0.

CycleGAN calls each generator several times per step and toggles the discriminators' gradients, which
``DistributedDataParallel``'s hooks handle poorly; averaging the flattened gradients once per optimiser step
is the same computation (identical initial weights, mean gradient over ranks) without those constraints.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class Dist:
    """This process's place in the job (``world == 1``: no process group)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        """Whether this process writes logs, samples and checkpoints."""
        return self.rank == 0


def setup(device: str) -> tuple[Dist, str]:
    """Join the ``torchrun`` job described by the environment (``WORLD_SIZE`` > 1) or run alone.

    Returns the placement and the device this rank uses (``cuda:<local_rank>`` on GPUs).
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist(), device
    import torch.distributed as dist

    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    cuda = device.startswith("cuda")
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if cuda else "gloo")
    if cuda:
        torch.cuda.set_device(local_rank)
        device = f"cuda:{local_rank}"
    return Dist(rank, world, local_rank), device


def broadcast_parameters(modules: Iterable[torch.nn.Module], place: Dist) -> None:
    """Make every rank start from rank 0's weights and buffers."""
    if place.world == 1:
        return
    import torch.distributed as dist

    for module in modules:
        for tensor in [*module.parameters(), *module.buffers()]:
            dist.broadcast(tensor.data, src=0)


def average_gradients(params: Iterable[torch.nn.Parameter], place: Dist) -> None:
    """Replace each gradient by its mean over the ranks (one all-reduce on a flat buffer)."""
    if place.world == 1:
        return
    import torch.distributed as dist
    from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors

    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    flat = _flatten_dense_tensors(grads)
    dist.all_reduce(flat)
    flat.div_(place.world)
    for grad, reduced in zip(grads, _unflatten_dense_tensors(flat, grads)):
        grad.copy_(reduced)


def gather(obj: Any, place: Dist) -> list[Any]:
    """Every rank's ``obj`` (a list on all ranks; CPU tensors and primitives)."""
    if place.world == 1:
        return [obj]
    import torch.distributed as dist

    out: list[Any] = [None] * place.world
    dist.all_gather_object(out, obj)
    return out
