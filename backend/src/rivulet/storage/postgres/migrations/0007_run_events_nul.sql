-- The `run_events` view casts each stored batch to jsonb, and jsonb cannot hold a NUL character: one event with a
-- NUL in a string (stored whole, as bytes, in `run_event_batches`) made the whole view fail. The view now shows
-- such a character as U+FFFD; the stored events, and every API that reads them, keep it.
CREATE OR REPLACE VIEW run_events AS
SELECT DISTINCT ON (b.run_id, (e.value ->> 'seq')::integer)
    b.run_id,
    (e.value ->> 'seq')::integer AS seq,
    e.value ->> 'type' AS type,
    e.value AS payload,
    to_timestamp((e.value ->> 'ts')::double precision) AS ts
FROM run_event_batches AS b
CROSS JOIN LATERAL jsonb_array_elements(
    replace(convert_from(b.payload, 'UTF8'), '\u0000', '\ufffd')::jsonb
) AS e (value)
ORDER BY b.run_id, (e.value ->> 'seq')::integer, b.seq_from;
