"""Read-only connections to data sources: PostgreSQL, MySQL/MariaDB, SQLite, DuckDB and files (through DuckDB).

``open_connector(record, password)`` gives the ``Connector`` of a data source; see ``base.py`` for the contract
and docs/data-connectors.md for what enforces read-only access at each database.
"""

from rivulet.data.connectors.base import Connector, normalise_type, open_connector

__all__ = ("Connector", "normalise_type", "open_connector")
