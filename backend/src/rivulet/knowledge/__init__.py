"""Knowledge spaces (RAG): loading documents, cutting them into chunks, embedding, storing and retrieving them.

The operator-facing contract is ``rivulet.sdk.knowledge``; this package implements it.
"""
