"""``/api/knowledge``: knowledge spaces, documents, ingestion jobs and the search playground."""

from rivulet.domain.knowledge.controller import KnowledgeController, KnowledgeDocumentsController

__all__ = ("KnowledgeController", "KnowledgeDocumentsController")
