"""``/api/auth`` (login, logout, who am I) and ``/api/users`` (accounts, admins only)."""

from rivulet.domain.auth.controller import AuthController, UsersController

__all__ = ("AuthController", "UsersController")
