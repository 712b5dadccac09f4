"""Provider construction and request mapping (no network, no weights)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from rivulet.lib.exceptions import MissingDependencyError
from rivulet.lib.secrets import SecretBox, load_secret_key
from rivulet.providers.config import ModelConfig
from rivulet.providers.factory import build_provider
from rivulet.providers.local_llamacpp import llama_arguments
from rivulet.providers.openai_compatible import chat_body
from rivulet.sdk.models import ChatRequest
from rivulet.sdk.ports import Message

if TYPE_CHECKING:
    from pathlib import Path

REQUEST = ChatRequest(messages=[Message(role="user", content="hi")], temperature=0, max_tokens=4, json_mode=True)


def test_vllm_without_the_extra_names_it() -> None:
    try:
        import vllm  # noqa: F401  # pyright: ignore[reportMissingImports]
    except ImportError:
        pass
    else:  # pragma: no cover - GPU machines with the extra
        pytest.skip("vllm is installed here")
    with pytest.raises(MissingDependencyError, match=r"pip install 'rivulet\[vllm\]'") as info:
        build_provider(ModelConfig(name="big", provider="vllm", params={"model": "/models/qwen"}))
    assert info.value.extra == {"package": "vllm", "extra": "vllm"}


def test_request_mapping_for_llama_cpp_and_openai() -> None:
    assert llama_arguments(REQUEST)["response_format"] == {"type": "json_object"}
    body = chat_body("m", REQUEST, stream=False)
    assert body["response_format"] == {"type": "json_object"}
    assert "stream_options" not in body
    assert body["max_tokens"] == 4


def test_secret_box_round_trip_binds_the_name(tmp_path: Path) -> None:
    box = SecretBox(load_secret_key(None, str(tmp_path)))
    blob = box.encrypt("a", "value")
    assert box.decrypt("a", blob) == "value"
    assert b"value" not in blob
    from rivulet.lib.exceptions import ConfigError

    with pytest.raises(ConfigError, match="cannot be decrypted"):
        box.decrypt("b", blob)  # a row copied under another name does not decrypt
    assert "key" not in repr(box).replace("<key hidden>", "")


def test_a_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    import os

    from rivulet.lib.exceptions import ConfigError

    home = tmp_path
    load_secret_key(None, str(home))
    os.chmod(home / "secret.key", 0o644)  # noqa: PTH101
    with pytest.raises(ConfigError, match="chmod 600"):
        load_secret_key(None, str(home))
