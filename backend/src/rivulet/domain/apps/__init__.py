"""``/api/apps`` (chat apps: manage them, their share links and feedback) and ``/api/chat`` (chat with them)."""

from rivulet.domain.apps.controller import AppsController, ChatController

__all__ = ("AppsController", "ChatController")
