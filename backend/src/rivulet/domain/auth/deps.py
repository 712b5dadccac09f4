"""What the accounts API uses, handed to its handlers as one dependency (``deps``)."""

from __future__ import annotations

from dataclasses import dataclass

from rivulet.lib.settings import Settings
from rivulet.publishing.limits import LoginThrottle
from rivulet.storage.base import AuthStore, ChangeNotifier

__all__ = ("AuthDeps",)


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthDeps:
    """Users, workspaces and credentials; change notices; the session settings; the login throttle."""

    auth: AuthStore
    changes: ChangeNotifier
    settings: Settings
    login_throttle: LoginThrottle
