"""Package format: manifest validation, directories and archives, digests, the index and version ranges."""

from __future__ import annotations

import io
import json
import tarfile
from typing import TYPE_CHECKING

import msgspec
import pytest

from rivulet.lib.exceptions import ValidationError
from rivulet.templates.importer import version_in_range
from rivulet.templates.index import build_index, decode_index, version_key
from rivulet.templates.package import (
    decode_manifest,
    load_package,
    package_archive,
    read_package_bytes,
    sha256_hex,
    write_package_dir,
)
from rivulet.templates.sources import BUILTIN_TEMPLATES

if TYPE_CHECKING:
    from pathlib import Path

ROUTER = BUILTIN_TEMPLATES / "ticket-router"


def test_every_builtin_package_loads_and_lists_its_operators() -> None:
    directories = [d for d in sorted(BUILTIN_TEMPLATES.iterdir()) if d.is_dir()]
    assert len(directories) >= 6
    for directory in directories:
        package = load_package(directory)
        assert package.manifest.name == directory.name
        declared = {r.id for r in package.manifest.operators}
        used = {n.operator for flow in package.flows.values() for n in flow.nodes}
        assert used == declared, directory.name


@pytest.mark.parametrize("fmt", ["tar.gz", "zip"])
def test_archive_roundtrip_is_reproducible(fmt: str, tmp_path: Path) -> None:
    package = load_package(BUILTIN_TEMPLATES / "json-reshape")
    archive = package_archive(package, fmt)  # type: ignore[arg-type]
    assert package_archive(package, fmt) == archive  # type: ignore[arg-type]
    loaded = read_package_bytes(archive, expected_sha256=sha256_hex(archive))
    assert loaded.manifest == package.manifest
    assert loaded.flows == package.flows
    assert loaded.data == package.data
    written = write_package_dir(loaded, tmp_path / "copy")
    assert load_package(written).manifest == package.manifest


def test_wrong_digest_is_refused_before_reading() -> None:
    archive = package_archive(load_package(ROUTER))
    with pytest.raises(ValidationError, match=r"sha256 mismatch: expected 0{64}, got [0-9a-f]{64}"):
        read_package_bytes(archive, expected_sha256="0" * 64)


def test_unsafe_archive_paths_are_refused() -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("../evil.json")
        info.size = 2
        archive.addfile(info, io.BytesIO(b"{}"))
    with pytest.raises(ValidationError, match=r"unsafe path '\.\./evil\.json'"):
        read_package_bytes(buffer.getvalue())
    with pytest.raises(ValidationError, match=r"not a \.tar\.gz or \.zip archive"):
        read_package_bytes(b"plain text")


def test_manifest_errors_are_located(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"manifest.json \$.version") as caught:
        decode_manifest(b'{"name": "x", "version": "one", "title": "X", "flows": ["flows/a.json"]}')
    assert caught.value.extra["errors"][0]["path"] == "manifest.json $.version"
    with pytest.raises(ValidationError, match="Object contains unknown field `colour`"):
        decode_manifest(b'{"name": "x", "version": "1.0.0", "title": "X", "flows": ["f.json"], "colour": 1}')
    broken = tmp_path / "pkg"
    broken.mkdir()
    manifest = json.loads((ROUTER / "manifest.json").read_text())
    (broken / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValidationError, match=r"manifest lists 'flows/main\.json' but the package has no such file"):
        load_package(broken)
    (broken / "flows").mkdir()
    (broken / "flows" / "main.json").write_text('{"name": "x", "nodes": [{"id": "a"}]}')
    with pytest.raises(ValidationError, match=r"flows/main.json: invalid flow document.*\$.nodes\[0\]"):
        load_package(broken)


def test_index_groups_versions_newest_first() -> None:
    manifest = load_package(ROUTER).manifest
    older = msgspec.structs.replace(manifest, version="0.9.0")
    pre = msgspec.structs.replace(manifest, version="1.0.0-rc.1")
    index = build_index([(older, "a", "0" * 64), (manifest, "b", "1" * 64), (pre, "c", "2" * 64)])
    assert [v.version for v in index.packages[0].versions] == ["1.0.0", "1.0.0-rc.1", "0.9.0"]
    assert decode_index(msgspec.json.encode(index)) == index
    assert version_key("1.10.0") > version_key("1.9.3")
    with pytest.raises(ValidationError, match="invalid template index"):
        decode_index(b'{"packages": [{"name": "x", "versions": []}]}')


@pytest.mark.parametrize(
    ("version", "spec", "ok"),
    [(1, "*", True), (2, "2", True), (2, "1", False), (2, ">=1,<3", True), (3, ">=1,<3", False), (1, "> 1", False)],
)
def test_version_ranges(version: int, spec: str, ok: bool) -> None:
    assert version_in_range(version, spec) is ok


@pytest.mark.parametrize("fmt", ["tar.gz", "zip"])
def test_archives_that_unpack_too_large_are_refused(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from rivulet.templates import package as package_module

    archive = package_archive(load_package(ROUTER), fmt)  # type: ignore[arg-type]
    monkeypatch.setattr(package_module, "MAX_UNPACKED_BYTES", 100)
    with pytest.raises(ValidationError, match="archive unpacks to more than 100 bytes"):
        read_package_bytes(archive)
