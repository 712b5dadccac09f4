"""The flow compiler: canvas documents in, frozen ``CompiledGraph`` out.

Example:
    >>> from rivulet.registry import default_registry
    >>> from rivulet.compiler.flow import decode_flow
    >>> doc = decode_flow({"name": "x", "nodes": [{"id": "a", "operator": "core.constant",
    ...     "params": {"value": "hi"}}]})
    >>> compile_flow(doc, default_registry()).order
    ('a',)
"""

from rivulet.compiler.compile import analyze_flow, compile_flow
from rivulet.compiler.diagnostics import CompileError, Diagnostic, DiagnosticCode

__all__ = ("CompileError", "Diagnostic", "DiagnosticCode", "analyze_flow", "compile_flow")
