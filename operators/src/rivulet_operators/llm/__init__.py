"""LLM operators: chat, completion, prompt templates, structured output, embeddings, memory, summaries.

They reach models through ``ctx.service(ModelRegistry)`` by name (``default``, ``default-embedding`` or any
model configured under ``/api/models``); every call is recorded against the run and node.
"""

from rivulet_operators.llm import (
    chat,
    complete,
    conversation_memory,
    embed,
    prompt_template,
    structured_output,
    summarize,
)

__all__ = ("OPERATORS",)

OPERATORS = (
    chat.Chat,
    complete.Complete,
    prompt_template.PromptTemplate,
    structured_output.StructuredOutput,
    embed.Embed,
    conversation_memory.ConversationMemory,
    summarize.Summarize,
)
