-- What each audited endpoint call answered, so call statistics are kept per outcome (docs/publishing.md):
-- ok (200 JSON), error (4xx/5xx), accepted (202, ?wait=false), stream (SSE). Older rows keep NULL and are read
-- from their status.
ALTER TABLE endpoint_calls ADD COLUMN outcome text
    CHECK (outcome IS NULL OR outcome IN ('ok', 'error', 'accepted', 'stream'));
