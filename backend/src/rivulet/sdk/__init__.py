"""The operator SDK: the only API operator packages import.

Key contracts: ``Operator`` (ports from ``Inputs``/``Outputs`` Structs, ``run(ctx, params, inputs)``),
``OperatorSpec`` (identity and UI metadata), ``RunContext`` (what a running node may use) and the port type
vocabulary in ``rivulet.sdk.ports``.
"""

from rivulet.sdk.context import RunContext
from rivulet.sdk.operator import NoInputs, NoParams, Operator, OperatorSpec, PortSpec
from rivulet.sdk.ports import PortType, Stream, port_type_of

__all__ = (
    "NoInputs",
    "NoParams",
    "Operator",
    "OperatorSpec",
    "PortSpec",
    "PortType",
    "RunContext",
    "Stream",
    "port_type_of",
)
