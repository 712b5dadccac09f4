"""PostgreSQL implementations of the storage Protocols (psycopg 3, async pool, pgvector)."""
