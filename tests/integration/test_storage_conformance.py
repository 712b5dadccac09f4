"""One behavioural suite for every ``FlowStore`` implementation (memory and PostgreSQL)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec
import pytest

from rivulet.compiler.flow import Edge, FlowDocument, FlowMetadata, Node, Position
from rivulet.lib.exceptions import ConflictError, NotFoundError
from rivulet.storage.memory import MemoryFlowStore
from rivulet.storage.postgres.flows import PostgresFlowStore

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

    from rivulet.storage.base import FlowStore


@pytest.fixture(params=["memory", "postgres"])
async def store(request: pytest.FixtureRequest, pool: AsyncConnectionPool) -> FlowStore:
    return MemoryFlowStore() if request.param == "memory" else PostgresFlowStore(pool)


def make_doc(name: str = "demo", nodes: int = 2, tags: tuple[str, ...] = ("rag",)) -> FlowDocument:
    ns = [
        Node(id=f"n{i}", operator="core.constant", params={"value": i}, position=Position(x=i * 10, y=0))
        for i in range(nodes)
    ]
    es = [
        Edge(id=f"e{i}", source=f"n{i}", source_port="value", target=f"n{i + 1}", target_port="value")
        for i in range(nodes - 1)
    ]
    return FlowDocument(name=name, nodes=ns, edges=es, metadata=FlowMetadata(tags=list(tags)))


async def test_create_assigns_id_and_version_one(store: FlowStore) -> None:
    record = await store.create(make_doc(), message="first")
    assert record.summary.id
    assert record.summary.version == 1
    assert record.document.id == record.summary.id
    assert record.document.version == 1
    assert record.summary.node_count == 2
    assert record.summary.tags == ["rag"]
    assert [n.params for n in record.document.nodes] == [{"value": 0}, {"value": 1}]


async def test_create_with_explicit_id_and_conflict(store: FlowStore) -> None:
    doc = msgspec.structs.replace(make_doc(), id="fixed-id")
    assert (await store.create(doc)).summary.id == "fixed-id"
    with pytest.raises(ConflictError):
        await store.create(doc)


async def test_save_appends_versions_and_keeps_old_ones(store: FlowStore) -> None:
    created = await store.create(make_doc(nodes=1))
    fid = created.summary.id
    saved = await store.save(fid, make_doc(name="renamed", nodes=3), message="grow")
    assert saved.summary.version == 2
    assert saved.summary.name == "renamed"
    versions = await store.list_versions(fid)
    assert [v.version for v in versions] == [2, 1]
    assert versions[0].message == "grow"
    first = await store.get_version(fid, 1)
    assert len(first.document.nodes) == 1
    assert (await store.get(fid)).document.name == "renamed"


async def test_optimistic_concurrency(store: FlowStore) -> None:
    fid = (await store.create(make_doc())).summary.id
    await store.save(fid, make_doc(name="a"), base_version=1)
    with pytest.raises(ConflictError) as info:
        await store.save(fid, make_doc(name="b"), base_version=1)
    assert info.value.extra["latest_version"] == 2
    assert (await store.get(fid)).document.name == "a"


async def test_not_found_everywhere(store: FlowStore) -> None:
    for call in (
        store.get("missing"),
        store.save("missing", make_doc()),
        store.delete("missing"),
        store.list_versions("missing"),
        store.get_version("missing", 1),
    ):
        with pytest.raises(NotFoundError):
            await call
    fid = (await store.create(make_doc())).summary.id
    with pytest.raises(NotFoundError):
        await store.get_version(fid, 9)


async def test_list_orders_by_update_and_filters(store: FlowStore) -> None:
    a = (await store.create(make_doc(name="Alpha report"))).summary.id
    b = (await store.create(make_doc(name="beta_test"))).summary.id
    await store.save(a, make_doc(name="Alpha report"))
    assert [s.id for s in await store.list()] == [a, b]
    assert [s.id for s in await store.list(search="ALPHA")] == [a]
    assert [s.id for s in await store.list(search="a_t")] == [b]  # underscore is literal, not a wildcard
    assert [s.id for s in await store.list(search="%")] == []
    assert [s.id for s in await store.list(limit=1, offset=1)] == [b]


async def test_delete_removes_versions(store: FlowStore) -> None:
    fid = (await store.create(make_doc())).summary.id
    await store.delete(fid)
    with pytest.raises(NotFoundError):
        await store.get(fid)
    with pytest.raises(NotFoundError):
        await store.list_versions(fid)
    assert await store.list() == []


async def test_document_round_trips_exactly(store: FlowStore) -> None:
    doc = make_doc(nodes=4)
    record = await store.create(doc)
    expected = msgspec.structs.replace(doc, id=record.summary.id, version=1)
    assert record.document == expected
    assert (await store.get_version(record.summary.id, 1)).document == expected


async def test_write_many_is_all_or_nothing(store: FlowStore) -> None:
    existing = await store.create(make_doc("old"))
    records = await store.write_many(
        [make_doc("a"), make_doc("b")], [(existing.summary.id, make_doc("old v2"))], message="batch"
    )
    assert [r.summary.name for r in records] == ["a", "b", "old v2"]
    assert records[2].summary.version == 2
    assert (await store.list_versions(records[0].summary.id))[0].message == "batch"
    taken = msgspec.structs.replace(make_doc("dup"), id=existing.summary.id)
    with pytest.raises(ConflictError):
        await store.write_many([make_doc("c"), taken])
    with pytest.raises(NotFoundError):
        await store.write_many([make_doc("d")], [("ghost", make_doc("e"))])
    assert sorted(s.name for s in await store.list()) == ["a", "b", "old v2"]
