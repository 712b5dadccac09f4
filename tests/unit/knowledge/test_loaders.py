"""Loaders: real files of every format, generated here, come out as text with page/sheet/record metadata."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING

import pytest

from rivulet.knowledge import _parsers
from rivulet.knowledge.chunkers import chunk_parts
from rivulet.knowledge.loaders import FORMATS, LoadError, detect_format, load_bytes, load_path
from rivulet.lib.exceptions import ValidationError
from rivulet.sdk.knowledge import ChunkingConfig
from tests.unit.knowledge.documents import (
    add_zip_member,
    make_docx,
    make_encrypted_pdf,
    make_pdf,
    make_xlsx,
    make_zip,
)

if TYPE_CHECKING:
    from pathlib import Path

HTML = """<!doctype html>
<html><head><title>Widget  Guide</title><style>body { color: red }</style><script>var x = "hidden";</script></head>
<body>
<nav><a href="/">Home</a> | <a href="/docs">Docs</a></nav>
<main>
  <h1>Widget Guide</h1>
  <p>Widgets make <b>everything</b>
     better.<br>Second line.</p>
  <h2>Install</h2>
  <ul><li>Download the widget</li><li><p>Run the installer</p></li></ul>
  <pre>pip install widget
  widget --init</pre>
  <table><tr><th>Size</th><th>Price</th></tr><tr><td>Small</td><td>3 EUR</td></tr></table>
  <!-- a comment that is no content -->
</main>
<footer>Copyright widgets inc</footer>
</body></html>"""


def test_txt_utf8_with_bom_and_crlf() -> None:
    [part] = load_bytes("\ufeffFirst line\r\nSecond line\r\n\r\n\r\n\r\nThird\x00 paragraph".encode(), name="notes.txt")
    assert part.text == "First line\nSecond line\n\nThird paragraph"
    assert part.metadata == {"format": "txt"}


def test_txt_in_a_legacy_charset_is_detected() -> None:
    text = "Le café est très bon. Où est la gare? Les élèves étudient à l'école près du théâtre."
    [part] = load_bytes(text.encode("cp1252"), name="lettre.txt")
    assert part.text == text


def test_declared_charset_decodes_text() -> None:
    [part] = load_bytes("Grüße".encode("latin-1"), name="page", content_type="text/plain; charset=ISO-8859-1")
    assert part.text == "Grüße"


def test_markdown_keeps_its_headings() -> None:
    [part] = load_bytes(b"# Guide\n\nIntro.\n\n## Install\n\nRun it.\n", name="README.md")
    assert part.text == "# Guide\n\nIntro.\n\n## Install\n\nRun it."
    assert part.metadata["format"] == "md"


def test_html_main_text_with_markdown_headings() -> None:
    [part] = load_bytes(HTML.encode(), name="guide.html")
    assert part.metadata == {"format": "html", "title": "Widget Guide"}
    assert part.text.startswith("# Widget Guide\n\nWidgets make everything better.\nSecond line.\n\n## Install\n\n")
    assert "- Download the widget\n- Run the installer" in part.text
    assert "pip install widget\n  widget --init" in part.text
    assert "Size | Price\nSmall | 3 EUR" in part.text
    for hidden in ("color: red", "hidden", "Home", "Copyright", "comment"):
        assert hidden not in part.text


def test_html_without_main_uses_the_body_and_survives_deep_nesting() -> None:
    deep = "<div>" * 400 + "deep text" + "</div>" * 400
    [part] = load_bytes(f"<html><body><h3>Title</h3>{deep}</body></html>".encode(), name="x.htm")
    assert part.text == "### Title\n\ndeep text"


def test_pdf_one_part_per_page() -> None:
    data = make_pdf(["Apples are red.", "", "The refund policy lasts 30 days."], title="Handbook")
    parts = load_bytes(data, name="handbook.pdf")
    assert [p.text for p in parts] == ["Apples are red.", "The refund policy lasts 30 days."]
    assert [p.metadata["page"] for p in parts] == [1, 3]  # the empty page gives no part
    assert parts[1].metadata == {"format": "pdf", "page": 3, "pages": 3, "title": "Handbook"}


def test_pdf_with_only_an_owner_password_opens() -> None:
    [part] = load_bytes(make_encrypted_pdf(["Open to read."], user_password=""), name="owner.pdf")
    assert part.text == "Open to read."


def test_docx_headings_lists_and_tables() -> None:
    data = make_docx(
        [
            ("h1", "Employee Handbook"),
            ("p", "Welcome aboard."),
            ("h2", "Leave"),
            ("bullet", "Annual leave is 25 days"),
            ("bullet", "Sick leave needs a note"),
            ("table", [["Type", "Days"], ["Annual", "25"]]),
            ("h3", "Parental"),
            ("p", "Sixteen weeks."),
        ],
        title="Handbook",
    )
    [part] = load_bytes(data, name="handbook.docx")
    assert part.metadata == {"format": "docx", "title": "Handbook"}
    assert part.text == (
        "# Employee Handbook\n\nWelcome aboard.\n\n## Leave\n\n- Annual leave is 25 days\n- Sick leave needs a note\n\n"
        "Type | Days\nAnnual | 25\n\n### Parental\n\nSixteen weeks."
    )


def test_xlsx_one_part_per_sheet_rows_as_column_value_lines() -> None:
    data = make_xlsx(
        {
            "Q1": [
                ["Region", "Revenue", "Closed"],
                ["North", 120.0, dt.date(2024, 3, 31)],
                [None, None],
                ["South", 80],
            ],
            "Empty": [],
            "Q2": [["Region", "Revenue"], ["East", 99.5, "extra"]],
        }
    )
    parts = load_bytes(data, name="sales.xlsx")
    assert [p.metadata for p in parts] == [{"format": "xlsx", "sheet": "Q1"}, {"format": "xlsx", "sheet": "Q2"}]
    assert parts[0].text == "Region: North\nRevenue: 120\nClosed: 2024-03-31T00:00:00\n\nRegion: South\nRevenue: 80"
    assert parts[1].text == "Region: East\nRevenue: 99.5\ncolumn 3: extra"


@pytest.mark.parametrize(
    ("name", "data"),
    [("people.csv", b"name,city\nAda,London\nLinus,Helsinki\n"), ("people.tsv", b"name\tcity\nAda\tLondon\n")],
)
def test_csv_and_tsv_rows(name: str, data: bytes) -> None:
    [part] = load_bytes(data, name=name)
    assert part.text.startswith("name: Ada\ncity: London")
    assert part.metadata == {"format": "csv"}


def test_csv_with_semicolons_and_quotes() -> None:
    [part] = load_bytes(b'id;note\n1;"a; b"\n2;plain\n', name="notes.csv")
    assert part.text == "id: 1\nnote: a; b\n\nid: 2\nnote: plain"


def test_json_list_gives_one_part_per_record() -> None:
    data = json.dumps([{"q": "What is RAG?", "a": "Retrieval"}, "plain string", {"n": 1}]).encode()
    parts = load_bytes(data, name="faq.json")
    assert [p.metadata for p in parts] == [{"format": "json", "record": i} for i in range(3)]
    assert parts[0].text == '{\n  "q": "What is RAG?",\n  "a": "Retrieval"\n}'
    assert parts[1].text == "plain string"


def test_json_object_is_one_pretty_part_and_jsonl_one_per_line() -> None:
    [part] = load_bytes(b'{"name": "caf\xc3\xa9", "tags": ["a"]}', name="config.json")
    assert part.text == '{\n  "name": "café",\n  "tags": [\n    "a"\n  ]\n}'
    parts = load_bytes(b'{"a": 1}\n\n{"a": 2}\n', name="events.jsonl")
    assert [(p.text, p.metadata["record"]) for p in parts] == [('{\n  "a": 1\n}', 0), ('{\n  "a": 2\n}', 1)]


def test_empty_documents_have_no_parts() -> None:
    assert load_bytes(b"  \n\n ", name="empty.txt") == []
    assert load_bytes(b"[]", name="empty.json") == []


@pytest.mark.parametrize(
    ("name", "content_type", "data", "expected"),
    [
        ("report", "application/pdf", make_pdf(["x"]), "pdf"),
        ("download", "text/html; charset=utf-8", b"hello", "html"),
        ("blob", None, make_pdf(["x"]), "pdf"),
        ("blob", "application/octet-stream", make_docx([("p", "x")]), "docx"),
        ("blob", None, make_xlsx({"S": [["a"], [1]]}), "xlsx"),
        ("blob", None, b"<!DOCTYPE html><html><body>x</body></html>", "html"),
        ("blob", None, b' {"a": 1}', "json"),
        ("blob", None, b"{not json", "txt"),
        ("blob", None, "plain words, é".encode(), "txt"),
        ("blob", None, b"\x00\x01\x02\xff" * 20, None),
        ("blob", None, make_zip({"data/x.bin": b"x"}), None),
        ("notes.MD", "application/pdf", b"# x", "md"),  # the extension decides first
        ("https://example.com/files/report.pdf?version=2", None, b"", "pdf"),
        ("https://example.com/", "text/csv", b"a,b", "csv"),
    ],
)
def test_detect_format(name: str, content_type: str | None, data: bytes, expected: str | None) -> None:
    assert detect_format(data, name=name, content_type=content_type) == expected
    assert expected is None or expected in FORMATS


def test_every_format_loads_and_chunks() -> None:
    files = {
        "a.txt": b"refund policy in txt",
        "b.md": b"# Refunds\n\nrefund policy in md",
        "c.html": b"<h1>Refunds</h1><p>refund policy in html</p>",
        "d.pdf": make_pdf(["refund policy in pdf"]),
        "e.docx": make_docx([("h1", "Refunds"), ("p", "refund policy in docx")]),
        "f.csv": b"topic,text\nrefunds,refund policy in csv\n",
        "g.xlsx": make_xlsx({"Policies": [["topic", "text"], ["refunds", "refund policy in xlsx"]]}),
        "h.json": b'[{"text": "refund policy in json"}]',
        "i.jsonl": b'{"text": "refund policy in jsonl"}\n',
    }
    for name, data in files.items():
        chunks = chunk_parts(load_bytes(data, name=name), ChunkingConfig(strategy="markdown"))
        fmt = name.rsplit(".", 1)[1]
        assert [c for c in chunks if f"refund policy in {fmt}" in c.text], name
        assert all(c.metadata["format"] == fmt for c in chunks)


# --- errors name the file and say what is wrong ---


def _error(data: bytes, name: str) -> LoadError:
    with pytest.raises(LoadError) as info:
        load_bytes(data, name=name)
    error = info.value
    assert isinstance(error, ValidationError)
    assert error.status_code == 422
    assert error.code == "load_error"
    assert error.detail.startswith(f"{name}: ")
    assert error.extra["name"] == name
    return error


def test_corrupt_pdf() -> None:
    error = _error(b"%PDF-1.7\nthis is not really a pdf", "broken.pdf")
    assert error.extra == {"name": "broken.pdf", "format": "pdf", "reason": "corrupt"}
    assert "not a readable pdf file" in error.detail


def test_truncated_pdf() -> None:
    data = make_pdf(["Some text"])
    assert _error(data[: len(data) // 3], "cut.pdf").reason == "corrupt"


def test_encrypted_pdf() -> None:
    error = _error(make_encrypted_pdf(["secret"]), "locked.pdf")
    assert error.reason == "encrypted"
    assert "encrypted" in error.detail


def test_scanned_pdf_without_text() -> None:
    error = _error(make_pdf(["", ""]), "scan.pdf")
    assert error.reason == "no_text"
    assert "OCR" in error.detail


def test_zip_bomb_docx_is_refused_before_parsing() -> None:
    bomb = add_zip_member(make_docx([("p", "hello")]), "word/media/zeros.bin", b"\x00" * 5_000_000)
    error = _error(bomb, "bomb.docx")
    assert error.extra == {"name": "bomb.docx", "format": "docx", "reason": "zip_bomb"}
    assert "word/media/zeros.bin expands" in error.detail


def test_office_file_expanding_past_the_total_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_parsers, "MAX_UNZIPPED_BYTES", 10_000)
    data = make_xlsx({"S": [["a"], *([[f"row {i} " * 20] for i in range(200)])]})
    error = _error(data, "big.xlsx")
    assert error.reason == "zip_bomb"
    assert "10000 bytes" in error.detail


def test_docx_that_is_not_a_word_document() -> None:
    error = _error(make_zip({"word/other.xml": b"<x/>"}), "odd.docx")
    assert error.reason == "corrupt"
    assert "not a readable docx file" in error.detail
    assert _error(b"PK\x03\x04 not a zip at all", "broken.docx").reason == "corrupt"


def test_legacy_or_password_protected_office_files() -> None:
    error = _error(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "protected.xlsx")
    assert error.reason == "unsupported"
    assert "password-protected or pre-2007 Office file" in error.detail


def test_corrupt_xlsx() -> None:
    assert _error(make_zip({"xl/workbook.xml": b"<broken"}), "broken.xlsx").reason == "corrupt"


def test_unknown_binary_names_the_supported_formats() -> None:
    error = _error(bytes(range(256)) * 4, "image.bin")
    assert error.extra == {"name": "image.bin", "format": None, "reason": "unsupported"}
    assert "unsupported document format (unknown binary data)" in error.detail
    assert ".pdf" in error.detail
    with pytest.raises(LoadError, match="content type image/png"):
        load_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00", name="logo", content_type="image/png")


def test_invalid_json_and_jsonl() -> None:
    assert _error(b'{"a": ', "bad.json").reason == "corrupt"
    error = _error(b'{"a": 1}\n{oops}\n', "bad.jsonl")
    assert "line 2" in error.detail


def test_row_and_record_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_parsers, "MAX_ROWS", 3)
    rows = b"n\n" + b"".join(f"{i}\n".encode() for i in range(5))
    assert _error(rows, "many.csv").reason == "too_large"
    assert _error(make_xlsx({"A": [["n"], [1], [2]], "B": [["n"], [3], [4]]}), "many.xlsx").reason == "too_large"
    assert _error(b"[1, 2, 3, 4]", "many.json").reason == "too_large"
    assert "more than 3" in _error(b"1\n2\n3\n4\n", "many.jsonl").detail


def test_page_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_parsers, "MAX_PAGES", 2)
    error = _error(make_pdf(["a", "b", "c"]), "long.pdf")
    assert error.reason == "too_large"
    assert "3 pages" in error.detail


# --- files on disk ---


async def test_load_path_reads_in_a_thread(tmp_path: Path) -> None:
    path = tmp_path / "handbook.pdf"
    path.write_bytes(make_pdf(["Page one.", "Page two."]))
    parts = await load_path(path)
    assert [(p.text, p.metadata["page"]) for p in parts] == [("Page one.", 1), ("Page two.", 2)]
    broken = tmp_path / "upload-1234.tmp"
    broken.write_bytes(b"%PDF-1.7 broken")
    with pytest.raises(LoadError, match=r"^report\.pdf: not a readable pdf file"):
        await load_path(broken, name="report.pdf")


async def test_load_path_errors(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match=r"^missing\.txt: cannot read the file") as info:
        await load_path(tmp_path / "missing.txt")
    assert info.value.reason == "unreadable"
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 101)
    with pytest.raises(LoadError, match=r"^big\.txt: larger than the limit of 100 bytes"):
        await load_path(big, max_bytes=100)
