"""Fetch web pages or files by URL and parse them into documents (HTML, PDF, DOCX, Markdown, text, ...).

URLs come from the ``url`` param, the ``url`` input or the ``urls`` input (all of them, in that order, each once).
Fetching goes through the knowledge service and the outbound network guard: private, loopback and link-local
addresses are refused unless ``allow_private_network`` is on and the deployment's ``NetworkPolicy`` permits it.
Never cached: pages change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import msgspec
from msgspec import Meta

from rivulet.sdk import Operator, OperatorSpec
from rivulet.sdk.ports import Document, Int, Text
from rivulet.sdk.rules import requires_one_of
from rivulet_operators.rag._common import fail, knowledge_call, knowledge_of

if TYPE_CHECKING:
    from rivulet.sdk import RunContext

__all__ = ("SPEC", "Inputs", "LoadUrl", "Outputs", "Params")

SPEC = OperatorSpec(
    id="rag.load_url",
    category="rag",
    title="Load URL",
    description="Fetch web pages or files and parse them into documents.",
    icon="link",
    tags=("rag", "knowledge", "url", "web", "loader", "documents"),
    cacheable=False,
    input_rules=(requires_one_of("url", "urls", params=("url",), hint="which page to load"),),
)


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    url: Annotated[str, Meta(max_length=8192, description="An http(s) URL; the url/urls inputs add more.")] = ""
    allow_private_network: Annotated[
        bool, Meta(description="Allow private, loopback and link-local addresses (internal sites).")
    ] = False


class Inputs(msgspec.Struct, frozen=True, kw_only=True):
    url: Annotated[Text | None, Meta(description="One URL.")] = None
    urls: Annotated[list[Text] | None, Meta(description="Several URLs, loaded in order.")] = None


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    documents: Annotated[list[Document], Meta(description="The parsed documents (id = the URL or file name).")]
    count: Annotated[Int, Meta(description="How many documents were loaded.")]


def _urls(params: Params, inputs: Inputs) -> list[str]:
    given = [params.url, inputs.url or "", *(inputs.urls or [])]
    return list(dict.fromkeys(u.strip() for u in given if u.strip()))


class LoadUrl(Operator[Params, Inputs, Outputs]):
    spec = SPEC
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs) -> Outputs:
        urls = _urls(params, inputs)
        if not urls:
            raise fail(SPEC, ctx, "no URL: set the url param or connect the url or urls input")
        kb = knowledge_of(SPEC, ctx)
        documents: list[Document] = []
        for done, url in enumerate(urls, start=1):
            if ctx.cancelled.is_set():
                raise fail(SPEC, ctx, "cancelled")
            call = kb.load_url(url, allow_private_network=params.allow_private_network)
            loaded = await knowledge_call(SPEC, ctx, call, what=url)
            documents.extend(loaded)
            await ctx.progress(done, len(urls))
        return Outputs(documents=documents, count=len(documents))
