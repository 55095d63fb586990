"""Every accepted difference between the simulator and the real apiserver, with its reason.

The differential test (test_differential.py) runs one script against both and fails on any
difference not listed here, and on any listed one that no longer shows (then delete its entry).
Keys are the script's step names (differential.py); the value says what differs and why that is
accepted for now, or which issue will remove it.
"""

from __future__ import annotations

# Keys no answer is compared on, anywhere.
IGNORED_KEYS: dict[str, str] = {
    "metadata.managedFields": "the simulator keeps no field managers: it implements neither "
    "server-side apply nor field ownership, and the console reads neither",
}

ACCEPTED: dict[str, str] = {
    "server-side apply": "real 200, simulator 415: the simulator implements no server-side "
    "apply (no field managers). The console never applies; `kubectl apply --server-side` "
    "against the simulator fails. Larger work: managedFields and apply merge rules",
    "create application without source": "real 422 because tests/realk8s/manifests/"
    "20-argocd-crds.yaml requires a source (anyOf), as issue 12 asks; upstream's CRD does not "
    "(Argo CD's own API server refuses such an Application), and the simulator follows "
    "upstream's CRD: 201",
    "delete pod": "a real Pod is deleted gracefully: DELETE answers it with deletionTimestamp "
    "and deletionGracePeriodSeconds, and the kubelet (kwok) removes it later; the simulator "
    "removes it at once. Larger work: Terminating pods in the simulated kubelet",
}
