"""The one connection layer: Airflow connection ids of DESIGN §2 and the one way to open them.

How to use::

    from dataacuity import connections

    with connections.connect(connections.WAREHOUSE_MONITOR, autocommit=True) as conn:
        conn.execute("SELECT 1")

    # a zero-argument callable, for code that opens (and re-opens) its own connections:
    connect_replica = connections.connector(connections.REPLICA, dbname="ledger_db")

    # a runaway query is cancelled by the server after the timeout:
    connections.connect(connections.WAREHOUSE_ADMIN, statement_timeout="15min")

    # the raw Airflow connection (non-PostgreSQL ones such as "alertmanager", or dbt's profile):
    conn = connections.airflow_connection(connections.ALERTMANAGER)

Every PostgreSQL connection is opened by the Postgres provider's ``PostgresHook`` (psycopg 3
with SQLAlchemy 2), so every libpq keyword in the connection's extra is honoured exactly as the
hook and Cosmos honour it: ``sslmode`` (and the ssl* files), ``options``, ``connect_timeout``,
``application_name``, ``target_session_attrs``... This module only adds defaults the extra does
not set -- ``application_name=dataacuity:<conn_id>`` and ``connect_timeout=10`` -- and, when the
caller asks for one, a ``statement_timeout`` that the extra's own ``options`` can still override.

Connections resolve through Airflow (AIRFLOW_CONN_<ID> variables locally, in tests and in the
kill-switch CLI; the metadata DB or a secrets backend in production). Credentials never leave
this module: they are not logged, not returned, not put in XCom.

No other module opens a database connection from an Airflow connection
(tests/test_architecture.py fails if one does).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import psycopg

REPLICA = "replica_105"  # .105 hot standby, role etl_reader (the ETL reads only here)
ANALYTICS_DB = "analytics_104"  # .104 analytics_db, role pushback_writer
WAREHOUSE_ETL = "warehouse_106"  # .106, role etl_user
WAREHOUSE_DBT = "warehouse_dbt"  # .106, role dbt_runner
WAREHOUSE_ANALYTICS = "warehouse_analytics"  # .106, role analytics_user
WAREHOUSE_ADMIN = "warehouse_admin"  # .106, role warehouse_admin (audit, kill switch)
WAREHOUSE_MONITOR = "warehouse_monitor"  # .106, role pipeline_monitor (freshness, alert outbox)
COMPLIANCE = "compliance_118"  # .118, role compliance_admin
COMPLIANCE_USER = "compliance_user_118"  # .118, role compliance_user
ALERTMANAGER = "alertmanager"  # HTTP

CONNECT_TIMEOUT_S = 10
APPLICATION_NAME_PREFIX = "dataacuity:"


def airflow_connection(conn_id: str) -> Any:
    """The Airflow connection ``conn_id`` (env var, secrets backend or metadata DB)."""
    from airflow.sdk import BaseHook

    return BaseHook.get_connection(conn_id)


def libpq_extra(conn: Any, *, statement_timeout: str | int | None = None) -> dict[str, Any]:
    """The connection's extra with this layer's defaults filled in (what the hook passes to libpq).

    ``statement_timeout``: a PostgreSQL duration ("15min", "30s") or milliseconds; it goes first in
    ``options`` so a ``-c statement_timeout=...`` in the connection's own extra still wins.
    """
    extra = dict(conn.extra_dejson)
    extra.setdefault("application_name", f"{APPLICATION_NAME_PREFIX}{conn.conn_id}")
    extra.setdefault("connect_timeout", CONNECT_TIMEOUT_S)
    if statement_timeout is not None:
        setting = f"-c statement_timeout={str(statement_timeout).replace(' ', '')}"
        extra["options"] = " ".join(part for part in (setting, extra.get("options")) if part)
    return extra


def connect(
    conn_id: str,
    *,
    dbname: str | None = None,
    autocommit: bool = False,
    statement_timeout: str | int | None = None,
) -> psycopg.Connection:
    """A new psycopg connection for the Airflow connection ``conn_id``, opened by PostgresHook.

    ``dbname`` overrides the connection's schema (the replica serves one database per source);
    ``autocommit`` as in psycopg; ``statement_timeout`` see :func:`libpq_extra`.
    """
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    conn = copy.copy(airflow_connection(conn_id))
    conn.extra = json.dumps(libpq_extra(conn, statement_timeout=statement_timeout))
    pg = PostgresHook(postgres_conn_id=conn_id, database=dbname, connection=conn).get_conn()
    if not isinstance(pg, psycopg.Connection):  # the provider picks psycopg 3 with SQLAlchemy 2
        pg.close()
        raise RuntimeError(f"PostgresHook returned {type(pg).__name__}, not a psycopg 3 connection")
    pg.autocommit = autocommit
    return pg


def connector(conn_id: str, **kwargs: Any) -> Callable[[], psycopg.Connection]:
    """A zero-argument callable that opens a new connection: ``connect(conn_id, **kwargs)``."""

    def open_connection() -> psycopg.Connection:
        return connect(conn_id, **kwargs)

    return open_connection
