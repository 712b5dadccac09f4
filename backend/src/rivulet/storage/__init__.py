"""Persistence: Protocols in ``base``, an in-memory store for unit tests, PostgreSQL for everything real."""
