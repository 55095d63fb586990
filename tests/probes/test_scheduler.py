"""Probe scheduling: bounded concurrency, results one by one, a slow tenant delays no other."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from ncconsole.probes.scheduler import ProbeScheduler

pytestmark = pytest.mark.timeout(10)


def test_slow_target_does_not_delay_the_others() -> None:
    release = threading.Event()
    delivered: dict[str, float] = {}
    all_fast = threading.Event()
    running = 0
    peak = 0
    lock = threading.Lock()

    def run(target: str) -> str:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        try:
            if target == "slow":
                release.wait(5)
            return target.upper()
        finally:
            with lock:
                running -= 1

    def deliver(name: str, result: str) -> None:
        delivered[name] = time.monotonic()
        assert result == name.upper()
        if all(f"t{i}" in delivered for i in range(20)):
            all_fast.set()

    scheduler = ProbeScheduler[str]("test", 60.0, 4, run, deliver)
    scheduler.set_targets({"slow": "slow", **{f"t{i}": f"t{i}" for i in range(20)}})
    scheduler.start()
    try:
        # Every fast tenant is delivered while the slow one is still hanging.
        assert all_fast.wait(5)
        assert "slow" not in delivered
        assert peak <= 4
        release.set()
        deadline = time.monotonic() + 5
        while "slow" not in delivered:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        release.set()
        scheduler.stop()


def test_new_targets_are_probed_at_once_and_removed_ones_dropped() -> None:
    seen: list[str] = []
    got = threading.Condition()

    def deliver(name: str, result: str) -> None:
        with got:
            seen.append(name)
            got.notify_all()

    scheduler = ProbeScheduler[str]("test", 60.0, 2, lambda t: t, deliver)
    scheduler.set_targets({"a": "a"})
    scheduler.start()
    try:
        with got:
            assert got.wait_for(lambda: "a" in seen, 5)
        # The interval is a minute, yet a tenant added now is probed now.
        scheduler.set_targets({"b": "b"})
        with got:
            assert got.wait_for(lambda: "b" in seen, 5)
        assert seen.count("a") == 1
    finally:
        scheduler.stop()


def test_starts_are_paced_so_probing_cost_stays_bounded_in_large_fleets() -> None:
    started: list[float] = []
    done = threading.Event()

    def run(target: str) -> str:
        started.append(time.monotonic())
        if len(started) == 6:
            done.set()
        return target

    scheduler = ProbeScheduler[str]("test", 60.0, 8, run, lambda n, r: None, max_rate=20.0)
    scheduler.set_targets({f"t{i}": f"t{i}" for i in range(6)})
    scheduler.start()
    try:
        assert done.wait(5)
        # Six starts at 20 per second span at least five gaps of 50 ms.
        assert started[-1] - started[0] >= 5 * 0.05 * 0.9
    finally:
        scheduler.stop()


def test_a_new_tenant_is_probed_before_the_rest_of_a_paced_round() -> None:
    order: list[str] = []
    got = threading.Condition()

    def deliver(name: str, result: str) -> None:
        with got:
            order.append(name)
            got.notify_all()

    scheduler = ProbeScheduler[str]("test", 60.0, 1, lambda t: t, deliver, max_rate=50.0)
    old = {f"old{i}": f"old{i}" for i in range(5)}
    scheduler.set_targets(old)
    scheduler.start()
    try:
        with got:
            assert got.wait_for(lambda: len(order) == 5, 5)
        # Added last, yet the round it wakes starts with it, not after the five known ones.
        scheduler.set_targets({**old, "new": "new"})
        with got:
            assert got.wait_for(lambda: len(order) >= 6, 5)
        assert order[5] == "new"
    finally:
        scheduler.stop()


def test_prioritized_tenants_go_first_when_everything_is_due() -> None:
    order: list[str] = []
    got = threading.Condition()

    def deliver(name: str, result: str) -> None:
        with got:
            order.append(name)
            got.notify_all()

    scheduler = ProbeScheduler[str]("test", 60.0, 1, lambda t: t, deliver, max_rate=100.0)
    scheduler.set_targets({f"t{i}": f"t{i}" for i in range(10)})
    scheduler.prioritize({"t7", "t3"})
    scheduler.start()
    try:
        with got:
            assert got.wait_for(lambda: len(order) == 10, 5)
        scheduler.run_now()  # all ten due at once: the prioritized two lead
        with got:
            assert got.wait_for(lambda: len(order) >= 12, 5)
        assert set(order[10:12]) == {"t7", "t3"}
    finally:
        scheduler.stop()


def test_each_target_is_probed_again_an_interval_after_its_last_start() -> None:
    starts: dict[str, list[float]] = {}
    lock = threading.Lock()
    enough = threading.Event()

    def run(target: str) -> str:
        with lock:
            starts.setdefault(target, []).append(time.monotonic())
            if all(len(times) >= 3 for times in starts.values()) and len(starts) == 4:
                enough.set()
        return target

    scheduler = ProbeScheduler[str]("test", 0.3, 2, run, lambda n, r: None)
    scheduler.set_targets({f"t{i}": f"t{i}" for i in range(4)})
    scheduler.start()
    try:
        assert enough.wait(5)
        with lock:
            for times in starts.values():
                gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
                assert min(gaps) >= 0.3 * 0.9  # not sooner than the interval
    finally:
        scheduler.stop()
