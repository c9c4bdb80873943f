"""The collection schedule: datasets that fan out per resource are submitted first, and one dataset's
thousands of detail reads never queue ahead of another dataset's few (`Fetch.each` keeps at most
`DETAIL_WORKERS` of one call in the pool); results keep their order and a failure is raised."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from auditor.providers.aws.collect import DATASETS, DETAIL_WORKERS, Fetch, with_dependencies


def fetch(pool: ThreadPoolExecutor) -> Fetch:
    return Fetch(None, "eu-west-1", "123456789012", pool)  # type: ignore[arg-type]  # no client is made


def test_the_datasets_that_fan_out_are_submitted_first_and_dependencies_still_precede() -> None:
    names = sorted(DATASETS)
    order = [d.name for d in with_dependencies(names)]
    fanning = [n for n in names if DATASETS[n].fans_out]
    assert {"s3", "iam"} <= set(fanning)
    assert order[: len(fanning)] == sorted(fanning)
    for name in order:
        assert all(order.index(dep) < order.index(name) for dep in DATASETS[name].after)


def test_each_keeps_order_and_bounds_what_one_call_puts_in_the_pool() -> None:
    pending = 0
    most = 0
    lock = threading.Lock()

    def square(x: int) -> int:
        nonlocal pending, most
        with lock:
            pending += 1
            most = max(most, pending)
        time.sleep(0.001)
        with lock:
            pending -= 1
        return x * x

    with ThreadPoolExecutor(max_workers=DETAIL_WORKERS * 2) as pool:
        assert fetch(pool).each(square, range(200)) == [x * x for x in range(200)]
    assert 1 < most <= DETAIL_WORKERS


def test_a_small_dataset_is_served_beside_a_large_one_not_after_it() -> None:
    done: list[str] = []
    lock = threading.Lock()
    started = threading.Event()

    def slow(i: int) -> int:
        started.set()
        time.sleep(0.002)
        with lock:
            done.append(f"big-{i}")
        return i

    def quick(i: int) -> int:
        with lock:
            done.append(f"small-{i}")
        return i

    with ThreadPoolExecutor(max_workers=DETAIL_WORKERS) as pool:
        big = threading.Thread(target=lambda: fetch(pool).each(slow, range(400)))
        big.start()
        assert started.wait(10)
        assert fetch(pool).each(quick, range(3)) == [0, 1, 2]
        big.join()
    last_small = max(done.index(f"small-{i}") for i in range(3))
    # Behind at most one window of the big call's items, not behind all 400 of them.
    assert last_small < 4 * DETAIL_WORKERS, last_small


def test_a_failing_item_is_raised_and_the_rest_of_the_call_is_not_started() -> None:
    ran: list[int] = []

    def boom(i: int) -> int:
        ran.append(i)
        if i == 3:
            raise ValueError("item 3")
        time.sleep(0.002)
        return i

    with ThreadPoolExecutor(max_workers=2) as pool, pytest.raises(ValueError, match="item 3"):
        fetch(pool).each(boom, range(1000))
    assert len(ran) < 100
