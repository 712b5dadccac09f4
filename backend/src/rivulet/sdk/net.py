"""Outbound network guard: operators that call URLs chosen by flow authors refuse internal addresses.

``resolve_allowed(host, port, policy)`` resolves a host and checks *every* address: private, loopback,
link-local, multicast, reserved, unspecified and other non-global ranges (IPv4-mapped IPv6 included) are refused
unless the policy allows private networks or the address is inside ``policy.allowed_networks``. Callers then
connect to the returned address (not the name again), so DNS rebinding between check and connect cannot redirect
the request, and they repeat the check on every redirect.

A deployment sets the policy by providing a ``NetworkPolicy`` service (``ctx.service(NetworkPolicy)``); without
one the default refuses private networks.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

from rivulet.lib.exceptions import AppError

__all__ = ("BlockedAddressError", "NetworkPolicy", "address_problem", "resolve_allowed")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class NetworkPolicy:
    """Where outbound requests may go."""

    allow_private_network: bool = False
    """Allow every address (trusted single-user installs)."""
    allowed_networks: tuple[str, ...] = ()
    """CIDRs allowed even though they are private, e.g. ``("10.20.0.0/16",)`` for an internal API."""
    permit_flow_override: bool = False
    """Whether a node's ``allow_private_network`` param may allow private addresses (off: only the admin decides)."""


class BlockedAddressError(AppError):
    """A host resolved to an address the policy refuses (or did not resolve)."""

    code = "blocked_address"
    status_code = 403


def address_problem(address: IPAddress) -> str | None:
    """Why ``address`` is not a public unicast address, or ``None`` when it is."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address_problem(address.ipv4_mapped)
    checks = (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
    )
    for name, hit in checks:
        if hit:
            return name
    return None if address.is_global else "non-global"


def _allowed(address: IPAddress, policy: NetworkPolicy, allow_private: bool) -> str | None:
    problem = address_problem(address)
    if problem is None or allow_private or policy.allow_private_network:
        return None
    for cidr in policy.allowed_networks:
        if address in ipaddress.ip_network(cidr, strict=False):
            return None
    return problem


async def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise BlockedAddressError(f"cannot resolve host {host!r}: {exc.strerror}", extra={"host": host}) from exc
    addresses: list[IPAddress] = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


async def resolve_allowed(
    host: str, port: int, policy: NetworkPolicy, *, allow_private: bool = False
) -> list[IPAddress]:
    """Resolve ``host`` and return its addresses if *all* of them are allowed.

    Args:
        host: A DNS name or an IP literal.
        port: The port (for ``getaddrinfo``).
        policy: The deployment's policy.
        allow_private: The operator's own ``allow_private_network`` param (honoured only when
            ``policy.permit_flow_override``).

    Raises:
        BlockedAddressError: The host does not resolve, or one of its addresses is refused; names it and why.
    """
    override = allow_private and policy.permit_flow_override
    addresses = await _resolve(host, port)
    if not addresses:
        raise BlockedAddressError(f"host {host!r} has no addresses", extra={"host": host})
    for address in addresses:
        problem = _allowed(address, policy, override)
        if problem is not None:
            raise BlockedAddressError(
                f"refusing to connect to {host!r}: {address} is a {problem} address "
                "(set allow_private_network to reach internal services)",
                extra={"host": host, "address": str(address), "reason": problem},
            )
    return addresses
