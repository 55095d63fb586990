"""A running simulated platform plus a WaveSession on it, for the wave promotion tests."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ncconsole.ops.promotion.session import WaveSession
from ncconsole.settings import Settings, load_settings
from ncconsole.sim.simulator import Simulator
from tests.sim.sim_helpers import scenario

UPGRADE = {"chart_version": "6.6.9", "image_tag": "30.0.8-apache"}


def sim_settings(sim: Simulator, **overrides: Any) -> Settings:
    before = os.environ.get("NCCONSOLE_CONFIG")
    os.environ["NCCONSOLE_CONFIG"] = str(sim.config_path)
    try:
        return load_settings(**overrides)
    finally:
        if before is None:
            del os.environ["NCCONSOLE_CONFIG"]
        else:
            os.environ["NCCONSOLE_CONFIG"] = before


@contextlib.contextmanager
def platform(
    tmp: Path, tenants: list[dict[str, Any]], **extra: Any
) -> Iterator[tuple[Simulator, WaveSession]]:
    """A simulator with `tenants` (and e.g. pending_upgrade=UPGRADE) and an open session."""
    with Simulator(scenario(tenants, **extra), workdir=tmp / "sim") as sim:
        session = WaveSession(sim_settings(sim)).open()
        try:
            yield sim, session
        finally:
            session.close()


def head(sim: Simulator) -> str:
    return (sim.repo / ".git" / "refs" / "heads" / "main").read_text().strip()


def target(sim: Simulator, chart: str = UPGRADE["chart_version"]) -> str:
    """What Argo CD compares the fleet's multi-source Applications with, as a revision key:
    the chart version and the values commit (kube/revisions.py)."""
    return f"{chart},{head(sim)}"


def app_json(session: WaveSession, tenant: str) -> dict[str, Any]:
    assert session.conn is not None
    return session.conn.get_json(
        f"/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/nc-{tenant}"
    )


def images(session: WaveSession, tenant: str) -> tuple[str, ...]:
    app = app_json(session, tenant)
    return tuple((app.get("status") or {}).get("summary", {}).get("images") or ())
