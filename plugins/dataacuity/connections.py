"""Airflow connection ids of DESIGN §2 and the one way to open a psycopg connection from them.

Connections resolve through Airflow (AIRFLOW_CONN_<ID> env vars locally and in tests, the
metadata DB or a secrets backend in production). Credentials never leave this function: they are
not logged, not returned, not put in XCom.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg

REPLICA = "replica_105"  # .105 hot standby, role etl_reader (the ETL reads only here)
ANALYTICS_DB = "analytics_104"  # .104 analytics_db, role pushback_writer
WAREHOUSE_ETL = "warehouse_106"  # .106, role etl_user
WAREHOUSE_DBT = "warehouse_dbt"  # .106, role dbt_runner
WAREHOUSE_ANALYTICS = "warehouse_analytics"  # .106, role analytics_user
WAREHOUSE_ADMIN = "warehouse_admin"  # .106, role warehouse_admin (audit, kill switch)
WAREHOUSE_MONITOR = "warehouse_monitor"  # .106, role pipeline_monitor (freshness, alert outbox)
WAREHOUSE_PUSHBACK = "warehouse_pushback"  # .106, role pushback_agent (push_back__{app} DAGs)
COMPLIANCE = "compliance_118"  # .118, role compliance_admin
COMPLIANCE_USER = "compliance_user_118"  # .118, role compliance_user
ALERTMANAGER = "alertmanager"  # HTTP


def connector(conn_id: str, dbname: str | None = None, **kwargs) -> Callable[[], psycopg.Connection]:
    """A zero-argument callable that opens a new psycopg connection for `conn_id`."""

    def connect() -> psycopg.Connection:
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(conn_id)
        return psycopg.connect(
            host=conn.host,
            port=conn.port or 5432,
            user=conn.login,
            password=conn.password,
            dbname=dbname or conn.schema,
            application_name=f"dataacuity:{conn_id}",
            connect_timeout=10,
            **kwargs,
        )

    return connect
