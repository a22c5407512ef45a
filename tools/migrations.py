"""Forward-only SQL migrations for the local clusters (and, the same files, for production).

include/sql/roles/<cluster>.sql   cluster-wide roles, idempotent, applied on every `up`
include/sql/<cluster>/NNNN_*.sql  per-database migrations, applied once each in name order and
                                  recorded with a checksum in public.schema_migrations; editing an
                                  applied file is an error (write a new migration instead)
include/sql/<cluster>/templates/  per-app (or per-source) SQL formatted with psycopg.sql
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from psycopg import sql

SQL_DIR = Path(__file__).resolve().parent.parent / "include" / "sql"


class MigrationError(RuntimeError):
    pass


def apply_roles(conn, cluster: str, passwords: dict[str, str]) -> None:
    conn.execute((SQL_DIR / "roles" / f"{cluster}.sql").read_text())
    for role, password in passwords.items():
        conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role), sql.Literal(password)))


def ensure_databases(conn, names: list[str]) -> None:
    existing = {row[0] for row in conn.execute("select datname from pg_database")}
    for name in names:
        if name not in existing:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def apply_migrations(conn, folder: Path) -> list[str]:
    """Apply every not-yet-applied NNNN_*.sql file of `folder`, each in its own transaction."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS public.schema_migrations ("
        " filename text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
    )
    applied = dict(conn.execute("select filename, checksum from public.schema_migrations").fetchall())
    done = []
    for path in sorted(folder.glob("[0-9][0-9][0-9][0-9]_*.sql")):
        text = path.read_text()
        checksum = hashlib.sha256(text.encode()).hexdigest()
        if path.name in applied:
            if applied[path.name] != checksum:
                raise MigrationError(
                    f"{path}: already applied with another checksum. Migrations are forward-only: "
                    "revert the edit and add a new NNNN_*.sql file instead"
                )
            continue
        with conn.transaction():
            conn.execute(text)
            conn.execute(
                "insert into public.schema_migrations (filename, checksum) values (%s, %s)",
                (path.name, checksum),
            )
        done.append(path.name)
    return done


def apply_template(conn, path: Path, **identifiers: str) -> None:
    """Run a SQL template whose {placeholders} are identifiers (quoted with sql.Identifier)."""
    template = sql.SQL(path.read_text())
    conn.execute(template.format(**{key: sql.Identifier(value) for key, value in identifiers.items()}))


def apply_app_schemas(conn, apps: list[str]) -> None:
    """analytics_db.{app} schema and {app}_app_reader role for every app of the registry."""
    for app in apps:
        apply_template(
            conn,
            SQL_DIR / "primary" / "templates" / "analytics_app_schema.sql",
            app_schema=app,
            app_reader=f"{app}_app_reader",
        )
