"""SMMF: many models behind one interface.

Key contracts: ``ModelConfig`` (a named model: provider, params, concurrency, timeout, fallbacks, default flag),
providers (``local_llamacpp``, ``openai_compatible``, ``vllm``, ``local_sentence_transformers``) built by
``build_provider``, and ``ModelService`` — the implementation of ``rivulet.sdk.models.ModelRegistry`` that
operators reach with ``ctx.service(ModelRegistry)``. Built-in models ``default`` and ``default-embedding``
work offline with no configuration.

Example::

    service = ModelService(MemoryModelStore())
    result = await service.chat("default", ChatRequest(messages=[Message(role="user", content="Hi")]))
"""

from rivulet.providers.config import BUILTIN_MODELS, ModelConfig, validate_config
from rivulet.providers.service import ModelService
from rivulet.providers.store import MemoryModelStore, ModelCallRecord, ModelStore

__all__ = (
    "BUILTIN_MODELS",
    "MemoryModelStore",
    "ModelCallRecord",
    "ModelConfig",
    "ModelService",
    "ModelStore",
    "validate_config",
)
