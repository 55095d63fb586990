"""kubectl-describe-like text of a tenant's pod, Deployment, Application or Secret: the fields
an on-call engineer reads, with the object's Events at the end. A Secret shows its keys and
sizes, never its values; a literal env value under a secret-looking name is masked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ncconsole.fleet.revisions import app_sources, revisions_of
from ncconsole.kube.views import EventView, parse_time
from ncconsole.masking import MASK, SECRET_NAME, secret_size
from ncconsole.render.cells import age

Obj = dict[str, Any]


def _when(value: Any, now: datetime) -> str:
    at = parse_time(value)
    return f"{at:%Y-%m-%d %H:%M:%S}Z ({age(now, at)} ago)" if at else "<unknown>"


class _Text:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def field(self, key: str, value: Any, indent: int = 0) -> None:
        self.lines.append(f"{' ' * indent}{key + ':':<{max(16 - indent, len(key) + 2)}}{value}")

    def line(self, text: str = "", indent: int = 0) -> None:
        self.lines.append(" " * indent + text)

    def mapping(self, key: str, values: dict[str, Any] | None, indent: int = 0) -> None:
        items = sorted((values or {}).items())
        if not items:
            self.field(key, "<none>", indent)
            return
        first, *rest = items
        self.field(key, f"{first[0]}={first[1]}", indent)
        for k, v in rest:
            self.line(f"{'':<{max(16 - indent, len(key) + 2)}}{k}={v}", indent)


def _events_block(text: _Text, events: list[EventView], now: datetime) -> None:
    if not events:
        text.field("Events", "<none>")
        return
    text.line("Events:")
    text.line(f"  {'Type':<8} {'Reason':<22} {'Age':<6} {'Count':<6} Message")
    for event in events:
        text.line(
            f"  {event.type:<8} {event.reason:<22} {age(now, event.last_seen):<6} "
            f"{event.count:<6} {event.message}"
        )


def _describe_pod(text: _Text, raw: Obj, now: datetime) -> None:
    meta, spec, status = raw.get("metadata") or {}, raw.get("spec") or {}, raw.get("status") or {}
    text.field("Name", meta.get("name", ""))
    text.field("Namespace", meta.get("namespace", ""))
    text.field("Node", spec.get("nodeName") or "<none>")
    text.field("Start Time", _when(status.get("startTime"), now))
    text.mapping("Labels", meta.get("labels"))
    text.field(
        "Status", "Terminating" if meta.get("deletionTimestamp") else status.get("phase", "")
    )
    text.field("IP", status.get("podIP") or "<none>")
    owners = meta.get("ownerReferences") or []
    if owners:
        text.field("Controlled By", f"{owners[0].get('kind')}/{owners[0].get('name')}")
    text.line("Containers:")
    statuses = {s.get("name"): s for s in status.get("containerStatuses") or []}
    for container in spec.get("containers") or []:
        cs = statuses.get(container.get("name"), {})
        text.line(f"{container.get('name')}:", 2)
        text.field("Image", container.get("image", ""), 4)
        for label, state in (("State", cs.get("state")), ("Last State", cs.get("lastState"))):
            if not state:
                continue
            word, detail = next(iter(state.items()))
            text.field(label, word.capitalize(), 4)
            detail = detail or {}
            for key, name in (("reason", "Reason"), ("message", "Message"),
                              ("exitCode", "Exit Code")):  # fmt: skip
                if key in detail:
                    text.field(name, detail[key], 6)
            for key, name in (("startedAt", "Started"), ("finishedAt", "Finished")):
                if key in detail:
                    text.field(name, _when(detail[key], now), 6)
        text.field("Ready", "True" if cs.get("ready") else "False", 4)
        text.field("Restart Count", cs.get("restartCount", 0), 4)
        env = container.get("env") or []
        if env:
            text.line("Environment:", 4)
            for item in env:
                ref = ((item.get("valueFrom") or {}).get("secretKeyRef")) or {}
                if ref:
                    value = f"<set to the key '{ref.get('key')}' in secret '{ref.get('name')}'>"
                elif SECRET_NAME.search(str(item.get("name", ""))):
                    value = MASK
                else:
                    value = item.get("value", "")
                text.field(str(item.get("name")), value, 6)
    text.line("Conditions:")
    for cond in status.get("conditions") or []:
        text.line(f"{cond.get('type', ''):<28}{cond.get('status', '')}", 2)


def _describe_deployment(text: _Text, raw: Obj, now: datetime) -> None:
    meta, spec, status = raw.get("metadata") or {}, raw.get("spec") or {}, raw.get("status") or {}
    text.field("Name", meta.get("name", ""))
    text.field("Namespace", meta.get("namespace", ""))
    text.field("Created", _when(meta.get("creationTimestamp"), now))
    text.mapping("Labels", meta.get("labels"))
    text.mapping("Selector", (spec.get("selector") or {}).get("matchLabels"))
    text.field(
        "Replicas",
        f"{spec.get('replicas', 1)} desired | {status.get('updatedReplicas', 0)} updated | "
        f"{status.get('replicas', 0)} total | {status.get('availableReplicas', 0)} available | "
        f"{status.get('unavailableReplicas', 0)} unavailable",
    )
    text.field("StrategyType", (spec.get("strategy") or {}).get("type", "RollingUpdate"))
    template = spec.get("template") or {}
    text.line("Pod Template:")
    text.mapping("Annotations", (template.get("metadata") or {}).get("annotations"), 2)
    for container in (template.get("spec") or {}).get("containers") or []:
        text.field(f"{container.get('name')} image", container.get("image", ""), 2)
    text.line("Conditions:")
    text.line(f"{'Type':<14}{'Status':<8}Reason / Message", 2)
    for cond in status.get("conditions") or []:
        text.line(
            f"{cond.get('type', ''):<14}{cond.get('status', ''):<8}{cond.get('reason', '')}"
            f" - {cond.get('message', '')}",
            2,
        )
    text.field("Generation", f"{meta.get('generation', '?')} (observed "
               f"{status.get('observedGeneration', '?')})")  # fmt: skip


def _describe_application(text: _Text, raw: Obj, now: datetime) -> None:
    meta, spec, status = raw.get("metadata") or {}, raw.get("spec") or {}, raw.get("status") or {}
    sources = app_sources(raw)
    text.field("Name", f"{meta.get('namespace', '')}/{meta.get('name', '')}")
    text.field("Project", spec.get("project", ""))
    dest = spec.get("destination") or {}
    text.field("Destination", f"{dest.get('server') or dest.get('name', '')} "
               f"namespace {dest.get('namespace', '')}")  # fmt: skip
    text.line("Sources:")
    for source in sources:
        what = f"chart {source['chart']}" if source.get("chart") else (source.get("path") or "")
        ref = f" (ref: {source['ref']})" if source.get("ref") else ""
        text.line(
            f"{source.get('repoURL', '')} {what} @ {source.get('targetRevision', '')}{ref}", 2
        )
    sync = status.get("sync") or {}
    text.field("Sync Status", f"{sync.get('status', 'Unknown')} at "
               f"{revisions_of(sync, sources).short()}")  # fmt: skip
    health = status.get("health") or {}
    message = f" - {health['message']}" if health.get("message") else ""
    text.field("Health Status", f"{health.get('status', 'Unknown')}{message}")
    if raw.get("operation"):
        who = ((raw["operation"].get("initiatedBy") or {}).get("username")) or "?"
        text.field("Operation", f"requested by {who}, not started yet")
    op = status.get("operationState") or {}
    if op:
        text.line("Last Operation:")
        text.field("Phase", op.get("phase", ""), 2)
        text.field("Message", op.get("message", ""), 2)
        initiated = (op.get("operation") or {}).get("initiatedBy") or {}
        by = "automated" if initiated.get("automated") else initiated.get("username", "?")
        text.field("Initiated By", by, 2)
        text.field("Started", _when(op.get("startedAt"), now), 2)
        if op.get("finishedAt"):
            text.field("Finished", _when(op.get("finishedAt"), now), 2)
        result = op.get("syncResult") or {}
        if result:
            text.field("Revision", revisions_of(result, sources).short(), 2)
        resources = result.get("resources") or []
        if resources:
            text.line("Resources:", 2)
            for res in resources:
                text.line(
                    f"{res.get('kind', '')}/{res.get('name', '')}  {res.get('status', '')}"
                    f"{'  ' + res['hookPhase'] if res.get('hookPhase') else ''}"
                    f"  {res.get('message', '')}",
                    4,
                )
    conditions = status.get("conditions") or []
    text.line("Conditions:" if conditions else "Conditions:     <none>")
    for cond in conditions:
        text.line(f"{cond.get('type', '')}: {cond.get('message', '')}", 2)
    history = sorted(status.get("history") or [], key=lambda h: int(h.get("id") or 0), reverse=True)
    text.line("History:" if history else "History:        <none>")
    for entry in history:
        initiated = entry.get("initiatedBy") or {}
        by = "automated" if initiated.get("automated") else initiated.get("username", "?")
        text.line(
            f"#{entry.get('id')}  {_when(entry.get('deployedAt'), now)}  "
            f"{revisions_of(entry, sources).short()}  by {by}",
            2,
        )


def _describe_secret(text: _Text, raw: Obj, now: datetime) -> None:
    meta = raw.get("metadata") or {}
    text.field("Name", meta.get("name", ""))
    text.field("Namespace", meta.get("namespace", ""))
    text.mapping("Labels", meta.get("labels"))
    text.field("Type", raw.get("type", "Opaque"))
    text.line("Data (values are never shown)")
    for key, value in sorted((raw.get("data") or {}).items()):
        text.field(key, f"{secret_size(value)} bytes", 2)


DESCRIBERS = {
    "pod": _describe_pod,
    "deployment": _describe_deployment,
    "application": _describe_application,
    "secret": _describe_secret,
}


def describe(kind: str, raw: Obj, events: list[EventView], now: datetime | None = None) -> str:
    """kubectl-describe-like text of `raw` (a `kind` object), its Events at the end."""
    now = now or datetime.now(UTC)
    text = _Text()
    DESCRIBERS[kind](text, raw, now)
    if kind != "secret":
        name = (raw.get("metadata") or {}).get("name")
        _events_block(text, [e for e in events if e.involved_name == name], now)
    return "\n".join(text.lines) + "\n"
