"""Shared run data, the leaf that both the runtime and storage import.

The event union (``events``) and run records (``runs``).

Imports nothing from rivulet but ``rivulet.lib``; see docs/architecture.md for the layering.
"""
