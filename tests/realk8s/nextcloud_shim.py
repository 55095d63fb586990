"""What kwok runs for `kubectl exec` into a tenant's `nextcloud` container on the real cluster.

kwok's ClusterExec runs the exec'd command on the host, looked up in kwok's own PATH, whose first
folder (written by scripts/realk8s.sh) holds `su`, `php` and `sh` wrappers calling this file with
the program's name first. The tenant comes from NC_TENANT, which the ClusterExec for that tenant's
namespace sets (tests/realk8s/cluster.py). The command then runs through the simulator's occ
(`ncconsole.sim.nextcloud.occ.run_occ`), so `kubectl exec -n nc-x deploy/nextcloud -- su -s /bin/sh
www-data -c "php occ status"` answers through the real apiserver and kwok's kubelet API exactly
as the simulator's container does. The instance's state (maintenance mode, upgrades) is kept in
NC_STATE_DIR/<tenant>.pickle between calls.
"""

from __future__ import annotations

import fcntl
import os
import pickle
import sys
from pathlib import Path

from ncconsole.sim.nextcloud.instance import NextcloudInstance
from ncconsole.sim.nextcloud.occ import run_occ
from ncconsole.sim.scenario import TenantSpec

DEFAULT_IMAGE_TAG = "30.0.6-apache"


def main(argv: list[str]) -> int:
    tenant = os.environ.get("NC_TENANT", "")
    state_dir = Path(os.environ.get("NC_STATE_DIR", "."))
    if not tenant:
        sys.stderr.write("nextcloud shim: NC_TENANT is not set (no ClusterExec for this pod)\n")
        return 126
    state_dir.mkdir(parents=True, exist_ok=True)
    state = state_dir / f"{tenant}.pickle"
    with (state_dir / f"{tenant}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if state.exists():
            instance = pickle.loads(state.read_bytes())
        else:
            spec = TenantSpec(name=tenant, wave=0, hostname=f"{tenant}.example.com")
            image_tag = os.environ.get("NC_IMAGE_TAG", DEFAULT_IMAGE_TAG)
            instance = NextcloudInstance.for_tenant(spec, image_tag)
        result = run_occ(instance, argv)
        state.write_bytes(pickle.dumps(instance))
    sys.stdout.buffer.write(result.stdout)
    sys.stderr.buffer.write(result.stderr)
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
