"""The Redis reading against a real Redis filled towards its maxmemory: a warning near it, a
problem at it (keys evicted, or writes refused under noeviction)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest
import redis

from ncconsole.platform.model import Endpoint, Verdict
from ncconsole.platform.redis_info import RedisReading, read_redis

pytestmark = pytest.mark.timeout(300)
VALUE = os.urandom(32 * 1024)


def endpoint(platform, password: str | None = None) -> Endpoint:
    secret = platform.redis_password if password is None else password
    return Endpoint("127.0.0.1", platform.redis_port, "", secret)


def read(platform) -> RedisReading:
    return read_redis(endpoint(platform), timeout=5)


@contextlib.contextmanager
def redis_client(platform) -> Iterator[redis.Redis]:
    client = redis.Redis(
        host="127.0.0.1", port=platform.redis_port, password=platform.redis_password
    )
    try:
        yield client
    finally:
        client.flushall()
        client.config_set("maxmemory-policy", "allkeys-lru")
        client.config_resetstat()
        client.close()


def fill_to(client: redis.Redis, share: float, prefix: str) -> None:
    """Write session-sized values until used_memory reaches `share` of maxmemory."""
    limit = int(client.config_get("maxmemory")["maxmemory"])
    for index in range(10_000):
        if int(client.info("memory")["used_memory"]) >= share * limit:
            return
        client.set(f"{prefix}:{index}", VALUE)
    raise AssertionError("Redis did not fill up")


def test_an_idle_redis_reads_ok_with_its_limits(real_platform):
    with redis_client(real_platform):
        reading = read(real_platform)
    assert reading.verdict is Verdict.OK, reading.findings
    assert reading.role == "master" and reading.version
    assert reading.maxmemory == 16 * 1024 * 1024 and reading.maxmemory_policy == "allkeys-lru"
    assert reading.maxclients == 64 and reading.connected_clients >= 1
    assert reading.last_save is not None and reading.last_bgsave_ok is True


def test_near_maxmemory_warns_and_at_maxmemory_evictions_are_a_problem(real_platform):
    with redis_client(real_platform) as client:
        fill_to(client, 0.92, "session")
        near = read(real_platform)
        assert near.verdict is Verdict.WARNING
        assert near.findings[0].startswith("memory 9") and "of maxmemory" in near.findings[0]
        # Keep writing: allkeys-lru evicts sessions to stay under the limit.
        for index in range(400):
            client.set(f"more:{index}", VALUE)
        full = read(real_platform)
    assert full.verdict is Verdict.PROBLEM
    assert full.evicted_keys > 0
    assert "memory at maxmemory" in full.findings[0]
    assert "keys are evicted (allkeys-lru)" in full.findings[0]


def test_at_maxmemory_under_noeviction_writes_are_refused(real_platform):
    with redis_client(real_platform) as client:
        client.config_set("maxmemory-policy", "noeviction")
        with pytest.raises(redis.exceptions.OutOfMemoryError):
            for index in range(2_000):
                client.set(f"upload-lock:{index}", VALUE)
        reading = read(real_platform)
    assert reading.verdict is Verdict.PROBLEM
    assert "writes are refused" in reading.findings[0]


def test_a_wrong_password_or_no_server_is_unknown_with_the_reason(real_platform):
    wrong = read_redis(endpoint(real_platform, "not-the-password"), timeout=5)
    assert wrong.verdict is Verdict.UNKNOWN and "refused the password" in wrong.reason
    assert "not-the-password" not in wrong.reason
    missing = read_redis(endpoint(real_platform, ""), timeout=5)
    assert missing.verdict is Verdict.UNKNOWN and "needs a password" in missing.reason
    closed = read_redis(Endpoint("127.0.0.1", 1, "", "x"), timeout=2)
    assert closed.verdict is Verdict.UNKNOWN and closed.reason.startswith("unreachable: ")
