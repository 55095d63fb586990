"""The benchmark's simulator scenario: N tenants, 3 pods each, and a pending upgrade.

Waves are laid out for the promotion figure: the canary in wave 0, then two waves of the
same size W (100 when the fleet has room, else (N - 1) // 2) and everyone else in wave 3.
Wave 1 is promoted by the console's engine, wave 2 by the bare baseline client, so their
difference is the console's overhead. Written as a plain scenario file for `ncconsole sim`.
"""

from __future__ import annotations

from pathlib import Path

PENDING_UPGRADE = {"chart_version": "6.6.9", "image_tag": "30.0.8-apache"}
ENVIRONMENTS = ("test", "accept", "prod")


def promotion_wave_size(tenants: int, wanted: int = 100) -> int:
    return min(wanted, max(0, (tenants - 1) // 2))


def write_scenario(path: Path, tenants: int, replicas: int = 3) -> Path:
    size = promotion_wave_size(tenants)
    lines = [
        "# ncconsole benchmark scenario (benchmarks/scenario_file.py)",
        f"pending_upgrade: {{chart_version: {PENDING_UPGRADE['chart_version']},"
        f" image_tag: {PENDING_UPGRADE['image_tag']}}}",
        "tenants:",
    ]
    for index in range(tenants):
        if index == 0:
            wave = 0
        elif index <= size:
            wave = 1
        elif index <= 2 * size:
            wave = 2
        else:
            wave = 3
        environment = ENVIRONMENTS[index % len(ENVIRONMENTS)]
        lines.append(
            f"  - {{name: tenant-{index:04d}, wave: {wave}, environment: {environment},"
            f" replicas: {replicas}}}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
