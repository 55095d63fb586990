"""Keeping the cyclic garbage collector out of the first read of the fleet.

Parsing the first lists turns tens of MB of JSON into hundreds of thousands of objects, and
each few hundred allocations the GC walks the young ones again, finding nothing: a third of
the cold start (performance review §2). So the GC is paused from FleetState.start() until
the first complete snapshot; then what was built so far (imports, the fleet as first read:
long-lived and without cycles) is frozen, so later collections never walk it again, and the
GC runs as before. Python's gc docs suggest freezing the same way for servers that fork.
"""

from __future__ import annotations

import gc
import threading

_lock = threading.Lock()
_pauses = 0
_was_enabled = True


def pause() -> None:
    """Stop collecting until every `pause` has its `resume`."""
    global _pauses, _was_enabled
    with _lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.freeze()  # the imports and settings: never garbage
            gc.disable()
        _pauses += 1


def resume() -> None:
    """Freeze what was built while paused and collect again (once every pause is over)."""
    global _pauses
    with _lock:
        if _pauses == 0:
            return
        _pauses -= 1
        if _pauses == 0:
            gc.freeze()
            if _was_enabled:
                gc.enable()
