"""Outside-in checks: Nextcloud's status.php and the tenant's bucket (a signed HeadBucket), over
kept-alive connections (connections.py)."""

from ncconsole.probes.s3 import BucketProber
from ncconsole.probes.scheduler import FleetProbes, ProbeScheduler
from ncconsole.probes.statusphp import StatusPhpProber

__all__ = ["BucketProber", "FleetProbes", "ProbeScheduler", "StatusPhpProber"]
