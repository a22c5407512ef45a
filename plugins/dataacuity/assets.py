"""Airflow Assets of the warehouse tables, named the way the tables are (`raw.ledger_db__transactions`).

The URI follows the postgres provider's scheme (postgres://host:port/database/schema/table) with
the warehouse's logical host name, so it is the same locally, in tests and in production.
"""

from __future__ import annotations

from airflow.sdk import Asset

from dataacuity.registry import Table

WAREHOUSE_URI = "postgres://warehouse-106:5432/data_warehouse"


def warehouse_asset(schema: str, table: str) -> Asset:
    return Asset(name=f"{schema}.{table}", uri=f"{WAREHOUSE_URI}/{schema}/{table}")


def raw_asset(table: Table) -> Asset:
    return warehouse_asset(*table.qualified_raw)
