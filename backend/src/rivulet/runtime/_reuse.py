"""``RunReuse``: what one run looks up in the node cache and what it records there (internal).

A node is served outputs instead of running when an earlier run recorded them for the same operator, params,
inputs and context (``RunOptions.reuse``, a partial re-run) or when the content-addressed cache holds them
(``RunOptions.use_cache``); what a node computes is recorded under the run (``record_outputs``) and in the cache.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rivulet.lib.exceptions import NotFoundError
from rivulet.runtime.cache import content_key, deps_key, node_identity, node_key, run_key, secret_digest

if TYPE_CHECKING:
    from rivulet.runtime._node_state import NodeState
    from rivulet.runtime.cache import Deps, NodeCache
    from rivulet.runtime.options import ExecutorShared, RunOptions
    from rivulet.runtime.plan import NodePlan

__all__ = ("RunReuse", "run_reuse")


def run_reuse(flow_id: str, run_id: str, options: RunOptions, shared: ExecutorShared) -> RunReuse | None:
    """The reuse of a run that looks anything up or records anything (``None``: it does neither)."""
    cache = shared.cache
    if not options.reuse and (cache is None or not (options.use_cache or options.record_outputs)):
        return None
    return RunReuse(flow_id, run_id, options, shared)


class RunReuse:
    """Cache lookups and recording for one run."""

    __slots__ = ("cache", "flow_id", "may_reuse", "options", "record", "run_id", "secret_digests", "secrets")

    def __init__(self, flow_id: str, run_id: str, options: RunOptions, shared: ExecutorShared) -> None:
        cache = shared.cache
        self.flow_id = flow_id
        self.run_id = run_id
        self.options = options
        self.cache: NodeCache | None = cache
        self.secrets = shared.secrets
        self.record = cache is not None and options.record_outputs
        self.may_reuse = bool(options.reuse) or (cache is not None and options.use_cache)
        """Whether ``lookup`` can find anything for this run (reused outputs or the cache)."""
        self.secret_digests: dict[str, bytes | None] = {}
        """``secret_digest`` of the secrets resolved for cache lookups in this run (``None``: not found)."""

    def lookup(self, node: NodePlan, state: NodeState) -> dict[str, Any] | None:
        """Outputs to serve the node being decided instead of running it, or ``None`` (it runs)."""
        if self.may_reuse:
            found = self._lookup(node, state)
            if found is not None:
                return found
        if self.record and state.key is None:
            self._base_key(node, state)  # its recorded outputs carry what they were computed from
        return None

    def _base_key(self, node: NodePlan, state: NodeState) -> str | None:
        """The node's base key on its inputs (kept in ``state.key``: the node records its reads when it runs)."""
        identity = node.identity
        if identity is None:
            identity = node.identity = node_identity(node.node, self.flow_id) or b""
        state.key = key = node_key(node.node, state.inputs or {}, identity) if identity else None
        return key

    def _lookup(self, node: NodePlan, state: NodeState) -> dict[str, Any] | None:
        options = self.options
        node_id = node.node.id
        selected = options.rerun is not None and node_id in options.rerun
        if options.reuse and node_id in options.reuse and not selected:
            reused = self._reusable(node, state, options.reuse[node_id])
            if reused is not None:
                return reused
        cache = self.cache
        if cache is None or not options.use_cache or not node.cacheable:
            return None
        base = state.key if state.key is not None else self._base_key(node, state)
        if base is None or selected:
            return None  # a selected node runs (and its result replaces the cached one)
        entry = cache.get(deps_key(base))
        if entry is None:
            return None
        deps: Deps = entry["deps"]
        digests = self.secret_digests
        for name in deps[2]:
            if name not in digests:
                state.verify = deps  # ``run_node`` resolves the secrets, then calls ``lookup_verified``
                return None
        key = self._content_key(node, base, deps, digests)
        return None if key is None else cache.get(key)

    def _reusable(self, node: NodePlan, state: NodeState, recorded: dict[str, Any]) -> dict[str, Any] | None:
        """The outputs an earlier run recorded for the node (``remember``), if it would run on the same things.

        Same operator, params, inputs and context values, that is: only what the node does not control (a
        model's answer, the clock) is reused. A node that read a secret this run has not resolved yet runs.
        """
        fingerprint, deps = recorded.get("key"), recorded.get("deps")
        if fingerprint is None or deps is None:
            return None
        base = self._base_key(node, state)
        digests = self.secret_digests
        if base is None or any(name not in digests for name in deps[2]):
            return None
        if self._content_key(node, base, deps, digests) != fingerprint:
            return None
        outputs: dict[str, Any] = recorded["outputs"]
        return outputs

    def _content_key(self, node: NodePlan, base: str, deps: Deps, secrets: dict[str, bytes | None]) -> str | None:
        options = self.options
        return content_key(
            base, deps, run_inputs=options.inputs, variables=options.variables, node_id=node.node.id, secrets=secrets
        )

    async def lookup_verified(self, node: NodePlan, state: NodeState) -> dict[str, Any] | None:
        """The cached outputs of a node whose recorded reads name secrets (``NodeState.verify``), or ``None``.

        Resolves each secret not resolved yet in this run and keeps only its ``secret_digest``; a store that fails
        is a miss (the node runs and reports the failure itself).
        """
        deps, state.verify = state.verify, None
        cache = self.cache
        if deps is None or cache is None or state.key is None:
            return None
        if not await self._resolve_secrets(deps[2]):
            return None
        key = self._content_key(node, state.key, deps, self.secret_digests)
        outputs = None if key is None else cache.get(key)
        if outputs is not None:
            state.cached = True
        return outputs

    async def _resolve_secrets(self, names: tuple[str, ...]) -> bool:
        """Digest each secret not resolved yet (``None``: not found); ``False`` when the store failed."""
        digests = self.secret_digests
        resolve = self.secrets
        for name in names:
            if name in digests:
                continue
            if resolve is None:
                digests[name] = None
                continue
            try:
                digests[name] = secret_digest(await resolve(name))
            except NotFoundError:
                digests[name] = None
            except Exception:  # noqa: BLE001 - any other failure of the store: not a hit
                return False
        return True

    def remember(self, node: NodePlan, state: NodeState, outputs: dict[str, Any]) -> None:
        """Keep what the node computed: under the run (``record_outputs``) and in the content cache."""
        cache = self.cache
        if cache is None or state.cached:
            return
        base, reads = state.key, state.reads
        deps = key = None
        if base is not None and reads is not None:
            deps = reads.deps(pinned=True)  # with a volatile read, still what a partial re-run checks
            key = self._content_key(node, base, deps, reads.secrets)
        if self.record:
            cache.put(run_key(self.run_id, node.node.id), {"outputs": outputs, "deps": deps, "key": key})
        if key is None or deps is None or reads is None or reads.volatile:
            return  # not cacheable, or it read the run id or a service: not a function of the run
        if self.options.use_cache and node.cacheable and cache.put(key, outputs):
            cache.put(deps_key(base or ""), {"deps": deps})
