"""The shared Redis through its INFO (redis-py): clients against `maxclients`, memory against
`maxmemory`, evictions, rejected connections, replication role and the last save.

Every tenant keeps its sessions and file locks here, so a full Redis logs users out (keys
evicted) or makes uploads fail (writes refused under `noeviction`) across the whole fleet.
The verdict comes from the state now; evictions and rejections are counts since Redis started,
shown as facts (they stay non-zero long after the moment that caused them).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from ncconsole.platform.model import Endpoint, Verdict, unreachable, worst

# Shares of a limit from which a reading warns / reports a problem.
MEMORY_WARNING_SHARE = 0.9
MEMORY_PROBLEM_SHARE = 0.98
CLIENTS_WARNING_SHARE = 0.9


@dataclass(frozen=True)
class RedisReading:
    verdict: Verdict
    reason: str = ""
    findings: tuple[str, ...] = ()
    via: str = ""
    version: str = ""
    role: str = ""  # master | slave
    connected_clients: int = 0
    maxclients: int | None = None
    used_memory: int = 0
    maxmemory: int | None = None  # None: no limit set (0 in INFO)
    maxmemory_policy: str = ""
    evicted_keys: int = 0
    rejected_connections: int = 0
    last_save: datetime | None = None
    last_bgsave_ok: bool | None = None
    changes_since_last_save: int = 0
    replicas: int = 0
    master_link_up: bool | None = None  # on a replica only
    uptime_seconds: int = 0

    @property
    def memory_share(self) -> float | None:
        return self.used_memory / self.maxmemory if self.maxmemory else None


def _int(info: dict[str, Any], key: str) -> int:
    try:
        return int(info.get(key) or 0)
    except (TypeError, ValueError):
        return 0


def read_redis(
    endpoint: Endpoint,
    *,
    timeout: float = 5.0,
    memory_warning: float = MEMORY_WARNING_SHARE,
) -> RedisReading:
    """INFO from the Redis at `endpoint` (with its password, and username for an ACL user)."""
    import redis  # here, not at import: the console starts ~40 ms and some MB lighter
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    client = redis.Redis(
        host=endpoint.host,
        port=endpoint.port,
        username=endpoint.username or None,
        password=endpoint.password or None,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), retries=0),  # one try: the reading has a deadline
    )
    try:
        info = client.info()
        if "maxclients" not in info:  # Redis before 7 lists it only in CONFIG
            info["maxclients"] = (client.config_get("maxclients") or {}).get("maxclients")
    except redis.AuthenticationError as err:
        why = f"refused the password ({err})" if endpoint.password else "needs a password"
        return RedisReading(
            Verdict.UNKNOWN, f"unreachable: {endpoint.label} {why}", via=endpoint.label
        )
    except redis.ResponseError as err:  # e.g. INFO or CONFIG renamed away on a managed Redis
        return RedisReading(
            Verdict.UNKNOWN, unreachable(f"INFO refused: {err}"), via=endpoint.label
        )
    except (redis.RedisError, OSError) as err:
        return RedisReading(Verdict.UNKNOWN, unreachable(err), via=endpoint.label)
    finally:
        client.close()
    return judge(info, endpoint.label, memory_warning=memory_warning)


def judge(
    info: dict[str, Any], via: str = "", *, memory_warning: float = MEMORY_WARNING_SHARE
) -> RedisReading:
    """The reading from an INFO answer (no I/O)."""
    maxmemory = _int(info, "maxmemory") or None
    maxclients = _int(info, "maxclients") or None
    used = _int(info, "used_memory")
    clients = _int(info, "connected_clients")
    policy = str(info.get("maxmemory_policy") or "")
    role = str(info.get("role") or "")
    last_save = _int(info, "rdb_last_save_time")
    link = info.get("master_link_status")
    reading = RedisReading(
        verdict=Verdict.OK,
        via=via,
        version=str(info.get("redis_version") or ""),
        role=role,
        connected_clients=clients,
        maxclients=maxclients,
        used_memory=used,
        maxmemory=maxmemory,
        maxmemory_policy=policy,
        evicted_keys=_int(info, "evicted_keys"),
        rejected_connections=_int(info, "rejected_connections"),
        last_save=datetime.fromtimestamp(last_save, UTC) if last_save else None,
        last_bgsave_ok=(
            None if "rdb_last_bgsave_status" not in info else info["rdb_last_bgsave_status"] == "ok"
        ),
        changes_since_last_save=_int(info, "rdb_changes_since_last_save"),
        replicas=_int(info, "connected_slaves"),
        master_link_up=None if link is None else link == "up",
        uptime_seconds=_int(info, "uptime_in_seconds"),
    )
    verdicts, findings = [Verdict.OK], []
    share = reading.memory_share
    if share is not None and share >= MEMORY_PROBLEM_SHARE:
        verdicts.append(Verdict.PROBLEM)
        effect = (
            "writes are refused"
            if policy == "noeviction"
            else f"keys are evicted ({policy}): sessions and locks are lost"
        )
        findings.append(f"memory at maxmemory ({_mib(used)}/{_mib(maxmemory)}): {effect}")
    elif share is not None and share >= memory_warning:
        verdicts.append(Verdict.WARNING)
        findings.append(f"memory {share:.0%} of maxmemory ({_mib(used)}/{_mib(maxmemory)})")
    if maxclients and clients >= maxclients:
        verdicts.append(Verdict.PROBLEM)
        findings.append(f"maxclients reached ({clients}/{maxclients}): connections are refused")
    elif maxclients and clients >= CLIENTS_WARNING_SHARE * maxclients:
        verdicts.append(Verdict.WARNING)
        findings.append(f"clients near maxclients ({clients}/{maxclients})")
    if reading.master_link_up is False:
        verdicts.append(Verdict.PROBLEM)
        findings.append("replica: the link to its master is down")
    if reading.last_bgsave_ok is False:
        verdicts.append(Verdict.WARNING)
        findings.append("the last background save failed")
    return replace(reading, verdict=worst(verdicts), findings=tuple(findings))


def _mib(value: int | None) -> str:
    return f"{(value or 0) / 1024 / 1024:.1f} MiB"
