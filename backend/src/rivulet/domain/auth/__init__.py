"""``/api/auth`` (login, logout, who am I), ``/api/users`` and ``/api/workspaces`` (admin-managed)."""

from rivulet.domain.auth.controller import AuthController, UsersController, WorkspacesController

__all__ = ("AuthController", "UsersController", "WorkspacesController")
