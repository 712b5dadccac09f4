"""Random ids look like uuid4().hex and do not repeat."""

from __future__ import annotations

import uuid

from rivulet.lib.ids import random_id


def test_random_ids_are_version_4_uuids_in_hex() -> None:
    ids = [random_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for value in ids[:200]:
        parsed = uuid.UUID(hex=value)
        assert parsed.hex == value
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
