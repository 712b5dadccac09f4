"""``/api/datasources``: data sources (admin-managed), their schemas, test queries and spreadsheet uploads."""

from rivulet.domain.datasources.controller import DatasourcesController, DatasourceUploadsController

__all__ = ("DatasourceUploadsController", "DatasourcesController")
