"""``/api/secrets``."""

from rivulet.domain.secrets.controller import SecretsController

__all__ = ("SecretsController",)
