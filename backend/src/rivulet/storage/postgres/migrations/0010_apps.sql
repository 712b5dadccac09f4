-- Chat apps: a flow published as a chat web app (``/apps/{slug}``), its share tokens (kept as hashes), the
-- conversations of its users and visitors, their messages (the transcript; the flow's memory lives in
-- ``conversation_messages``) and the feedback on answers. Deleting a flow deletes its apps with all of that.

CREATE TABLE apps (
    id                  text PRIMARY KEY,
    slug                text NOT NULL UNIQUE,
    flow_id             text NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
    -- NULL: the flow's latest version at each message
    flow_version        integer,
    title               text NOT NULL,
    description         text NOT NULL DEFAULT '',
    suggested_questions text[] NOT NULL DEFAULT '{}',
    message_input       text NOT NULL DEFAULT 'message',
    -- NULL: the flow keeps no memory
    session_input       text DEFAULT 'session_id',
    enabled             boolean NOT NULL DEFAULT true,
    owner_id            text REFERENCES users (id) ON DELETE SET NULL,
    workspace_id        text REFERENCES workspaces (id) ON DELETE SET NULL,
    created_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at          timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX apps_flow_idx ON apps (flow_id);

-- A share link's token: sha256 of the secret (the secret itself is never stored) and its first characters.
CREATE TABLE app_tokens (
    id                    text PRIMARY KEY,
    app_id                text NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    name                  text NOT NULL,
    prefix                text NOT NULL,
    token_hash            text NOT NULL UNIQUE,
    -- messages per minute (NULL: unlimited)
    rate_limit_per_minute integer CHECK (rate_limit_per_minute >= 1),
    created_by            text,
    created_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    revoked_at            timestamptz,
    -- written at most once a minute
    last_used_at          timestamptz
);
CREATE INDEX app_tokens_app_idx ON app_tokens (app_id, created_at DESC);

-- ``subject``: ``user:{user_id}`` or ``token:{token_id}:{visitor hash}``; ``message_count`` and ``updated_at``
-- follow the messages added and deleted.
CREATE TABLE app_conversations (
    id            text PRIMARY KEY,
    app_id        text NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    subject       text NOT NULL,
    title         text NOT NULL DEFAULT '',
    message_count integer NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX app_conversations_subject_idx ON app_conversations (app_id, subject, updated_at DESC, id DESC);

-- ``seq`` orders a conversation's messages (timestamps can tie); ``run_id`` is plain text: runs are history.
CREATE TABLE app_messages (
    id               text PRIMARY KEY,
    seq              bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    conversation_id  text NOT NULL REFERENCES app_conversations (id) ON DELETE CASCADE,
    role             text NOT NULL CHECK (role IN ('user', 'assistant')),
    content          text NOT NULL DEFAULT '',
    status           text NOT NULL DEFAULT 'complete'
        CHECK (status IN ('running', 'complete', 'failed', 'cancelled')),
    run_id           text,
    extras           jsonb NOT NULL DEFAULT '{}',
    feedback         text CHECK (feedback IN ('up', 'down')),
    feedback_comment text NOT NULL DEFAULT '',
    feedback_at      timestamptz,
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX app_messages_conversation_idx ON app_messages (conversation_id, seq);
CREATE INDEX app_messages_run_idx ON app_messages (run_id) WHERE run_id IS NOT NULL;
CREATE INDEX app_messages_feedback_idx ON app_messages (feedback_at DESC, seq DESC) WHERE feedback IS NOT NULL;

-- Runs started by a chat app's messages.
ALTER TABLE runs DROP CONSTRAINT runs_trigger_check;
ALTER TABLE runs ADD CONSTRAINT runs_trigger_check
    CHECK (trigger IN ('editor', 'api', 'schedule', 'cli', 'app'));
