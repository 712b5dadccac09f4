"""Reading package and index bytes from ``file://`` and ``https://`` URLs.

HTTPS goes through the outbound network guard (``rivulet.sdk.net``): every address the host resolves to is
checked against the ``NetworkPolicy``, the request is sent to the checked address (no second lookup), and
redirects are refused. ``http://`` and other schemes are refused.
"""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import httpx

from rivulet.lib.exceptions import ValidationError
from rivulet.sdk.net import NetworkPolicy, resolve_allowed

if TYPE_CHECKING:
    import ssl
    from collections.abc import Callable

__all__ = ("FetchError", "Fetcher", "file_url_path")

MAX_FETCH_BYTES = 20_000_000


class FetchError(ValidationError):
    """A URL could not be read (refused scheme or address, HTTP error, too large)."""

    code = "fetch_error"
    status_code = 422


def file_url_path(url: str) -> Path:
    """The local path of a ``file://`` URL."""
    return Path(unquote(urlsplit(url).path))


def _read_file(url: str) -> bytes:
    """The bytes of a ``file://`` URL, at most ``MAX_FETCH_BYTES``.

    Missing, unreadable, not a regular file or too large: one message, which never tells whether the file exists.
    """
    path = file_url_path(url)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not block the thread
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise FetchError(f"{url}: no readable file there", extra={"url": url})
            data = handle.read(MAX_FETCH_BYTES + 1)
    except OSError as exc:
        raise FetchError(f"{url}: no readable file there", extra={"url": url}) from exc
    if len(data) > MAX_FETCH_BYTES:
        raise FetchError(f"{url}: no readable file there", extra={"url": url})
    return data


class Fetcher:
    """Reads bytes from ``file://`` and ``https://`` URLs under a network policy."""

    def __init__(
        self,
        policy: NetworkPolicy | None = None,
        *,
        verify: ssl.SSLContext | bool = True,
        timeout_s: float = 30.0,
        transport_factory: Callable[[], httpx.AsyncBaseTransport] | None = None,
    ) -> None:
        self.policy = policy or NetworkPolicy()
        self.verify = verify
        self.timeout_s = timeout_s
        self._transport_factory = transport_factory

    async def fetch(self, url: str) -> bytes:
        """The bytes at ``url``.

        Raises:
            FetchError: Unsupported scheme, a refused address, an HTTP error status or a too large body.
            BlockedAddressError: The host resolves to an address the policy refuses.
        """
        parts = urlsplit(url)
        if parts.scheme == "file":
            return await asyncio.to_thread(_read_file, url)
        if parts.scheme != "https" or not parts.hostname:
            raise FetchError(f"{url}: only file:// and https:// URLs are supported", extra={"url": url})
        return await self._https(httpx.URL(url))

    async def _https(self, url: httpx.URL) -> bytes:
        addresses = await resolve_allowed(url.host, url.port or 443, self.policy)
        transport = self._transport_factory() if self._transport_factory else None
        async with httpx.AsyncClient(verify=self.verify, timeout=self.timeout_s, transport=transport) as client:
            request = client.build_request(
                "GET",
                url.copy_with(host=str(addresses[0])),
                headers={"host": url.netloc.decode("ascii"), "accept": "application/json, */*"},
                extensions={"sni_hostname": url.host},
            )
            response = await client.send(request, stream=True)
            try:
                if response.status_code != 200:
                    raise FetchError(f"{url}: HTTP {response.status_code}", extra={"url": str(url)})
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > MAX_FETCH_BYTES:
                        raise FetchError(f"{url}: larger than {MAX_FETCH_BYTES} bytes", extra={"url": str(url)})
                    chunks.append(chunk)
                return b"".join(chunks)
            finally:
                await response.aclose()
