"""Tags and branches come from a pool of OS random bytes, refilled as it runs out."""

from __future__ import annotations

from switchboard.sip.core import _RandomPool


def test_every_take_has_its_length_and_draws_do_not_repeat_across_refills() -> None:
    pool = _RandomPool()
    drawn = [pool.take(4) for _ in range(3 * _RandomPool.SIZE // 4 + 7)]  # three refills
    assert {len(d) for d in drawn} == {4}
    assert len(set(drawn)) > len(drawn) - 3  # 32 random bits: a repeat is all but impossible


def test_a_take_larger_than_what_is_left_or_than_the_pool_is_whole() -> None:
    pool = _RandomPool()
    pool.take(_RandomPool.SIZE - 2)
    assert len(pool.take(8)) == 8  # only 2 were left: a fresh read
    assert len(pool.take(2 * _RandomPool.SIZE)) == 2 * _RandomPool.SIZE
