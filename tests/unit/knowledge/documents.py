"""Real documents of every format, made in memory by the tests (fpdf2, python-docx, openpyxl), and broken ones."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from docx import Document
from fpdf import FPDF
from openpyxl import Workbook
from pypdf import PdfReader, PdfWriter


def make_pdf(pages: list[str], *, title: str | None = None) -> bytes:
    """A PDF with one page per text (the core Helvetica font: Latin-1 text)."""
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    if title:
        pdf.set_title(title)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def make_encrypted_pdf(pages: list[str], *, user_password: str = "secret") -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(pages))))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_docx(blocks: list[tuple[str, Any]], *, title: str | None = None) -> bytes:
    """A Word document from ``("h1".."h9" | "p" | "bullet" | "table", content)`` blocks."""
    document = Document()
    if title:
        document.core_properties.title = title
    for kind, content in blocks:
        if kind.startswith("h"):
            document.add_heading(content, level=int(kind[1:]))
        elif kind == "p":
            document.add_paragraph(content)
        elif kind == "bullet":
            document.add_paragraph(content, style="List Bullet")
        elif kind == "table":
            table = document.add_table(rows=len(content), cols=len(content[0]))
            for row, values in zip(table.rows, content, strict=True):
                for cell, value in zip(row.cells, values, strict=True):
                    cell.text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_xlsx(sheets: dict[str, list[list[Any]]]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def add_zip_member(data: bytes, name: str, content: bytes) -> bytes:
    """``data`` (a docx/xlsx) with one more member, deflated."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        target.writestr(name, content)
    return out.getvalue()


def make_zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()
