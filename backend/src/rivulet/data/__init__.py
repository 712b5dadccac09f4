"""Data sources, the SQL guard, Text2SQL, charts and reports.

Connectors cover PostgreSQL, MySQL/MariaDB, SQLite, DuckDB and files (CSV, Excel, Parquet, JSON through DuckDB).
"""
