-- Roles, workspaces and ownership (docs/security.md).
ALTER TABLE users ADD COLUMN role text NOT NULL DEFAULT 'editor' CHECK (role IN ('admin', 'editor', 'viewer'));
UPDATE users SET role = 'admin' WHERE is_admin;
ALTER TABLE users DROP COLUMN is_admin;

-- A shared workspace: its members read its flows (and their runs, endpoints, schedules); editor members write them.
CREATE TABLE workspaces (
    id          text PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE workspace_members (
    workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role         text NOT NULL CHECK (role IN ('editor', 'viewer')),
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX workspace_members_user_idx ON workspace_members (user_id);

-- Flows belong to a user and optionally to a workspace; flows made before ownership go to the first administrator.
ALTER TABLE flows ADD COLUMN owner_id text REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE flows ADD COLUMN workspace_id text REFERENCES workspaces (id) ON DELETE SET NULL;
UPDATE flows SET owner_id = (SELECT id FROM users WHERE role = 'admin' ORDER BY created_at LIMIT 1);
CREATE INDEX flows_owner_idx ON flows (owner_id);
CREATE INDEX flows_workspace_idx ON flows (workspace_id);

-- API keys belong to the user who made them.
ALTER TABLE api_keys ADD COLUMN owner_id text REFERENCES users (id) ON DELETE CASCADE;
UPDATE api_keys k SET owner_id = u.id FROM users u WHERE u.username = k.created_by;
