"""DataService end to end: real SQLite files and an embedded PostgreSQL database, the PostgreSQL stores, real
secrets, the real guard and connectors, and schema linking with the real local embedding model (all-MiniLM-L6-v2)
on a generated 60-table schema."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from typing import TYPE_CHECKING

import msgspec
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from rivulet.data.linking import space_name
from rivulet.data.samples import build_sample
from rivulet.data.service import DataOptions, DataService, password_secret_name
from rivulet.data.specs import DatasourceSpec, DatasourceUpdate, FileTable
from rivulet.knowledge.service import KnowledgeService
from rivulet.lib.exceptions import ConflictError, NotFoundError, PermissionDeniedError, SQLRefusedError, ValidationError
from rivulet.lib.secrets import SecretBox, load_secret_key
from rivulet.providers import MemoryModelStore, ModelService
from rivulet.sdk.data import QueryLimits, Text2SQLRequest
from rivulet.storage.postgres.auth import PostgresAuthStore
from rivulet.storage.postgres.data import PostgresDatasourceStore
from rivulet.storage.postgres.knowledge import PostgresKnowledgeStore
from rivulet.storage.postgres.secrets import PostgresSecretStore
from tests.unit.providers.fakes import FakeModels

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from psycopg_pool import AsyncConnectionPool

    from tests.conftest import LiveServer

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
async def models() -> AsyncIterator[ModelService]:
    service = ModelService(MemoryModelStore())
    yield service
    await service.close()


@pytest.fixture
async def data(pool: AsyncConnectionPool, models: ModelService, tmp_path: Path) -> AsyncIterator[DataService]:
    secrets = PostgresSecretStore(pool, SecretBox(load_secret_key(None, str(tmp_path))))
    knowledge = KnowledgeService(PostgresKnowledgeStore(pool), models)
    service = DataService(
        PostgresDatasourceStore(pool),
        secrets,
        models,
        knowledge,
        options=DataOptions(files_dir=tmp_path / "datasources"),
    )
    yield service
    await service.close()


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return build_sample(tmp_path / "shop.sqlite", "sqlite")


async def test_sqlite_source_create_test_schema_query_and_guard(data: DataService, shop: Path) -> None:
    record = await data.create(DatasourceSpec(name="shop", kind="sqlite", path=str(shop)), owner_id=None)
    assert record.config == {"path": str(shop.resolve())}
    assert record.secret_name is None
    test = await data.test("shop")
    assert test.ok, test.error
    assert test.tables >= 6

    schema = await data.schema("shop")
    assert schema.dialect == "sqlite"
    customers = schema.table("customers")
    assert customers is not None
    assert any(column.primary_key for column in customers.columns)
    assert (await data.get(record.id)).schema_refreshed_at is not None
    again = await data.schema("shop")
    assert again.refreshed_at == schema.refreshed_at  # cached

    table = await data.query("shop", "SELECT COUNT(*) AS n FROM customers")
    assert table.columns == ["n"]
    assert table.rows[0][0] > 0
    limited = await data.query("shop", "SELECT * FROM customers", limits=QueryLimits(max_rows=3))
    assert len(limited.rows) == 3
    assert limited.truncated

    bound = await data.query("shop", "SELECT first_name FROM customers WHERE customer_id = :id", params={"id": 1})
    assert len(bound.rows) == 1

    with pytest.raises(SQLRefusedError) as refused:
        await data.query("shop", "DELETE FROM customers")
    assert refused.value.extra["rule"] == "not_read_only"
    with pytest.raises(SQLRefusedError) as unknown:
        await data.guard("shop", "SELECT nmae FROM customers")
    assert unknown.value.extra["rule"] == "unknown_column"
    guarded = await data.guard("shop", "SELECT customer_id FROM customers", dialect="postgres", max_rows=10)
    assert guarded.dialect == "sqlite"
    assert guarded.limit == 11  # max_rows + 1: one more row says the result was truncated
    assert (
        data.transpile("SELECT `id` FROM t LIMIT 3", source="mysql", target="postgres") == 'SELECT "id" FROM t LIMIT 3'
    )

    info = await data.info("shop")
    assert (info.name, info.kind, info.dialect) == ("shop", "sqlite", "sqlite")


async def test_validation_is_located(data: DataService, tmp_path: Path, shop: Path) -> None:
    cases = [
        (DatasourceSpec(name="a", kind="sqlite"), "$.path"),
        (DatasourceSpec(name="a", kind="sqlite", path=str(tmp_path / "missing.db")), "$.path"),
        (DatasourceSpec(name="a", kind="postgres", host="h", user="u"), "$.database"),
        (DatasourceSpec(name="a", kind="mysql", database="d", user="u"), "$.host"),
        (DatasourceSpec(name="a", kind="sqlite", path=str(shop), password="x"), "$.password"),
        (DatasourceSpec(name="a", kind="file"), "$.files"),
        (DatasourceSpec(name="a", kind="file", files=[FileTable(path=str(tmp_path / "none.csv"))]), "$.files[0].path"),
        (DatasourceSpec(name="a", kind="file", files=[FileTable(path=str(shop))]), "$.files[0].format"),
    ]
    for spec, path in cases:
        with pytest.raises(ValidationError) as error:
            await data.create(spec, owner_id=None)
        assert error.value.extra["errors"][0]["path"] == path, (spec, error.value.detail)
    await data.create(DatasourceSpec(name="shop", kind="sqlite", path=str(shop)), owner_id=None)
    with pytest.raises(ConflictError):
        await data.create(DatasourceSpec(name="shop", kind="sqlite", path=str(shop)), owner_id=None)
    with pytest.raises(ValidationError) as error:
        await data.update("shop", DatasourceUpdate(path=str(tmp_path / "gone.db")))
    assert error.value.extra["errors"][0]["path"] == "$.path"


async def test_a_source_may_only_use_datasource_secrets(data: DataService) -> None:
    await data.secrets.set("openai.api_key", "sk-not-for-databases")
    spec = DatasourceSpec(
        name="exfil", kind="postgres", host="attacker.example", database="d", user="u", password_secret="openai.api_key"
    )
    with pytest.raises(ValidationError) as error:
        await data.create(spec, owner_id=None)
    assert error.value.extra["errors"][0]["path"] == "$.password_secret"
    assert "datasource." in error.value.detail
    with pytest.raises(NotFoundError):  # a datasource.* secret must exist
        await data.create(msgspec.structs.replace(spec, password_secret="datasource.none"), owner_id=None)
    await data.secrets.set("datasource.warehouse", "pw")
    record = await data.create(msgspec.structs.replace(spec, password_secret="datasource.warehouse"), owner_id=None)
    assert record.secret_name == "datasource.warehouse"
    with pytest.raises(ValidationError):
        await data.update("exfil", DatasourceUpdate(password_secret="openai.api_key"))


async def test_postgres_source_password_lives_only_in_the_secret_store(
    data: DataService, pool: AsyncConnectionPool, pg_url: str
) -> None:
    server = conninfo_to_dict(pg_url)
    database = f"ds_{uuid.uuid4().hex[:10]}"
    role = f"reader_{uuid.uuid4().hex[:8]}"
    password = f"pw-{uuid.uuid4().hex}"
    async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as conn:
        await conn.execute(f"CREATE DATABASE {database}")
        await conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    target = psycopg.conninfo.make_conninfo(pg_url, dbname=database)
    async with await psycopg.AsyncConnection.connect(target, autocommit=True) as conn:
        await conn.execute(
            "CREATE TABLE cities (id integer PRIMARY KEY, name text NOT NULL, population integer);"
            "COMMENT ON TABLE cities IS 'Cities and how many people live there';"
            "INSERT INTO cities VALUES (1, 'Paris', 2100000), (2, 'Lyon', 520000), (3, 'Nice', 340000);"
            f"GRANT SELECT ON cities TO {role}"
        )
    try:
        spec = DatasourceSpec(
            name="geo",
            kind="postgres",
            host=str(server.get("host") or "localhost"),
            port=int(server.get("port") or 5432),
            database=database,
            user=role,
            password=password,
        )
        record = await data.create(spec, owner_id=None)
        assert record.secret_name == password_secret_name("geo")
        assert password not in msgspec.json.encode(record).decode()
        assert password not in msgspec.json.encode(await data.list()).decode()
        assert await data.secrets.reveal(password_secret_name("geo")) == password
        test = await data.test("geo")
        assert test.ok, test.error
        schema = await data.schema("geo")
        assert schema.dialect == "postgres"
        cities = schema.table("cities")
        assert cities is not None
        assert cities.comment == "Cities and how many people live there"
        table = await data.query(
            "geo", "SELECT name FROM cities WHERE population > :n ORDER BY name", params={"n": 400_000}
        )
        assert table.rows == [["Lyon"], ["Paris"]]
        with pytest.raises(SQLRefusedError):
            await data.query("geo", "UPDATE cities SET population = 0")

        wrong = await data.update("geo", DatasourceUpdate(database="no_such_database_here"))
        assert wrong.config["database"] == "no_such_database_here"
        failed = await data.test("geo")
        assert not failed.ok
        assert password not in (failed.error or "")

        await data.delete("geo")
        with pytest.raises(NotFoundError):
            await data.get("geo")
        with pytest.raises(NotFoundError):
            await data.secrets.reveal(password_secret_name("geo"))
    finally:
        async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as conn:
            await conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
            await conn.execute(f"DROP ROLE IF EXISTS {role}")


async def test_uploads_make_and_extend_a_file_source_owned_by_the_uploader(
    data: DataService, pool: AsyncConnectionPool, tmp_path: Path
) -> None:
    auth = PostgresAuthStore(pool)
    u1 = (await auth.create_user("ada", "a-long-password-1")).id
    u2 = (await auth.create_user("bob", "a-long-password-2")).id
    first = tmp_path / "upload-1"
    first.write_text("city,visitors\nParis,10\nLyon,4\n")
    record = await data.add_upload(first, "Visitors 2024.csv", owner_id=u1)
    assert (record.kind, record.owner_id, record.name) == ("file", u1, "Visitors-2024")
    assert not first.exists()
    stored = tmp_path / "datasources" / record.id / "Visitors_2024.csv"
    assert stored.is_file()
    table = await data.query(record.name, "SELECT city FROM visitors_2024 WHERE visitors > 5")
    assert table.rows == [["Paris"]]

    second = tmp_path / "upload-2"
    second.write_text('[{"city": "Paris", "country": "France"}]')
    extended = await data.add_upload(second, "cities.json", owner_id=u1, name=record.name)
    assert extended.id == record.id
    joined = await data.query(
        record.name,
        "SELECT c.country, v.visitors FROM visitors_2024 AS v JOIN cities AS c ON c.city = v.city",
    )
    assert joined.rows == [["France", 10]]

    third = tmp_path / "upload-3"
    third.write_text("a\n1\n")
    with pytest.raises(PermissionDeniedError):
        await data.add_upload(third, "x.csv", owner_id=u2, name=record.name)
    again = await data.add_upload(third, "Visitors 2024.csv", owner_id=u2)
    assert again.name == "Visitors-2024-2"

    bad = tmp_path / "upload-4"
    bad.write_text("not a spreadsheet")
    with pytest.raises(ValidationError):
        await data.add_upload(bad, "notes.txt", owner_id=u1)

    await data.delete(record.name)
    assert not (tmp_path / "datasources" / record.id).exists()


DOMAINS: dict[str, list[tuple[str, str, list[str]]]] = {
    "hr": [
        ("departments", "Company departments", ["name text", "budget real"]),
        (
            "employees",
            "People employed by the company",
            ["full_name text", "hired_on date", "department_id -> departments"],
        ),
        (
            "salaries",
            "Monthly salary payments to employees",
            ["employee_id -> employees", "amount real", "paid_on date"],
        ),
    ],
    "hospital": [
        ("doctors", "Physicians and their speciality", ["name text", "speciality text"]),
        ("patients", "People treated at the hospital", ["name text", "birth_date date"]),
        (
            "appointments",
            "Visits of patients to doctors",
            ["doctor_id -> doctors", "patient_id -> patients", "visited_at date", "diagnosis text"],
        ),
    ],
    "library": [
        ("authors", "Writers of books", ["name text", "country text"]),
        ("books", "Books in the library catalogue", ["title text", "author_id -> authors", "published_year integer"]),
        ("members", "Library card holders", ["name text", "joined_on date"]),
        ("loans", "Books borrowed by members", ["book_id -> books", "member_id -> members", "borrowed_on date"]),
    ],
    "fleet": [
        ("drivers", "Truck drivers", ["name text", "licence_number text"]),
        ("vehicles", "Trucks of the fleet", ["plate text", "capacity_tons real"]),
        ("trips", "Deliveries driven", ["driver_id -> drivers", "vehicle_id -> vehicles", "distance_km real"]),
    ],
    "school": [
        ("students", "Pupils of the school", ["name text", "grade integer"]),
        ("courses", "Subjects taught", ["title text", "credits integer"]),
        ("enrollments", "Which student takes which course", ["student_id -> students", "course_id -> courses"]),
    ],
}
FILLER = [
    "weather_readings",
    "server_logs",
    "marketing_campaigns",
    "newsletter_subscribers",
    "warehouse_bins",
    "parking_permits",
    "energy_meters",
    "insurance_policies",
    "tax_rates",
    "currency_rates",
    "holidays",
    "support_tickets",
    "website_sessions",
    "ad_impressions",
    "survey_answers",
    "api_keys_audit",
    "feature_flags",
    "translations",
    "shipping_zones",
    "coupons",
    "gift_cards",
    "loyalty_points",
    "suppliers",
    "purchase_orders",
    "inventory_counts",
    "stores",
    "cash_registers",
    "shifts",
    "timesheets",
    "training_sessions",
    "certifications",
    "equipment",
    "maintenance_jobs",
    "rooms",
    "bookings",
    "events",
    "tickets",
    "venues",
    "sponsors",
    "press_releases",
    "social_posts",
    "followers",
    "playlists",
    "songs",
]


def build_wide_schema(path: Path) -> int:
    """Five small domains (each table: name, comment, columns written "name type" or "name -> table") and 44
    unrelated tables: 60 in all."""
    statements: list[str] = []
    count = 0
    for tables in DOMAINS.values():
        for name, comment, columns in tables:
            parts = ["id INTEGER PRIMARY KEY"]
            for column in columns:
                column_name, _, kind = column.partition(" ")
                if kind.startswith("-> "):
                    parts.append(f"{column_name} INTEGER REFERENCES {kind[3:]}(id)")
                else:
                    parts.append(f"{column_name} {kind}")
            statements.append(f"CREATE TABLE {name} ({', '.join(parts)}); -- {comment}")
            count += 1
    for name in FILLER:
        statements.append(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, label text, value real, recorded_on date)")
        count += 1
    con = sqlite3.connect(path)
    try:
        con.executescript(";\n".join(s.split("; --")[0] for s in statements) + ";")
    finally:
        con.close()
    return count


QUESTIONS = [
    ("Which doctor had the most appointments in 2024?", {"doctors", "appointments"}),
    ("What is the total salary paid per department?", {"salaries", "employees", "departments"}),
    ("How many books has each library member borrowed?", {"loans", "members"}),
    ("What is the average trip distance of each truck driver?", {"trips", "drivers"}),
    ("List the students enrolled in the course titled Physics", {"students", "enrollments", "courses"}),
]


async def test_linking_picks_the_relevant_tables_of_a_wide_schema(data: DataService, tmp_path: Path) -> None:
    path = tmp_path / "wide.sqlite"
    assert build_wide_schema(path) == 60
    record = await data.create(DatasourceSpec(name="wide", kind="sqlite", path=str(path)), owner_id=None)
    schema = await data.refresh_schema("wide")
    assert len(schema.tables) == 60
    space = await data.linker.knowledge.get_space(space_name(record.id))  # type: ignore[union-attr]
    assert space.name.startswith("_datasource.")
    for question, expected in QUESTIONS:
        context = await data.schema_context("wide", question, top_k_tables=8)
        linked = {table.name for table in context.tables}
        assert len(linked) <= 8
        assert expected <= linked, (question, linked)
        assert "CREATE TABLE" in context.text
    small = await data.schema_context("wide", "anything", top_k_tables=60)
    assert len(small.tables) == 60  # no more tables than top_k: all of them, no search

    await data.delete("wide")
    with pytest.raises(NotFoundError):
        await data.linker.knowledge.get_space(space_name(record.id))  # type: ignore[union-attr]


async def test_text2sql_repairs_a_database_error_on_the_sample(data: DataService, shop: Path) -> None:
    await data.create(DatasourceSpec(name="shop", kind="sqlite", path=str(shop)), owner_id=None)
    scripted = FakeModels(
        answers=["```sql\nSELECT nmae FROM customers\n```", "```sql\nSELECT COUNT(*) AS n FROM customers\n```"]
    )
    data.models = scripted
    result = await data.text2sql("shop", Text2SQLRequest(question="How many customers are there?"))
    assert result.ok, result.error
    assert [a.stage for a in result.attempts] == ["guard", None]
    assert result.table is not None
    assert result.table.columns == ["n"]
    repair = scripted.requests[1][1].messages[-1].content
    assert "nmae" in repair
    assert "customers has the columns:" in repair


async def test_the_server_registers_the_sample_and_hides_linking_spaces(live_server: LiveServer) -> None:
    services = live_server.app.state["services"]
    for _ in range(200):  # registered in the background at startup
        try:
            record = await services.data.get("shop")
            break
        except NotFoundError:
            await asyncio.sleep(0.05)
    else:
        pytest.fail("the sample data source 'shop' was not registered")
    assert record.kind == "sqlite"
    assert record.config["path"].endswith("samples/shop.sqlite")
    context = await services.data.schema_context("shop", "Which products sell best?", top_k_tables=3)
    assert len(context.tables) == 3
    hidden = await services.knowledge.get_space(space_name(record.id))
    async with live_server.client() as client:
        spaces = (await client.get("/api/knowledge/spaces")).json()["items"]
        assert hidden.name not in [space["name"] for space in spaces]
        refused = await client.post("/api/knowledge/spaces", json={"name": "_mine"})
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["path"] == "$.name"
        assert (await client.post("/api/knowledge/spaces", json={"name": "mine"})).status_code == 201
