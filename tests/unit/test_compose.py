"""compose.yaml is valid YAML with the services and wiring that `docker compose config` needs."""

from __future__ import annotations

from pathlib import Path

import yaml

COMPOSE = Path(__file__).resolve().parents[2] / "compose.yaml"


def test_compose_file_is_well_formed() -> None:
    doc = yaml.safe_load(COMPOSE.read_text())
    services = doc["services"]
    assert set(services) == {"postgres", "app"}
    assert "pgvector" in services["postgres"]["image"]
    app = services["app"]
    assert app["environment"]["RIVULET_DATABASE_URL"].startswith("postgresql://")
    assert app["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "pgdata" in doc["volumes"]
    for service in services.values():
        for mapping in service.get("ports", []):
            host, _, container = mapping.rpartition(":")
            assert host.startswith("127.0.0.1:")
            assert container.isdigit()
