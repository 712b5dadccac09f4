"""Schema linking: the tables (and few-shot examples) of a data source relevant to a question.

Each table is described in one document (its name in words, comment, columns with types, comments, foreign keys
and sample values) and each few-shot example in another; they are embedded through ``KnowledgeService`` into a
hidden knowledge space ``_datasource.<datasource id>`` with the default embedding model (hidden: the knowledge API
neither lists such spaces nor lets anyone create one). Linking a question is a hybrid search (vectors and
keywords) over the table documents, then the foreign-key neighbours the best tables need for their joins (what
they reference, and tables that bridge two of them), keeping ``top_k_tables``. A schema of at most
``top_k_tables`` tables is sent whole, without a search.

Tables reach the prompt as ``CREATE TABLE`` text (``schema_text``) with comments, foreign keys and sample values.
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import TYPE_CHECKING, Any, Final

import msgspec

from rivulet.lib.exceptions import AppError, NotFoundError
from rivulet.lib.log import get_logger
from rivulet.sdk.data import SchemaContext, SchemaInfo, TableInfo, Text2SQLExample
from rivulet.sdk.knowledge import ChunkingConfig, SearchRequest
from rivulet.sdk.models import DEFAULT_EMBEDDING_MODEL
from rivulet.sdk.ports import Document

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rivulet.knowledge.service import KnowledgeService
    from rivulet.sdk.models import CallOrigin

__all__ = (
    "HIDDEN_SPACE_PREFIX",
    "SchemaLinker",
    "describe_example",
    "describe_table",
    "fk_neighbours",
    "lexical_rank",
    "link_tables",
    "schema_text",
    "space_name",
)

HIDDEN_SPACE_PREFIX: Final = "_"
"""Knowledge spaces whose name starts with this are internal (not listed, not creatable through the API)."""
_CHUNKING: Final = ChunkingConfig(strategy="recursive", chunk_size=240, chunk_overlap=0)
"""One table per chunk unless it has very many columns (a long table gives several chunks, scored as its best)."""
_SAMPLE_CHARS: Final = 40
_SEEDS: Final = 3
"""The best-ranked tables whose foreign-key neighbours are added."""
_WORD: Final = re.compile(r"[a-z0-9]+")

_log = get_logger("rivulet.data")


def space_name(datasource_id: str) -> str:
    """The hidden knowledge space of a data source's table descriptions."""
    return f"{HIDDEN_SPACE_PREFIX}datasource.{datasource_id}"


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _words(name: str) -> str:
    return " ".join(part for part in re.split(r"[_.\-\s]+|(?<=[a-z])(?=[A-Z])", name) if part).lower()


def _sample(value: Any) -> str:
    text = str(value)
    return text if len(text) <= _SAMPLE_CHARS else text[: _SAMPLE_CHARS - 1] + "…"


def describe_table(table: TableInfo) -> str:
    """The document embedded for a table: what a question about it would mention."""
    lines = [f"Table {table.name} ({_words(_short(table.name))})" + (f": {table.comment}" if table.comment else "")]
    for column in table.columns:
        parts = [f"{column.name} ({_words(column.name)}, {column.type})"]
        if column.primary_key:
            parts.append("primary key")
        if column.references:
            parts.append(f"references {column.references}")
        if column.comment:
            parts.append(column.comment)
        if column.samples:
            parts.append("e.g. " + ", ".join(_sample(s) for s in column.samples[:3]))
        lines.append("- " + "; ".join(parts))
    return "\n".join(lines)


def describe_example(example: Text2SQLExample) -> str:
    """The document embedded for a few-shot example (its question; the SQL rides along)."""
    return f"{example.question}\n{example.sql}"


def _literal(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int | float):
        return str(value)
    return "'" + _sample(value).replace("'", "''") + "'"


def _create_table(table: TableInfo) -> str:
    lines: list[str] = []
    if table.comment:
        lines.extend(f"-- {line}" for line in table.comment.splitlines())
    keyword = "CREATE VIEW" if table.kind == "view" else "CREATE TABLE"
    lines.append(f"{keyword} {table.name} (")
    body: list[tuple[str, list[str]]] = []
    for column in table.columns:
        text = f"  {column.name} {column.type}"
        if column.primary_key:
            text += " PRIMARY KEY"
        elif not column.nullable:
            text += " NOT NULL"
        if column.references and "." in column.references:
            target, _, target_column = column.references.rpartition(".")
            text += f" REFERENCES {target}({target_column})"
        notes: list[str] = []
        if column.comment:
            notes.append(column.comment.replace("\n", " "))
        if column.samples:
            notes.append("e.g. " + ", ".join(_literal(s) for s in column.samples[:3]))
        body.append((text, notes))
    rendered = [
        f"{text}{',' if i < len(body) - 1 else ''}" + (f" -- {'; '.join(notes)}" if notes else "")
        for i, (text, notes) in enumerate(body)
    ]
    lines.extend(rendered)
    lines.append(");" + (f" -- {table.row_count} rows" if table.row_count is not None else ""))
    return "\n".join(lines)


def schema_text(tables: Sequence[TableInfo]) -> str:
    """The tables as ``CREATE TABLE`` statements with comments, foreign keys and sample values."""
    return "\n\n".join(_create_table(table) for table in tables)


def _references(table: TableInfo) -> list[str]:
    return [column.references.rpartition(".")[0] for column in table.columns if column.references]


def _canonical(schema: SchemaInfo, name: str) -> str:
    table = schema.table(name)
    return name if table is None else table.name


def fk_neighbours(schema: SchemaInfo, names: Sequence[str]) -> list[str]:
    """Tables the given ones reference, then tables that reference two or more of them (join bridges)."""
    chosen = {name.lower() for name in names}
    found: list[str] = []

    def add(name: str) -> None:
        table = schema.table(name)
        if table is not None and table.name.lower() not in chosen and table.name not in found:
            found.append(table.name)

    for name in names:
        table = schema.table(name)
        if table is not None:
            for target in _references(table):
                add(target)
    for table in schema.tables:
        targets = {_canonical(schema, t).lower() for t in _references(table)}
        if len(targets & chosen) >= 2:
            add(table.name)
    return found


def link_tables(schema: SchemaInfo, ranked: Sequence[tuple[str, float]], top_k: int) -> list[str]:
    """The linked tables: the best seeds, their foreign-key neighbours, then the rest of the ranking (``top_k``)."""
    order = [name for name, _ in ranked if schema.table(name) is not None]
    seeds = order[: min(_SEEDS, top_k)]
    result: list[str] = []
    for name in [*seeds, *fk_neighbours(schema, seeds), *order]:
        table = schema.table(name)
        if table is not None and table.name not in result:
            result.append(table.name)
    return result[:top_k]


def lexical_rank(schema: SchemaInfo, question: str) -> list[tuple[str, float]]:
    """Tables ranked by the words they share with the question (the fallback when embeddings are unavailable)."""
    asked = set(_WORD.findall(question.lower()))
    asked |= {word[:-1] for word in asked if word.endswith("s")}
    scored: list[tuple[str, float]] = []
    for table in schema.tables:
        words = set(_WORD.findall(describe_table(table).lower()))
        words |= {word[:-1] for word in words if word.endswith("s")}
        name_words = set(_WORD.findall(_words(_short(table.name))))
        name_words |= {word[:-1] for word in name_words if word.endswith("s")}
        score = len(asked & words) / math.sqrt(len(words) or 1) + 2.0 * len(asked & name_words)
        scored.append((table.name, score))
    scored.sort(key=lambda item: -item[1])
    return scored


class SchemaLinker:
    """Indexes table descriptions in a hidden knowledge space and links questions to tables.

    Args:
        knowledge: The knowledge service (its store and model registry); ``None`` ranks tables by shared words.
        embedding_model: The model embedding the descriptions (default: the built-in local one).
    """

    def __init__(self, knowledge: KnowledgeService | None, *, embedding_model: str = DEFAULT_EMBEDDING_MODEL) -> None:
        self.knowledge = knowledge
        self.embedding_model = embedding_model

    async def index(
        self,
        datasource_id: str,
        schema: SchemaInfo,
        examples: Sequence[Text2SQLExample],
        *,
        origin: CallOrigin | None = None,
    ) -> None:
        """(Re)embed one document per table and per example; documents of dropped tables are deleted."""
        if self.knowledge is None:
            return
        name = space_name(datasource_id)
        stamp = _stamp(schema, examples)
        try:
            space = await self.knowledge.get_space(name)
        except NotFoundError:
            space = await self.knowledge.create_space(
                name=name,
                embedding_model=self.embedding_model,
                description=stamp,
                chunking=_CHUNKING,
            )
        documents = [
            Document(
                id=f"table:{table.name}", text=describe_table(table), metadata={"kind": "table", "table": table.name}
            )
            for table in schema.tables
        ]
        documents.extend(
            Document(
                id=f"example:{i}",
                text=describe_example(example),
                metadata={"kind": "example", "example": i},
            )
            for i, example in enumerate(examples)
        )
        wanted = {document.id for document in documents}
        for stored in await self.knowledge.list_documents(space.id):
            if stored.name not in wanted:
                await self.knowledge.delete_document(space.id, stored.id)
        if documents:
            report = await self.knowledge.ingest(space.id, documents, origin=origin)
            failed = report.failed
            if failed:
                raise AppError(f"embedding the schema failed: {failed[0].name}: {failed[0].error}")
        await self.knowledge.update_space(space.id, description=stamp)

    async def drop(self, datasource_id: str) -> None:
        """Delete the data source's hidden space (nothing when there is none)."""
        if self.knowledge is None:
            return
        try:
            await self.knowledge.delete_space(space_name(datasource_id))
        except NotFoundError:
            return

    async def _current(self, datasource_id: str, schema: SchemaInfo, examples: Sequence[Text2SQLExample]) -> bool:
        if self.knowledge is None:
            return True
        try:
            space = await self.knowledge.get_space(space_name(datasource_id))
        except NotFoundError:
            return False
        return space.description == _stamp(schema, examples)

    async def link(
        self,
        datasource_id: str,
        schema: SchemaInfo,
        question: str,
        *,
        all_examples: Sequence[Text2SQLExample] = (),
        top_k_tables: int = 8,
        examples: int = 3,
        linking: bool = True,
        origin: CallOrigin | None = None,
    ) -> SchemaContext:
        """The schema context of ``question``.

        Without ``linking`` every table goes in and the first ``examples`` examples; a schema of at most
        ``top_k_tables`` tables goes in whole (no search). Otherwise the hidden space is searched (indexed first
        when missing or older than the schema); when embedding fails the ranking falls back to shared words.
        """
        small = len(schema.tables) <= top_k_tables
        wants_search = linking and (not small or len(all_examples) > examples > 0)
        if wants_search and not await self._safe_current(datasource_id, schema, all_examples):
            await self._safe_index(datasource_id, schema, all_examples, origin)
        scores: dict[str, float] = {}
        if not linking or small:
            tables = list(schema.tables)
        else:
            ranked = await self._rank_tables(datasource_id, schema, question, top_k_tables, origin)
            scores = {name: round(score, 6) for name, score in ranked}
            names = link_tables(schema, ranked, top_k_tables)
            tables = [table for name in names if (table := schema.table(name)) is not None]
        chosen = await self._examples(
            datasource_id,
            question=question,
            all_examples=all_examples,
            count=examples,
            linking=linking,
            origin=origin,
        )
        return SchemaContext(
            datasource=schema.datasource,
            dialect=schema.dialect,
            tables=tables,
            text=schema_text(tables),
            examples=chosen,
            scores={t.name: scores.get(t.name, 0.0) for t in tables} if scores else {},
        )

    async def _safe_current(self, datasource_id: str, schema: SchemaInfo, examples: Sequence[Text2SQLExample]) -> bool:
        try:
            return await self._current(datasource_id, schema, examples)
        except AppError:
            return False

    async def _safe_index(
        self, datasource_id: str, schema: SchemaInfo, examples: Sequence[Text2SQLExample], origin: CallOrigin | None
    ) -> None:
        try:
            await self.index(datasource_id, schema, examples, origin=origin)
        except AppError as exc:
            _log.warning(
                "schema linking: indexing failed, ranking by shared words",
                extra={"datasource": datasource_id, "error": exc.detail},
            )

    async def _rank_tables(
        self, datasource_id: str, schema: SchemaInfo, question: str, top_k: int, origin: CallOrigin | None
    ) -> list[tuple[str, float]]:
        request = SearchRequest(
            query=question[:32_768], mode="hybrid", top_k=min(500, max(3 * top_k, 20)), filters={"kind": "table"}
        )
        if self.knowledge is None:
            return lexical_rank(schema, question)
        try:
            chunks = await self.knowledge.search(space_name(datasource_id), request, origin=origin)
        except AppError as exc:
            _log.warning(
                "schema linking: search failed, ranking by shared words",
                extra={"datasource": datasource_id, "error": exc.detail},
            )
            return lexical_rank(schema, question)
        ranked: dict[str, float] = {}
        for chunk in chunks:
            name = chunk.metadata.get("table")
            if not isinstance(name, str):
                document = str(chunk.metadata.get("document", chunk.document_id))
                name = document.removeprefix("table:")
            if name not in ranked:
                ranked[name] = chunk.score or 0.0
        if not ranked:
            return lexical_rank(schema, question)
        found = list(ranked.items())
        known = set(ranked)
        found.extend((name, 0.0) for name, _ in lexical_rank(schema, question) if name not in known)
        return found

    async def _examples(
        self,
        datasource_id: str,
        *,
        question: str,
        all_examples: Sequence[Text2SQLExample],
        count: int,
        linking: bool,
        origin: CallOrigin | None,
    ) -> list[Text2SQLExample]:
        if count <= 0 or not all_examples:
            return []
        if not linking or len(all_examples) <= count or self.knowledge is None:
            return list(all_examples[:count])
        request = SearchRequest(query=question[:32_768], mode="hybrid", top_k=count, filters={"kind": "example"})
        try:
            chunks = await self.knowledge.search(space_name(datasource_id), request, origin=origin)
        except AppError:
            return list(all_examples[:count])
        chosen: list[Text2SQLExample] = []
        for chunk in chunks:
            index = chunk.metadata.get("example")
            if isinstance(index, int) and 0 <= index < len(all_examples) and all_examples[index] not in chosen:
                chosen.append(all_examples[index])
        return chosen or list(all_examples[:count])


def _stamp(schema: SchemaInfo, examples: Sequence[Text2SQLExample]) -> str:
    """What the hidden space's description records: the schema and examples it indexes (others re-index)."""
    digest = hashlib.sha256(msgspec.json.encode([schema.tables, list(examples)])).hexdigest()[:16]
    return (
        f"schema linking index of {schema.datasource} ({len(schema.tables)} tables, {len(examples)} examples, {digest})"
    )
