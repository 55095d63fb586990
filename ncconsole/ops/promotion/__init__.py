"""Wave promotion: the waves at a glance, gates, the promotion engine and rollback.

overview = wave_overview(snapshot, settings, strategy, SmokeRecord().load())
report = WavePromotion(conn, settings, PromotionOptions(wave=1), snapshot=..., ...).run()
"""

from ncconsole.fleet.smoke_record import SmokeRecord
from ncconsole.ops.promotion.engine import WavePromotion
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
from ncconsole.ops.promotion.waves import WaveOverview, WaveStatus, wave_overview

__all__ = [
    "Blocker",
    "FleetSmoke",
    "GateRefused",
    "Phase",
    "PromotionOptions",
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
