"""``/api/datasources``: data sources (admin-managed), their schemas, test queries and spreadsheet uploads."""
