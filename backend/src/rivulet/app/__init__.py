"""The composition root: builds the application and the services it needs from settings.

Nothing below ``rivulet.app`` (server, domain controllers, runtime, storage, ...) builds its own collaborators; this
package wires them: the Litestar app, the per-domain dependency providers, headless runs. Only ``rivulet.cli`` sits
above it (see docs/architecture.md).
"""
