"""Per-key rate limits (token buckets) and per-endpoint concurrency limits, per replica.

Example:
    >>> limiter = RateLimiter()
    >>> [limiter.acquire("k", per_minute=2, now=0.0) for _ in range(3)]
    [0.0, 0.0, 30.0]
"""

from __future__ import annotations

import time

__all__ = ("ConcurrencyLimiter", "LoginThrottle", "RateLimiter")


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


class LoginThrottle:
    """Failed logins in a sliding window, per username and per client address; checked before the password.

    After ``per_user`` failures for one username (from anywhere) or ``per_address`` failures from one address
    (any usernames) within ``window_s``, further attempts are refused until the oldest failure leaves the
    window. A successful login clears the username's failures.

    ``begin`` checks and counts an attempt in one step (no ``await`` in between): the attempt counts as a failure
    from the start and ``succeed`` takes it back, so parallel attempts cannot all pass the check while their
    passwords are being verified (60 parallel wrong logins: ``per_user`` get to try, the rest are refused).

    Example:
        >>> throttle = LoginThrottle(per_user=2, per_address=10, window_s=60)
        >>> throttle.fail("ada", "10.0.0.1", now=0.0); throttle.fail("ada", "10.0.0.2", now=1.0)
        >>> throttle.wait_s("ada", "10.0.0.3", now=2.0)
        58.0
        >>> other = LoginThrottle(per_user=1, per_address=10, window_s=60)
        >>> other.begin("bob", "10.0.0.1", now=0.0), other.begin("bob", "10.0.0.1", now=0.5)
        (0.0, 59.5)
    """

    def __init__(self, *, per_user: int = 5, per_address: int = 20, window_s: float = 300.0) -> None:
        self.per_user = per_user
        self.per_address = per_address
        self.window_s = window_s
        self._failures: dict[str, list[float]] = {}

    def _recent(self, key: str, now: float) -> list[float]:
        times = [t for t in self._failures.get(key, ()) if t > now - self.window_s]
        if times:
            self._failures[key] = times
        else:
            self._failures.pop(key, None)
        return times

    def wait_s(self, username: str, address: str, *, now: float | None = None) -> float:
        """0.0 when an attempt may proceed, else the seconds until one may."""
        now = time.monotonic() if now is None else now
        waits = [0.0]
        for key, limit in ((f"user:{username.lower()}", self.per_user), (f"addr:{address}", self.per_address)):
            times = self._recent(key, now)
            if len(times) >= limit:
                waits.append(times[-limit] + self.window_s - now)
        return max(waits)

    def fail(self, username: str, address: str, *, now: float | None = None) -> None:
        """Count a failed attempt."""
        now = time.monotonic() if now is None else now
        if len(self._failures) > 100_000:  # bounded memory under a spray of names
            self._failures.clear()
        for key in (f"user:{username.lower()}", f"addr:{address}"):
            self._failures.setdefault(key, []).append(now)

    def begin(self, username: str, address: str, *, now: float | None = None) -> float:
        """Admit an attempt and count it as failed at once: 0.0, or the seconds to wait (nothing counted).

        Check and count happen together, with no ``await`` between them; a right password then calls
        ``succeed(username, address, now)`` to take the count back.
        """
        now = time.monotonic() if now is None else now
        wait_s = self.wait_s(username, address, now=now)
        if wait_s <= 0:
            self.fail(username, address, now=now)
        return wait_s

    def succeed(self, username: str, address: str | None = None, started: float | None = None) -> None:
        """Forget the username's failures (and the address's count of the attempt ``begin`` made at ``started``)."""
        self._failures.pop(f"user:{username.lower()}", None)
        if address is None or started is None:
            return
        times = self._failures.get(f"addr:{address}")
        if times and started in times:
            times.remove(started)
