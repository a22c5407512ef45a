"""The source DDL (include/sql/sources/<db>.sql) read as columns per table."""

from __future__ import annotations

import re

from dataacuity.paths import SQL_DIR

SOURCE_SQL_DIR = SQL_DIR / "sources"


_CREATE_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+) \((.*?)\n\);", re.S)
_COLUMN_LINE = re.compile(r"^\s+(\w+)\s+\w", re.M)
_TABLE_CONSTRAINT_WORDS = {"PRIMARY", "UNIQUE", "CHECK", "CONSTRAINT", "FOREIGN", "EXCLUDE"}


def source_ddl_columns(source_db: str) -> dict[str, tuple[str, ...]]:
    """Columns per table declared in include/sql/sources/<source_db>.sql, in order."""
    ddl = (SOURCE_SQL_DIR / f"{source_db}.sql").read_text(encoding="utf-8")
    return {
        table: tuple(column for column in _COLUMN_LINE.findall(body) if column.upper() not in _TABLE_CONSTRAINT_WORDS)
        for table, body in _CREATE_TABLE.findall(ddl)
    }
