"""The operator SDK: the only API operator packages import.

Key contracts: ``Operator`` (ports from ``Inputs``/``Outputs`` Structs, ``run(ctx, params, inputs)``, dynamic
ports through ``input_ports``/``output_ports``/``build_inputs``/``output_values``), ``OperatorSpec`` (identity,
UI metadata, and ``input_rules`` from ``rivulet.sdk.rules`` for "one of these inputs"), ``RunContext`` (what a
running node may use), the port type vocabulary in ``rivulet.sdk.ports``, UI hints in ``rivulet.sdk.ui``, the
outbound network guard in ``rivulet.sdk.net`` and the Jinja2 sandbox (templates whose variables become input
ports) in ``rivulet.sdk.templating``.
"""

from rivulet.lib.exceptions import MissingDependencyError, OperatorError
from rivulet.sdk.context import RunContext
from rivulet.sdk.operator import NoInputs, NoOutputs, NoParams, Operator, OperatorSpec, PortSpec
from rivulet.sdk.ports import PortType, Stream, parse_port_type, port_type_of, python_type_of
from rivulet.sdk.rules import InputRule, exactly_one_of, mutually_exclusive, requires_one_of
from rivulet.sdk.ui import ui_hint

__all__ = (
    "InputRule",
    "MissingDependencyError",
    "NoInputs",
    "NoOutputs",
    "NoParams",
    "Operator",
    "OperatorError",
    "OperatorSpec",
    "PortSpec",
    "PortType",
    "RunContext",
    "Stream",
    "exactly_one_of",
    "mutually_exclusive",
    "parse_port_type",
    "port_type_of",
    "python_type_of",
    "requires_one_of",
    "ui_hint",
)
