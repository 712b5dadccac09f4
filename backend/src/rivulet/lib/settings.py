"""Settings: one frozen Struct, read from defaults, then a TOML file, then ``RIVULET_*`` environment variables.

Example:
    >>> s = load_settings(environ={"RIVULET_PORT": "9000", "RIVULET_HOME": "/tmp/rv"})
    >>> (s.port, s.home)
    (9000, '/tmp/rv')
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec
from msgspec import Meta

from rivulet.lib.exceptions import ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ("ENV_PREFIX", "Settings", "default_frontend_dir", "default_home", "load_settings")

ENV_PREFIX = "RIVULET_"
_REPO_ROOT = Path(__file__).resolve().parents[4]


def default_home() -> str:
    """Where Rivulet keeps its data when ``RIVULET_HOME`` is not set."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "rivulet")


def default_frontend_dir() -> str:
    """The built editor inside a source checkout (``frontend/dist``)."""
    return str(_REPO_ROOT / "frontend" / "dist")


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Every setting of a Rivulet process. Environment names are ``RIVULET_`` + the upper-cased field."""

    home: str = msgspec.field(default_factory=default_home)
    """Data directory: the embedded PostgreSQL cluster lives in ``<home>/pgdata``."""
    database_url: str | None = None
    """An external PostgreSQL (with pgvector) to use instead of the embedded one."""
    host: str = "127.0.0.1"
    """Interface the HTTP server binds to."""
    port: Annotated[int, Meta(ge=1, le=65535)] = 8000
    """TCP port of the HTTP server."""
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    """Minimum level of log records."""
    log_format: Literal["console", "json"] = "console"
    """``json`` writes one JSON object per line (for log shippers)."""
    db_pool_min: Annotated[int, Meta(ge=1)] = 1
    """Connections the pool keeps open."""
    db_pool_max: Annotated[int, Meta(ge=1)] = 10
    """Upper bound of pooled connections per process."""
    frontend_dir: str = msgspec.field(default_factory=default_frontend_dir)
    """Directory of the built editor served at ``/``."""
    debug: bool = False
    """Development mode: verbose errors in logs (never in responses)."""
    allow_private_network: bool = False
    """Let outbound operators (``core.http_request``) reach private, loopback and link-local addresses."""
    allowed_networks: str = ""
    """Comma-separated CIDRs reachable even though private, e.g. ``10.20.0.0/16,192.168.1.5/32``."""
    permit_flow_network_override: bool = False
    """Honour a node's own ``allow_private_network`` param (trusted single-user installs only)."""
    template_sources: str = ""
    """Comma-separated template sources: directories, ``file://`` or ``https://`` index URLs (docs/templates.md)."""
    builtin_templates: bool = True
    """Offer the built-in gallery (the repository's ``templates/`` directory)."""
    model_dirs: str = ""
    """Comma-separated directories local models (``model_path``) may be loaded from; unset: ``<home>/models``."""
    secret_key: str | None = None
    """AES-256 key for secrets at rest (32 bytes, url-safe base64); unset: ``<home>/secret.key`` (0600)."""
    admin_user: Annotated[str, Meta(min_length=1, max_length=64)] = "admin"
    """Name of the administrator account created on first start (when no user exists yet)."""
    admin_password: str | None = None
    """Password of that first administrator; when unset a one-time password is generated and printed once."""
    session_ttl_hours: Annotated[float, Meta(gt=0)] = 168.0
    """Lifetime of a login session (cookie) or login token."""
    secure_cookies: bool = False
    """Mark the session cookie ``Secure`` (set it when the app is served over HTTPS)."""
    scheduler_enabled: bool = True
    """Fire published schedules from this process (every replica may; exactly one fires each time)."""
    scheduler_poll_s: Annotated[float, Meta(gt=0, le=60)] = 0.25
    """How often the scheduler looks for due schedules."""
    max_request_body_bytes: Annotated[int, Meta(ge=1024)] = 10 * 1024 * 1024
    """Largest request body (bytes) of any route, published endpoints included; larger ones are refused with 413."""
    max_flow_bytes: Annotated[int, Meta(ge=1024)] = 2 * 1024 * 1024
    """Largest request body (bytes) of the routes that take a flow document; larger ones are refused with 413."""
    max_flow_nodes: Annotated[int, Meta(ge=1)] = 2_000
    """Most nodes a flow document may have (422 ``flow_too_large`` at ``$.nodes`` beyond)."""
    max_flow_edges: Annotated[int, Meta(ge=1)] = 5_000
    """Most edges a flow document may have (422 ``flow_too_large`` at ``$.edges`` beyond)."""
    max_node_params_bytes: Annotated[int, Meta(ge=64)] = 256 * 1024
    """Largest ``params`` of one node, as JSON bytes (422 ``flow_too_large`` at ``$.nodes[i].params`` beyond)."""
    max_upload_bytes: Annotated[int, Meta(ge=1024)] = 100 * 1024 * 1024
    """Largest upload of documents to a knowledge space, all files together (413 ``upload_too_large`` beyond)."""
    max_upload_file_bytes: Annotated[int, Meta(ge=1024)] = 50 * 1024 * 1024
    """Largest single file of a knowledge upload (413 ``upload_too_large`` naming the file beyond)."""
    data_files: str | None = None
    """Where uploaded data files (ChatExcel) live, one folder per data source; unset: ``<home>/datasources``."""
    query_max_rows: Annotated[int, Meta(ge=1, le=1_000_000)] = 1000
    """Rows a data source query returns when it names no limit (a ``LIMIT`` is added; more set ``truncated``)."""
    query_max_bytes: Annotated[int, Meta(ge=1024, le=1 << 30)] = 16 << 20
    """Approximate size of a query result (JSON) when the query names no limit; rows past it are dropped."""
    query_timeout_s: Annotated[float, Meta(gt=0, le=3600)] = 30.0
    """Statement timeout of a data source query that names none."""
    sample_datasource: bool = True
    """Register the sample data source ``shop`` (SQLite under ``<home>/samples``) at startup when none has that name."""


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    fields = set(Settings.__struct_fields__)
    values: dict[str, Any] = {}
    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX):
            continue
        name = key[len(ENV_PREFIX) :].lower()
        if name in fields:
            values[name] = value
    return values


def _config_path(environ: Mapping[str, str], home: str) -> Path | None:
    explicit = environ.get(f"{ENV_PREFIX}CONFIG")
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ConfigError(f"{ENV_PREFIX}CONFIG points at {path}, which is not a file")
        return path
    candidate = Path(home).expanduser() / "rivulet.toml"
    return candidate if candidate.is_file() else None


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build the settings from defaults, ``<home>/rivulet.toml`` (or ``RIVULET_CONFIG``), env and overrides.

    Args:
        environ: The environment to read (defaults to ``os.environ``).
        **overrides: Values that win over everything else (used by CLI flags).

    Returns:
        The frozen settings.

    Raises:
        ConfigError: A value has the wrong type or is out of range; the message names the setting.
    """
    env = os.environ if environ is None else environ
    env_values = _from_env(env)
    home = str(overrides.get("home") or env_values.get("home") or default_home())
    merged: dict[str, Any] = {}
    path = _config_path(env, home)
    if path is not None:
        try:
            merged.update(tomllib.loads(path.read_text()))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    merged.update(env_values)
    merged.update({k: v for k, v in overrides.items() if v is not None})
    try:
        settings = msgspec.convert(merged, Settings, strict=False)
    except msgspec.ValidationError as exc:
        source = f" (from {path})" if path else ""
        raise ConfigError(f"invalid setting{source}: {exc}; environment names are {ENV_PREFIX}<NAME>") from exc
    if settings.db_pool_min > settings.db_pool_max:
        raise ConfigError("db_pool_min must not exceed db_pool_max")
    return settings
