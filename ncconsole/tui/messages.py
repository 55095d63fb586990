"""Messages the console posts to itself."""

from __future__ import annotations

from typing import Any

from textual.message import Message

from ncconsole.fleet.model import FleetSnapshot
from ncconsole.settings import Settings


class SnapshotPublished(Message):
    """The fleet source published a new snapshot (posted from the source's thread)."""

    def __init__(self, snapshot: FleetSnapshot, source: object = None) -> None:
        super().__init__()
        self.snapshot = snapshot
        # Which source published it: one still queued from before a cluster switch is dropped.
        self.source = source

    def can_replace(self, message: Message) -> bool:
        # A burst of snapshots queued behind a slow render collapses into the newest one.
        return isinstance(message, SnapshotPublished) and message.source is self.source


class ClusterOpened(Message):
    """A switch of cluster (`:ctx`) connected: `source` (not started) for `settings`."""

    def __init__(self, settings: Settings, source: Any, label: str) -> None:
        super().__init__()
        self.settings = settings
        self.source = source
        self.label = label
