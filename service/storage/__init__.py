"""SQLite storage: open_db(), migrations, and one query module per table family.

Every function here takes the database first. Nothing outside this package writes SQL.
"""

from service.storage.db import Database, open_db

__all__ = ["Database", "open_db"]
