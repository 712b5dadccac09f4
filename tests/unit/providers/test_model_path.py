"""``model_path`` of local models: one error whether the file is missing, outside the model directories or unusable."""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING

import pytest

from rivulet.lib.exceptions import ConfigError
from rivulet.providers.config import LlamaCppParams, SentenceTransformersParams, checked_model_path, model_dirs
from rivulet.providers.local_embeddings import SentenceTransformersProvider
from rivulet.providers.local_llamacpp import LlamaCppProvider

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def layout(tmp_path: Path) -> dict[str, Path]:
    """An allowed directory with a GGUF file and several unusable paths, and files outside it."""
    allowed = tmp_path / "models"
    allowed.mkdir()
    outside = tmp_path / "private"
    outside.mkdir()
    (allowed / "good.gguf").write_bytes(b"GGUF" + b"\0" * 16)
    (allowed / "text.gguf").write_text("not a model")
    (allowed / "folder.gguf").mkdir()
    os.mkfifo(allowed / "pipe.gguf")
    (outside / "secret.gguf").write_bytes(b"GGUF" + b"\0" * 16)
    (allowed / "escape.gguf").symlink_to(outside / "secret.gguf")
    return {"allowed": allowed, "outside": outside}


def _message(exc: pytest.ExceptionInfo[ConfigError], raw: str) -> str:
    return exc.value.detail.replace(repr(raw), "<path>")


def test_a_gguf_file_inside_the_model_directories_is_accepted(layout: dict[str, Path]) -> None:
    good = layout["allowed"] / "good.gguf"
    assert checked_model_path(str(good), [layout["allowed"]], model="m", magic=b"GGUF") == good.resolve()


def test_every_unusable_path_gets_the_same_error(layout: dict[str, Path]) -> None:
    allowed, outside = layout["allowed"], layout["outside"]
    candidates = [
        allowed / "missing.gguf",  # does not exist
        outside / "secret.gguf",  # exists, outside the directories
        outside / "missing.gguf",  # does not exist, outside
        allowed / "escape.gguf",  # a link inside pointing outside
        allowed / ".." / "private" / "secret.gguf",  # a path that climbs out
        allowed / "text.gguf",  # not a GGUF file
        allowed / "folder.gguf",  # a directory
        allowed / "pipe.gguf",  # not a regular file (never opened: it would block)
        "/etc/passwd",
    ]
    messages = set()
    for candidate in candidates:
        raw = str(candidate)
        with pytest.raises(ConfigError) as caught:
            checked_model_path(raw, [allowed], model="m", magic=b"GGUF")
        messages.add(_message(caught, raw))
        assert caught.value.extra["errors"][0]["path"] == "$.params.model_path"
    assert messages == {
        "model 'm': model_path <path> is not a readable model file inside the model directories (RIVULET_MODEL_DIRS)"
    }


def test_the_llamacpp_provider_refuses_with_that_error(layout: dict[str, Path]) -> None:
    errors = []
    for raw in (str(layout["allowed"] / "missing.gguf"), str(layout["outside"] / "secret.gguf")):
        provider = LlamaCppProvider(LlamaCppParams(model_path=raw), name="m", model_dirs=[str(layout["allowed"])])
        with pytest.raises(ConfigError) as caught:
            _ = provider.model_path
        errors.append(_message(caught, raw))
    assert errors[0] == errors[1]
    assert "does not exist" not in errors[0]


def test_the_embeddings_provider_refuses_with_that_error(layout: dict[str, Path]) -> None:
    errors = []
    for raw in (str(layout["allowed"] / "nothing"), str(layout["outside"]), str(layout["allowed"] / "good.gguf")):
        params = SentenceTransformersParams(model_path=raw)
        provider = SentenceTransformersProvider(params, name="e", model_dirs=[str(layout["allowed"])])
        with pytest.raises(ConfigError) as caught:
            asyncio.run(provider.embed(["x"]))
        errors.append(_message(caught, raw))
    assert len(set(errors)) == 1
    assert "model directory" in errors[0]


def test_model_dirs_default_to_the_home_models_directory() -> None:
    assert model_dirs("", "/srv/rivulet") == ("/srv/rivulet/models",)
    assert model_dirs(" /a , /b ", "/srv/rivulet") == ("/a", "/b")
