"""Storage on SQLite or PostgreSQL, through SQLAlchemy 2 Core."""
