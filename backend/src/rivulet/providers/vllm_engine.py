"""``vllm``: an in-process vLLM engine (GPU), from the optional extra ``pip install 'rivulet[vllm]'``.

Without the extra, building the provider raises ``MissingDependencyError`` naming it. Generation uses vLLM's
``AsyncLLMEngine``; each request streams the growing output and the provider yields the new text.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from rivulet.lib.exceptions import MissingDependencyError
from rivulet.sdk.models import ChatChunk, Usage

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from rivulet.providers.config import VllmParams
    from rivulet.sdk.models import ChatRequest

__all__ = ("VllmProvider", "require_vllm")


def require_vllm() -> Any:
    """Import ``vllm`` or say which extra provides it."""
    try:
        import vllm  # pyright: ignore[reportMissingImports]
    except ImportError:
        raise MissingDependencyError("vllm", extra="vllm") from None
    return vllm  # pyright: ignore[reportUnknownVariableType]


class VllmProvider:
    """Chat with a model loaded into this process by vLLM."""

    def __init__(self, params: VllmParams, *, name: str) -> None:
        self.vllm = require_vllm()
        self.params = params
        self.name = name
        self._engine: Any = None

    def _loaded(self) -> Any:
        if self._engine is None:
            args = self.vllm.AsyncEngineArgs(
                model=self.params.model,
                gpu_memory_utilization=self.params.gpu_memory_utilization,
                max_model_len=self.params.max_model_len,
                dtype=self.params.dtype,
            )
            self._engine = self.vllm.AsyncLLMEngine.from_engine_args(args)
        return self._engine

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        engine = self._loaded()
        tokenizer = await engine.get_tokenizer()
        prompt = tokenizer.apply_chat_template(
            [{"role": m.role, "content": m.content} for m in request.messages],
            tokenize=False,
            add_generation_prompt=True,
        )
        sampling = self.vllm.SamplingParams(
            temperature=request.temperature,
            max_tokens=request.max_tokens,
            top_p=request.top_p or 1.0,
            stop=request.stop or None,
            seed=request.seed,
        )
        sent = 0
        final: Any = None
        async for output in engine.generate(prompt, sampling, request_id=uuid.uuid4().hex):
            final = output
            text = output.outputs[0].text
            if len(text) > sent:
                yield ChatChunk(text=text[sent:])
                sent = len(text)
        usage = Usage()
        finish = "stop"
        if final is not None:
            usage = Usage(
                prompt_tokens=len(final.prompt_token_ids or ()), completion_tokens=len(final.outputs[0].token_ids)
            )
            finish = final.outputs[0].finish_reason or "stop"
        yield ChatChunk(finish_reason=finish, usage=usage)

    async def close(self) -> None:
        self._engine = None
