"""Storage: the ORM models, the database engine and transactions, and the Alembic migrations."""
