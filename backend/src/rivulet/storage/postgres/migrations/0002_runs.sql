-- Run history: runs, per-node states and the append-only event log (rivulet.events/v1).
-- Runs outlive the flows they ran (no foreign key to flows): history is an audit trail.
CREATE TABLE runs (
    id           text PRIMARY KEY,
    flow_id      text NOT NULL,
    flow_version integer NOT NULL,
    status       text NOT NULL
        CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted')),
    trigger      text NOT NULL CHECK (trigger IN ('editor', 'api', 'schedule', 'cli')),
    inputs       jsonb NOT NULL DEFAULT '{}',
    outputs      jsonb NOT NULL DEFAULT '{}',
    error        jsonb,
    reuse_from   text,
    owner        text NOT NULL DEFAULT '',
    heartbeat_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    started_at   timestamptz,
    finished_at  timestamptz
);
CREATE INDEX runs_created_at_idx ON runs (created_at DESC, id DESC);
CREATE INDEX runs_flow_idx ON runs (flow_id, created_at DESC);
CREATE INDEX runs_active_idx ON runs (owner, heartbeat_at) WHERE status IN ('queued', 'running');

CREATE TABLE node_runs (
    run_id          text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    node_id         text NOT NULL,
    status          text NOT NULL
        CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'skipped', 'cancelled')),
    attempts        integer NOT NULL DEFAULT 0,
    cached          boolean NOT NULL DEFAULT false,
    started_at      timestamptz,
    finished_at     timestamptz,
    duration_ms     double precision,
    error           jsonb,
    inputs_preview  jsonb NOT NULL DEFAULT '{}',
    outputs_preview jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (run_id, node_id)
);

CREATE TABLE run_events (
    run_id  text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq     integer NOT NULL CHECK (seq >= 1),
    type    text NOT NULL,
    payload jsonb NOT NULL,
    ts      timestamptz NOT NULL,
    PRIMARY KEY (run_id, seq)
);
