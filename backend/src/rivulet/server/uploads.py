"""Uploads: a ``multipart/form-data`` body streamed part by part into files of a temporary directory.

Shared by the knowledge API (documents) and the data sources API (spreadsheets for ChatExcel). Nothing of an upload
is held in memory beyond a MiB: ``stage_upload`` feeds ``request.stream()`` to an incremental parser (PyPI
``multipart``, Litestar's own) and appends each part's bytes to its own file (written by a worker thread, a MiB at a
time). Limits are counted as bytes arrive: a file over ``max_upload_file_bytes`` or an upload over
``max_upload_bytes`` is a 413 ``upload_too_large`` naming the file, the limit and the setting; the partial files are
deleted at once. A ``Content-Length`` over the route's limit is refused before anything is read. After a refused
part (over a limit, not a file, a duplicate name, a file type the route does not take) the rest of a declared body is
read and dropped (at most the route's limit), so that the client, still sending, gets the answer instead of a reset
connection.

A route may also take a few short text fields (``fields``: at most 4 KiB each, kept in ``StagedUpload.fields``) and
only some file types (``suffixes``: a file of another type is a 422 naming it before any of its bytes are written).

The document's name is the part's file name (a relative path keeps its folders: ``guide/intro.md``); the file on disk
is named by its position only (``0003.md``), never by what the client sent.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, ClassVar

from litestar.exceptions import ClientException, HTTPException
from multipart import (  # pyright: ignore[reportMissingTypeStubs]
    MultipartError,
    MultipartSegment,
    PushMultipartParser,
)

from rivulet.knowledge.ingest import SourceFile
from rivulet.lib.exceptions import AppError, MalformedRequestError, ValidationError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from io import BufferedWriter

    from litestar import Request

    from rivulet.lib.settings import Settings

__all__ = (
    "FILE_FIELDS",
    "StagedUpload",
    "UnsupportedMediaTypeError",
    "UploadLimits",
    "UploadTooLargeError",
    "document_name",
    "stage_upload",
)

FILE_FIELDS = frozenset({"files", "file"})
"""The form field names a file part may have."""
_MAX_NAME = 500
_FLUSH_BYTES = 1024 * 1024
"""Bytes of a file gathered in memory before a worker thread writes them (one thread hop per MiB, not per chunk)."""
_PART_OVERHEAD = 16 * 1024
"""Bytes of multipart framing allowed per file beyond its content (boundaries and part headers)."""
_MAX_FIELD_BYTES = 4096
"""The largest text field of an upload (a name, not a document)."""


class UploadTooLargeError(AppError):
    """A file or the whole upload is over its limit; ``extra["errors"]`` names the file, the limit and the setting."""

    code: ClassVar[str] = "upload_too_large"
    status_code: ClassVar[int] = 413


class UnsupportedMediaTypeError(AppError):
    """The body is not of the media type the route takes."""

    code: ClassVar[str] = "unsupported_media_type"
    status_code: ClassVar[int] = 415


@dataclass(frozen=True, slots=True)
class UploadLimits:
    """The size limits of one upload (from the settings)."""

    total_bytes: int
    """All files together (``max_upload_bytes``)."""
    file_bytes: int
    """One file (``max_upload_file_bytes``)."""
    max_files: int = 1000

    @classmethod
    def from_settings(cls, settings: Settings) -> UploadLimits:
        return cls(total_bytes=settings.max_upload_bytes, file_bytes=settings.max_upload_file_bytes)

    @property
    def body_bytes(self) -> int:
        """The largest request body: every file's bytes plus the multipart framing (the route's body limit)."""
        return self.total_bytes + min(self.max_files * _PART_OVERHEAD, 16 * 1024 * 1024)


@dataclass(slots=True)
class StagedUpload:
    """Files received into ``directory`` (deleted with ``remove`` once they are ingested)."""

    directory: Path
    files: list[SourceFile] = field(default_factory=list[SourceFile])
    fields: dict[str, str] = field(default_factory=dict[str, str])
    """The text fields the route takes, as sent (UTF-8)."""
    total_bytes: int = 0

    async def remove(self) -> None:
        await asyncio.to_thread(shutil.rmtree, self.directory, ignore_errors=True)


def _megabytes(count: int) -> str:
    return f"{count / (1024 * 1024):.1f} MiB" if count >= 1024 * 1024 else f"{count} bytes"


def _too_large(what: str, limit: int, setting: str, **located: Any) -> UploadTooLargeError:
    message = f"{what} is larger than the limit of {_megabytes(limit)} (setting RIVULET_{setting.upper()})"
    error = {**located, "message": message, "limit": limit, "setting": setting}
    return UploadTooLargeError(message, extra={"errors": [error]})


def _boundary(content_type: str) -> bytes:
    header = Message()
    header["content-type"] = content_type
    if header.get_content_type() != "multipart/form-data":
        got = content_type or "no content type"
        raise UnsupportedMediaTypeError(
            f"the upload must be multipart/form-data (a part named 'files' per file), not {got!r}"
        )
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise MalformedRequestError(
            "the multipart/form-data content type has no boundary",
            extra={"errors": [{"source": "header", "path": "content-type", "message": "no boundary"}]},
        )
    return boundary.encode("latin-1", errors="replace")


def document_name(filename: str) -> str:
    """The document name of an uploaded file name: a relative POSIX path without ``.``/``..`` or control characters."""
    printable = "".join(c for c in filename if c.isprintable())
    kept: list[str] = []
    for part in (part.strip() for part in printable.replace("\\", "/").split("/")):
        if part == "..":
            del kept[-1:]
        elif part not in {"", "."}:
            kept.append(part)
    return "/".join(kept)


def _suffix(name: str) -> str:
    suffix = PurePosixPath(name).suffix.lower()
    return suffix if 1 < len(suffix) <= 12 and suffix[1:].isalnum() else ""


class _Receiver:
    """The state of one upload being received: the file being written, the names taken, the bytes counted."""

    def __init__(
        self,
        staged: StagedUpload,
        limits: UploadLimits,
        *,
        fields: frozenset[str] = frozenset(),
        suffixes: frozenset[str] | None = None,
    ) -> None:
        self.staged = staged
        self.limits = limits
        self.fields = fields
        self.suffixes = suffixes
        self.names: dict[str, int] = {}
        self.current: BufferedWriter | None = None
        self.buffer = bytearray()
        self.current_name = ""
        self.current_bytes = 0
        self.field: str | None = None
        """The text field being read (its bytes gather in ``field_bytes``)."""
        self.field_bytes = bytearray()

    def _start_field(self, segment: MultipartSegment) -> None:
        if segment.name in self.staged.fields:
            raise ValidationError(
                f"the form field {segment.name!r} is sent twice",
                extra={"errors": [{"path": segment.name, "message": "sent twice"}]},
            )
        self.field, self.field_bytes = segment.name, bytearray()

    def _check_suffix(self, name: str, path: str) -> None:
        if self.suffixes is None:
            return
        suffix = _suffix(name)
        if suffix not in self.suffixes:
            accepted = ", ".join(sorted(self.suffixes))
            what = f"files of type {suffix!r}" if suffix else "files without an extension"
            message = f"{what} are not accepted here (accepted: {accepted})"
            raise ValidationError(
                f"{path} ({name!r}): {message}",
                extra={"errors": [{"path": path, "file": name, "message": message, "got": suffix or name}]},
            )

    async def start(self, segment: MultipartSegment) -> None:
        index = len(self.staged.files)
        path = f"files[{index}]"
        if segment.name in self.fields and segment.filename is None:
            self._start_field(segment)
            return
        if segment.name not in FILE_FIELDS or segment.filename is None:
            got = segment.name if segment.filename is not None else f"{segment.name} (not a file)"
            expected = "a file part named 'files'" + "".join(f" or a field {name!r}" for name in sorted(self.fields))
            raise ValidationError(
                f"unexpected form field {got!r}: send each file as a part named 'files' with a file name",
                extra={"errors": [{"path": path, "message": f"expected {expected}", "got": got}]},
            )
        if index >= self.limits.max_files:
            message = f"the upload has more than {self.limits.max_files} files"
            raise UploadTooLargeError(
                message, extra={"errors": [{"path": path, "message": message, "limit": self.limits.max_files}]}
            )
        name = document_name(segment.filename)
        problem = ""
        if not name:
            problem = "no file name"
        elif len(name) > _MAX_NAME:
            problem = f"a file name longer than {_MAX_NAME} characters"
        elif name in self.names:
            problem = f"the same name as files[{self.names[name]}]"
        if problem:
            raise ValidationError(
                f"{path} ({segment.filename!r}) has {problem}",
                extra={"errors": [{"path": path, "message": problem, "got": segment.filename}]},
            )
        self._check_suffix(name, path)
        self.names[name] = index
        file_path = self.staged.directory / f"{index:04d}{_suffix(name)}"
        self.current = await asyncio.to_thread(file_path.open, "wb")
        self.current_name, self.current_bytes = name, 0
        self.staged.files.append(SourceFile(name=name, path=str(file_path)))

    async def write(self, data: bytes | bytearray) -> None:
        if self.field is not None:
            self.field_bytes += data
            if len(self.field_bytes) > _MAX_FIELD_BYTES:
                message = f"longer than {_MAX_FIELD_BYTES} bytes"
                raise ValidationError(
                    f"the form field {self.field!r} is {message}",
                    extra={"errors": [{"path": self.field, "message": message}]},
                )
            return
        assert self.current is not None
        self.current_bytes += len(data)
        self.staged.total_bytes += len(data)
        index = len(self.staged.files) - 1
        if self.current_bytes > self.limits.file_bytes:
            raise _too_large(
                f"file {self.current_name!r}", self.limits.file_bytes, "max_upload_file_bytes",
                path=f"files[{index}]", file=self.current_name,
            )  # fmt: skip
        if self.staged.total_bytes > self.limits.total_bytes:
            raise _too_large(
                f"the upload (at file {self.current_name!r})", self.limits.total_bytes, "max_upload_bytes",
                path=f"files[{index}]", file=self.current_name,
            )  # fmt: skip
        self.buffer += data
        if len(self.buffer) >= _FLUSH_BYTES:
            await self._flush()

    async def _flush(self) -> None:
        if self.current is not None and self.buffer:
            data, self.buffer = bytes(self.buffer), bytearray()
            await asyncio.to_thread(self.current.write, data)

    def _finish_field(self) -> None:
        if self.field is None:
            return
        name, self.field = self.field, None
        try:
            self.staged.fields[name] = self.field_bytes.decode()
        except UnicodeDecodeError:
            raise ValidationError(
                f"the form field {name!r} is not UTF-8 text",
                extra={"errors": [{"path": name, "message": "not UTF-8 text"}]},
            ) from None

    async def end_part(self) -> None:
        """The current part is complete: keep its field's text, or close its file."""
        self._finish_field()
        await self.finish()

    async def finish(self) -> None:
        self.field = None
        if self.current is not None:
            try:
                await self._flush()
            finally:
                await asyncio.to_thread(self.current.close)
                self.current, self.buffer = None, bytearray()


async def _drain(stream: AsyncIterator[bytes]) -> None:
    """Read and drop the rest of a body whose declared length is within the route's limit."""
    try:
        async for _ in stream:
            pass
    except HTTPException:  # over the route's limit after all, or the client went away: stop reading
        return


async def _receive(request: Request[Any, Any, Any], boundary: bytes, receiver: _Receiver) -> None:
    stream = request.stream()
    try:
        with PushMultipartParser(
            boundary, max_segment_count=receiver.limits.max_files + len(receiver.fields) + 1
        ) as parser:
            async for chunk in stream:
                for event in parser.parse(chunk):
                    if isinstance(event, MultipartSegment):
                        await receiver.start(event)
                    elif event:
                        await receiver.write(event)
                    else:
                        await receiver.end_part()
    except (UploadTooLargeError, ValidationError):
        await receiver.finish()
        if request.headers.get("content-length", "").isdigit():
            await _drain(stream)  # the client is still sending: let it finish and read the answer
        raise
    except MultipartError as exc:
        raise MalformedRequestError(
            f"the multipart/form-data body cannot be read: {exc}",
            extra={"errors": [{"source": "body", "path": f"files[{len(receiver.staged.files)}]", "message": str(exc)}]},
        ) from None
    finally:
        await receiver.finish()


async def stage_upload(
    request: Request[Any, Any, Any],
    limits: UploadLimits,
    *,
    fields: frozenset[str] = frozenset(),
    suffixes: frozenset[str] | None = None,
) -> StagedUpload:
    """Receive the files of a ``multipart/form-data`` request into a new temporary directory.

    ``fields`` names the text fields the route takes besides files; ``suffixes`` (lower case, with the dot) the
    file types it takes (``None``: any).

    Raises:
        UnsupportedMediaTypeError: Not ``multipart/form-data``.
        UploadTooLargeError: A file or the upload over its limit (nothing is kept).
        ValidationError: A part that is not a file (nor a field in ``fields``), a duplicate or missing file name, a
            file type not in ``suffixes``, no file at all.
        MalformedRequestError: A body that is not valid multipart.
    """
    boundary = _boundary(request.headers.get("content-type", ""))
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.body_bytes:
        what = f"the upload ({_megabytes(int(declared))})"
        raise _too_large(what, limits.total_bytes, "max_upload_bytes", path="files")
    directory = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="rivulet-upload-"))
    staged = StagedUpload(directory)
    try:
        try:
            await _receive(request, boundary, _Receiver(staged, limits, fields=fields, suffixes=suffixes))
        except ClientException as exc:  # the body over the route's limit while streaming (no Content-Length)
            if exc.status_code == 413:
                raise _too_large("the upload", limits.total_bytes, "max_upload_bytes", path="files") from None
            raise
        if not staged.files:
            raise ValidationError(
                "the upload has no files: send each file as a part named 'files'",
                extra={"errors": [{"path": "files", "message": "no file parts"}]},
            )
    except BaseException:
        await staged.remove()
        raise
    return staged
