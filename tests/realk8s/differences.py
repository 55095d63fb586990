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
    "event about a namespace without involvedObject.namespace": "real 422 (events.go "
    "legacyValidateEvent), simulator 201: issue 11 (audit Events) makes the simulator "
    "validate Events",
    "event in another namespace than involvedObject's": "real 422, simulator 201: issue 11",
    "create application without project": "real 422 from the CRD schema (spec.project "
    "required), simulator 201: issue 11 (CRD validation in the simulator)",
    "create application without destination": "real 422 (spec.destination required), "
    "simulator 201: issue 11",
    "create application without source": "real 422 (tests/realk8s/manifests/20-argocd-crds.yaml "
    "requires a source by anyOf), simulator 201: issue 11",
    "create application with an unknown spec field": "the real CRD's structural schema prunes "
    "spec.bogus, the simulator keeps it: issue 11 (pruning)",
}
