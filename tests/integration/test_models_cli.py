"""``rivulet models list|add|test`` as a user runs it (a real process against a real database)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.openai_server import API_KEY, serve_openai

RIVULET = str(Path(sys.executable).with_name("rivulet"))
pytestmark = [pytest.mark.postgres, pytest.mark.timeout(180)]


async def rivulet(db_url: str, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RIVULET_HOME": str(home), "RIVULET_DATABASE_URL": db_url, "RIVULET_LOG_LEVEL": "warning"}
    return await asyncio.to_thread(
        subprocess.run, [RIVULET, "models", *args], env=env, capture_output=True, text=True, timeout=150, check=False
    )


async def test_list_add_and_test_models(db_url: str, tmp_path: Path) -> None:
    listed = await rivulet(db_url, tmp_path, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [m["name"] for m in json.loads(listed.stdout)] == ["default", "default-embedding"]

    bad = await rivulet(db_url, tmp_path, "add", "bad", "--provider", "openai_compatible")
    assert bad.returncode == 2
    assert "missing required field `base_url` - at `$.params`" in bad.stderr

    async with serve_openai() as server:
        from rivulet.lib.secrets import SecretBox, load_secret_key
        from rivulet.storage.postgres.pool import open_pool
        from rivulet.storage.postgres.secrets import PostgresSecretStore

        pool = await open_pool(db_url, min_size=1, max_size=1)
        try:
            await PostgresSecretStore(pool, SecretBox(load_secret_key(None, str(tmp_path)))).set("key", API_KEY)
        finally:
            await pool.close()
        added = await rivulet(
            db_url, tmp_path, "add", "remote", "--provider", "openai_compatible", "--base-url", server.url,
            "--model", "gpt-test", "--api-key-secret", "key", "--allow-private-network", "--default",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        assert "saved: model 'remote' (chat, openai_compatible)" in added.stdout
        tested = await rivulet(db_url, tmp_path, "test", "default", "--json")
    assert tested.returncode == 0, tested.stderr
    probe = json.loads(tested.stdout)
    assert (probe["ok"], probe["answered_by"], probe["output"]) == (True, "remote", "Hello from the server")
    assert probe["completion_tokens"] == 5
