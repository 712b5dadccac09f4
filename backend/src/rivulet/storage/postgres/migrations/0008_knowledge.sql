-- Knowledge spaces (RAG): documents, chunks with a pgvector embedding and a tsvector, and a knowledge graph.
-- Vector indexes are made per dimension by the store (``set_dimensions``): HNSW needs a fixed size, so each is a
-- partial expression index ``((embedding::vector(N))) WHERE dims = N`` (halfvec above 2000 dimensions).

CREATE TABLE kb_spaces (
    id              text PRIMARY KEY,
    name            text NOT NULL UNIQUE,
    description     text NOT NULL DEFAULT '',
    embedding_model text NOT NULL,
    dimensions      integer CHECK (dimensions BETWEEN 1 AND 16000),
    chunking        jsonb NOT NULL DEFAULT '{}',
    -- a text search configuration (pg_ts_config), kept as text: reg* columns cannot survive pg_upgrade
    language        text NOT NULL DEFAULT 'english',
    owner_id        text REFERENCES users (id) ON DELETE SET NULL,
    workspace_id    text REFERENCES workspaces (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX kb_spaces_owner_idx ON kb_spaces (owner_id);
CREATE INDEX kb_spaces_workspace_idx ON kb_spaces (workspace_id);

CREATE TABLE kb_documents (
    id           text PRIMARY KEY,
    space_id     text NOT NULL REFERENCES kb_spaces (id) ON DELETE CASCADE,
    name         text NOT NULL,
    source       text NOT NULL DEFAULT '',
    content_hash text,
    status       text NOT NULL DEFAULT 'processing' CHECK (status IN ('processing', 'ready', 'failed')),
    error        text,
    chunk_count  integer NOT NULL DEFAULT 0,
    size_bytes   bigint NOT NULL DEFAULT 0,
    metadata     jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (space_id, name)
);

-- Chunk ids are made by the service and unique in their space. ``dims`` keys the per-dimension vector indexes;
-- ``tsv`` is filled on insert with the space's text search configuration (trigger below).
CREATE TABLE kb_chunks (
    space_id    text NOT NULL,
    id          text NOT NULL,
    document_id text NOT NULL REFERENCES kb_documents (id) ON DELETE CASCADE,
    ordinal     integer NOT NULL,
    text        text NOT NULL,
    metadata    jsonb NOT NULL DEFAULT '{}',
    source      text NOT NULL DEFAULT '',
    embedding   vector NOT NULL,
    dims        integer GENERATED ALWAYS AS (vector_dims(embedding)) STORED,
    tsv         tsvector NOT NULL,
    PRIMARY KEY (space_id, id)
);
CREATE INDEX kb_chunks_document_idx ON kb_chunks (document_id, ordinal);
CREATE INDEX kb_chunks_tsv_idx ON kb_chunks USING gin (tsv);

CREATE FUNCTION kb_chunks_tsv() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.tsv := to_tsvector((SELECT s.language FROM kb_spaces s WHERE s.id = NEW.space_id)::regconfig, NEW.text);
    RETURN NEW;
END
$$;
CREATE TRIGGER kb_chunks_tsv BEFORE INSERT OR UPDATE OF text ON kb_chunks
    FOR EACH ROW EXECUTE FUNCTION kb_chunks_tsv();

-- Facts ``subject --predicate--> object`` extracted from chunks; entity lookups are case-insensitive.
CREATE TABLE kb_graph_edges (
    id          bigserial PRIMARY KEY,
    space_id    text NOT NULL REFERENCES kb_spaces (id) ON DELETE CASCADE,
    subject     text NOT NULL,
    predicate   text NOT NULL,
    object      text NOT NULL,
    chunk_id    text,
    document_id text REFERENCES kb_documents (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX kb_graph_edges_fact_idx
    ON kb_graph_edges (space_id, subject, predicate, object, (coalesce(chunk_id, '')));
CREATE INDEX kb_graph_edges_subject_idx ON kb_graph_edges (space_id, lower(subject));
CREATE INDEX kb_graph_edges_object_idx ON kb_graph_edges (space_id, lower(object));
CREATE INDEX kb_graph_edges_document_idx ON kb_graph_edges (document_id);

-- Substring entity search (``find_entities``) uses trigram indexes where pg_trgm can be installed.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
        CREATE INDEX kb_graph_edges_subject_trgm_idx ON kb_graph_edges USING gin (lower(subject) gin_trgm_ops);
        CREATE INDEX kb_graph_edges_object_trgm_idx ON kb_graph_edges USING gin (lower(object) gin_trgm_ops);
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'pg_trgm not installed (%): entity substring search scans the space''s edges', SQLERRM;
END
$$;
