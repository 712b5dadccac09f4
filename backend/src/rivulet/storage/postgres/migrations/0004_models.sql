-- SMMF: configured models, the per-call log (tokens, latency per run and node), encrypted secrets and
-- conversation memory. Built-in models (default, default-embedding) are not stored; a row of the same name
-- replaces one.
CREATE TABLE models (
    name                  text PRIMARY KEY,
    kind                  text NOT NULL CHECK (kind IN ('chat', 'embedding')),
    provider              text NOT NULL,
    params                jsonb NOT NULL DEFAULT '{}',
    description           text NOT NULL DEFAULT '',
    concurrency           integer NOT NULL DEFAULT 4 CHECK (concurrency >= 1),
    timeout_s             double precision NOT NULL DEFAULT 120 CHECK (timeout_s > 0),
    fallbacks             text[] NOT NULL DEFAULT '{}',
    is_default            boolean NOT NULL DEFAULT false,
    allow_private_network boolean NOT NULL DEFAULT false,
    created_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at            timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE UNIQUE INDEX models_one_default_idx ON models (kind) WHERE is_default;

-- One row per attempt (a fallback adds a row). No foreign key to runs: calls from tests and the API have none.
CREATE TABLE model_calls (
    id                bigserial PRIMARY KEY,
    run_id            text,
    node_id           text,
    origin            text NOT NULL DEFAULT 'run',
    model             text NOT NULL,
    provider          text NOT NULL,
    operation         text NOT NULL CHECK (operation IN ('chat', 'embed')),
    status            text NOT NULL CHECK (status IN ('ok', 'error', 'timeout', 'cancelled')),
    prompt_tokens     integer NOT NULL DEFAULT 0,
    completion_tokens integer NOT NULL DEFAULT 0,
    latency_ms        double precision NOT NULL DEFAULT 0,
    ttft_ms           double precision,
    error             text,
    created_at        timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX model_calls_run_idx ON model_calls (run_id, id) WHERE run_id IS NOT NULL;
CREATE INDEX model_calls_model_idx ON model_calls (model, id DESC);

-- Values are AES-GCM ciphertexts (nonce || ciphertext+tag); the key never touches the database.
CREATE TABLE secrets (
    name       text PRIMARY KEY,
    ciphertext bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE conversation_messages (
    id           bigserial PRIMARY KEY,
    session_id   text NOT NULL,
    role         text NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
    content      text NOT NULL,
    name         text,
    tool_call_id text,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX conversation_messages_session_idx ON conversation_messages (session_id, id);
