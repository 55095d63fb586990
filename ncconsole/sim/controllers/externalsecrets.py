"""External Secrets Operator: an ExternalSecret whose store is Ready gets its target Secret
(created, or updated with keys it lacks) and the Ready condition `SecretSynced`; one whose
store is missing gets Ready False `SecretSyncedError`. The "remote" values are generated,
and stay the same once made, as with `refreshPolicy: CreatedOnce`."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from typing import Any

from ncconsole.sim.apiserver.resources import CLUSTERSECRETSTORES, EXTERNALSECRETS, SECRETS
from ncconsole.sim.apiserver.store import Store, WatchEvent, now_iso
from ncconsole.sim.controllers.events import EventRecorder
from ncconsole.sim.controllers.state import Reconciler

Obj = dict[str, Any]
COMPONENT = "external-secrets"


def store_ready(store_obj: Obj | None) -> bool:
    return store_obj is not None and any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (store_obj.get("status") or {}).get("conditions") or []
    )


class ExternalSecretsController:
    def __init__(self, store: Store, events: EventRecorder, delay: float = 0.1) -> None:
        self.store, self.events = store, events
        self._reconciler = Reconciler(self.reconcile, delay)
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> None:
        self._unsubscribe = self.store.subscribe(EXTERNALSECRETS, self._on_change)
        for es in self.store.list(EXTERNALSECRETS):
            self._on_change(WatchEvent("ADDED", EXTERNALSECRETS, es, 0))

    def stop(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()

    def _on_change(self, ev: WatchEvent) -> None:
        meta = ev.obj["metadata"]
        synced = (ev.obj.get("status") or {}).get("syncedResourceVersion")
        if ev.type != "DELETED" and synced != str(meta.get("generation")):
            self._reconciler.queue((meta["namespace"], meta["name"]))

    def reconcile(self, key: tuple[str, str]) -> None:
        es = self.store.try_get(EXTERNALSECRETS, *key)
        if es is None:
            return
        spec = es.get("spec") or {}
        ref = spec.get("secretStoreRef") or {}
        store_name = ref.get("name", "")
        if ref.get("kind", "SecretStore") == "ClusterSecretStore":
            store_obj = self.store.try_get(CLUSTERSECRETSTORES, None, store_name)
        else:
            store_obj = None  # namespaced SecretStores are not simulated
        stamp = now_iso()
        generation = str(es["metadata"].get("generation", 1))
        if not store_ready(store_obj):
            message = (
                f'could not get store: {ref.get("kind", "SecretStore")} "{store_name}" not ready'
            )
            self._set_status(key, "False", "SecretSyncedError", message, stamp, generation)
            self.events.record(es, "UpdateFailed", message, type_="Warning", component=COMPONENT)
            return
        target = (spec.get("target") or {}).get("name") or key[1]
        keys = [d.get("secretKey") for d in spec.get("data") or [] if d.get("secretKey")]
        existing = self.store.try_get(SECRETS, key[0], target)
        data = dict((existing or {}).get("data") or {})
        for secret_key in keys:
            if secret_key not in data:
                data[secret_key] = base64.b64encode(secrets.token_urlsafe(24).encode()).decode()
        labels = {"reconcile.external-secrets.io/managed": "true"}
        owner = {
            "apiVersion": es["apiVersion"], "kind": "ExternalSecret", "name": key[1],
            "uid": es["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True,
        }  # fmt: skip
        if existing is None:
            self.store.create(
                SECRETS,
                {
                    "metadata": {
                        "name": target, "namespace": key[0], "labels": labels,
                        "ownerReferences": [owner],
                    },
                    "type": "Opaque",
                    "data": data,
                },
            )  # fmt: skip
        elif data != existing.get("data"):
            self.store.update(SECRETS, key[0], target, lambda s: {**s, "data": data})
        self._set_status(key, "True", "SecretSynced", "secret synced", stamp, generation)
        self.events.record(es, "Updated", "secret synced", component=COMPONENT)

    def _set_status(
        self, key: tuple[str, str], ok: str, reason: str, message: str, stamp: str, gen: str
    ) -> None:
        def mutate(obj: Obj) -> None:
            obj["status"] = {
                "binding": {"name": (obj.get("spec") or {}).get("target", {}).get("name", key[1])},
                "conditions": [
                    {
                        "type": "Ready", "status": ok, "reason": reason, "message": message,
                        "lastTransitionTime": stamp,
                    }
                ],
                "refreshTime": stamp,
                "syncedResourceVersion": gen,
            }  # fmt: skip

        self.store.update(EXTERNALSECRETS, *key, mutate)
