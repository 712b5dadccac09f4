"""Cross-cutting helpers: errors, settings, logging."""
