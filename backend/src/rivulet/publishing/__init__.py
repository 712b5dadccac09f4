"""Publishing: flows served as ``METHOD /f/{slug}`` endpoints and fired by schedules, on every replica.

Key contracts: the stores are the source of truth (``EndpointStore``, ``ScheduleStore``; PostgreSQL in a server,
shared by every replica); ``Publisher`` publishes and unpublishes flow versions; each replica caches resolved
endpoints (compiled graph included) and drops the cache on a ``rivulet_changes`` notice, so publish, unpublish
and republish take effect everywhere within the notice's latency. Limits are enforced per replica; calls are
audited asynchronously in batches.
"""

from rivulet.publishing.audit import AuditLog
from rivulet.publishing.limits import ConcurrencyLimiter, RateLimiter
from rivulet.publishing.registry import EndpointRegistry, LiveEndpoint, find_trigger
from rivulet.publishing.service import Publication, Publisher

__all__ = (
    "AuditLog",
    "ConcurrencyLimiter",
    "EndpointRegistry",
    "LiveEndpoint",
    "Publication",
    "Publisher",
    "RateLimiter",
    "find_trigger",
)
