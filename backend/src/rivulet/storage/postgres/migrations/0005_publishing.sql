-- Auth, published endpoints, API keys, call audit and schedules.
CREATE TABLE users (
    id            text PRIMARY KEY,
    username      text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    is_admin      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Login sessions (cookie) and bearer tokens; only the SHA-256 of the random token is stored.
CREATE TABLE auth_tokens (
    token_hash   text PRIMARY KEY,
    user_id      text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('session', 'token')),
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX auth_tokens_user_idx ON auth_tokens (user_id);

-- A published flow version: METHOD /f/{slug}.
CREATE TABLE endpoints (
    slug              text PRIMARY KEY,
    method            text NOT NULL,
    flow_id           text NOT NULL,
    flow_version      integer NOT NULL,
    trigger_node_id   text NOT NULL,
    concurrency_limit integer,
    published_by      text,
    created_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at        timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX endpoints_flow_idx ON endpoints (flow_id);

-- API keys for published endpoints; only the SHA-256 of the key is stored. Empty scope = every endpoint.
CREATE TABLE api_keys (
    id                    text PRIMARY KEY,
    name                  text NOT NULL,
    prefix                text NOT NULL,
    key_hash              text NOT NULL UNIQUE,
    endpoints             text[] NOT NULL DEFAULT '{}',
    rate_limit_per_minute integer,
    created_by            text,
    created_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    revoked_at            timestamptz
);

-- Audit of endpoint calls: who, when, which run, status and duration.
CREATE TABLE endpoint_calls (
    id          bigserial PRIMARY KEY,
    slug        text NOT NULL,
    caller      text NOT NULL,
    api_key_id  text,
    user_id     text,
    run_id      text,
    status      integer NOT NULL,
    duration_ms double precision NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX endpoint_calls_slug_idx ON endpoint_calls (slug, created_at DESC);

-- Schedules (trigger.schedule): Postgres is the source of truth; next_fire_at is claimed with SKIP LOCKED.
CREATE TABLE schedules (
    id              text PRIMARY KEY,
    flow_id         text NOT NULL,
    flow_version    integer NOT NULL,
    node_id         text NOT NULL,
    cron            text,
    interval_s      double precision,
    timezone        text NOT NULL DEFAULT 'UTC',
    inputs          jsonb NOT NULL DEFAULT '{}',
    missed_policy   text NOT NULL DEFAULT 'run_once' CHECK (missed_policy IN ('run_once', 'skip')),
    enabled         boolean NOT NULL DEFAULT true,
    next_fire_at    timestamptz,
    last_fire_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (flow_id, node_id),
    CHECK ((cron IS NULL) <> (interval_s IS NULL))
);
CREATE INDEX schedules_due_idx ON schedules (next_fire_at) WHERE enabled;

-- One row per fire time: the primary key makes a double fire impossible; missed fires are kept visible.
CREATE TABLE schedule_fires (
    schedule_id text NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    fire_at     timestamptz NOT NULL,
    status      text NOT NULL CHECK (status IN ('fired', 'missed', 'failed')),
    run_id      text,
    error       text,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (schedule_id, fire_at)
);
