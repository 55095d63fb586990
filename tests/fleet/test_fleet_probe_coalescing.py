"""Probe results in a steady fleet: a repeated answer does not cause a snapshot of its own,
a changed answer does at once (so 2,000 tenants' probes do not repaint the console 10x/s)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ncconsole.fleet.desired import load_desired
from ncconsole.fleet.inputs import ObservedFleet
from ncconsole.probes.results import StatusPhpProbe
from ncconsole.settings import Settings

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


def probe(seconds: int, *, maintenance: bool = False) -> StatusPhpProbe:
    return StatusPhpProbe(
        checked_at=T0 + timedelta(seconds=seconds),
        latency_ms=10.0 + seconds,
        ok=not maintenance,
        http_status=200,
        installed=True,
        maintenance=maintenance,
        needs_db_upgrade=False,
        version="30.0.6.2",
    )


def test_repeated_answers_wait_for_the_next_snapshot_changed_ones_publish_now(tmp_path) -> None:
    changes: list[int] = []
    fleet = ObservedFleet(Settings(repo=tmp_path), lambda: changes.append(1))
    fleet.set_desired(load_desired(tmp_path))
    fleet.build(1, None)
    changes.clear()
    assert not fleet.has_pending()

    fleet.probe_result("web", "zwolle", probe(0))
    assert changes == []  # a first, good answer: folded into the next snapshot
    assert fleet.has_pending()
    fleet.probe_result("web", "leiden", probe(0, maintenance=True))
    assert len(changes) == 1  # a first, bad answer: news at once

    fleet.build(2, None)
    assert not fleet.has_pending()
    fleet.probe_result("web", "zwolle", probe(15))
    assert len(changes) == 1  # same answer, later: no snapshot of its own...
    assert fleet.has_pending()  # ...but it is folded into the next one

    fleet.probe_result("web", "zwolle", probe(30, maintenance=True))
    assert len(changes) == 2  # maintenance switched on: published at once
    fleet.probe_result("web", "zwolle", probe(45))
    assert len(changes) == 3  # and off again: published at once too


def test_unhealthy_tenants_are_known_after_each_build_for_the_probes_to_go_first(tmp_path) -> None:
    from ncconsole.fleet.desired import DesiredFleet
    from ncconsole.fleet.join import DesiredTenant

    fleet = ObservedFleet(Settings(repo=tmp_path), lambda: None)
    tenants = {
        name: DesiredTenant(name, 1, "prod", f"{name}.example.com", f"nextcloud-{name}")
        for name in ("zwolle", "leiden")
    }
    fleet.set_desired(DesiredFleet(tenants, (), readable=True))
    fleet.probe_result("web", "zwolle", probe(0))
    fleet.probe_result("web", "leiden", probe(0, maintenance=True))
    fleet.build(1, None)
    assert "leiden" in fleet.unhealthy
    fleet.probe_result("web", "leiden", probe(15))
    fleet.build(2, None)
    assert "leiden" not in fleet.unhealthy
