"""Wave promotion: the waves at a glance (waves.py), every gate (gates.py), one tenant's sync,
follow and smoke (tenant_sync.py), the promotion engine (engine.py) and rollback.

overview = wave_overview(snapshot, settings, strategy, SmokeRecord().load())
promotion = WavePromotion(conn, settings, PromotionOptions(wave=1), snapshot=..., ...)
report = promotion.run(promotion.plan())
"""

from ncconsole.fleet.smoke_record import SmokeRecord
from ncconsole.ops.promotion.engine import PromotionPlan, WavePromotion
from ncconsole.ops.promotion.gates import wave_overview
from ncconsole.ops.promotion.model import (
    Blocker,
    GateRefused,
    Phase,
    PromotionOptions,
    PromotionReport,
    SmokeOutcome,
    TenantProgress,
)
from ncconsole.ops.promotion.rollback import RollbackPlan, plan_rollback, run_rollback
from ncconsole.ops.promotion.smoke_runner import FleetSmoke
from ncconsole.ops.promotion.waves import WaveOverview, WaveStatus

__all__ = [
    "Blocker",
    "FleetSmoke",
    "GateRefused",
    "Phase",
    "PromotionOptions",
    "PromotionPlan",
    "PromotionReport",
    "RollbackPlan",
    "SmokeOutcome",
    "SmokeRecord",
    "TenantProgress",
    "WaveOverview",
    "WavePromotion",
    "WaveStatus",
    "plan_rollback",
    "run_rollback",
    "wave_overview",
]
