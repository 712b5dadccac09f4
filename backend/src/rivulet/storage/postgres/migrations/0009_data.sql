-- Data sources (with their cached schema), reports (with a share link kept as a token hash) and evaluation runs
-- (with one row per dataset item). Credentials never live here: a data source names a secret (``secrets``).

CREATE TABLE datasources (
    id                  text PRIMARY KEY,
    name                text NOT NULL UNIQUE,
    kind                text NOT NULL CHECK (kind IN ('postgres', 'mysql', 'sqlite', 'duckdb', 'file')),
    description         text NOT NULL DEFAULT '',
    config              jsonb NOT NULL DEFAULT '{}',
    secret_name         text,
    examples            jsonb NOT NULL DEFAULT '[]',
    -- the introspected ``SchemaInfo`` (NULL before the first introspection or after the config changed)
    schema              jsonb,
    schema_refreshed_at timestamptz,
    owner_id            text REFERENCES users (id) ON DELETE SET NULL,
    workspace_id        text REFERENCES workspaces (id) ON DELETE SET NULL,
    created_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at          timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX datasources_owner_idx ON datasources (owner_id);

-- ``flow_id`` and ``run_id`` are plain text: a report outlives the flow or run that made it.
CREATE TABLE reports (
    id               text PRIMARY KEY,
    title            text NOT NULL,
    summary          text NOT NULL DEFAULT '',
    charts           jsonb NOT NULL DEFAULT '[]',
    datasource       text,
    flow_id          text,
    run_id           text,
    owner_id         text REFERENCES users (id) ON DELETE SET NULL,
    workspace_id     text REFERENCES workspaces (id) ON DELETE SET NULL,
    -- sha256 of the live share token (NULL: not shared); the token itself is never stored
    share_token_hash text UNIQUE,
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at       timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX reports_created_idx ON reports (created_at DESC, id DESC);
CREATE INDEX reports_owner_idx ON reports (owner_id, created_at DESC);

CREATE TABLE evaluations (
    id            text PRIMARY KEY,
    name          text NOT NULL DEFAULT '',
    kind          text NOT NULL DEFAULT 'flow' CHECK (kind IN ('flow', 'text2sql')),
    flow_id       text,
    flow_version  integer,
    dataset       text NOT NULL,
    dataset_hash  text NOT NULL,
    metric        text NOT NULL,
    model         text,
    datasource    text,
    status        text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed')),
    summary       jsonb NOT NULL DEFAULT '{}',
    error         text,
    owner_id      text REFERENCES users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at   timestamptz
);
CREATE INDEX evaluations_created_idx ON evaluations (created_at DESC, id DESC);
CREATE INDEX evaluations_flow_idx ON evaluations (flow_id, created_at DESC);

-- One dataset line of an evaluation; storing an index again replaces the row.
CREATE TABLE evaluation_items (
    evaluation_id text NOT NULL REFERENCES evaluations (id) ON DELETE CASCADE,
    item_index    integer NOT NULL,
    inputs        jsonb NOT NULL DEFAULT '{}',
    expected      jsonb NOT NULL DEFAULT 'null',
    output        jsonb NOT NULL DEFAULT 'null',
    score         double precision NOT NULL DEFAULT 0,
    passed        boolean NOT NULL DEFAULT false,
    error         text,
    details       jsonb NOT NULL DEFAULT '{}',
    duration_ms   double precision NOT NULL DEFAULT 0,
    PRIMARY KEY (evaluation_id, item_index)
);
