"""HTTP/WebSocket server: app factory, error mapping, CLI."""
