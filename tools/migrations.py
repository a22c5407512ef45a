"""Forward-only SQL migrations for the local clusters (and, the same files, for production).

include/sql/roles/<cluster>.sql   cluster-wide roles, idempotent, applied on every `up`
include/sql/<cluster>/NNNN_*.sql  per-database migrations, applied once each in name order and
                                  recorded with a checksum in public.schema_migrations; editing an
                                  applied file is an error (write a new migration instead)
include/sql/<cluster>/templates/  per-app (or per-source) SQL formatted with psycopg.sql

`apply_cluster_setup` is the whole schema set-up of the writable clusters; `make up`
(tools/topology.py) and docker-compose.airflow.yml's one-shot `schema` service both run it:

    python -m tools.migrations [--source-schemas]   # configured by the environment, see main()
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from dataacuity.paths import SQL_DIR

WRITABLE_CLUSTERS = ("primary", "warehouse", "compliance")
DsnFor = Callable[[str, str], str]  # (cluster, dbname) -> superuser DSN


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


def apply_cluster_setup(dsn_for: DsnFor, passwords: dict[str, str], registry, *, source_schemas: bool = False) -> None:
    """Roles (with their passwords), databases, migrations and the per-app analytics_db schemas on
    every writable cluster; with ``source_schemas`` also the apps' own tables in each source
    database (include/sql/sources). Idempotent."""
    from tools.topology import CLUSTERS, LOGIN_ROLES

    for cluster in WRITABLE_CLUSTERS:
        with psycopg.connect(dsn_for(cluster, "postgres"), autocommit=True) as conn:
            apply_roles(conn, cluster, {role: passwords[role] for role in LOGIN_ROLES[cluster]})
            databases = list(CLUSTERS[cluster].databases)
            if cluster == "primary":
                databases += [source.name for source in registry.sources]
            ensure_databases(conn, databases)
    for cluster in WRITABLE_CLUSTERS:
        for dbname in CLUSTERS[cluster].databases:
            with psycopg.connect(dsn_for(cluster, dbname), autocommit=True) as conn:
                apply_migrations(conn, SQL_DIR / cluster)
    with psycopg.connect(dsn_for("primary", "analytics_db"), autocommit=True) as conn:
        apply_app_schemas(conn, sorted({s.app for s in registry.sources}))
    if source_schemas:
        from tools.seed_sources import apply_source_schemas

        apply_source_schemas(lambda db: dsn_for("primary", db), registry)


def environment_dsn(cluster: str, dbname: str) -> str:
    """Superuser DSN from the environment: <CLUSTER>_HOST (default: the compose service name),
    <CLUSTER>_PORT (default PGPORT, else 5432) and POSTGRES_PASSWORD."""
    prefix = cluster.upper()
    return make_conninfo(
        host=os.environ.get(f"{prefix}_HOST", cluster),
        port=os.environ.get(f"{prefix}_PORT", os.environ.get("PGPORT", "5432")),
        user="postgres",
        password=os.environ["POSTGRES_PASSWORD"],
        dbname=dbname,
        connect_timeout=10,
    )


def main(argv: list[str] | None = None) -> int:
    """docker-compose.airflow.yml's `schema` service. Role passwords from <ROLE>_PASSWORD, the
    superuser's from POSTGRES_PASSWORD, hosts/ports as environment_dsn() says."""
    from dataacuity.registry import load_registry
    from tools.topology import LOGIN_ROLES

    parser = argparse.ArgumentParser(prog="python -m tools.migrations", description=__doc__.split("\n")[0])
    parser.add_argument("--source-schemas", action="store_true", help="also the apps' tables (include/sql/sources)")
    args = parser.parse_args(argv)
    roles = [role for cluster in WRITABLE_CLUSTERS for role in LOGIN_ROLES[cluster]]
    missing = [f"{r.upper()}_PASSWORD" for r in roles if not os.environ.get(f"{r.upper()}_PASSWORD")]
    if "POSTGRES_PASSWORD" not in os.environ:
        missing.insert(0, "POSTGRES_PASSWORD")
    if missing:
        print(f"schema: not set: {', '.join(missing)}", file=sys.stderr)
        return 2
    passwords = {role: os.environ[f"{role.upper()}_PASSWORD"] for role in roles}
    try:
        apply_cluster_setup(environment_dsn, passwords, load_registry(), source_schemas=args.source_schemas)
    except (MigrationError, psycopg.Error) as error:
        print(f"schema: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print("schema: roles, databases, migrations, app schemas" + (" and source schemas" if args.source_schemas else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
