"""Outside-in checks: Nextcloud's status.php over httpx, the tenant bucket over boto3."""

from ncconsole.probes.s3 import BucketProber
from ncconsole.probes.scheduler import FleetProbes, ProbeScheduler
from ncconsole.probes.statusphp import StatusPhpProber

__all__ = ["BucketProber", "FleetProbes", "ProbeScheduler", "StatusPhpProber"]
