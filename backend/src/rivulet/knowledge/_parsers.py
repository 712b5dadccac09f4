"""One parser per document format, each ``Source -> list[LoadedPart]``; ``loaders`` picks the format.

Everything here is synchronous CPU work on untrusted bytes: each parser is a well-kept PyPI library (pypdf,
python-docx, openpyxl, selectolax, the csv and json modules), wrapped so that whatever it raises on a broken file
becomes one ``LoadError`` naming the file, and guarded by limits (unzipped size and ratio of Office files, pages,
rows) checked before the expensive work.
"""

from __future__ import annotations

import csv
import io
import json
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any, Final

import msgspec

from rivulet.lib.exceptions import ValidationError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from docx.document import Document as DocxDocument
    from selectolax.lexbor import LexborNode

__all__ = ("PARSERS", "LoadError", "LoadedPart", "Source", "decode_text")

MAX_UNZIPPED_BYTES: Final = 200_000_000
"""Office files (zip) whose members add up to more than this are refused before opening."""
MAX_ZIP_RATIO: Final = 100
"""A member larger than 1 MB that expands more than this many times its compressed size is a zip bomb."""
MAX_ZIP_MEMBERS: Final = 10_000
MAX_PAGES: Final = 5_000
MAX_ROWS: Final = 200_000
"""Rows of a csv/xlsx file (all sheets) and records of a json file."""

_FIELD_LIMIT: Final = 10_000_000
_BLANK_LINES = re.compile(r"\n{3,}")


class LoadedPart(msgspec.Struct, frozen=True, kw_only=True):
    """A piece of a loaded document: a page of a PDF, a sheet, a JSON record, or the whole text."""

    text: str
    """Plain text; markdown headings (``# Title``) where the format has headings (md, html, docx)."""
    metadata: dict[str, Any] = msgspec.field(default_factory=dict[str, Any])
    """``format`` always; ``page``/``pages`` (pdf, 1-based), ``sheet`` (xlsx), ``record`` (json list, 0-based),
    ``title`` where the document has one, ``url`` for a fetched page."""


class LoadError(ValidationError):
    """A document could not be read: unsupported or corrupt, encrypted, over a limit, or its URL failed.

    ``extra`` holds ``name`` (the file or URL), ``format`` when known and ``reason`` (``unsupported``, ``corrupt``,
    ``encrypted``, ``too_large``, ``zip_bomb``, ``no_text``, ``unreadable``, ``fetch_failed``).
    """

    code = "load_error"
    status_code = 422

    def __init__(self, name: str, problem: str, *, reason: str, fmt: str | None = None) -> None:
        super().__init__(f"{name}: {problem}", extra={"name": name, "format": fmt, "reason": reason})
        self.reason = reason


# What a parser library may raise on a broken file (they document no single base class).
_BROKEN: Final = (
    ValueError, LookupError, TypeError, AttributeError, ArithmeticError, RecursionError, EOFError, OSError,
    SyntaxError, AssertionError, struct.error, zlib.error, zipfile.BadZipFile, msgspec.DecodeError, csv.Error,
)  # fmt: skip


def _unreadable(name: str, fmt: str, exc: BaseException) -> LoadError:
    return LoadError(name, f"not a readable {fmt} file ({type(exc).__name__}: {exc})", reason="corrupt", fmt=fmt)


def _clean(text: str) -> str:
    """Unix newlines, no NUL characters (PostgreSQL text cannot hold them), no runs of blank lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return _BLANK_LINES.sub("\n\n", text).strip()


def decode_text(data: bytes, *, charset: str | None = None) -> str:
    """Bytes to text: a BOM wins, then the declared ``charset``, UTF-8, a detected charset, and finally Latin-1."""
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(codec, errors="replace")
    for codec in (charset, "utf-8"):
        if codec:
            try:
                return data.decode(codec)
            except (UnicodeDecodeError, LookupError):
                continue
    from charset_normalizer import from_bytes

    best = from_bytes(data[:1_000_000]).best()
    if best is not None and best.encoding:
        return data.decode(best.encoding, errors="replace")
    return data.decode("latin-1")


@dataclass(frozen=True, slots=True)
class Source:
    """The bytes to parse, the name to report errors against and the declared charset (if any)."""

    data: bytes
    name: str
    charset: str | None = None

    def text(self) -> str:
        return decode_text(self.data, charset=self.charset)


def _part(text: str, fmt: str, **metadata: Any) -> list[LoadedPart]:
    text = _clean(text)
    return [LoadedPart(text=text, metadata={"format": fmt, **metadata})] if text else []


def _text(src: Source) -> list[LoadedPart]:
    return _part(src.text(), "txt")


def _markdown(src: Source) -> list[LoadedPart]:
    return _part(src.text(), "md")


def _check_zip(data: bytes, name: str, fmt: str) -> None:
    """Refuse an Office file (a zip) whose members would expand too much, before any parser opens it."""
    if data.startswith(b"\xd0\xcf\x11\xe0"):  # OLE: what Office writes for encrypted and pre-2007 files
        problem = f"a password-protected or pre-2007 Office file, not {fmt}: save it unprotected as {fmt}"
        raise LoadError(name, problem, reason="unsupported", fmt=fmt)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise LoadError(name, f"not a valid {fmt} file (broken zip: {exc})", reason="corrupt", fmt=fmt) from exc
    total = sum(member.file_size for member in members)
    bomb = next(
        (m for m in members if m.file_size > 1_000_000 and m.file_size > MAX_ZIP_RATIO * max(m.compress_size, 1)),
        None,
    )
    if len(members) > MAX_ZIP_MEMBERS or total > MAX_UNZIPPED_BYTES or bomb is not None:
        what = f"{bomb.filename} expands {bomb.file_size // max(bomb.compress_size, 1)}x" if bomb else ""
        raise LoadError(
            name,
            f"refusing a suspected zip bomb: {len(members)} members expanding to {total} bytes "
            f"(limits {MAX_ZIP_MEMBERS} members, {MAX_UNZIPPED_BYTES} bytes, ratio {MAX_ZIP_RATIO}) {what}".rstrip(),
            reason="zip_bomb",
            fmt=fmt,
        )


def _pdf(src: Source) -> list[LoadedPart]:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PyPdfError

    name = src.name
    try:
        reader = PdfReader(io.BytesIO(src.data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError(name, "the PDF is encrypted (password protected)", reason="encrypted", fmt="pdf")
        count = len(reader.pages)
        if count > MAX_PAGES:
            raise LoadError(name, f"{count} pages, more than the limit of {MAX_PAGES}", reason="too_large", fmt="pdf")
        title = reader.metadata.title if reader.metadata else None
        texts = [page.extract_text() for page in reader.pages]
    except FileNotDecryptedError as exc:
        raise LoadError(name, "the PDF is encrypted (password protected)", reason="encrypted", fmt="pdf") from exc
    except (PyPdfError, *_BROKEN) as exc:
        raise _unreadable(name, "pdf", exc) from exc
    extra = {"title": str(title)} if title else {}
    parts = [p for i, text in enumerate(texts) for p in _part(text, "pdf", page=i + 1, pages=count, **extra)]
    if not parts and count:
        raise LoadError(name, "no extractable text (a scanned PDF? OCR is not supported)", reason="no_text", fmt="pdf")
    return parts


def _docx_lines(document: DocxDocument) -> Iterator[str]:
    from docx.table import Table

    for block in document.iter_inner_content():
        if isinstance(block, Table):
            yield ""
            for row in block.rows:
                cells: list[str] = []
                for cell in row.cells:  # a merged cell repeats: keep it once
                    text = " ".join(cell.text.split())
                    if not cells or cells[-1] != text:
                        cells.append(text)
                if any(cells):
                    yield " | ".join(cells)
            yield ""
            continue
        text = block.text.strip()
        style = (block.style.name if block.style is not None else "") or ""
        level = _heading_level(style)
        if level and text:
            yield ""
            yield f"{'#' * level} {' '.join(text.split())}"
            yield ""
        elif style.startswith("List") and text:
            yield f"- {text}"
        else:
            yield text
            yield ""


def _heading_level(style: str) -> int:
    if style == "Title":
        return 1
    if style.startswith("Heading "):
        suffix = style.removeprefix("Heading ")
        return min(int(suffix), 6) if suffix.isdigit() and int(suffix) > 0 else 0
    return 0


def _docx(src: Source) -> list[LoadedPart]:
    import docx
    from docx.opc.exceptions import OpcError

    name = src.name
    _check_zip(src.data, name, "docx")
    try:
        document = docx.Document(io.BytesIO(src.data))
        text = "\n".join(_docx_lines(document))
        title = document.core_properties.title
    except (OpcError, *_BROKEN) as exc:
        raise _unreadable(name, "docx", exc) from exc
    return _part(text, "docx", **({"title": title} if title else {}))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return " ".join(str(value).split())


def _render_rows(rows: Iterable[Iterable[Any]], name: str, fmt: str, budget: list[int]) -> str:
    """Rows after the first (the header) as ``column: value`` lines, one blank line between rows."""
    header: list[str] | None = None
    out: list[str] = []
    for raw in rows:
        values = [_cell(value) for value in raw]
        if not any(values):
            continue
        if header is None:
            header = [value or f"column {i + 1}" for i, value in enumerate(values)]
            continue
        budget[0] -= 1
        if budget[0] < 0:
            raise LoadError(name, f"more than {MAX_ROWS} rows", reason="too_large", fmt=fmt)
        names = header + [f"column {i + 1}" for i in range(len(header), len(values))]
        out.append("\n".join(f"{names[i]}: {value}" for i, value in enumerate(values) if value))
    if header is not None and not out:  # a header alone is still the table's text
        return " | ".join(header)
    return "\n\n".join(out)


def _csv(src: Source) -> list[LoadedPart]:
    name, text = src.name, src.text()
    try:
        dialect: Any = csv.Sniffer().sniff(text[:20_000], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel_tab if name.lower().endswith(".tsv") else csv.excel
    limit = csv.field_size_limit(_FIELD_LIMIT)
    try:
        return _part(_render_rows(csv.reader(io.StringIO(text), dialect), name, "csv", [MAX_ROWS]), "csv")
    except csv.Error as exc:
        raise LoadError(name, f"not a readable csv file ({exc})", reason="corrupt", fmt="csv") from exc
    finally:
        csv.field_size_limit(limit)


def _xlsx(src: Source) -> list[LoadedPart]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    name = src.name
    _check_zip(src.data, name, "xlsx")
    parts: list[LoadedPart] = []
    budget = [MAX_ROWS]
    try:
        workbook = load_workbook(io.BytesIO(src.data), read_only=True, data_only=True)
        try:
            for sheet in workbook.worksheets:
                rows = sheet.iter_rows(values_only=True)  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType, reportUnknownVariableType]
                parts += _part(_render_rows(rows, name, "xlsx", budget), "xlsx", sheet=sheet.title)  # pyright: ignore[reportUnknownArgumentType]
        finally:
            workbook.close()
    except (InvalidFileException, KeyError, *_BROKEN) as exc:
        raise _unreadable(name, "xlsx", exc) from exc
    return parts


def _pretty(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)


def _json(src: Source) -> list[LoadedPart]:
    name = src.name
    try:
        value = msgspec.json.decode(src.text())
    except msgspec.DecodeError as exc:
        raise LoadError(name, f"not valid JSON ({exc})", reason="corrupt", fmt="json") from exc
    if not isinstance(value, list):
        return _part(_pretty(value), "json")
    records: list[Any] = value  # pyright: ignore[reportUnknownVariableType]
    if len(records) > MAX_ROWS:
        raise LoadError(name, f"{len(records)} records, more than {MAX_ROWS}", reason="too_large", fmt="json")
    return [p for i, record in enumerate(records) for p in _part(_pretty(record), "json", record=i)]


def _jsonl(src: Source) -> list[LoadedPart]:
    name, lines = src.name, [line for line in src.text().splitlines() if line.strip()]
    if len(lines) > MAX_ROWS:
        raise LoadError(name, f"{len(lines)} records, more than {MAX_ROWS}", reason="too_large", fmt="jsonl")
    parts: list[LoadedPart] = []
    for i, line in enumerate(lines):
        try:
            parts += _part(_pretty(msgspec.json.decode(line)), "jsonl", record=i)
        except msgspec.DecodeError as exc:
            raise LoadError(name, f"line {i + 1}: not valid JSON ({exc})", reason="corrupt", fmt="jsonl") from exc
    return parts


_SKIP_TAGS: Final = frozenset({
    "-comment", "script", "style", "noscript", "template", "svg", "canvas", "iframe", "object", "head", "nav",
    "footer", "aside", "form", "button", "select",
})  # fmt: skip
_BLOCK_TAGS: Final = frozenset({
    "p", "div", "section", "article", "main", "header", "blockquote", "figure", "figcaption", "dl", "dt", "dd",
    "ul", "ol", "table", "thead", "tbody", "tfoot", "caption", "address", "details", "summary", "hr",
})  # fmt: skip
_HEADINGS: Final = {f"h{level}": level for level in range(1, 7)}
_MAX_DEPTH: Final = 200


class _HtmlText:
    """Renders an HTML tree as text: headings as ``#`` lines, blocks as paragraphs, list items and table rows."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.inline: list[str] = []
        self.bullet = ""

    def flush(self) -> None:
        text = " ".join("".join(self.inline).split())
        self.inline.clear()
        if text:
            self.lines.append(self.bullet + text)
            self.bullet = ""

    def walk(self, node: LexborNode, depth: int = 0) -> None:
        for child in node.iter(include_text=True):
            tag = child.tag or ""
            if tag == "-text":
                self.inline.append(child.text_content or "")
            elif tag in _SKIP_TAGS:
                continue
            elif depth > _MAX_DEPTH:  # absurdly deep markup: keep its text, not its structure
                self.inline.append(child.text(separator=" "))
            elif tag in _HEADINGS:
                self.flush()
                title = " ".join(child.text(separator=" ").split())
                self.lines += ["", f"{'#' * _HEADINGS[tag]} {title}", ""] if title else []
            elif tag == "tr":
                self.flush()
                cells = [" ".join(c.text(separator=" ").split()) for c in child.iter() if c.tag in ("td", "th")]
                self.lines += [" | ".join(cells)] if any(cells) else []
            else:
                self._element(child, tag, depth)

    def _element(self, child: LexborNode, tag: str, depth: int) -> None:
        if tag == "br":
            self.flush()
        elif tag == "pre":
            self.flush()
            self.lines += ["", child.text(), ""]
        elif tag == "li":
            self.flush()
            self.bullet = "- "
            self.walk(child, depth + 1)
            self.flush()
            self.bullet = ""
        elif tag in _BLOCK_TAGS:
            self.flush()
            self.walk(child, depth + 1)
            self.flush()
            self.lines.append("")
        else:
            self.walk(child, depth + 1)


def _html(src: Source) -> list[LoadedPart]:
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(src.text())
    title_node = tree.css_first("title")
    title = " ".join(title_node.text().split()) if title_node is not None else ""
    root = tree.css_first("main") or tree.body or tree.root
    renderer = _HtmlText()
    if root is not None:
        renderer.walk(root)
        renderer.flush()
    return _part("\n".join(renderer.lines), "html", **({"title": title} if title else {}))


PARSERS: Final[dict[str, Callable[[Source], list[LoadedPart]]]] = {
    "txt": _text,
    "md": _markdown,
    "html": _html,
    "pdf": _pdf,
    "docx": _docx,
    "csv": _csv,
    "xlsx": _xlsx,
    "json": _json,
    "jsonl": _jsonl,
}
"""The parser of each format ``loaders.detect_format`` can name."""
