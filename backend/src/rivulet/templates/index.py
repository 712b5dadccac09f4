"""The marketplace index (``rivulet.template-index/v1``) and the catalog of template sources.

A source is a local directory (its ``index.json`` when present, otherwise every package directory and archive
in it) or the URL of an index file (``file://`` or ``https://``). Relative ``path`` entries of an index are
resolved against the index location; every archive listed with a ``sha256`` is checked before it is read.

Example:
    >>> idx = decode_index(b'{"packages": [{"name": "etl", "title": "ETL", "versions": '
    ...     b'[{"version": "1.0.0", "path": "etl-1.0.0.tar.gz", "sha256": "' + b"0" * 64 + b'"}]}]}')
    >>> idx.packages[0].versions[0].path
    'etl-1.0.0.tar.gz'
"""

from __future__ import annotations

import asyncio
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Annotated, Literal
from urllib.parse import urljoin, urlsplit

import msgspec
from msgspec import Meta

from rivulet.lib.exceptions import NotFoundError, ValidationError
from rivulet.templates.fetch import file_url_path
from rivulet.templates.package import (
    MAX_ARCHIVE_BYTES,
    PackageName,
    TemplateManifest,
    TemplatePackage,
    load_package,
    read_package_bytes,
    sha256_hex,
)

if TYPE_CHECKING:
    from rivulet.templates.fetch import Fetcher

__all__ = (
    "INDEX_SCHEMA",
    "IndexPackage",
    "IndexVersion",
    "MarketplaceIndex",
    "TemplateCatalog",
    "TemplateListing",
    "build_index",
    "decode_index",
    "matches",
    "unreadable",
    "version_key",
)

INDEX_SCHEMA = "rivulet.template-index/v1"
Sha256 = Annotated[str, Meta(pattern=r"^[0-9a-fA-F]{64}$")]


class IndexVersion(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One published version of a package."""

    version: str
    sha256: Sha256 | None = None
    """Digest of the archive; required for archives, absent for package directories of a local source."""
    url: str | None = None
    """Absolute ``https://`` or ``file://`` URL of the archive."""
    path: str | None = None
    """Location relative to the index (an archive, or a package directory in a local source)."""


class IndexPackage(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A package and its versions."""

    name: PackageName
    title: str = ""
    summary: str = ""
    tags: list[str] = msgspec.field(default_factory=list[str])
    versions: Annotated[list[IndexVersion], Meta(min_length=1)]


class MarketplaceIndex(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``index.json``: the packages a marketplace offers."""

    schema: Literal["rivulet.template-index/v1"] = INDEX_SCHEMA
    packages: list[IndexPackage] = msgspec.field(default_factory=list[IndexPackage])


class TemplateListing(msgspec.Struct, frozen=True, kw_only=True):
    """A package as the gallery shows it: the latest version's facts plus every version known."""

    name: str
    title: str
    summary: str
    tags: list[str]
    version: str
    """The latest version."""
    versions: list[str]
    source: str
    """The source it came from (``builtin``, a directory or an index URL)."""


def decode_index(data: bytes, origin: str = "index.json") -> MarketplaceIndex:
    """Decode and validate an index.

    Raises:
        ValidationError: Malformed JSON or a field of the wrong type, located.
    """
    try:
        return msgspec.json.decode(data, type=MarketplaceIndex)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise ValidationError(
            f"{origin}: invalid template index: {exc}", extra={"errors": [{"path": origin, "message": str(exc)}]}
        ) from exc


def version_key(version: str) -> tuple[int, int, int, int, str]:
    """Sort key of a semantic version (pre-releases sort before the release)."""
    core, _, pre = version.split("+", 1)[0].partition("-")
    numbers = [int(p) if p.isdigit() else 0 for p in core.split(".")[:3]] + [0, 0, 0]
    return (numbers[0], numbers[1], numbers[2], 0 if pre else 1, pre)


def build_index(packages: list[tuple[TemplateManifest, str, str | None]]) -> MarketplaceIndex:
    """An index of ``(manifest, path, sha256)`` entries, versions of one name grouped, newest first."""
    grouped: dict[str, list[tuple[TemplateManifest, str, str | None]]] = {}
    for entry in packages:
        grouped.setdefault(entry[0].name, []).append(entry)
    out: list[IndexPackage] = []
    for name in sorted(grouped):
        entries = sorted(grouped[name], key=lambda e: version_key(e[0].version), reverse=True)
        latest = entries[0][0]
        out.append(
            IndexPackage(
                name=name,
                title=latest.title,
                summary=latest.description,
                tags=list(latest.tags),
                versions=[IndexVersion(version=m.version, path=p, sha256=s) for m, p, s in entries],
            )
        )
    return MarketplaceIndex(packages=out)


def unreadable(where: str) -> ValidationError:
    """The one error for a location that is missing, forbidden (outside its source, a link out) or unreadable.

    The same text whatever the reason, so that an error never tells whether a file exists on the server.
    """
    return ValidationError(
        f"{where}: no readable template package or index there",
        extra={"errors": [{"path": "path", "message": "not readable"}]},
    )


def _inside(base: Path, relative: str) -> Path:
    """``base / relative`` when it stays inside ``base`` (after resolving links), else ``unreadable``."""
    rel = PurePosixPath(relative)
    if not relative or rel.is_absolute() or ".." in rel.parts or "\\" in relative or ":" in relative:
        raise unreadable(relative)
    root = base.resolve()
    target = (root / rel).resolve()
    if not target.is_relative_to(root):
        raise unreadable(relative)
    return target


class _Source:
    """One source: its index (read lazily) and how to open a listed version.

    Everything that reads files, inflates archives or decodes JSON runs in a worker thread.
    """

    def __init__(self, location: str, fetcher: Fetcher, label: str | None = None) -> None:
        self.location = location
        self.label = label or location
        self.fetcher = fetcher

    def _is_dir(self) -> bool:
        return "://" not in self.location

    async def index(self) -> MarketplaceIndex:
        if self._is_dir():
            return await asyncio.to_thread(_directory_index, Path(self.location))
        data = await self.fetcher.fetch(self.location)
        return await asyncio.to_thread(decode_index, data, self.location)

    async def open(self, entry: IndexVersion) -> TemplatePackage:
        if self._is_dir() and entry.path is not None and entry.url is None:
            target = _inside(Path(self.location), entry.path)
            return await asyncio.to_thread(_load, target, entry.sha256, entry.path)
        url = self._url(entry)
        if entry.sha256 is None and urlsplit(url).scheme == "file":
            return await asyncio.to_thread(_load, file_url_path(url), None, url)
        if entry.sha256 is None:
            raise ValidationError(
                f"{url}: the index lists no sha256 for this archive; refusing it",
                extra={"errors": [{"path": "sha256", "message": "missing sha256"}]},
            )
        data = await self.fetcher.fetch(url)
        return await asyncio.to_thread(read_package_bytes, data, origin=url, expected_sha256=entry.sha256)

    def _url(self, entry: IndexVersion) -> str:
        """Where a listed version is: a ``file://`` location must stay in the directory of a ``file://`` index."""
        url = entry.url or urljoin(self.location, entry.path or "")
        if urlsplit(url).scheme != "file":
            return url
        if urlsplit(self.location).scheme != "file":
            raise unreadable(entry.url or entry.path or url)  # an https:// index never points at server files
        base = file_url_path(self.location).parent
        relative = entry.path if entry.url is None else None
        if relative is not None:
            _inside(base, relative)
        elif not file_url_path(url).resolve().is_relative_to(base.resolve()):
            raise unreadable(url)
        return url


def _load(path: Path, sha256: str | None, where: str) -> TemplatePackage:
    if not path.exists():
        raise unreadable(where)
    try:
        return load_package(path, expected_sha256=sha256) if not path.is_dir() else load_package(path)
    except OSError as exc:
        raise unreadable(where) from exc


_LISTED: dict[tuple[str, int, int], tuple[TemplateManifest, str] | ValidationError] = {}
"""Manifest and sha256 (or the refusal) of each archive a directory source listed, by (path, mtime, size): listing
again reads only new or changed archives, and a refused archive (a bomb) is not inflated again on every listing."""


def _listed_archive(child: Path) -> tuple[TemplateManifest, str]:
    info = child.stat()
    key = (str(child), info.st_mtime_ns, info.st_size)
    hit = _LISTED.get(key)
    if hit is None:
        try:
            if info.st_size > MAX_ARCHIVE_BYTES:
                raise unreadable(child.name)
            data = child.read_bytes()
            hit = (read_package_bytes(data, origin=child.name).manifest, sha256_hex(data))
        except ValidationError as exc:
            hit = exc
        _LISTED[key] = hit
        if len(_LISTED) > 1024:
            _LISTED.pop(next(iter(_LISTED)))
    if isinstance(hit, ValidationError):
        raise type(hit)(hit.detail, extra=hit.extra)
    return hit


def _directory_index(directory: Path) -> MarketplaceIndex:
    index_file = directory / "index.json"
    if index_file.is_file() and not index_file.is_symlink():
        return decode_index(index_file.read_bytes(), str(index_file))
    if not directory.is_dir():
        raise unreadable(str(directory))
    root = directory.resolve()
    entries: list[tuple[TemplateManifest, str, str | None]] = []
    for child in sorted(directory.iterdir()):
        if child.is_symlink() and not child.resolve().is_relative_to(root):
            continue  # a link out of the source is not part of it
        if child.is_dir() and (child / "manifest.json").is_file():
            entries.append((load_package(child).manifest, child.name, None))
        elif child.is_file() and child.name.endswith((".tar.gz", ".tgz", ".zip")):
            manifest, digest = _listed_archive(child)
            entries.append((manifest, child.name, digest))
    return build_index(entries)


class TemplateCatalog:
    """Every configured source merged: list, search, open a package by name and version."""

    def __init__(self, sources: list[tuple[str, str]], fetcher: Fetcher) -> None:
        """``sources`` are ``(label, location)`` pairs, searched in order (the first source wins a name)."""
        self._sources = [_Source(location, fetcher, label) for label, location in sources]

    async def _indexes(self) -> list[tuple[_Source, MarketplaceIndex]]:
        return [(source, await source.index()) for source in self._sources]

    async def list(self, *, query: str | None = None, tag: str | None = None) -> list[TemplateListing]:
        """Packages matching a case-insensitive text query and a tag, by name."""
        seen: dict[str, TemplateListing] = {}
        for source, index in await self._indexes():
            for package in index.packages:
                if package.name in seen:
                    continue
                versions = sorted((v.version for v in package.versions), key=version_key, reverse=True)
                seen[package.name] = TemplateListing(
                    name=package.name,
                    title=package.title or package.name,
                    summary=package.summary,
                    tags=list(package.tags),
                    version=versions[0],
                    versions=versions,
                    source=source.label,
                )
        return [item for _, item in sorted(seen.items()) if matches(item, query, tag)]

    async def open(self, name: str, version: str | None = None) -> TemplatePackage:
        """Load a package (the latest version unless ``version``), verifying its sha256.

        Raises:
            NotFoundError: No source lists the package or that version.
        """
        for source, index in await self._indexes():
            for package in index.packages:
                if package.name != name:
                    continue
                versions = sorted(package.versions, key=lambda v: version_key(v.version), reverse=True)
                chosen = versions[0] if version is None else next((v for v in versions if v.version == version), None)
                if chosen is None:
                    known = ", ".join(v.version for v in versions)
                    raise NotFoundError(f"template {name!r} has no version {version!r} (known: {known})")
                return await source.open(chosen)
        raise NotFoundError(f"template {name!r} not found in any source", extra={"name": name})


def matches(item: TemplateListing, query: str | None, tag: str | None) -> bool:
    """Whether a listing has ``tag`` and every word of ``query`` in its name, title, summary or tags (any case)."""
    if tag and tag.lower() not in (t.lower() for t in item.tags):
        return False
    if not query:
        return True
    haystack = " ".join([item.name, item.title, item.summary, *item.tags]).lower()
    return all(word in haystack for word in query.lower().split())
