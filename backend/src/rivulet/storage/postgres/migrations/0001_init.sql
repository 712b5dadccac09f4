-- Foundation: pgvector and versioned flows.
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE flows (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    tags        text[] NOT NULL DEFAULT '{}',
    node_count  integer NOT NULL DEFAULT 0,
    version     integer NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX flows_updated_at_idx ON flows (updated_at DESC, id DESC);

CREATE TABLE flow_versions (
    flow_id    text NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
    version    integer NOT NULL,
    message    text NOT NULL DEFAULT '',
    document   jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (flow_id, version)
);
