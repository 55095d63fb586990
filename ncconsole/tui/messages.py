"""Messages the console posts to itself."""

from __future__ import annotations

from textual.message import Message

from ncconsole.fleet.model import FleetSnapshot


class SnapshotPublished(Message):
    """The fleet source published a new snapshot (posted from the source's thread)."""

    def __init__(self, snapshot: FleetSnapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        # A burst of snapshots queued behind a slow render collapses into the newest one.
        return isinstance(message, SnapshotPublished)
