"""Numbered dynamic inputs ``in_1 .. in_n`` shared by ``core.join`` and ``core.merge`` (internal)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from rivulet.sdk import PortSpec

if TYPE_CHECKING:
    from collections.abc import Mapping

    from rivulet.sdk import PortType

__all__ = ("NumberedInputs", "numbered_ports", "port_names")


class NumberedInputs(msgspec.Struct, frozen=True, kw_only=True):
    values: dict[str, Any] = msgspec.field(default_factory=dict[str, Any])
    """Values by port name; a port without a value (skipped upstream, unconnected) is absent."""

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> NumberedInputs:
        """Build from the runtime's port values."""
        return cls(values=dict(values))


def port_names(count: int) -> tuple[str, ...]:
    """``("in_1", ..., "in_<count>")``."""
    return tuple(f"in_{i}" for i in range(1, count + 1))


def numbered_ports(count: int, port_type: PortType, *, required: bool) -> tuple[PortSpec, ...]:
    """``count`` input ports of one type."""
    return tuple(
        PortSpec(name=name, type=port_type, required=required, description=f"Input {i}.")
        for i, name in enumerate(port_names(count), start=1)
    )
