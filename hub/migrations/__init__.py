"""Alembic migrations of the hub's database; run them with ``cabina db upgrade``."""
