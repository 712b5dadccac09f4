"""Fan-out of ``Stream[T]`` outputs: one producer iterator, any number of loss-free consumers.

A ``StreamFanout`` pumps the producer's async iterator into a shared buffer. Each consumer gets its own async
iterator over that buffer, so a consumer that starts late (or reads slowly) still sees every item from the
first one; ``collect`` waits for the end and returns the items. When the producer fails, every consumer's
iterator raises ``StreamFailedError``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from rivulet.lib.exceptions import OperatorError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

__all__ = ("StreamFailedError", "StreamFanout", "join_collected")


class StreamFailedError(OperatorError):
    """The upstream stream a consumer was reading failed or was cancelled."""

    code = "stream_failed"


class StreamFanout:
    """Buffers one async iterator and replays it to every consumer.

    Args:
        source: The producer's iterator (an operator's ``Stream`` output).
        node_id: The producing node (for error messages).
        operator_id: Its operator.
        port: The output port.
        on_item: Called with ``(index, item)`` for every item as it arrives (emits ``node_chunk``).
    """

    __slots__ = ("_done", "_error", "_source", "_waiter", "items", "node_id", "on_item", "operator_id", "port")

    def __init__(
        self,
        source: AsyncIterator[Any],
        *,
        node_id: str,
        operator_id: str,
        port: str,
        on_item: Callable[[int, Any], None] | None = None,
    ) -> None:
        self._source = source
        self.node_id = node_id
        self.operator_id = operator_id
        self.port = port
        self.on_item = on_item
        self.items: list[Any] = []
        self._done = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _wait(self) -> None:
        if self._waiter is None:
            self._waiter = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._waiter)

    async def pump(self) -> None:
        """Read the producer to its end. Raises what the producer raised (consumers then fail too)."""
        on_item = self.on_item
        try:
            async for item in self._source:
                if on_item is not None:
                    on_item(len(self.items), item)
                self.items.append(item)
                self._wake()
        except BaseException as exc:
            self._error = exc
            raise
        finally:
            self._done = True
            self._wake()

    def _failure(self) -> StreamFailedError:
        reason = "was cancelled" if isinstance(self._error, asyncio.CancelledError) else f"failed: {self._error}"
        return StreamFailedError(
            f"stream {self.node_id}.{self.port} {reason}", operator_id=self.operator_id, node_id=self.node_id
        )

    async def consume(self) -> AsyncIterator[Any]:
        """A new iterator over every item, from the first one, ending when the producer ends."""
        index = 0
        while True:
            items = self.items
            while index < len(items):
                yield items[index]
                index += 1
            if self._done:
                if self._error is not None:
                    raise self._failure()
                return
            await self._wait()

    async def collect(self) -> list[Any]:
        """Wait for the end of the stream and return every item.

        Raises:
            StreamFailedError: The producer failed.
        """
        while not self._done:
            await self._wait()
        if self._error is not None:
            raise self._failure()
        return list(self.items)


def join_collected(items: list[Any], *, as_text: bool) -> Any:
    """The value a collect coercion delivers: text items joined into one string, anything else as a list."""
    if as_text:
        return "".join(item if isinstance(item, str) else str(item) for item in items)
    return items
