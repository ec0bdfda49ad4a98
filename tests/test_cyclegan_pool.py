"""The 50-image history pool: fill, swap with probability 1/2, state round trip."""

from __future__ import annotations

import torch

from photosynth.translate.cyclegan.pool import ImagePool


def batch(value: float, n: int = 1) -> torch.Tensor:
    return torch.full((n, 3, 2, 2), value)


def test_pool_returns_new_images_while_filling() -> None:
    pool = ImagePool(3, seed=0)
    out = pool.query(torch.cat([batch(1), batch(2)]))
    assert torch.equal(out, torch.cat([batch(1), batch(2)]))
    assert len(pool) == 2
    pool.query(batch(3))
    assert len(pool) == 3


def test_full_pool_swaps_about_half_and_returns_only_known_images() -> None:
    pool = ImagePool(4, seed=1)
    pool.query(torch.cat([batch(v) for v in range(4)]))
    swapped, seen = 0, set(range(4))
    for value in range(10, 210):
        out = pool.query(batch(value))
        returned = out[0, 0, 0, 0].item()
        assert returned in seen | {value}
        seen.add(value)
        swapped += returned != value
        assert len(pool) == 4
    assert 70 < swapped < 130  # probability 1/2 over 200 queries
    stored = {img[0, 0, 0, 0].item() for img in pool.images}
    assert len(stored) == 4


def test_size_zero_disables_the_pool() -> None:
    pool = ImagePool(0)
    x = batch(5, 2)
    assert pool.query(x) is x and len(pool) == 0


def test_state_round_trip_reproduces_future_answers() -> None:
    a = ImagePool(2, seed=3)
    for v in range(5):
        a.query(batch(v))
    b = ImagePool(2, seed=99)
    b.load_state_dict(a.state_dict())
    for v in range(5, 30):
        assert torch.equal(a.query(batch(v)), b.query(batch(v)))
