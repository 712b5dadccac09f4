"""``build_provider``: a provider instance for a ``ModelConfig`` (imports heavy libraries lazily)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rivulet.providers.config import (
    LlamaCppParams,
    OpenAICompatibleParams,
    SentenceTransformersParams,
    VllmParams,
    provider_params,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from rivulet.providers.config import ModelConfig
    from rivulet.sdk.net import NetworkPolicy

__all__ = ("build_provider",)


def build_provider(
    config: ModelConfig,
    *,
    secrets: Callable[[str], Awaitable[str]] | None = None,
    policy: NetworkPolicy | None = None,
    model_dirs: Sequence[str] = (),
) -> Any:
    """A ``ChatProvider`` or ``EmbeddingProvider`` for ``config``.

    ``model_dirs``: where local providers may load a configured ``model_path`` from.

    Raises:
        ValidationError: Bad params.
        MissingDependencyError: The provider's optional extra is not installed (``vllm``).
    """
    params = provider_params(config)
    if isinstance(params, LlamaCppParams):
        from rivulet.providers.local_llamacpp import LlamaCppProvider

        return LlamaCppProvider(params, name=config.name, model_dirs=model_dirs)
    if isinstance(params, OpenAICompatibleParams):
        from rivulet.providers.openai_compatible import OpenAICompatibleProvider

        return OpenAICompatibleProvider(
            params,
            name=config.name,
            secrets=secrets,
            policy=policy,
            allow_private_network=config.allow_private_network,
        )
    if isinstance(params, SentenceTransformersParams):
        from rivulet.providers.local_embeddings import SentenceTransformersProvider

        return SentenceTransformersProvider(params, name=config.name, model_dirs=model_dirs)
    if isinstance(params, VllmParams):
        from rivulet.providers.vllm_engine import VllmProvider

        return VllmProvider(params, name=config.name)
    raise TypeError(f"no provider for {type(params).__name__}")  # pragma: no cover - PROVIDERS is closed
