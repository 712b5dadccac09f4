"""Data sources: connectors (PostgreSQL, MySQL/MariaDB, SQLite, DuckDB, files), the SQL guard, Text2SQL,
charts and reports."""
