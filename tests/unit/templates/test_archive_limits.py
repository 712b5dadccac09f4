"""Template archives and sources: bounded inflation, no links or traversal, one error for missing and forbidden."""

from __future__ import annotations

import gzip
import io
import json
import struct
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from rivulet.lib.exceptions import ValidationError
from rivulet.templates.fetch import Fetcher, FetchError
from rivulet.templates.index import TemplateCatalog, build_index
from rivulet.templates.package import load_package, package_archive, read_package_bytes, sha256_hex
from rivulet.templates.sources import BUILTIN_TEMPLATES

ROUTER = BUILTIN_TEMPLATES / "ticket-router"


def zip_bomb(inflated: int, declared: int = 10) -> bytes:
    """A zip whose ``flows/main.json`` declares ``declared`` bytes but inflates to ``inflated`` zero bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manifest.json", b'{"name": "bomb"}')
        info = zipfile.ZipInfo("flows/main.json")
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w") as entry:
            chunk = b"\0" * 1_000_000
            for _ in range(inflated // len(chunk)):
                entry.write(chunk)
    data = bytearray(buffer.getvalue())
    name = b"flows/main.json"
    for signature, name_at, size_at in ((b"PK\x03\x04", 30, 22), (b"PK\x01\x02", 46, 24)):
        at = data.find(signature)
        while at >= 0:
            length = struct.unpack_from("<H", data, at + name_at - 4 if signature == b"PK\x03\x04" else at + 28)[0]
            if data[at + name_at : at + name_at + length] == name:
                struct.pack_into("<I", data, at + size_at, declared)
            at = data.find(signature, at + 4)
    return bytes(data)


def _tar_gz(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as archive:
        for info, content in members:
            archive.addfile(info, io.BytesIO(content) if content is not None else None)
    return gzip.compress(raw.getvalue())


def test_a_zip_entry_is_inflated_no_further_than_it_declares() -> None:
    bomb = zip_bomb(300_000_000)  # 300 MB of zeros in ~300 kB, declared as 10 B
    started = time.perf_counter()
    with pytest.raises(ValidationError, match=r"archive entry 'flows/main\.json' is corrupt"):
        read_package_bytes(bomb)
    assert time.perf_counter() - started < 0.5  # inflating all of it takes over a second


def test_a_zip_entry_declaring_a_huge_size_is_refused_before_reading() -> None:
    with pytest.raises(ValidationError, match=r"archive entry 'flows/main\.json' declares 2000000000 bytes"):
        read_package_bytes(zip_bomb(1_000_000, declared=2_000_000_000))


def test_a_zip_entry_inflating_past_the_ratio_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"inflates more than 200 times"):
        read_package_bytes(zip_bomb(5_000_000, declared=5_000_000))


def test_a_tar_gz_stops_inflating_at_its_ratio_limit() -> None:
    info = tarfile.TarInfo("pkg/data/zeros.bin")
    info.size = 9_000_000  # under the entry limit, 9 MB of zeros that gzip packs into ~9 kB
    bomb = _tar_gz([(info, b"\0" * info.size)])
    with pytest.raises(ValidationError, match=r"archive inflates to more than 1[0-9]{6} bytes"):
        read_package_bytes(bomb)


def test_tar_entries_are_checked_by_their_declared_size_count_and_kind() -> None:
    big = tarfile.TarInfo("pkg/big.json")
    big.size = 20_000_000
    with pytest.raises(ValidationError, match=r"declares 20000000 bytes; at most 10000000"):
        read_package_bytes(_tar_gz([(big, b" " * big.size)]))
    link = tarfile.TarInfo("pkg/manifest.json")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    with pytest.raises(ValidationError, match=r"'pkg/manifest\.json' is a link or a special file"):
        read_package_bytes(_tar_gz([(link, None)]))
    many: list[tuple[tarfile.TarInfo, bytes | None]] = []
    for index in range(1001):
        info = tarfile.TarInfo(f"pkg/{index}.json")
        info.size = 2
        many.append((info, b"{}"))
    with pytest.raises(ValidationError, match="more than 1000 entries"):
        read_package_bytes(_tar_gz(many))


def test_packages_still_round_trip_through_both_formats() -> None:
    for fmt in ("tar.gz", "zip"):
        package = read_package_bytes(package_archive(load_package(ROUTER), fmt))  # type: ignore[arg-type]
        assert package.manifest.name == "ticket-router"


def test_a_link_in_a_package_directory_is_refused(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "manifest.json").write_text(json.dumps({"name": "pkg", "version": "1.0.0", "title": "P", "flows": []}))
    (package / "secret.json").symlink_to("/etc/passwd")
    with pytest.raises(ValidationError, match=r"pkg/secret\.json: links are not allowed in a package"):
        load_package(package)


def _source_with_index(tmp_path: Path, path: str, *, sha256: str | None = None) -> Path:
    source = tmp_path / "source"
    source.mkdir(exist_ok=True)
    version: dict[str, str] = {"version": "1.0.0", "path": path}
    if sha256 is not None:
        version["sha256"] = sha256
    index = {"packages": [{"name": "pkg", "versions": [version]}]}
    (source / "index.json").write_text(json.dumps(index))
    return source


def _message(exc: pytest.ExceptionInfo[ValidationError], path: str) -> str:
    return exc.value.detail.replace(path, "<path>")


async def test_index_paths_cannot_leave_their_source_and_errors_do_not_tell_what_exists(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "pkg").mkdir()
    (outside / "pkg" / "manifest.json").write_text("{}")
    archive = package_archive(load_package(ROUTER))
    (outside / "real.tar.gz").write_bytes(archive)
    messages: set[str] = set()
    for path in ("../outside/pkg", "../outside/real.tar.gz", "/etc", "../outside/missing", "missing"):
        source = _source_with_index(tmp_path, path, sha256=sha256_hex(archive) if "real" in path else None)
        catalog = TemplateCatalog([("s", str(source))], Fetcher())
        with pytest.raises(ValidationError) as caught:
            await catalog.open("pkg")
        messages.add(_message(caught, path))
    assert messages == {"<path>: no readable template package or index there"}


async def test_a_file_index_can_only_point_inside_its_own_directory(tmp_path: Path) -> None:
    archive = package_archive(load_package(ROUTER))
    (tmp_path / "real.tar.gz").write_bytes(archive)
    source = _source_with_index(tmp_path, "../real.tar.gz", sha256=sha256_hex(archive))
    catalog = TemplateCatalog([("s", (source / "index.json").as_uri())], Fetcher())
    with pytest.raises(ValidationError, match=r"\.\./real\.tar\.gz: no readable template package or index there"):
        await catalog.open("pkg")
    index = {"packages": [{"name": "pkg", "versions": [{"version": "1.0.0", "url": "file:///etc/hostname"}]}]}
    (source / "index.json").write_text(json.dumps(index))
    with pytest.raises(ValidationError, match=r"file:///etc/hostname: no readable template package or index there"):
        await catalog.open("pkg")
    (source / "real.tar.gz").write_bytes(archive)  # inside its directory: fine
    _source_with_index(tmp_path, "real.tar.gz", sha256=sha256_hex(archive))
    assert (await catalog.open("pkg")).manifest.name == "ticket-router"


async def test_a_file_url_error_is_the_same_for_missing_and_unreadable_files(tmp_path: Path) -> None:
    fetcher = Fetcher()
    texts: set[str] = set()
    for target in (tmp_path / "missing.json", tmp_path, Path("/proc/self/mem")):
        with pytest.raises(FetchError) as caught:
            await fetcher.fetch(target.as_uri())
        texts.add(caught.value.detail.replace(target.as_uri(), "<url>"))
    assert texts == {"<url>: no readable file there"}


async def test_a_directory_listing_skips_links_out_and_refuses_bombs_quickly(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "router.tar.gz").write_bytes(package_archive(load_package(ROUTER)))
    (source / "elsewhere").symlink_to(BUILTIN_TEMPLATES / "json-reshape")
    catalog = TemplateCatalog([("s", str(source))], Fetcher())
    assert [item.name for item in await catalog.list()] == ["ticket-router"]
    (source / "bomb.zip").write_bytes(zip_bomb(300_000_000))
    started = time.perf_counter()
    with pytest.raises(ValidationError, match=r"archive entry 'flows/main\.json' is corrupt"):
        await catalog.list()
    assert time.perf_counter() - started < 0.5


def test_build_index_is_unchanged() -> None:
    index = build_index([(load_package(ROUTER).manifest, "router", None)])
    assert index.packages[0].versions[0].path == "router"
