"""Per-key rate limits (token buckets) and per-endpoint concurrency limits, per replica.

Example:
    >>> limiter = RateLimiter()
    >>> [limiter.acquire("k", per_minute=2, now=0.0) for _ in range(3)]
    [0.0, 0.0, 30.0]
"""

from __future__ import annotations

import time

__all__ = ("ConcurrencyLimiter", "RateLimiter")


class RateLimiter:
    """Token buckets: ``per_minute`` calls, refilled continuously, bursts up to ``per_minute``."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}

    def acquire(self, key: str, *, per_minute: int, now: float | None = None) -> float:
        """Take one call from ``key``'s bucket: 0.0 when allowed, else the seconds until one is available."""
        now = time.monotonic() if now is None else now
        rate = per_minute / 60.0
        tokens, last = self._buckets.get(key, (float(per_minute), now))
        tokens = min(float(per_minute), tokens + (now - last) * rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / rate


class ConcurrencyLimiter:
    """Counts calls in flight per endpoint."""

    def __init__(self) -> None:
        self._inflight: dict[str, int] = {}

    def try_enter(self, slug: str, limit: int | None) -> bool:
        """Start a call unless ``limit`` calls are already running."""
        current = self._inflight.get(slug, 0)
        if limit is not None and current >= limit:
            return False
        self._inflight[slug] = current + 1
        return True

    def leave(self, slug: str) -> None:
        """A call finished."""
        remaining = self._inflight.get(slug, 1) - 1
        if remaining <= 0:
            self._inflight.pop(slug, None)
        else:
            self._inflight[slug] = remaining

    def inflight(self, slug: str) -> int:
        """Calls of ``slug`` running now."""
        return self._inflight.get(slug, 0)
