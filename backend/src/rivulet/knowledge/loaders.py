"""Documents to text: files (txt, md, html, pdf, docx, csv, xlsx, json, jsonl) and URLs, as ``LoadedPart`` lists.

The format comes from the file name's extension, else the declared content type, else the bytes themselves
(``%PDF``, a zip holding ``word/`` or ``xl/``, JSON, HTML, or text that decodes). Each format is parsed by a PyPI
library (``rivulet.knowledge._parsers``); a PDF gives one part per page (``page`` metadata), a workbook one part per
sheet (``sheet``), a JSON list one part per record (``record``). Every failure is a ``LoadError`` naming the file
and what was wrong (``extra["reason"]``); limits (size, zip expansion, pages, rows) are checked before parsing.

``load_bytes`` is synchronous CPU work: call it from a worker thread. ``load_path`` and ``load_url`` do that.
``load_url`` fetches through the outbound network guard (``rivulet.sdk.net``): every hop's host is resolved and
checked against the ``NetworkPolicy``, the request goes to the checked address, redirects are followed by hand
(each one checked again) and the body is cut off at ``max_bytes`` while it streams.
"""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from pathlib import Path, PurePosixPath
from typing import Final

import httpx

from rivulet.knowledge._parsers import PARSERS, LoadedPart, LoadError, Source
from rivulet.sdk.net import NetworkPolicy, resolve_allowed

__all__ = (
    "FORMATS",
    "MAX_DOCUMENT_BYTES",
    "LoadError",
    "LoadedPart",
    "detect_format",
    "load_bytes",
    "load_path",
    "load_url",
)

MAX_DOCUMENT_BYTES: Final = 100_000_000
"""The largest file ``load_path`` reads and the default largest body ``load_url`` accepts."""

FORMATS: Final = tuple(PARSERS)
"""The formats ``detect_format`` can name."""

_EXTENSIONS: Final = {
    ".txt": "txt", ".text": "txt", ".log": "txt", ".rst": "txt",
    ".md": "md", ".markdown": "md", ".mdx": "md",
    ".html": "html", ".htm": "html", ".xhtml": "html",
    ".pdf": "pdf", ".docx": "docx", ".xlsx": "xlsx", ".xlsm": "xlsx",
    ".csv": "csv", ".tsv": "csv",
    ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
}  # fmt: skip
_CONTENT_TYPES: Final = {
    "text/plain": "txt",
    "text/markdown": "md",
    "text/x-markdown": "md",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "text/csv": "csv",
    "text/tab-separated-values": "csv",
    "application/json": "json",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
}
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
_BINARY_CONTROL: Final = frozenset(range(32)) - {9, 10, 12, 13, 27}


def _media_type(content_type: str | None) -> tuple[str, str | None]:
    """``"text/html; charset=latin-1"`` → ``("text/html", "latin-1")``."""
    if not content_type:
        return "", None
    media, *params = (piece.strip() for piece in content_type.split(";"))
    charset = next((p.split("=", 1)[1].strip("\"' ") for p in params if p.lower().startswith("charset=")), None)
    return media.lower(), charset or None


def _sniff_zip(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    if any(n.startswith("word/") for n in names):
        return "docx"
    return "xlsx" if any(n.startswith("xl/") for n in names) else None


def _looks_binary(head: bytes) -> bool:
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    return sum(byte in _BINARY_CONTROL for byte in head) > len(head) // 20


def _sniff(data: bytes) -> str | None:
    head = data[:4096]
    if head.lstrip().startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(data)
    if _looks_binary(head):
        return None
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:256].lower()
    if start.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return "html"
    if start[:1] in (b"{", b"["):
        try:
            json.loads(data)
        except (ValueError, UnicodeDecodeError):
            return "txt"
        return "json"
    return "txt"


def _suffix(name: str) -> str:
    """The extension of a file name, or of a URL's path."""
    path = name
    if "://" in name:
        try:
            path = httpx.URL(name).path
        except httpx.InvalidURL:
            path = ""
    return PurePosixPath(path).suffix.lower()


def detect_format(data: bytes, *, name: str, content_type: str | None = None) -> str | None:
    """The document format of ``data`` (one of ``FORMATS``), or ``None`` for a binary format no parser reads.

    The extension of the file name (or of a URL's path) decides first, then ``content_type``
    (``application/octet-stream`` says nothing), then the bytes.
    """
    suffix = _suffix(name)
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    media, _ = _media_type(content_type)
    if media in _CONTENT_TYPES:
        return _CONTENT_TYPES[media]
    return _sniff(data)


def load_bytes(data: bytes, *, name: str, content_type: str | None = None) -> list[LoadedPart]:
    """Parse a document into parts (CPU work: run it in a worker thread).

    Args:
        data: The file's bytes.
        name: The file name (its extension picks the format) or URL; errors name it.
        content_type: The declared media type, used when the name has no known extension; its ``charset``
            decodes text formats.

    Returns:
        The parts with text, in document order (none for an empty document).

    Raises:
        LoadError: Unsupported format, corrupt or encrypted file, or a limit exceeded; says which and where.
    """
    fmt = detect_format(data, name=name, content_type=content_type)
    if fmt is None:
        media, _ = _media_type(content_type)
        what = f"content type {media}" if media else "unknown binary data"
        raise LoadError(
            name,
            f"unsupported document format ({what}); supported: {', '.join(sorted(_EXTENSIONS))}",
            reason="unsupported",
        )
    _, charset = _media_type(content_type)
    return PARSERS[fmt](Source(data=data, name=name, charset=charset))


def _read_file(path: Path, name: str, max_bytes: int) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise LoadError(name, f"cannot read the file ({exc.strerror or exc})", reason="unreadable") from exc
    if len(data) > max_bytes:
        raise LoadError(name, f"larger than the limit of {max_bytes} bytes", reason="too_large")
    return data


async def load_path(
    path: str | Path, *, name: str | None = None, max_bytes: int = MAX_DOCUMENT_BYTES
) -> list[LoadedPart]:
    """Read and parse a local file in a worker thread (see ``load_bytes``); ``name`` defaults to the file name."""
    path = Path(path)
    label = name or path.name

    def work() -> list[LoadedPart]:
        return load_bytes(_read_file(path, label, max_bytes), name=label)

    return await asyncio.to_thread(work)


class _Fetch:
    """One GET with its redirects, each hop resolved, checked against the policy and sent to the checked address."""

    def __init__(self, client: httpx.AsyncClient, policy: NetworkPolicy, *, allow_private: bool, name: str) -> None:
        self.client = client
        self.policy = policy
        self.allow_private = allow_private
        self.name = name

    async def _send(self, url: httpx.URL) -> httpx.Response:
        if url.scheme not in ("http", "https") or not url.host:
            raise LoadError(self.name, f"only http(s) URLs can be loaded, not {str(url)!r}", reason="fetch_failed")
        port = url.port or (443 if url.scheme == "https" else 80)
        addresses = await resolve_allowed(url.host, port, self.policy, allow_private=self.allow_private)
        request = self.client.build_request(
            "GET",
            url.copy_with(host=str(addresses[0])),
            headers={"host": url.netloc.decode("ascii"), "accept": "*/*"},
            extensions={"sni_hostname": url.host} if url.scheme == "https" else {},
        )
        return await self.client.send(request, stream=True)

    async def get(self, url: httpx.URL, max_redirects: int) -> tuple[httpx.Response, httpx.URL]:
        for _ in range(max_redirects + 1):
            response = await self._send(url)
            location = response.headers.get("location")
            if response.status_code not in _REDIRECTS or not location:
                return response, url
            await response.aclose()
            url = url.join(location)
        raise LoadError(self.name, f"more than {max_redirects} redirects", reason="fetch_failed")

    async def body(self, response: httpx.Response, max_bytes: int) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise LoadError(self.name, f"the response is larger than {max_bytes} bytes", reason="too_large")
            chunks.append(chunk)
        return b"".join(chunks)


async def load_url(
    url: str,
    policy: NetworkPolicy,
    *,
    allow_private: bool = False,
    max_bytes: int = MAX_DOCUMENT_BYTES,
    timeout_s: float = 30.0,
    max_redirects: int = 5,
) -> list[LoadedPart]:
    """Fetch ``url`` through the outbound network guard and parse it; each part's metadata gets ``url``.

    Args:
        url: An ``http://`` or ``https://`` URL.
        policy: The deployment's network policy (private, loopback and link-local addresses are refused unless it
            allows them).
        allow_private: The caller's own opt-in to private addresses, honoured only when the policy permits
            overrides (``permit_flow_override``).
        max_bytes: The largest body accepted (checked while streaming).
        timeout_s: Timeout of each request.
        max_redirects: Redirect hops followed (each re-checked against the policy).

    Raises:
        BlockedAddressError: A hop's host resolves to a refused address (or does not resolve).
        LoadError: Not http(s), an HTTP error status, a transport error, too large, or unparseable.
    """
    try:
        target = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise LoadError(url, f"not a valid URL ({exc})", reason="fetch_failed") from exc
    timeout = httpx.Timeout(timeout_s)
    try:
        async with httpx.AsyncClient(timeout=timeout, trust_env=False, follow_redirects=False) as client:
            fetch = _Fetch(client, policy, allow_private=allow_private, name=url)
            response, final = await fetch.get(target, max_redirects)
            try:
                if response.status_code >= 400:
                    raise LoadError(url, f"HTTP {response.status_code}", reason="fetch_failed")
                data = await fetch.body(response, max_bytes)
            finally:
                await response.aclose()
    except httpx.HTTPError as exc:
        raise LoadError(url, f"fetch failed ({type(exc).__name__}: {exc})", reason="fetch_failed") from exc
    content_type = response.headers.get("content-type")
    parts = await asyncio.to_thread(load_bytes, data, name=str(final), content_type=content_type)
    return [LoadedPart(text=part.text, metadata={**part.metadata, "url": str(final)}) for part in parts]
