r"""Graph RAG: facts (``subject --predicate--> object``) extracted from chunks by an LLM, and retrieved by entity.

``extract_graph`` asks a chat model, chunk by chunk, for the triplets the text states (structured output: a JSON
Schema the provider constrains decoding to where it can) and stores them with the chunk and document they came
from. Small models answer messily, so ``parse_triplets`` takes what it can: code fences, prose around the JSON,
an answer cut off mid-list (the complete objects are kept), other key names (``head``/``relation``/``tail``) and
``[s, p, o]`` lists; anything else is skipped. Entity names are normalised (spaces collapsed, quotes and trailing
punctuation stripped).

``graph_facts`` finds the entities a query names (its words and word n-grams, matched by the store) and returns
the facts within ``depth`` hops as chunks (text ``"subject predicate object"``, ``metadata["retrievers"]["graph"]``,
the source chunk's id in ``metadata["chunk_id"]``), ready to be fused with vector hits.

>>> parse_triplets('```json\n{"triplets": [{"subject": " Ada  Lovelace", "predicate": "wrote", "object": "notes."}')
[('Ada Lovelace', 'wrote', 'notes')]
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from typing import TYPE_CHECKING, Any, Final, cast

import msgspec

from rivulet.knowledge.retrieval import label_hits
from rivulet.sdk.knowledge import GraphReport, Triplet
from rivulet.sdk.models import ChatRequest
from rivulet.sdk.ports import Chunk, Message
from rivulet.storage.base import GraphEdge

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from rivulet.sdk.models import CallOrigin, ModelRegistry
    from rivulet.storage.base import KnowledgeStore, SpaceRecord

__all__ = (
    "EXTRACTION_SCHEMA",
    "extract_graph",
    "fact_id",
    "graph_facts",
    "normalize_entity",
    "parse_triplets",
    "query_terms",
)

EXTRACTION_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {
        "triplets": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "subject": {"type": "string"},
                    "predicate": {"type": "string"},
                    "object": {"type": "string"},
                },
                "required": ["subject", "predicate", "object"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["triplets"],
    "additionalProperties": False,
}
"""What the model is asked to answer (strict-mode compatible: every property required, no extra ones)."""

_INSTRUCTIONS: Final = (
    "You extract a knowledge graph from text. List the facts the text states as triplets: subject and object are "
    "short names of entities (people, organisations, places, products, concepts), predicate is a short verb "
    'phrase. Answer with JSON only: {"triplets": [{"subject": "...", "predicate": "...", "object": "..."}]}. '
    'Answer {"triplets": []} when the text states no fact.'
)
_EXAMPLE_TEXT: Final = "Ada Lovelace wrote the first program. She worked with Charles Babbage in London."
_EXAMPLE_ANSWER: Final = msgspec.json.encode(
    {
        "triplets": [
            {"subject": "Ada Lovelace", "predicate": "wrote", "object": "the first program"},
            {"subject": "Ada Lovelace", "predicate": "worked with", "object": "Charles Babbage"},
            {"subject": "Ada Lovelace", "predicate": "worked in", "object": "London"},
        ]
    }
).decode()

MAX_NAME_CHARS: Final = 512
MAX_TRIPLETS_PER_CHUNK: Final = 50
_KEYS: Final = {
    "subject": ("subject", "head", "source", "entity1", "from", "s"),
    "predicate": ("predicate", "relation", "relationship", "rel", "verb", "p"),
    "object": ("object", "tail", "target", "entity2", "to", "o"),
}
_FENCE = re.compile(r"```[\w-]*\s*(.*?)(?:```|$)", re.DOTALL)
_FLAT_OBJECT = re.compile(r"\{[^{}\[\]]*\}")
_STRIP = " \t\r\n\"'`.,;:!?*_()[]{}<>"
_WORD = re.compile(r"\w[\w'&.-]*\w|\w")
_STOPWORD_TEXT: Final = (
    "a an and are as at be been but by can could did do does for from had has have how i if in into is it its me "
    "my of on or our she he her his their them they that the this these those to was we were what when where which "
    "who whom whose why will with would you your about tell know say said there than then also any all some"
)
_STOPWORDS: Final = frozenset(_STOPWORD_TEXT.split())
_MAX_TERMS: Final = 40


def normalize_entity(name: object) -> str:
    """``name`` as an entity or predicate: text with runs of whitespace as one space, quotes and end punctuation gone.

    Numbers become text; anything else (lists, objects, ``null``) becomes ``""``.
    """
    if isinstance(name, bool) or not isinstance(name, (str, int, float)):
        return ""
    return " ".join(str(name).split()).strip(_STRIP)


def _json_values(answer: str) -> Iterator[Any]:
    """JSON values in a model's answer: the (fenced) text, its outermost bracketed span, else each flat object.

    The flat objects are what survives of an answer cut off mid-list.
    """
    fenced = [m.group(1) for m in _FENCE.finditer(answer)]
    for candidate in [*fenced, answer]:
        text = candidate.strip()
        starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
        spans = [text]
        if starts:
            spans.append(text[min(starts) : max(text.rfind("}"), text.rfind("]")) + 1])
        for span in spans:
            try:
                yield msgspec.json.decode(span)
            except msgspec.DecodeError:
                continue
            return
    for match in _FLAT_OBJECT.finditer(answer):
        try:
            yield msgspec.json.decode(match.group(0))
        except msgspec.DecodeError:
            continue


def _field(item: dict[str, Any], name: str) -> str:
    lowered = {str(key).lower(): value for key, value in item.items()}
    for key in _KEYS[name]:
        if key in lowered:
            return normalize_entity(lowered[key])
    return ""


def _walk(value: Any, found: list[tuple[str, str, str]], depth: int = 0) -> None:
    if depth > 6 or len(found) >= MAX_TRIPLETS_PER_CHUNK:
        return
    if isinstance(value, dict):
        item = cast("dict[str, Any]", value)
        triplet = (_field(item, "subject"), _field(item, "predicate"), _field(item, "object"))
        if all(triplet):
            found.append(triplet)
            return
        for inner in item.values():
            _walk(inner, found, depth + 1)
    elif isinstance(value, list):
        items = cast("list[Any]", value)
        if len(items) == 3 and all(isinstance(x, str) for x in items):
            triplet = (normalize_entity(items[0]), normalize_entity(items[1]), normalize_entity(items[2]))
            if all(triplet):
                found.append(triplet)
                return
        for inner in items:
            _walk(inner, found, depth + 1)


def parse_triplets(answer: str) -> list[tuple[str, str, str]]:
    """The ``(subject, predicate, object)`` triplets in a model's answer, normalised, each once, bad ones skipped."""
    found: list[tuple[str, str, str]] = []
    for value in _json_values(answer):
        _walk(value, found)
    unique = dict.fromkeys(t for t in found if all(len(part) <= MAX_NAME_CHARS for part in t))
    return list(unique)[:MAX_TRIPLETS_PER_CHUNK]


def _request(text: str) -> ChatRequest:
    return ChatRequest(
        messages=[
            Message(role="system", content=_INSTRUCTIONS),
            Message(role="user", content=f"Text: {_EXAMPLE_TEXT}"),
            Message(role="assistant", content=_EXAMPLE_ANSWER),
            Message(role="user", content=f"Text: {text}"),
        ],
        temperature=0.0,
        max_tokens=512,
        json_schema=EXTRACTION_SCHEMA,
    )


async def extract_graph(
    store: KnowledgeStore,
    models: ModelRegistry,
    space: SpaceRecord,
    chunks: Sequence[Chunk],
    *,
    model: str,
    origin: CallOrigin | None = None,
    concurrency: int = 4,
) -> GraphReport:
    """Ask ``model`` for each chunk's triplets and store them in ``space`` (duplicates are ignored).

    A fact keeps its chunk's id and document when the chunk is stored in the space (chunks from elsewhere, e.g.
    fresh from a chunker, give facts without a source).

    Raises:
        NotFoundError: No model of that name.
        ModelError: A model call failed (nothing is stored then).
    """
    stored = {c.id: c for c in await store.get_chunks(space.id, [c.id for c in chunks])} if chunks else {}
    limit = asyncio.Semaphore(max(1, concurrency))

    async def extract(chunk: Chunk) -> list[tuple[str, str, str]]:
        if not chunk.text.strip():
            return []
        async with limit:
            answer = await models.chat(model, _request(chunk.text), origin=origin)
        return parse_triplets(answer.text)

    try:
        async with asyncio.TaskGroup() as tasks:
            pending = [tasks.create_task(extract(chunk)) for chunk in chunks]
    except* Exception as group:  # noqa: BLE001 - the first failure is raised as itself, not as a group
        raise group.exceptions[0] from None
    triplets: list[Triplet] = []
    edges: list[GraphEdge] = []
    for chunk, task in zip(chunks, pending, strict=True):
        source = stored.get(chunk.id)
        chunk_id = source.id if source is not None else None
        document_id = source.document_id if source is not None else None
        for subject, predicate, obj in task.result():
            triplets.append(Triplet(subject=subject, predicate=predicate, object=obj, chunk_id=chunk_id))
            edges.append(
                GraphEdge(subject=subject, predicate=predicate, object=obj, chunk_id=chunk_id, document_id=document_id)
            )
    if edges:
        await store.add_graph_edges(space.id, edges)
    entities = {name.lower() for t in triplets for name in (t.subject, t.object)}
    return GraphReport(space=space.name, chunks=len(chunks), triplets=triplets, entities=len(entities))


def query_terms(query: str) -> list[str]:
    """What to look entities up by: the query's words and its 2- and 3-word runs, stopwords and 1-2 letter words out.

    >>> query_terms("Who did Ada Lovelace work with?")
    ['ada lovelace work', 'ada lovelace', 'lovelace work', 'ada', 'lovelace', 'work']
    """
    words = [w.lower() for w in _WORD.findall(query)]
    terms: dict[str, None] = {}
    for size in (3, 2):
        for i in range(len(words) - size + 1):
            run = words[i : i + size]
            if run[0] not in _STOPWORDS and run[-1] not in _STOPWORDS:
                terms[" ".join(run)] = None
    for word in words:
        if len(word) >= 3 and word not in _STOPWORDS:
            terms[word] = None
    return list(terms)[:_MAX_TERMS]


def fact_id(subject: str, predicate: str, obj: str) -> str:
    """A fact's citable id (the same fact, the same id)."""
    digest = hashlib.sha256(f"{subject.lower()}\0{predicate.lower()}\0{obj.lower()}".encode()).hexdigest()
    return f"f_{digest[:16]}"


async def graph_facts(
    store: KnowledgeStore, space_id: str, query: str, *, depth: int = 1, limit: int = 20
) -> list[Chunk]:
    """The facts within ``depth`` hops of the entities ``query`` names, nearest first, as labelled chunks.

    Each fact's ``score`` is ``1 / rank``; ``source`` and ``metadata["document"]`` are those of the chunk it was
    extracted from (``metadata["chunk_id"]``), when that chunk is still stored.
    """
    terms = query_terms(query)
    entities = await store.find_entities(space_id, terms, limit=20) if terms else []
    if not entities:
        return []
    edges = await store.neighbourhood(space_id, entities, depth=depth, limit=limit * 2)
    origins = {e.chunk_id for e in edges if e.chunk_id}
    sources = {c.id: c for c in await store.get_chunks(space_id, sorted(origins))} if origins else {}
    facts: dict[str, Chunk] = {}
    for edge in edges:
        fid = fact_id(edge.subject, edge.predicate, edge.object)
        if fid in facts:
            continue
        origin = sources.get(edge.chunk_id or "")
        metadata: dict[str, Any] = {
            "subject": edge.subject,
            "predicate": edge.predicate,
            "object": edge.object,
            "chunk_id": edge.chunk_id,
            "document": origin.metadata.get("document") if origin is not None else None,
        }
        facts[fid] = Chunk(
            id=fid,
            document_id=edge.document_id or "",
            text=f"{edge.subject} {edge.predicate} {edge.object}",
            metadata=metadata,
            score=1.0 / (len(facts) + 1),
            source=origin.source if origin is not None else "knowledge graph",
        )
        if len(facts) >= limit:
            break
    return label_hits(list(facts.values()), "graph")
