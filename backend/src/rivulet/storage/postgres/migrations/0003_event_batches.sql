-- Run events are stored one row per written batch per run instead of one row per event: `payload` is the JSON
-- array (UTF-8 bytes) of the events seq_from..seq_to of that run, as the runtime encoded them. A write that is
-- retried may overlap an earlier one; readers keep the first copy of each seq (a seq always names the same
-- event). `run_events` stays available as a read-only view with one row per event.
CREATE TABLE run_event_batches (
    run_id   text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq_from integer NOT NULL CHECK (seq_from >= 1),
    seq_to   integer NOT NULL CHECK (seq_to >= seq_from),
    payload  bytea NOT NULL,
    PRIMARY KEY (run_id, seq_from)
);

INSERT INTO run_event_batches (run_id, seq_from, seq_to, payload)
SELECT run_id, min(seq), max(seq), convert_to('[' || string_agg(payload::text, ',' ORDER BY seq) || ']', 'UTF8')
FROM run_events
GROUP BY run_id;

DROP TABLE run_events;

CREATE VIEW run_events AS
SELECT DISTINCT ON (b.run_id, (e.value ->> 'seq')::integer)
    b.run_id,
    (e.value ->> 'seq')::integer AS seq,
    e.value ->> 'type' AS type,
    e.value AS payload,
    to_timestamp((e.value ->> 'ts')::double precision) AS ts
FROM run_event_batches AS b
CROSS JOIN LATERAL jsonb_array_elements(convert_from(b.payload, 'UTF8')::jsonb) AS e (value)
ORDER BY b.run_id, (e.value ->> 'seq')::integer, b.seq_from;
