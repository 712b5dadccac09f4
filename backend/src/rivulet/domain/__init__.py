"""The HTTP layer, one package per resource. Nothing imports it but the app factory."""
