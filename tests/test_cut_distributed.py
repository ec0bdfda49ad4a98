"""CUT under data parallelism (gloo, CPU): two ranks train one model, each with its own patch sampler, and resume."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from cyclegan_toy import make_images, single_thread  # noqa: F401 (autouse fixture)
from test_cut import rows, tiny_cut

from photosynth.translate.cyclegan.checkpoint import load_checkpoint
from photosynth.translate.cyclegan.train import train

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, a: str, b: str, out: str, until: int | None) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank))  # fmt: skip
    torch.set_num_threads(1)
    import torch.distributed as dist

    train(tiny_cut(batch_size=1, mode="fastcut"), a, b, out, device="cpu", progress=False, until_step=until)
    dist.destroy_process_group()


def _run(a: Path, b: Path, out: Path, until: int | None) -> None:
    mp.spawn(_worker, args=(2, _free_port(), str(a), str(b), str(out), until), nprocs=2, join=True)


def test_two_ranks_train_one_cut_model_and_resume_exactly(tmp_path: Path) -> None:
    a, b = tmp_path / "A", tmp_path / "B"
    make_images(a, [(41, 27)] * 5, seed=1)
    make_images(b, [(43, 24)] * 3, seed=2)
    _run(a, b, tmp_path / "full", None)
    _run(a, b, tmp_path / "part", 3)
    _run(a, b, tmp_path / "part", None)
    full, part = (load_checkpoint(tmp_path / run / "checkpoint.pt") for run in ("full", "part"))
    assert full["world"] == 2 and full["step"] == part["step"] == 6
    states = [r["pools"]["rng"] for r in full["ranks"]]
    assert not torch.equal(states[0], states[1])  # each rank samples its own patches and flips
    assert rows(tmp_path / "full" / "losses.csv") == rows(tmp_path / "part" / "losses.csv")
    for net in ("G", "F", "D"):
        for key, value in full["models"][net].items():
            assert torch.equal(value, part["models"][net][key]), (net, key)
