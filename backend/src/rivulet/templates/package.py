"""Template packages: a manifest, one or more flow documents and optional sample data.

On disk a package is a directory::

    <name>/manifest.json      # rivulet.template/v1 (TemplateManifest)
    <name>/flows/*.json       # rivulet.flow/v1 documents, each listed in manifest.flows
    <name>/data/*             # optional sample data, each listed in manifest.data

A distributable package is the same tree in a ``.tar.gz`` or ``.zip`` archive (optionally under one top-level
folder); a marketplace index lists its sha256.

Example:
    >>> m = decode_manifest(b'{"name": "demo", "version": "1.0.0", "title": "Demo", "flows": ["flows/main.json"]}')
    >>> (m.name, m.version, m.ref)
    ('demo', '1.0.0', 'demo@1.0.0')
"""

from __future__ import annotations

import gzip
import hashlib
import io
import stat
import tarfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from rivulet.compiler.flow import FlowDocument, decode_flow, encode_flow
from rivulet.lib.exceptions import ValidationError

__all__ = (
    "MANIFEST_SCHEMA",
    "OperatorRequirement",
    "TemplateManifest",
    "TemplatePackage",
    "TemplateVariable",
    "decode_manifest",
    "load_package",
    "package_archive",
    "read_package_bytes",
    "sha256_hex",
    "write_package_dir",
)

MANIFEST_SCHEMA = "rivulet.template/v1"
MAX_ARCHIVE_BYTES = 20_000_000
"""Archives larger than this are refused (a template is a few JSON files)."""
MAX_UNPACKED_BYTES = 50_000_000
"""Archives whose files add up to more than this once unpacked are refused (decompression bombs)."""
MAX_ENTRY_BYTES = 10_000_000
"""The largest file an archive may hold."""
MAX_ENTRIES = 1_000
"""The most entries (files and folders) an archive may hold."""
MAX_RATIO = 200
"""The most an archive (or one zip entry past ``_RATIO_FLOOR`` bytes) may inflate, unpacked size over packed size."""
_RATIO_FLOOR = 1_000_000

PackageName = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]
SemVer = Annotated[
    str, Meta(pattern=r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")
]
RelPath = Annotated[str, Meta(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_][A-Za-z0-9_./-]*$")]


class OperatorRequirement(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An operator the package's flows use, with the operator versions they work with."""

    id: Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")]
    """Operator id, e.g. ``core.template``."""
    versions: Annotated[
        str, Meta(max_length=64, pattern=r"^\s*(\*|(>=|<=|>|<|==)?\s*\d+(\s*,\s*(>=|<=|>|<|==)?\s*\d+)*)\s*$")
    ] = "*"
    """Version range: ``*``, ``1``, ``>=1``, ``>=1,<3``."""


class TemplateVariable(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A value asked for at import time and substituted for ``${name}`` in the flows' params."""

    name: Annotated[str, Meta(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=64)]
    type: Literal["text", "int", "float", "bool", "json"] = "text"
    description: str = ""
    required: bool = True
    default: Any = None
    secret: bool = False
    """Never substituted or stored: becomes a flow variable of type ``secret`` resolved at run time."""


class TemplateManifest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``manifest.json`` of a template package (``rivulet.template/v1``)."""

    schema: Literal["rivulet.template/v1"] = MANIFEST_SCHEMA
    name: PackageName
    version: SemVer
    title: Annotated[str, Meta(min_length=1, max_length=200)]
    description: str = ""
    tags: list[Annotated[str, Meta(max_length=40)]] = msgspec.field(default_factory=list[str])
    author: str = ""
    license: str = ""
    operators: list[OperatorRequirement] = msgspec.field(default_factory=list[OperatorRequirement])
    variables: list[TemplateVariable] = msgspec.field(default_factory=list[TemplateVariable])
    flows: Annotated[list[RelPath], Meta(min_length=1, max_length=32)]
    """Flow documents inside the package, e.g. ``flows/main.json``."""
    data: list[RelPath] = msgspec.field(default_factory=list[str])
    """Sample data files inside the package, e.g. ``data/orders.json``."""
    screenshots: list[RelPath] = msgspec.field(default_factory=list[str])

    @property
    def ref(self) -> str:
        """``name@version``: the provenance recorded in imported flows."""
        return f"{self.name}@{self.version}"


class TemplatePackage(msgspec.Struct, frozen=True, kw_only=True):
    """A loaded package: the manifest, its flows (by path) and its data files."""

    manifest: TemplateManifest
    flows: dict[str, FlowDocument]
    data: dict[str, bytes] = msgspec.field(default_factory=dict[str, bytes])


def sha256_hex(data: bytes) -> str:
    """Lower-case hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def _invalid(message: str, path: str) -> ValidationError:
    return ValidationError(message, extra={"errors": [{"path": path, "message": message}]})


def decode_manifest(data: bytes) -> TemplateManifest:
    """Decode and validate ``manifest.json``.

    Raises:
        ValidationError: Malformed JSON, a wrong type or an unknown field, located (``$.version``).
    """
    try:
        return msgspec.json.decode(data, type=TemplateManifest)
    except msgspec.ValidationError as exc:
        message = str(exc)
        path = message.rsplit(" - at `", 1)[1].rstrip("`") if " - at `" in message else "$"
        raise _invalid(f"invalid manifest at manifest.json {path}: {message}", f"manifest.json {path}") from exc
    except msgspec.DecodeError as exc:
        raise _invalid(f"manifest.json is not JSON: {exc}", "manifest.json") from exc


def _safe(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or "\\" in name or (path.parts and ":" in path.parts[0]):
        raise _invalid(f"unsafe path {name!r} in package", name)
    return path


def _assemble(files: dict[str, bytes], origin: str) -> TemplatePackage:
    if "manifest.json" not in files:
        raise _invalid(f"{origin}: no manifest.json in the package", "manifest.json")
    manifest = decode_manifest(files["manifest.json"])
    flows: dict[str, FlowDocument] = {}
    for name in manifest.flows:
        if name not in files:
            raise _invalid(f"{origin}: manifest lists {name!r} but the package has no such file", name)
        try:
            flows[name] = decode_flow(files[name])
        except ValidationError as exc:
            raise _invalid(f"{name}: {exc.detail}", name) from exc
    data: dict[str, bytes] = {}
    for name in manifest.data:
        if name not in files:
            raise _invalid(f"{origin}: manifest lists data file {name!r} but the package has no such file", name)
        data[name] = files[name]
    return TemplatePackage(manifest=manifest, flows=flows, data=data)


def _strip_root(files: dict[str, bytes]) -> dict[str, bytes]:
    if "manifest.json" in files:
        return files
    roots = {PurePosixPath(n).parts[0] for n in files}
    if len(roots) == 1:
        root = roots.pop()
        return {str(PurePosixPath(*PurePosixPath(n).parts[1:])): b for n, b in files.items() if n != root}
    return files


def _check_unpacked(total: int) -> None:
    if total > MAX_UNPACKED_BYTES:
        raise _invalid(f"archive unpacks to more than {MAX_UNPACKED_BYTES} bytes", "$")


def _check_entry(name: str, declared: int, count: int, total: int) -> None:
    """An entry's declared size, the entry count and the running total, before anything is inflated."""
    if count > MAX_ENTRIES:
        raise _invalid(f"archive has more than {MAX_ENTRIES} entries", "$")
    if declared > MAX_ENTRY_BYTES:
        raise _invalid(f"archive entry {name!r} declares {declared} bytes; at most {MAX_ENTRY_BYTES} are allowed", name)
    _check_unpacked(total)


class _BoundedReader(io.RawIOBase):
    """A decompressed stream that refuses to produce more than ``limit`` bytes (stops inflating there)."""

    def __init__(self, stream: io.BufferedIOBase, limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self._produced = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        data = self._stream.read(min(len(view), self._limit - self._produced + 1))
        self._produced += len(data)
        if self._produced > self._limit:
            raise _invalid(f"archive inflates to more than {self._limit} bytes", "$")
        view[: len(data)] = data
        return len(data)


def _tar_files(data: bytes) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    # every tar byte is a header (512 B per entry), file data (padded to 512 B) or the end marker
    limit = min(MAX_UNPACKED_BYTES + 1024 * (MAX_ENTRIES + 20), max(len(data) * MAX_RATIO, _RATIO_FLOOR))
    stream = _BoundedReader(gzip.GzipFile(fileobj=io.BytesIO(data)), limit)
    total = 0
    with tarfile.open(fileobj=io.BufferedReader(stream), mode="r|") as archive:
        for count, member in enumerate(archive, start=1):
            total += member.size
            _check_entry(member.name, member.size, count, total)
            path = _safe(member.name)
            if member.isdir():
                continue
            if not member.isfile():
                raise _invalid(
                    f"archive entry {member.name!r} is a link or a special file; only files are allowed", member.name
                )
            extracted = archive.extractfile(member)
            files[str(path)] = extracted.read(member.size) if extracted is not None else b""
    return files


def _zip_files(data: bytes) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        total = 0
        for count, info in enumerate(infos, start=1):
            total += info.file_size
            _check_entry(info.filename, info.file_size, count, total)
            _safe(info.filename)
        for info in infos:
            if info.is_dir():
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                raise _invalid(f"archive entry {info.filename!r} is a link; only files are allowed", info.filename)
            if info.file_size > _RATIO_FLOOR and info.file_size > max(info.compress_size, 1) * MAX_RATIO:
                raise _invalid(f"archive entry {info.filename!r} inflates more than {MAX_RATIO} times", info.filename)
            try:
                with archive.open(info) as entry:
                    content = entry.read(info.file_size + 1)  # never more than one byte past what it declares
            except zipfile.BadZipFile as exc:  # a CRC error: the entry holds more (or other) data than it declares
                raise _invalid(f"archive entry {info.filename!r} is corrupt ({exc})", info.filename) from exc
            if len(content) != info.file_size:
                raise _invalid(
                    f"archive entry {info.filename!r} does not hold the {info.file_size} bytes it declares",
                    info.filename,
                )
            files[str(_safe(info.filename))] = content
    return files


def read_package_bytes(data: bytes, *, origin: str = "archive", expected_sha256: str | None = None) -> TemplatePackage:
    """Load a package from ``.tar.gz`` or ``.zip`` bytes, checking the sha256 first when one is expected.

    Raises:
        ValidationError: The digest differs, the archive is unreadable, or the package is invalid.
    """
    if expected_sha256 is not None:
        actual = sha256_hex(data)
        if actual != expected_sha256.lower():
            raise ValidationError(
                f"{origin}: sha256 mismatch: expected {expected_sha256.lower()}, got {actual}; refusing the package",
                extra={
                    "errors": [{"path": "sha256", "message": "sha256 mismatch"}],
                    "expected": expected_sha256,
                    "got": actual,
                },
            )
    if len(data) > MAX_ARCHIVE_BYTES:
        raise _invalid(f"{origin}: archive is larger than {MAX_ARCHIVE_BYTES} bytes", "$")
    try:
        files = _zip_files(data) if data[:2] == b"PK" else _tar_files(data)
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        raise _invalid(f"{origin}: not a .tar.gz or .zip archive ({exc})", "$") from exc
    return _assemble(_strip_root(files), origin)


def load_package(path: Path, *, expected_sha256: str | None = None) -> TemplatePackage:
    """Load a package directory or archive file.

    Raises:
        ValidationError: Missing path, bad digest or invalid package.
    """
    if path.is_dir():
        files: dict[str, bytes] = {}
        total = 0
        for count, p in enumerate(sorted(path.rglob("*")), start=1):
            name = p.relative_to(path).as_posix()
            if any(part.startswith(".") for part in p.relative_to(path).parts):
                continue
            if p.is_symlink():  # a link could read any file of the server into the package
                raise _invalid(f"{path.name}/{name}: links are not allowed in a package", name)
            if p.is_file():
                size = p.stat().st_size
                total += size
                _check_entry(name, size, count, total)
                files[name] = p.read_bytes()
        return _assemble(files, str(path))
    if path.is_file():
        if path.stat().st_size > MAX_ARCHIVE_BYTES:
            raise _invalid(f"{path}: archive is larger than {MAX_ARCHIVE_BYTES} bytes", "$")
        return read_package_bytes(path.read_bytes(), origin=str(path), expected_sha256=expected_sha256)
    raise _invalid(f"{path}: no such package directory or archive", "$")


def _files(package: TemplatePackage) -> dict[str, bytes]:
    files = {"manifest.json": msgspec.json.format(msgspec.json.encode(package.manifest), indent=2) + b"\n"}
    for name, flow in package.flows.items():
        files[name] = msgspec.json.format(encode_flow(flow), indent=2) + b"\n"
    files.update(package.data)
    return files


def write_package_dir(package: TemplatePackage, directory: Path) -> Path:
    """Write ``package`` as a package directory; returns it."""
    for name, content in _files(package).items():
        target = directory / _safe(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return directory


def package_archive(package: TemplatePackage, fmt: Literal["tar.gz", "zip"] = "tar.gz") -> bytes:
    """A reproducible archive of ``package`` (sorted entries, fixed timestamps), rooted at ``<name>/``."""
    root = package.manifest.name
    buffer = io.BytesIO()
    files = sorted(_files(package).items())
    if fmt == "zip":
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, content in files:
                archive.writestr(zipfile.ZipInfo(f"{root}/{name}", date_time=(2020, 1, 1, 0, 0, 0)), content)
        return buffer.getvalue()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, content in files:
            info = tarfile.TarInfo(f"{root}/{name}")
            info.size, info.mtime, info.mode = len(content), 0, 0o644
            archive.addfile(info, io.BytesIO(content))
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz:
        gz.write(raw.getvalue())
    return buffer.getvalue()
