"""SQL lives in include/sql as files; this is the one way Python reads them.

`query(name)` returns a file's text for use with bind parameters; `compose(name, **parts)`
formats a template whose {placeholders} are psycopg.sql objects (identifiers from config are
always `sql.Identifier`, never pasted into the string).
"""

from __future__ import annotations

from functools import cache

from psycopg import sql

from dataacuity.paths import SQL_DIR


@cache
def query(name: str) -> str:
    """Text of include/sql/<name> (e.g. "extract/replica_state.sql")."""
    return (SQL_DIR / name).read_text()


def compose(name: str, **parts: sql.Composable) -> sql.Composed:
    return sql.SQL(query(name)).format(**parts)
