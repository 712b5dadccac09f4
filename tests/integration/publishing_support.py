"""Flows with triggers for the publishing tests (and the endpoint bench)."""

from __future__ import annotations

from typing import Any

from rivulet.compiler.flow import Edge, FlowDocument, Node


def greet_flow(
    slug: str = "greet", *, greeting: str = "Hello", method: str = "POST", history: str = "summary"
) -> FlowDocument:
    """``trigger.http(name: Text, excited: Bool = false) -> core.template -> core.output(greeting)``."""
    fields: list[dict[str, Any]] = [
        {"name": "name", "type": "Text", "description": "Who to greet"},
        {"name": "excited", "type": "Bool", "required": False, "default": False},
    ]
    return FlowDocument(
        name=f"greet {slug}",
        nodes=[
            Node(
                id="http",
                operator="trigger.http",
                params={"slug": slug, "method": method, "fields": fields, "history": history},
            ),
            Node(id="tpl", operator="core.template", params={"template": greeting + ", {{ name }}!"}),
            Node(id="out", operator="core.output", params={"name": "greeting"}),
        ],
        edges=[
            Edge(id="e1", source="http", source_port="name", target="tpl", target_port="name"),
            Edge(id="e2", source="tpl", source_port="text", target="out", target_port="value"),
        ],
    )


def stream_flow(slug: str = "tokens", delay_s: float = 0.3, response: str = "sse") -> FlowDocument:
    """``trigger.http(text, response=sse) -> core.stream_text(words) -> core.output(text)``."""
    fields = [{"name": "text", "type": "Text"}]
    return FlowDocument(
        name="stream",
        nodes=[
            Node(id="http", operator="trigger.http", params={"slug": slug, "response": response, "fields": fields}),
            Node(id="tokens", operator="core.stream_text", params={"delay_s": delay_s}),
            Node(id="out", operator="core.output", params={"name": "text"}),
        ],
        edges=[
            Edge(id="e1", source="http", source_port="text", target="tokens", target_port="text"),
            Edge(id="e2", source="tokens", source_port="tokens", target="out", target_port="value"),
        ],
    )


def slow_flow(slug: str = "slow", seconds: float = 2.0) -> FlowDocument:
    """``trigger.http(text) -> core.delay(seconds) -> core.output``."""
    return FlowDocument(
        name="slow",
        nodes=[
            Node(id="http", operator="trigger.http", params={"slug": slug, "fields": [{"name": "text"}]}),
            Node(id="wait", operator="core.delay", params={"seconds": seconds}),
            Node(id="out", operator="core.output", params={"name": "text"}),
        ],
        edges=[
            Edge(id="e1", source="http", source_port="text", target="wait", target_port="value"),
            Edge(id="e2", source="wait", source_port="value", target="out", target_port="value"),
        ],
    )


def schedule_flow(interval_s: float = 1.0, **params: Any) -> FlowDocument:
    """``trigger.schedule(every interval_s) -> core.output(inputs)``."""
    return FlowDocument(
        name="scheduled",
        nodes=[
            Node(id="tick", operator="trigger.schedule", params={"interval_s": interval_s, **params}),
            Node(id="out", operator="core.output", params={"name": "at"}),
        ],
        edges=[Edge(id="e1", source="tick", source_port="scheduled_at", target="out", target_port="value")],
    )
