"""``MemoryEventBus``: in-process fan-out with batched persistence into any ``RunStore``.

Used by tests, the headless ``rivulet run`` command and single-process deployments.
"""

from __future__ import annotations

from rivulet.runtime.bus import BaseEventBus

__all__ = ("MemoryEventBus",)


class MemoryEventBus(BaseEventBus):
    """An ``EventBus`` whose subscribers live in this process.

    Args:
        store: Where events are persisted (``MemoryRunStore`` or ``PostgresRunStore``).
        interval_s: Longest time an event waits before its batch is written.
        max_batch: Write as soon as this many events wait.
    """
