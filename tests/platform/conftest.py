"""Real PostgreSQL + PgBouncer, Redis and Alertmanager on 127.0.0.1 for the platform clients'
tests, started once per session by scripts/platform-servers.sh.

In CI (CI=true), or with NCCONSOLE_PLATFORM_SERVERS=1, the script installs the Debian packages
when they are missing and a failure to start fails the tests. On a developer machine without
them the tests are skipped with the command that makes them run.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from tests.real_servers import ServerTests, read_env_file, required

HOW_TO_RUN = (
    "the platform servers are not installed: run `sudo scripts/platform-servers.sh install` "
    "once, or run the tests as root with NCCONSOLE_PLATFORM_SERVERS=1 to let them install them"
)
SERVERS = ServerTests(
    "platform-servers.sh",
    "NCCONSOLE_PLATFORM_WATCH_PID",
    "real_platform",
    "real platform server tests",
)


@dataclass(frozen=True)
class RealPlatform:
    """The running servers: where each listens and the credentials the script made."""

    directory: Path
    postgres_port: int
    pgbouncer_port: int
    pgbouncer_admin_user: str
    pgbouncer_admin_password: str = field(repr=False)
    pgbouncer_client_user: str = field(default="", repr=False)
    pgbouncer_client_password: str = field(default="", repr=False)
    pgbouncer_max_client_conn: int = 0
    pgbouncer_pool_size: int = 0
    redis_port: int = 0
    redis_password: str = field(default="", repr=False)
    alertmanager_url: str = ""

    @classmethod
    def from_env_file(cls, path: Path) -> RealPlatform:
        values = read_env_file(path)
        return cls(
            directory=Path(values["NCCONSOLE_PLATFORM_DIR"]),
            postgres_port=int(values["NCCONSOLE_POSTGRES_PORT"]),
            pgbouncer_port=int(values["NCCONSOLE_PGBOUNCER_PORT"]),
            pgbouncer_admin_user=values["NCCONSOLE_PGBOUNCER_ADMIN_USER"],
            pgbouncer_admin_password=values["NCCONSOLE_PGBOUNCER_ADMIN_PASSWORD"],
            pgbouncer_client_user=values["NCCONSOLE_PGBOUNCER_CLIENT_USER"],
            pgbouncer_client_password=values["NCCONSOLE_PGBOUNCER_CLIENT_PASSWORD"],
            pgbouncer_max_client_conn=int(values["NCCONSOLE_PGBOUNCER_MAX_CLIENT_CONN"]),
            pgbouncer_pool_size=int(values["NCCONSOLE_PGBOUNCER_POOL_SIZE"]),
            redis_port=int(values["NCCONSOLE_REDIS_PORT"]),
            redis_password=values["NCCONSOLE_REDIS_PASSWORD"],
            alertmanager_url=values["NCCONSOLE_ALERTMANAGER_URL"],
        )

    def create_database(self, name: str) -> None:
        """A database on PostgreSQL itself (PgBouncer forwards any name to it)."""
        with psycopg.connect(
            host="127.0.0.1", port=self.postgres_port, user="postgres", dbname="postgres",
            autocommit=True, connect_timeout=10,
        ) as conn:  # fmt: skip
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if exists.fetchone() is None:
                conn.execute(f'CREATE DATABASE "{name}"')

    def tenant_connection(self, database: str, **kwargs: object) -> psycopg.Connection:
        """A client connection through PgBouncer, as a tenant's Nextcloud would open one."""
        return psycopg.connect(
            host="127.0.0.1",
            port=self.pgbouncer_port,
            user=self.pgbouncer_client_user,
            password=self.pgbouncer_client_password,
            dbname=database,
            connect_timeout=10,
            **kwargs,
        )


def _installed() -> bool:
    return all(
        shutil.which(name) for name in ("pgbouncer", "redis-server", "prometheus-alertmanager")
    ) and any(Path("/usr/lib/postgresql").glob("*/bin/initdb"))


@pytest.fixture(scope="session")
def real_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealPlatform]:
    if not _installed() and not required("NCCONSOLE_PLATFORM_SERVERS"):
        pytest.skip(HOW_TO_RUN)
    directory = tmp_path_factory.mktemp("platform")
    with SERVERS.running(directory, "the platform servers"):
        yield RealPlatform.from_env_file(directory / "platform.env")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    SERVERS.collected(items)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    SERVERS.reported(report)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    SERVERS.summary(terminalreporter, "servers started in")
