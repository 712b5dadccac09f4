from __future__ import annotations

from typing import TYPE_CHECKING

from rivulet.app.wiring import operator_services
from rivulet.lib.settings import load_settings
from rivulet.sdk.net import NetworkPolicy

if TYPE_CHECKING:
    from pathlib import Path


def test_network_policy_is_closed_by_default(tmp_path: Path) -> None:
    policy = operator_services(load_settings(environ={"RIVULET_HOME": str(tmp_path)}))[NetworkPolicy]
    assert policy == NetworkPolicy(allow_private_network=False, allowed_networks=(), permit_flow_override=False)


def test_network_policy_from_environment(tmp_path: Path) -> None:
    env = {
        "RIVULET_HOME": str(tmp_path),
        "RIVULET_ALLOWED_NETWORKS": "10.20.0.0/16, 192.168.1.5/32",
        "RIVULET_PERMIT_FLOW_NETWORK_OVERRIDE": "true",
    }
    policy = operator_services(load_settings(environ=env))[NetworkPolicy]
    assert isinstance(policy, NetworkPolicy)
    assert policy.allowed_networks == ("10.20.0.0/16", "192.168.1.5/32")
    assert policy.permit_flow_override
    assert not policy.allow_private_network
