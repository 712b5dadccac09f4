"""Schemathesis over the whole OpenAPI of the live app, as the administrator and as a non-admin: no 5xx.

Every operation of ``/api/docs/openapi.json`` gets a bounded number of generated requests (valid and invalid:
wrong types, missing fields, odd strings and numbers), sent over loopback HTTP to the real app on a real
PostgreSQL, and every answer is checked with ``not_a_server_error``. The CLI runs in a subprocess so the server
keeps serving on this test's event loop. ``RIVULET_FUZZ_EXAMPLES`` raises the bound for a longer local run.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import alogin_token
from tests.integration.publishing_support import greet_flow
from tests.integration.test_input_hardening import json_flow
from tests.integration.test_publishing import create_and_publish

if TYPE_CHECKING:
    from tests.conftest import LiveServer

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(600)]

EXAMPLES = int(os.environ.get("RIVULET_FUZZ_EXAMPLES", "10"))
"""Generated requests per operation and phase (the coverage phase adds its own boundary cases)."""

ONLY = os.environ.get("RIVULET_FUZZ_ONLY", "")
"""A path regex to fuzz only some operations (``RIVULET_FUZZ_ONLY=^/api/flows``)."""

SKIPPED = {
    "/api/auth/logout": "revokes the very token the run uses (every later request would be a 401)",
    "/api/models/{name}/test": "runs the real local model, tens of seconds a call (tests/integration/test_models_*)",
    "/api/datasources/{name}/ask": "asks the real local model about the sample 'shop', tens of seconds a call "
    "(tests/integration/test_datasources_api.py asks a scripted model)",
}


async def fuzz(server: LiveServer, token: str, schema: Path, report: Path) -> tuple[int, str]:
    """Run schemathesis against ``server`` with ``token``; returns its exit code and output."""
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        str(schema),
        "--url",
        server.url,
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        "not_a_server_error",
        "--max-examples",
        str(EXAMPLES),
        "--phases",
        "examples,coverage,fuzzing",
        "--seed",
        "20261206",
        "--no-shrink",
        "--workers",
        "1",
        "--request-timeout",
        "20",
        "--generation-database",
        "none",
        "--generation-allow-x00",
        "true",
        "--suppress-health-check",
        "all",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(report),
        *(arg for path in SKIPPED for arg in ("--exclude-path", path)),
        *(["--include-path-regex", ONLY] if ONLY else []),
    ]
    process = await asyncio.create_subprocess_exec(
        *command,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=report.parent,  # whatever it writes stays in the test's temporary directory
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""},
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode(errors="replace")


def problems(report: Path) -> list[str]:
    """Every failed check and every error (a timeout, a dropped connection) in an ndjson report, one line each."""
    found: list[str] = []
    for line in report.read_text().splitlines():
        event: dict[str, Any] = json.loads(line)
        if "NonFatalError" in event or "FatalError" in event:
            error = event.get("NonFatalError") or event["FatalError"]
            found.append(f"error in {error.get('label')}: {error.get('value')}")
        finished = event.get("ScenarioFinished")
        if finished is None:
            continue
        recorder = finished["recorder"]
        for case_id, checks in recorder.get("checks", {}).items():
            for check in checks:
                if check["status"] == "failure":
                    case = recorder["cases"].get(case_id, {}).get("value", {})
                    request = f"{case.get('method')} {case.get('path')} {json.dumps(case)[:300]}"
                    found.append(f"{recorder['label']}: {check['name']} failed for {request}")
    return found


async def test_no_operation_answers_a_server_error(live_server: LiveServer, tmp_path: Path) -> None:
    async with live_server.client() as admin:
        spec = await admin.get("/api/docs/openapi.json")
        assert spec.status_code == 200
        user = {"username": "fuzzer", "password": "fuzzer-password-1"}
        created = await admin.post("/api/users", json=user)
        assert created.status_code in (200, 201), created.text
        # published endpoints (/f/{slug} is an ASGI route: it is described by /f/openapi.json, not by /api/docs)
        await create_and_publish(admin, greet_flow())
        await create_and_publish(admin, greet_flow("hello", method="GET"))
        await create_and_publish(admin, json_flow("echo"))
        endpoints = await admin.get("/f/openapi.json")
        assert sorted(endpoints.json()["paths"]) == ["/f/echo", "/f/greet", "/f/hello"]
        # the sample data source's first refresh loads the local embedding model (schema linking): not in a fuzz call
        warm = await admin.get("/api/datasources/shop/schema", params={"refresh": "true"}, timeout=300)
        assert warm.status_code == 200, warm.text
    schema = tmp_path / "openapi.json"
    schema.write_text(json.dumps(spec.json()))
    endpoints_schema = tmp_path / "endpoints.json"
    endpoints_schema.write_text(json.dumps(endpoints.json()))
    operations = sum(len(item) for item in spec.json()["paths"].values())
    assert operations >= 40
    editor_token = await alogin_token(live_server.url, user["username"], user["password"])
    roles = {
        "admin": (live_server.token, schema),
        "editor": (editor_token, schema),
        "endpoints": (editor_token, endpoints_schema),
    }
    runs = await asyncio.gather(
        *(
            fuzz(live_server, token, spec_file, tmp_path / f"{role}.ndjson")
            for role, (token, spec_file) in roles.items()
        )
    )
    for role, (code, output) in zip(roles, runs, strict=True):
        found = problems(tmp_path / f"{role}.ndjson")
        report = f"as {role} (exit {code}):\n" + "\n".join(found[:20]) + output[-6000:]
        assert not found, report
        assert code == 0, report
