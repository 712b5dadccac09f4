"""Import a template package: validate everything, run nothing, write all flows in one transaction or none.

Steps: the required operators exist in the registry in a version the manifest accepts; the variables given
match the manifest (names, required, types); every ``${name}`` placeholder in the flows is declared; the flows,
with values substituted, compile against the registry. Every problem is collected and located (flow file,
node id, JSON path), then raised as one ``TemplateImportError``. Name conflicts follow the chosen policy.
"""

from __future__ import annotations

import asyncio
import re
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from rivulet.compiler import analyze_flow
from rivulet.compiler.flow import FlowDocument, FlowMetadata, Variable
from rivulet.lib.exceptions import ConflictError, ValidationError

if TYPE_CHECKING:
    from rivulet.registry.registry import OperatorRegistry
    from rivulet.storage.base import FlowStore
    from rivulet.templates.package import TemplatePackage, TemplateVariable

__all__ = (
    "ConflictPolicy",
    "ImportProblem",
    "ImportProblemCode",
    "ImportReport",
    "ImportedFlow",
    "TemplateImportError",
    "import_package",
    "prepare_flows",
    "version_in_range",
)

ConflictPolicy = Literal["ask", "new", "upgrade", "skip"]
"""``ask`` refuses with 409 listing the conflicts; ``new`` imports a renamed copy; ``upgrade`` appends a version to
the flow imported earlier from the same template (or with the same name); ``skip`` leaves it alone."""

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_COMPARATORS = {">=": int.__ge__, "<=": int.__le__, ">": int.__gt__, "<": int.__lt__, "==": int.__eq__}


class ImportProblemCode(StrEnum):
    """Stable codes of import problems found before compiling (documented in ``docs/errors.md``)."""

    MISSING_OPERATOR = "missing_operator"
    OPERATOR_VERSION = "operator_version"
    UNDECLARED_OPERATOR = "undeclared_operator"
    MISSING_VARIABLE = "missing_variable"
    UNKNOWN_TEMPLATE_VARIABLE = "unknown_template_variable"
    INVALID_VARIABLE = "invalid_variable"
    UNDECLARED_PLACEHOLDER = "undeclared_placeholder"


class ImportProblem(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One reason a package cannot be imported."""

    code: str
    """An ``ImportProblemCode`` or a compiler ``DiagnosticCode`` (for problems found compiling a flow)."""
    message: str
    flow: str | None = None
    """The flow file in the package."""
    node_id: str | None = None
    path: str | None = None
    """JSON path inside the flow (or the manifest)."""
    expected: str | None = None
    got: str | None = None


class ImportedFlow(msgspec.Struct, frozen=True, kw_only=True):
    """What happened to one flow of the package."""

    file: str
    action: Literal["created", "upgraded", "skipped"]
    name: str
    flow_id: str | None = None
    version: int | None = None


class ImportReport(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of a successful import."""

    template: str
    """``name@version``."""
    flows: list[ImportedFlow]


class TemplateImportError(ValidationError):
    """The package does not validate; ``extra["problems"]`` lists every problem. Nothing was written."""

    code = "template_invalid"
    status_code = 422

    def __init__(self, template: str, problems: list[ImportProblem]) -> None:
        first = problems[0]
        where = "".join(
            f" {label} {value}"
            for label, value in (("in", first.flow), ("node", first.node_id), ("at", first.path))
            if value
        )
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(
            f"cannot import {template}: {first.message}{where}{more}",
            extra={"template": template, "problems": msgspec.to_builtins(problems)},
        )
        self.problems = problems


def version_in_range(version: int, spec: str) -> bool:
    """Whether an operator version satisfies ``*``, ``2``, ``>=1`` or ``>=1,<3``."""
    spec = spec.strip()
    if spec in ("", "*"):
        return True
    for part in (p.strip() for p in spec.split(",")):
        op = next((o for o in (">=", "<=", "==", ">", "<") if part.startswith(o)), "==")
        bound = int(part.removeprefix(op).strip())
        if not _COMPARATORS[op](version, bound):
            return False
    return True


def _check_operators(package: TemplatePackage, registry: OperatorRegistry) -> list[ImportProblem]:
    problems: list[ImportProblem] = []
    declared = {req.id for req in package.manifest.operators}
    for index, req in enumerate(package.manifest.operators):
        path = f"$.operators[{index}]"
        if req.id not in registry:
            problems.append(
                ImportProblem(
                    code=ImportProblemCode.MISSING_OPERATOR,
                    message=f"operator {req.id!r} is not installed",
                    path=path,
                    expected=req.id,
                )
            )
            continue
        installed = registry.versions(req.id)
        if not any(version_in_range(v, req.versions) for v in installed):
            problems.append(
                ImportProblem(
                    code=ImportProblemCode.OPERATOR_VERSION,
                    path=path,
                    expected=req.versions,
                    got=", ".join(str(v) for v in installed),
                    message=f"operator {req.id!r} is installed in version(s) "
                    f"{', '.join(str(v) for v in installed)}, the template needs {req.versions}",
                )
            )
    for file, flow in package.flows.items():
        for n, node in enumerate(flow.nodes):
            if node.operator not in declared:
                problems.append(
                    ImportProblem(
                        code=ImportProblemCode.UNDECLARED_OPERATOR,
                        flow=file,
                        node_id=node.id,
                        path=f"$.nodes[{n}].operator",
                        got=node.operator,
                        message=f"operator {node.operator!r} is used but not listed in manifest.operators",
                    )
                )
    return problems


def _coerce(var: TemplateVariable, value: Any) -> Any:
    kinds: dict[str, Any] = {"text": str, "int": int, "float": float, "bool": bool, "json": object}
    target = kinds[var.type]
    if var.type == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if var.type in ("int", "float") and isinstance(value, bool):
        raise TypeError
    if var.type != "json" and not isinstance(value, target):
        if isinstance(value, str) and var.type != "text":
            return _coerce(var, msgspec.json.decode(value))
        raise TypeError
    return value


def _resolve_values(package: TemplatePackage, given: dict[str, Any]) -> tuple[dict[str, Any], list[ImportProblem]]:
    problems: list[ImportProblem] = []
    declared = {v.name: v for v in package.manifest.variables}
    values: dict[str, Any] = {}
    for name in given:
        if name not in declared:
            known = ", ".join(declared) or "none"
            problems.append(
                ImportProblem(
                    code=ImportProblemCode.UNKNOWN_TEMPLATE_VARIABLE,
                    path=f"variables.{name}",
                    message=f"unknown variable {name!r} (declared: {known})",
                )
            )
    for var in declared.values():
        if var.secret:
            continue
        raw = given.get(var.name, var.default)
        if raw is None:
            if var.required:
                problems.append(
                    ImportProblem(
                        code=ImportProblemCode.MISSING_VARIABLE,
                        path=f"variables.{var.name}",
                        expected=var.type,
                        message=f"variable {var.name!r} is required",
                    )
                )
            continue
        try:
            values[var.name] = _coerce(var, raw)
        except (TypeError, ValueError, msgspec.DecodeError):
            problems.append(
                ImportProblem(
                    code=ImportProblemCode.INVALID_VARIABLE,
                    path=f"variables.{var.name}",
                    expected=var.type,
                    got=repr(raw)[:80],
                    message=f"variable {var.name!r} must be {var.type}, got {raw!r}"[:200],
                )
            )
    return values, problems


def _substitute(value: Any, values: dict[str, Any]) -> Any:
    if isinstance(value, str):
        whole = _PLACEHOLDER.fullmatch(value)
        if whole and whole.group(1) in values:
            return values[whole.group(1)]

        def repl(match: re.Match[str]) -> str:
            found = values.get(match.group(1), match.group(0))
            return found if isinstance(found, str) else msgspec.json.encode(found).decode()

        return _PLACEHOLDER.sub(repl, value)
    if isinstance(value, list):
        return [_substitute(v, values) for v in value]  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, dict):
        return {k: _substitute(v, values) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType]
    return value


def _placeholders(file: str, flow: FlowDocument, declared: set[str]) -> list[ImportProblem]:
    return [
        ImportProblem(
            code=ImportProblemCode.UNDECLARED_PLACEHOLDER,
            flow=file,
            node_id=node.id,
            path=f"$.nodes[{n}].params",
            got=f"${{{name}}}",
            message=f"placeholder ${{{name}}} is not a declared variable",
        )
        for n, node in enumerate(flow.nodes)
        for name in sorted(set(_PLACEHOLDER.findall(msgspec.json.encode(node.params).decode())) - declared)
    ]


def _apply(package: TemplatePackage, flow: FlowDocument, values: dict[str, Any]) -> FlowDocument:
    nodes = [msgspec.structs.replace(n, params=_substitute(n.params, values)) for n in flow.nodes]
    secrets = [
        Variable(name=v.name, type="secret", required=v.required, description=v.description)
        for v in package.manifest.variables
        if v.secret and all(existing.name != v.name for existing in flow.variables)
    ]
    metadata = FlowMetadata(
        tags=sorted({*flow.metadata.tags, *package.manifest.tags}),
        template=package.manifest.ref,
        source=flow.metadata.source,
    )
    return msgspec.structs.replace(
        flow, id="", version=0, nodes=nodes, variables=[*flow.variables, *secrets], metadata=metadata
    )


def prepare_flows(
    package: TemplatePackage, registry: OperatorRegistry, variables: dict[str, Any] | None = None
) -> dict[str, FlowDocument]:
    """Validate the package and return its flows ready to store (values substituted, provenance recorded).

    Raises:
        TemplateImportError: Every problem found, located.
    """
    problems = _check_operators(package, registry)
    values, variable_problems = _resolve_values(package, variables or {})
    problems += variable_problems
    declared = {v.name for v in package.manifest.variables}
    prepared: dict[str, FlowDocument] = {}
    for file, flow in package.flows.items():
        placeholder_problems = _placeholders(file, flow, declared)
        problems += placeholder_problems
        document = _apply(package, flow, values)
        prepared[file] = document
        if placeholder_problems or variable_problems:
            continue
        for d in analyze_flow(document, registry).diagnostics:
            if d.severity == "error":
                problems.append(
                    ImportProblem(
                        code=str(d.code),
                        message=d.message,
                        flow=file,
                        node_id=d.node_id,
                        path=d.path,
                        expected=d.expected,
                        got=d.got,
                    )
                )
    if problems:
        raise TemplateImportError(package.manifest.ref, problems)
    return prepared


async def _existing(store: FlowStore, document: FlowDocument, template_name: str) -> tuple[str, FlowDocument] | None:
    for summary in await store.list(search=document.name, limit=500):
        record = await store.get(summary.id)
        source = record.document.metadata.template or ""
        same_template = source.split("@", 1)[0] == template_name
        if summary.name == document.name and (same_template or not source):
            return summary.id, record.document
    return None


async def _free_name(store: FlowStore, name: str) -> str:
    taken = {s.name for s in await store.list(search=name, limit=500)}
    number = 2
    while f"{name} ({number})" in taken:
        number += 1
    return f"{name} ({number})"[:200]


async def import_package(
    package: TemplatePackage,
    *,
    store: FlowStore,
    registry: OperatorRegistry,
    variables: dict[str, Any] | None = None,
    on_conflict: ConflictPolicy = "ask",
) -> ImportReport:
    """Validate, resolve conflicts, then write every flow in one transaction. Runs nothing.

    Raises:
        TemplateImportError: The package does not validate (nothing written).
        ConflictError: ``on_conflict="ask"`` and a flow of that name exists (nothing written).
    """
    prepared = await asyncio.to_thread(prepare_flows, package, registry, variables)  # compiling: CPU work
    ref = package.manifest.ref
    creates: list[tuple[str, FlowDocument]] = []
    updates: list[tuple[str, str, FlowDocument]] = []
    skipped: list[ImportedFlow] = []
    conflicts: list[dict[str, str]] = []
    for file, document in prepared.items():
        existing = await _existing(store, document, package.manifest.name)
        if existing is None:
            creates.append((file, document))
        elif on_conflict == "ask":
            conflicts.append(
                {
                    "file": file,
                    "flow_id": existing[0],
                    "name": document.name,
                    "template": existing[1].metadata.template or "",
                }
            )
        elif on_conflict == "skip":
            skipped.append(ImportedFlow(file=file, action="skipped", name=document.name, flow_id=existing[0]))
        elif on_conflict == "upgrade":
            updates.append((file, existing[0], document))
        else:
            renamed = msgspec.structs.replace(document, name=await _free_name(store, document.name))
            creates.append((file, renamed))
    if conflicts:
        names = ", ".join(repr(c["name"]) for c in conflicts)
        raise ConflictError(
            f"flow(s) {names} already exist; choose on_conflict: new (a copy), upgrade or skip",
            extra={"template": ref, "conflicts": conflicts},
        )
    records = await store.write_many(
        [d for _, d in creates], [(fid, d) for _, fid, d in updates], message=f"imported from template {ref}"
    )
    files = [f for f, _ in creates] + [f for f, _, _ in updates]
    actions = ["created"] * len(creates) + ["upgraded"] * len(updates)
    done = [
        ImportedFlow(file=f, action=a, name=r.summary.name, flow_id=r.summary.id, version=r.summary.version)  # type: ignore[arg-type]
        for f, a, r in zip(files, actions, records, strict=True)
    ]
    return ImportReport(template=ref, flows=done + skipped)
