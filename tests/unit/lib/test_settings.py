from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from rivulet.lib.exceptions import ConfigError
from rivulet.lib.settings import load_settings

if TYPE_CHECKING:
    from pathlib import Path


def test_defaults_and_env_override(tmp_path: Path) -> None:
    settings = load_settings(environ={"RIVULET_HOME": str(tmp_path), "RIVULET_PORT": "9001"})
    assert settings.port == 9001
    assert settings.home == str(tmp_path)
    assert settings.host == "127.0.0.1"
    assert settings.database_url is None


def test_toml_file_then_env_then_overrides(tmp_path: Path) -> None:
    (tmp_path / "rivulet.toml").write_text('port = 7000\nlog_level = "debug"\nhost = "0.0.0.0"\n')
    env = {"RIVULET_HOME": str(tmp_path), "RIVULET_LOG_LEVEL": "warning"}
    settings = load_settings(environ=env, host="127.0.0.2")
    assert (settings.port, settings.log_level, settings.host) == (7000, "warning", "127.0.0.2")


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = load_settings(environ={"RIVULET_HOME": str(tmp_path)})
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"RIVULET_PORT": "seventy"}, "port"),
        ({"RIVULET_PORT": "70000"}, "port"),
        ({"RIVULET_LOG_LEVEL": "loud"}, "log_level"),
        ({"RIVULET_DB_POOL_MIN": "5", "RIVULET_DB_POOL_MAX": "2"}, "db_pool_min"),
    ],
)
def test_bad_values_name_the_setting(tmp_path: Path, env: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(environ={"RIVULET_HOME": str(tmp_path), **env})
    assert fragment in info.value.detail


def test_unknown_toml_key_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "rivulet.toml").write_text("prot = 1\n")
    with pytest.raises(ConfigError, match="prot"):
        load_settings(environ={"RIVULET_HOME": str(tmp_path)})


def test_missing_explicit_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a file"):
        load_settings(environ={"RIVULET_CONFIG": str(tmp_path / "nope.toml")})
