"""Cancellation of a run: a signal operators can watch, the running node tasks, and a deadline.

``CancelScope.cancel(reason)`` sets ``ctx.cancelled`` for cooperative operators and cancels every running node
task at once, so a node stops at its next ``await`` (in practice well under a second). Operators running in a
worker thread (``cpu_bound``) are abandoned: their task ends immediately and the thread's result is ignored.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ("CancelReason", "CancelScope")

CancelReason = Literal["user", "deadline", "failure", "shutdown"]


class CancelScope:
    """The cancellation state of one run."""

    __slots__ = ("_deadline", "event", "message", "reason", "tasks")

    def __init__(self) -> None:
        self.event = asyncio.Event()
        """Set once the run is being cancelled (``RunContext.cancelled``)."""
        self.tasks: set[asyncio.Task[None]] = set()
        """Node tasks currently running."""
        self.reason: CancelReason | None = None
        self.message = ""
        self._deadline: asyncio.TimerHandle | None = None

    @property
    def cancelled(self) -> bool:
        """Whether ``cancel`` was called."""
        return self.reason is not None

    def cancel(self, reason: CancelReason, message: str) -> bool:
        """Stop the run. Returns ``False`` when it was already being cancelled (the first reason wins)."""
        if self.reason is not None:
            return False
        self.reason = reason
        self.message = message
        self.event.set()
        current = asyncio.current_task()
        for task in self.tasks:
            if task is not current:  # a node cancelling its own run (on_error: fail) just returns
                task.cancel()
        self.clear_deadline()
        return True

    def set_deadline(self, seconds: float, on_expiry: Callable[[], object]) -> None:
        """Call ``on_expiry`` after ``seconds`` (it cancels with reason ``deadline``)."""
        self._deadline = asyncio.get_running_loop().call_later(seconds, on_expiry)

    def clear_deadline(self) -> None:
        """Forget the deadline (the run ended)."""
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    async def drain(self, timeout_s: float = 1.0) -> None:
        """Wait (bounded) for the cancelled node tasks to unwind."""
        pending = {task for task in self.tasks if not task.done()}
        if pending:
            await asyncio.wait(pending, timeout=timeout_s)
