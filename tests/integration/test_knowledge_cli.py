"""``rivulet kb create|add|list|search|delete`` against a real database with the real local embedding model."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

import pytest

from rivulet.cli.main import main

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, db_url: str, tmp_path: Path) -> None:
    monkeypatch.setenv("RIVULET_DATABASE_URL", db_url)
    monkeypatch.setenv("RIVULET_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RIVULET_LOG_LEVEL", "warning")


async def kb(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, ["kb", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.usefixtures("cli_env")
async def test_create_add_search_list_delete(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    docs = tmp_path / "docs"
    (docs / "howto").mkdir(parents=True)
    (docs / "passwords.txt").write_text("To reset your password open Settings, then Security, then Reset password.")
    (docs / "howto" / "bikes.md").write_text("# Bikes\n\nOil the chain of your bicycle every two weeks in winter.\n")
    (docs / ".hidden").write_text("never ingested")
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\nnot really a pdf\n%%EOF")

    code, out, err = await kb(capsys, "create", "team", "--description", "team docs", "--chunk-size", "120")
    assert code == 0, err
    assert out == "created: space 'team' (default-embedding; recursive chunks of 120 tokens, overlap 30)\n"
    code, _, err = await kb(capsys, "create", "bad", "--chunk-size", "50", "--chunk-overlap", "60")
    assert code == 2
    assert err.startswith("rivulet: error: space 'bad': chunk_overlap (60) must be smaller than chunk_size (50)")

    code, out, err = await kb(capsys, "add", "team", str(docs))
    assert code == 0, err
    lines = sorted(out.splitlines())
    assert [line.split(" (")[0] for line in lines] == ["added: howto/bikes.md", "added: passwords.txt"]
    assert all(line.endswith((" chunk)", " chunks)")) for line in lines)

    code, out, err = await kb(capsys, "add", "team", str(docs), str(broken))
    assert code == 1
    lines = out.splitlines()
    assert "unchanged: howto/bikes.md" in lines
    assert "unchanged: passwords.txt" in lines
    [failure] = [line for line in lines if line.startswith("failed: ")]
    assert failure.startswith("failed: broken.pdf: "), failure
    assert "pdf" in failure.removeprefix("failed: broken.pdf: ").lower(), failure  # the loader's reason
    assert err.rstrip().endswith("rivulet: ingestion failed: 1 of 3 documents failed")
    code, _, err = await kb(capsys, "add", "team", str(tmp_path / "missing.txt"))
    assert (code, err.startswith("rivulet: error: ")) == (2, True)

    code, out, err = await kb(capsys, "search", "team", "how do I reset my password", "--json")
    assert code == 0, err
    hits = json.loads(out)
    assert hits[0]["source"] == "passwords.txt"
    assert "vector" in hits[0]["metadata"]["retrievers"]
    code, out, _ = await kb(capsys, "search", "team", "bicycle chain", "--mode", "vector", "--top-k", "1")
    assert code == 0
    header, row = out.splitlines()
    assert header.split() == ["#", "SCORE", "RETRIEVERS", "DOCUMENT", "TEXT"]
    assert row.split()[:4] == ["1", row.split()[1], "vector#1", "howto/bikes.md"]

    code, out, _ = await kb(capsys, "list")
    assert code == 0
    assert out.splitlines()[0].split() == ["NAME", "MODEL", "DOCUMENTS", "CHUNKS", "DESCRIPTION"]
    assert out.splitlines()[1].split()[:3] == ["team", "default-embedding", "3"]
    code, out, _ = await kb(capsys, "list", "team", "--json")
    documents = {d["name"]: d for d in json.loads(out)}
    assert {name: d["status"] for name, d in documents.items()} == {
        "broken.pdf": "failed",
        "howto/bikes.md": "ready",
        "passwords.txt": "ready",
    }
    assert documents["broken.pdf"]["error"]

    code, out, _ = await kb(capsys, "delete", "team", "broken.pdf")
    assert (code, out) == (0, "deleted: document 'broken.pdf' (space 'team')\n")
    code, out, _ = await kb(capsys, "delete", "team")
    assert (code, out) == (0, "deleted: space 'team'\n")
    code, out, err = await kb(capsys, "list")
    assert (code, out, err) == (0, "", "no knowledge spaces\n")
    code, _, err = await kb(capsys, "search", "team", "anything")
    assert code == 2
    assert "not found" in err
