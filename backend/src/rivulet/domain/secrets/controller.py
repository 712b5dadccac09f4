"""``/api/secrets``: names are listed, values are write-only (never returned, never logged)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, delete, get, put
from litestar.params import FromPath, JSONBody
from msgspec import Meta

from rivulet.lib.exceptions import ValidationError
from rivulet.security.permissions import Permission, requires
from rivulet.server.deps import Injected
from rivulet.storage.base import SecretInfo, SecretStore

__all__ = ("SecretList", "SecretSet", "SecretsController")

_NAMES = requires(Permission.FLOWS_WRITE)
"""Flow authors see secret names (to reference them as variables), never values."""
_ADMIN = requires(Permission.ADMIN)

_NAME = msgspec.json.Decoder(Annotated[str, Meta(pattern=r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$")])


class SecretSet(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    value: Annotated[str, Meta(min_length=1, max_length=65_536)]

    def __repr__(self) -> str:
        return "SecretSet(value=<hidden>)"


class SecretList(msgspec.Struct, frozen=True, kw_only=True):
    items: list[SecretInfo]


def _check_name(name: str) -> str:
    try:
        return _NAME.decode(msgspec.json.encode(name))
    except msgspec.ValidationError:
        raise ValidationError(
            f"secret name {name[:80]!r} is invalid: use letters, digits, '_', '.', '-' (start with a letter or '_')",
            extra={"errors": [{"message": "invalid name", "key": "name"}]},
        ) from None


class SecretsController(Controller):
    path = "/api/secrets"
    tags = ["secrets"]

    @get("/", summary="Secret names (values are never returned)", opt=_NAMES)
    async def list_secrets(self, secrets: Injected[SecretStore]) -> SecretList:
        return SecretList(items=await secrets.list())

    @put("/{name:str}", summary="Set a secret (encrypted at rest; the value is write-only)", opt=_ADMIN)
    async def set_secret(
        self, secrets: Injected[SecretStore], name: FromPath[str], data: JSONBody[SecretSet]
    ) -> SecretInfo:
        return await secrets.set(_check_name(name), data.value)

    @delete("/{name:str}", summary="Delete a secret", opt=_ADMIN)
    async def delete_secret(self, secrets: Injected[SecretStore], name: FromPath[str]) -> None:
        await secrets.delete(name)
