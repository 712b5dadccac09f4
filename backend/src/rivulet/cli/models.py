"""``rivulet models list|add|test``: manage configured models from the command line (same database as serve)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import msgspec

from rivulet.cli.common import (
    add_home_arg,
    add_json_arg,
    database,
    failed,
    out,
    parse_assignments,
    print_json,
    print_table,
    settings_for,
)
from rivulet.lib.exceptions import ValidationError

if TYPE_CHECKING:
    import argparse
    from collections.abc import Awaitable, Callable

    from rivulet.lib.settings import Settings
    from rivulet.providers.config import ModelConfig
    from rivulet.providers.service import ModelService

__all__ = ("add_models_parser",)


async def _with_service(settings: Settings, url: str, action: Callable[[ModelService], Awaitable[int]]) -> int:
    from rivulet.lib.secrets import SecretBox, load_secret_key
    from rivulet.providers.config import model_dirs
    from rivulet.providers.service import ModelService
    from rivulet.storage.postgres.migrate import apply_migrations
    from rivulet.storage.postgres.model_configs import PostgresModelStore
    from rivulet.storage.postgres.pool import open_pool
    from rivulet.storage.postgres.secrets import PostgresSecretStore

    pool = await open_pool(url, min_size=1, max_size=2)
    try:
        await apply_migrations(pool)
        secrets = PostgresSecretStore(pool, SecretBox(load_secret_key(settings.secret_key, settings.home)))
        dirs = model_dirs(settings.model_dirs, settings.home)
        service = ModelService(PostgresModelStore(pool), secrets=secrets.reveal, model_dirs=dirs)
        try:
            return await action(service)
        finally:
            await service.close()
    finally:
        await pool.close()


def _list(args: argparse.Namespace) -> Callable[[ModelService], Awaitable[int]]:
    return lambda service: _print_models(service, as_json=args.json)


async def _print_models(service: ModelService, *, as_json: bool) -> int:
    models = await service.list_models()
    if as_json:
        print_json(models)
        return 0
    rows = [
        (
            m.name,
            m.kind,
            m.provider,
            "yes" if m.is_default else "",
            m.description + (" (built in)" if m.builtin else ""),
        )
        for m in models
    ]
    print_table(("name", "kind", "provider", "default", "description"), rows, empty="no models")
    return 0


def _add(args: argparse.Namespace) -> Callable[[ModelService], Awaitable[int]]:
    config = _model_config(args)  # an invalid config is refused before any database

    async def save(service: ModelService) -> int:
        saved = await service.save(config)
        if args.json:
            print_json(saved)
        else:
            out(f"saved: model {saved.name!r} ({saved.kind}, {saved.provider})")
        return 0

    return save


def _model_config(args: argparse.Namespace) -> ModelConfig:
    from rivulet.providers.config import ModelConfig, validate_config

    params = parse_assignments(args.param, "--param")
    for key in ("base_url", "model", "api_key_secret", "model_path"):
        value = getattr(args, key)
        if value is not None:
            params[key] = value
    raw: dict[str, Any] = {
        "name": args.name,
        "provider": args.provider,
        "kind": args.kind,
        "params": params,
        "concurrency": args.concurrency,
        "timeout_s": args.timeout,
        "fallbacks": args.fallback,
        "is_default": args.default,
        "allow_private_network": args.allow_private_network,
        "description": args.description,
    }
    try:
        config = msgspec.convert(raw, ModelConfig)
    except msgspec.ValidationError as exc:
        raise ValidationError(f"model {args.name!r}: {exc}") from exc
    return validate_config(config)


def _test(args: argparse.Namespace) -> Callable[[ModelService], Awaitable[int]]:
    return lambda service: _probe(service, args)


async def _probe(service: ModelService, args: argparse.Namespace) -> int:
    from rivulet.providers.probe import probe_model

    probe = await probe_model(service, args.name, max_tokens=args.max_tokens, origin="cli")
    if args.json:
        print_json(probe)
        return 0 if probe.ok else 1
    if not probe.ok:
        return failed("model test", f"{probe.model}: {probe.error}")
    ttft = f", first token {probe.ttft_ms:.0f} ms" if probe.ttft_ms is not None else ""
    speed = f", {probe.tokens_per_s:.1f} tokens/s" if probe.tokens_per_s else ""
    out(f"ok: {probe.model} (answered by {probe.answered_by}): {probe.latency_ms:.0f} ms{ttft}{speed}")
    out(f"tokens: {probe.prompt_tokens} prompt, {probe.completion_tokens} completion")
    out(f"output: {probe.output}")
    return 0


_ACTIONS = {"list": _list, "add": _add, "test": _test}


def _handle(args: argparse.Namespace) -> int:
    settings = settings_for(args)
    action = _ACTIONS[args.models_command](args)
    with database(settings) as url:
        return asyncio.run(_with_service(settings, url, action))


def add_models_parser(sub: Any) -> None:
    """Register ``rivulet models ...`` on the top-level subparsers."""
    models = sub.add_parser("models", help="list, add and test configured models")
    commands = models.add_subparsers(dest="models_command", required=True)
    listing = commands.add_parser("list", help="built-in and configured models")
    add = commands.add_parser("add", help="add or replace a model")
    add.add_argument("name", help="model name (lower-case)")
    add.add_argument(
        "--provider",
        required=True,
        choices=["local_llamacpp", "openai_compatible", "vllm", "local_sentence_transformers"],
    )
    add.add_argument("--kind", choices=["chat", "embedding"], default="chat")
    add.add_argument("--base-url", dest="base_url", help="openai_compatible: e.g. https://api.openai.com/v1")
    add.add_argument("--model", help="openai_compatible/vllm: the server's model name")
    add.add_argument("--api-key-secret", dest="api_key_secret", help="name of the secret holding the API key")
    add.add_argument("--model-path", dest="model_path", help="local_llamacpp: a GGUF file")
    add.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="another provider param")
    add.add_argument("--concurrency", type=int, default=4)
    add.add_argument("--timeout", type=float, default=120.0, metavar="SECONDS")
    add.add_argument("--fallback", action="append", default=[], metavar="NAME", help="fallback model (repeatable)")
    add.add_argument("--default", action="store_true", help="make it the default model of its kind")
    add.add_argument("--allow-private-network", action="store_true", help="base_url may be a private address")
    add.add_argument("--description", default="")
    test = commands.add_parser("test", help="one short real call: latency, tokens, output")
    test.add_argument("name", help="model name (default = the default chat model)")
    test.add_argument("--max-tokens", type=int, default=24)
    for parser in (listing, add, test):
        add_home_arg(parser)
        add_json_arg(parser)
    models.set_defaults(handler=_handle)
