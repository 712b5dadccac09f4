"""Model benchmarks: the local chat model (tokens/s, time to first token) and local embeddings (sentences/s).

Each measurement has a baseline taken in the same process on the same loaded weights:

- chat: a raw ``llama_cpp.Llama.create_chat_completion(stream=True)`` loop vs the same request streamed through
  ``ModelService`` (worker thread, queue to the event loop, concurrency limit, deadline, call record);
- embeddings: raw ``SentenceTransformer.encode`` vs ``ModelService.embed`` (thread hop, batching, record).

Prints medians over ``--repeat`` runs and the provider/raw ratios (1.00 = no overhead).

Usage: ``.venv/bin/python bench/models_bench.py [--repeat 5] [--tokens 64] [--sentences 256]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from typing import Any

from rivulet.providers import MemoryModelStore, ModelService
from rivulet.providers.local_embeddings import bundled_model_dir, load_sentence_transformer
from rivulet.providers.local_llamacpp import bundled_gguf, llama_arguments
from rivulet.sdk.models import ChatRequest
from rivulet.sdk.ports import Message

PROMPT = "Write a short story about a river that learns to sing."


def request(tokens: int) -> ChatRequest:
    # temperature 0 and ignore-eos-like stop list: every run produces the same tokens
    return ChatRequest(messages=[Message(role="user", content=PROMPT)], temperature=0, max_tokens=tokens)


def raw_chat(llm: Any, tokens: int) -> tuple[float, float, int]:
    """(ttft s, total s, tokens) for one raw llama.cpp streaming call."""
    started = time.perf_counter()
    first = 0.0
    count = 0
    for part in llm.create_chat_completion(stream=True, **llama_arguments(request(tokens))):
        if part["choices"][0]["delta"].get("content"):
            count += 1
            if count == 1:
                first = time.perf_counter() - started
    return first, time.perf_counter() - started, count


async def service_chat(service: ModelService, tokens: int) -> tuple[float, float, int]:
    started = time.perf_counter()
    first = 0.0
    count = 0
    async for chunk in service.stream("default", request(tokens)):
        if chunk.text:
            count += 1
            if count == 1:
                first = time.perf_counter() - started
    return first, time.perf_counter() - started, count


def rate(samples: list[tuple[float, float, int]]) -> tuple[float, float]:
    """(median ttft ms, median decode tokens/s after the first token)."""
    ttft = statistics.median(s[0] for s in samples) * 1000
    tps = statistics.median((s[2] - 1) / (s[1] - s[0]) for s in samples if s[2] > 1 and s[1] > s[0])
    return ttft, tps


async def bench_chat(repeat: int, tokens: int) -> None:
    from llama_cpp import Llama

    threads = os.cpu_count() or 1
    llm = Llama(model_path=str(bundled_gguf()), n_ctx=2048, n_threads=threads, verbose=False)
    service = ModelService(MemoryModelStore())
    provider = service._provider(await service.get("default"))  # noqa: SLF001 - share the loaded weights
    provider._llm = llm  # noqa: SLF001
    raw_chat(llm, 4)  # warm-up
    raw: list[tuple[float, float, int]] = []
    ours: list[tuple[float, float, int]] = []
    for _ in range(repeat):  # interleaved so that machine load hits both equally
        raw.append(await asyncio.to_thread(raw_chat, llm, tokens))
        ours.append(await service_chat(service, tokens))
    raw_ttft, raw_tps = rate(raw)
    our_ttft, our_tps = rate(ours)
    print(f"chat (SmolLM2-135M Q4_1, {threads} threads, {tokens} tokens, median of {repeat})")
    print(f"  raw llama.cpp      ttft {raw_ttft:7.1f} ms   decode {raw_tps:7.1f} tokens/s")
    print(f"  ModelService       ttft {our_ttft:7.1f} ms   decode {our_tps:7.1f} tokens/s")
    print(f"  ratio (service/raw) ttft {our_ttft / raw_ttft:5.2f}x   tokens/s {our_tps / raw_tps:5.2f}x")
    await service.close()


async def bench_embeddings(repeat: int, count: int) -> None:
    model = load_sentence_transformer(bundled_model_dir())
    sentences = [f"Sentence number {i} about rivers, data and models." for i in range(count)]
    service = ModelService(MemoryModelStore())
    provider = service._provider(await service.get("default-embedding"))  # noqa: SLF001
    provider._model = model  # noqa: SLF001
    model.encode(sentences[:32], batch_size=32, normalize_embeddings=True)  # warm-up
    raw: list[float] = []
    ours: list[float] = []
    for _ in range(repeat):
        started = time.perf_counter()
        model.encode(sentences, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
        raw.append(count / (time.perf_counter() - started))
        started = time.perf_counter()
        await service.embed("default-embedding", sentences)
        ours.append(count / (time.perf_counter() - started))
    raw_rate, our_rate = statistics.median(raw), statistics.median(ours)
    print(f"embeddings (all-MiniLM-L6-v2, 384-d, {count} sentences, batch 32, median of {repeat})")
    print(f"  raw sentence-transformers {raw_rate:8.1f} sentences/s")
    print(f"  ModelService              {our_rate:8.1f} sentences/s")
    print(f"  ratio (service/raw)       {our_rate / raw_rate:5.2f}x")
    await service.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--sentences", type=int, default=256)
    args = parser.parse_args()
    asyncio.run(bench_chat(args.repeat, args.tokens))
    asyncio.run(bench_embeddings(args.repeat, args.sentences))


if __name__ == "__main__":
    main()
