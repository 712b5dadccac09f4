"""UI hints for params: how the editor renders a field, carried to the form through the JSON Schema.

A hint is a JSON Schema extension keyword ``"ui": {"widget": ..., ...options}`` added with
``Meta(extra_json_schema=ui_hint(...))`` (msgspec merges ``extra_json_schema`` across nested ``Annotated``, so
the aliases below compose with further constraints). ``Meta(extra=...)`` does *not* reach the schema.

Example:
    >>> import msgspec
    >>> class Params(msgspec.Struct):
    ...     api_key: Annotated[SecretRef, Meta(description="Key name")]
    >>> msgspec.json.schema(Params)["$defs"]["Params"]["properties"]["api_key"]["ui"]
    {'widget': 'secret'}
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta

__all__ = (
    "WIDGETS",
    "CodeText",
    "DatasourceRef",
    "Expression",
    "ModelRef",
    "PortTypeName",
    "PromptText",
    "SecretRef",
    "SpaceRef",
    "Widget",
    "ui_hint",
)

Widget = Literal[
    "text", "textarea", "prompt", "code", "json", "expression", "secret", "model", "datasource", "port_type",
    "select", "slider", "key_value", "knowledge_space",
]  # fmt: skip
WIDGETS: tuple[str, ...] = Widget.__args__
"""Every widget the editor knows; an unknown widget falls back to the field's JSON type."""


def ui_hint(widget: Widget, **options: Any) -> dict[str, Any]:
    """The ``extra_json_schema`` value for a field rendered with ``widget``.

    Args:
        widget: The editor widget.
        **options: Widget options, e.g. ``language="jinja"`` for ``code`` or ``kind="embedding"`` for ``model``.

    Returns:
        ``{"ui": {"widget": widget, **options}}``.
    """
    return {"ui": {"widget": widget, **options}}


SecretRef = Annotated[str, Meta(min_length=1, extra_json_schema=ui_hint("secret"))]
"""The *name* of a secret (resolved at run time with ``ctx.secret(name)``); never the value."""
ModelRef = Annotated[str, Meta(min_length=1, extra_json_schema=ui_hint("model"))]
"""The name of a configured model (``default`` for the default chat model)."""
DatasourceRef = Annotated[str, Meta(min_length=1, extra_json_schema=ui_hint("datasource"))]
"""The name of a configured datasource."""
SpaceRef = Annotated[str, Meta(min_length=1, max_length=200, extra_json_schema=ui_hint("knowledge_space"))]
"""The name (or id) of a knowledge space (``/api/knowledge/spaces``); resolved with ``KnowledgeBase.space``."""
PortTypeName = Annotated[str, Meta(min_length=1, max_length=200, extra_json_schema=ui_hint("port_type"))]
"""A port type written as text (``Text``, ``List[Chunk]``); validate with ``rivulet.sdk.ports.parse_port_type``."""
PromptText = Annotated[str, Meta(extra_json_schema=ui_hint("prompt"))]
"""Multi-line text with ``{{ variable }}`` placeholders."""
Expression = Annotated[str, Meta(min_length=1, max_length=4000, extra_json_schema=ui_hint("expression"))]
"""A one-line Jinja2 expression."""
CodeText = Annotated[str, Meta(extra_json_schema=ui_hint("code"))]
"""Source text edited in a code editor; pass ``language`` with a further ``ui_hint`` where it matters."""
