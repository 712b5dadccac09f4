"""``MemoryKnowledgeStore``: a ``KnowledgeStore`` in dictionaries (``store.py``; its graph in ``graph.py``)."""

from __future__ import annotations

from rivulet.storage.memory_knowledge.store import TEXT_SEARCH_LANGUAGES, MemoryKnowledgeStore

__all__ = ("TEXT_SEARCH_LANGUAGES", "MemoryKnowledgeStore")
