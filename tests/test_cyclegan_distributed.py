"""Data-parallel training on CPU (gloo): two processes of batch 1 equal one process of batch 2."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from cyclegan_toy import make_images, single_thread, tiny_config  # noqa: F401 (autouse fixture)

from photosynth.translate.cyclegan.checkpoint import load_checkpoint
from photosynth.translate.cyclegan.networks import build_discriminator, build_generator
from photosynth.translate.cyclegan.train import train

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, a: str, b: str, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank))  # fmt: skip
    torch.set_num_threads(1)
    import torch.distributed as dist

    train(tiny_config(batch_size=1, pool_size=50), a, b, out, device="cpu", progress=False)
    dist.destroy_process_group()


def test_two_ranks_of_batch_one_match_one_process_of_batch_two(tmp_path: Path) -> None:
    a, b = tmp_path / "A", tmp_path / "B"
    make_images(a, [(41, 27)] * 5, seed=1)
    make_images(b, [(43, 24)] * 3, seed=2)
    mp.spawn(_worker, args=(2, _free_port(), str(a), str(b), str(tmp_path / "ddp")), nprocs=2, join=True)
    single = train(tiny_config(batch_size=2, pool_size=50), a, b, tmp_path / "single", progress=False)
    ddp, one = load_checkpoint(tmp_path / "ddp" / "checkpoint.pt"), load_checkpoint(single.checkpoint)
    assert ddp["world"] == 2 and len(ddp["ranks"]) == 2 and ddp["step"] == one["step"] == 6
    # compare what the networks compute: biases in front of instance norm get no real gradient, so Adam moves
    # them by about lr per step on rounding noise in both runs alike (it cancels in the outputs)
    cfg, x = tiny_config(), torch.rand(1, 3, 32, 32) * 2 - 1
    for name, build in (("G_A", build_generator), ("G_B", build_generator), ("D_A", build_discriminator)):
        nets = []
        for state in (ddp, one):
            net = build(cfg).eval()
            net.load_state_dict(state["models"][name])
            nets.append(net)
        with torch.no_grad():
            torch.testing.assert_close(nets[0](x), nets[1](x), rtol=1e-3, atol=1e-3)
    with pytest.raises(ValueError, match="2-process run"):
        train(tiny_config(batch_size=1, pool_size=50, steps=4), a, b, tmp_path / "ddp", progress=False)
