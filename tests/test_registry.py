"""Unit tests for the source registry loader (pure: no database)."""

from __future__ import annotations

import dataclasses
import re
import textwrap
from pathlib import Path

import pytest
import yaml

from dataacuity.registry import (
    DEFAULT_REGISTRY_PATH,
    PII_CLASSES,
    Registry,
    RegistryError,
    load_registry,
    parse_registry,
)
from tools.seed.ddl import SOURCE_SQL_DIR, source_ddl_columns

PHASE_ONE_TABLES = {
    "ledger_db": {"transactions", "accounts", "holds", "reversals"},
    "sdpkt_db": {"wallets", "payments", "holds", "merchant_settlements"},
    "bidbaas_db": {"auctions", "bids", "winners", "payouts"},
}

VALID_TABLE = {
    "kind": "event",
    "mode": "incremental",
    "cursor": "updated_at",
    "event_time": "created_at",
    "primary_key": ["id"],
    "user_column": "user_id",
    "pii": {"email": "email"},
}


@pytest.fixture(scope="module")
def registry() -> Registry:
    """The shipped config/sources.yml (explicit path: DATAACUITY_REGISTRY may point elsewhere)."""
    return load_registry(DEFAULT_REGISTRY_PATH)


def write_registry(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.yml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def registry_with_table(tmp_path: Path, **overrides) -> Path:
    """A one-source, one-table registry file where ``overrides`` replace table keys
    (value None removes the key)."""
    table = {**VALID_TABLE, **overrides}
    table = {key: value for key, value in table.items() if value is not None}
    document = {"sources": {"shop_db": {"app": "shop", "tables": {"orders": table}}}}
    path = tmp_path / "sources.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def load_error(path: Path) -> RegistryError:
    with pytest.raises(RegistryError) as caught:
        load_registry(path)
    return caught.value


# ------------------------------------------------------------------- the shipped registry


def test_shipped_registry_loads_from_default_path(registry, monkeypatch):
    monkeypatch.delenv("DATAACUITY_REGISTRY", raising=False)
    assert load_registry().path == DEFAULT_REGISTRY_PATH
    assert DEFAULT_REGISTRY_PATH.parts[-2:] == ("config", "sources.yml")
    assert len(registry.sources) == 18
    assert 30 <= len(registry) <= 45
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*_db", name) for name in registry.source_names)


def test_shipped_registry_has_phase_one_tables(registry):
    for source_db, tables in PHASE_ONE_TABLES.items():
        assert tables <= set(registry.source(source_db).table_names)
        for name in tables:
            table = registry.table(source_db, name)
            assert table.is_incremental
            assert table.cursor == "updated_at"


def test_shipped_registry_auth_users_and_fx_rates(registry):
    users = registry.table("auth_db", "users")
    assert users.kind == "dimension"
    assert users.is_incremental and users.cursor == "updated_at"
    assert users.user_column == "id"
    expected_pii = {
        "first_name": "name",
        "last_name": "name",
        "email": "email",
        "phone": "phone",
        "sa_id_number": "id_number",
        "address_line": "address",
        "latitude": "geo",
        "longitude": "geo",
        "device_id": "device_id",
        "last_ip": "ip",
    }
    assert expected_pii.items() <= dict(users.pii).items()
    assert "city" not in users.pii
    fx = registry.table("markets_db", "fx_rates")
    assert fx.primary_key == ("rate_date", "currency")


def test_shipped_registry_mixes_kinds_and_modes(registry):
    tables = list(registry.tables())
    assert {t.kind for t in tables} == {"event", "dimension"}
    assert {t.mode for t in tables} == {"incremental", "snapshot"}
    for table in tables:
        if table.kind == "event":
            assert table.is_incremental and table.cursor == "updated_at"
        if table.is_snapshot:
            assert table.cursor is None and table.event_time is None
    assert len(registry.apps) == len(registry.sources)


def test_shipped_registry_tables_agree_with_source_ddl(registry):
    """Primary key, cursor, event_time, user_column and PII columns all exist in the DDL."""
    ddl_files = {path.stem for path in SOURCE_SQL_DIR.glob("*.sql")}
    assert ddl_files == set(registry.source_names)
    for source in registry.sources:
        declared = source_ddl_columns(source.name)
        for table in source.tables:
            assert table.name in declared, f"{table.key} has no CREATE TABLE"
            missing = table.referenced_columns - set(declared[table.name])
            assert not missing, f"{table.key}: columns {sorted(missing)} not in the DDL"


def test_money_columns_are_amount_and_currency():
    for path in SOURCE_SQL_DIR.glob("*.sql"):
        for table, columns in source_ddl_columns(path.stem).items():
            if "amount" in columns:
                assert "currency" in columns, f"{path.stem}.{table}"
        money_lines = re.findall(r"^\s+(\w+)\s+numeric\(18, 2\)", path.read_text(), re.M)
        assert set(money_lines) <= {"amount"}, path.name


def test_table_properties(registry):
    table = registry.table("ledger_db", "transactions")
    assert table.raw_table == "ledger_db__transactions"
    assert table.qualified_raw == ("raw", "ledger_db__transactions")
    assert table.key == "ledger_db.transactions"
    assert table.staging_model == "stg_ledger_db__transactions"
    assert table.app == "ledger"
    assert table.server == "replica"
    assert table.freshness_column == "created_at"
    assert table.is_user_linked


def test_registry_is_frozen_and_ordered(registry):
    with pytest.raises(dataclasses.FrozenInstanceError):
        registry.sources[0].name = "other_db"  # type: ignore[misc]
    with pytest.raises(TypeError):
        registry.table("auth_db", "users").pii["email"] = "name"  # type: ignore[index]
    again = load_registry(DEFAULT_REGISTRY_PATH)
    assert registry.source_names == again.source_names
    assert registry.source_names[:3] == ("ledger_db", "sdpkt_db", "bidbaas_db")
    assert [t.key for t in registry.tables()] == [t.key for t in again.tables()]


def test_registry_path_from_environment(tmp_path, monkeypatch):
    path = registry_with_table(tmp_path)
    monkeypatch.setenv("DATAACUITY_REGISTRY", str(path))
    assert load_registry().source_names == ("shop_db",)


def test_lookup_errors(registry):
    with pytest.raises(KeyError, match="nope_db"):
        registry.source("nope_db")
    with pytest.raises(KeyError, match="nope"):
        registry.table("ledger_db", "nope")


def test_user_linked_tables_and_pii_classes(registry):
    linked = list(registry.user_linked_tables())
    assert linked and all(t.user_column for t in linked)
    for table in registry.tables():
        assert set(table.pii.values()) <= set(PII_CLASSES)


# ------------------------------------------------------------------- defaults


def test_defaults_applied_by_kind(tmp_path):
    path = write_registry(
        tmp_path,
        """
        sources:
          shop_db:
            app: shop
            tables:
              orders: {kind: event, mode: incremental, cursor: updated_at, primary_key: [id]}
              products: {kind: dimension, mode: snapshot, primary_key: [sku]}
              customers:
                kind: dimension
                mode: incremental
                cursor: changed_at
                primary_key: [id]
                schedule: "15 */2 * * *"
                expected_interval_minutes: 120
                lookback_minutes: 0
        """,
    )
    registry = load_registry(path)
    orders = registry.table("shop_db", "orders")
    assert orders.schedule == "*/5 * * * *"
    assert orders.expected_interval_minutes == 5
    assert orders.lookback_minutes == 10
    assert orders.event_time == "updated_at"  # defaults to the cursor
    assert orders.user_column is None and dict(orders.pii) == {}
    assert orders.server == "replica"
    products = registry.table("shop_db", "products")
    assert products.schedule == "0 * * * *"
    assert products.expected_interval_minutes == 60
    assert products.cursor is None and products.event_time is None
    customers = registry.table("shop_db", "customers")
    assert customers.schedule == "15 */2 * * *"
    assert customers.expected_interval_minutes == 120
    assert customers.lookback_minutes == 0
    assert customers.event_time == "changed_at"


def test_table_names_may_be_any_non_empty_string(tmp_path):
    path = write_registry(
        tmp_path,
        """
        sources:
          legacy_db:
            app: legacy
            tables:
              "Order Lines": {kind: event, mode: incremental, cursor: "Updated At", primary_key: ["Line ID"]}
        """,
    )
    table = load_registry(path).table("legacy_db", "Order Lines")
    assert table.raw_table == "legacy_db__Order Lines"
    assert table.primary_key == ("Line ID",)


# ------------------------------------------------------------------- validation errors


def assert_names_location(error: RegistryError, path: Path, *, key: str, table: str | None = "orders"):
    message = str(error)
    assert str(path) in message
    assert "'shop_db'" in message
    if table is not None:
        assert f"'{table}'" in message
    assert f"key '{key}'" in message


@pytest.mark.parametrize(
    ("overrides", "key", "bad_value"),
    [
        ({"kind": "fact"}, "kind", "fact"),
        ({"mode": "cdc"}, "mode", "cdc"),
        ({"pii": {"email": "secret"}}, "pii", "secret"),
        ({"schedule": "61 * * * *"}, "schedule", "61 * * * *"),
        ({"schedule": "every five minutes"}, "schedule", "every five minutes"),
        ({"schedule": "0 0 * * * * *"}, "schedule", "0 0 * * * * *"),
        ({"expected_interval_minutes": 0}, "expected_interval_minutes", "0"),
        ({"expected_interval_minutes": -5}, "expected_interval_minutes", "-5"),
        ({"expected_interval_minutes": "5"}, "expected_interval_minutes", "'5'"),
        ({"expected_interval_minutes": 2.5}, "expected_interval_minutes", "2.5"),
        ({"expected_interval_minutes": True}, "expected_interval_minutes", "True"),
        ({"lookback_minutes": -1}, "lookback_minutes", "-1"),
        ({"primary_key": []}, "primary_key", "[]"),
        ({"primary_key": "id"}, "primary_key", "'id'"),
        ({"primary_key": ["id", ""]}, "primary_key", "''"),
        ({"primary_key": ["id", "id"]}, "primary_key", "'id'"),
        ({"cursor": None}, "cursor", "cursor"),
        ({"cursor": ""}, "cursor", "''"),
        ({"user_column": ""}, "user_column", "''"),
        ({"colour": "blue"}, "colour", "unknown key"),
    ],
)
def test_table_validation_errors_name_file_source_table_key(tmp_path, overrides, key, bad_value):
    path = registry_with_table(tmp_path, **overrides)
    error = load_error(path)
    assert_names_location(error, path, key=key)
    assert bad_value in str(error)
    assert any(issue.key == key and issue.table == "orders" for issue in error.issues)


def test_missing_primary_key(tmp_path):
    path = registry_with_table(tmp_path, primary_key=None)
    error = load_error(path)
    assert_names_location(error, path, key="primary_key")
    assert "missing" in str(error)


@pytest.mark.parametrize("key", ["kind", "mode"])
def test_missing_kind_or_mode(tmp_path, key):
    path = registry_with_table(tmp_path, **{key: None})
    assert_names_location(load_error(path), path, key=key)


def test_incremental_without_cursor_explains_itself(tmp_path):
    path = registry_with_table(tmp_path, cursor=None)
    assert "incremental tables need a cursor" in str(load_error(path))


def test_error_reports_line_number(tmp_path):
    path = registry_with_table(tmp_path, kind="fact")
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "kind: fact" in text)
    assert f"{path}:{line}," in str(load_error(path))


@pytest.mark.parametrize(
    ("source_yaml", "key", "fragment"),
    [
        ("app: shop\n    owner: me", "owner", "unknown key"),
        ("app: shop\n    server: standby", "server", "standby"),
        ("app: Shop-App", "app", "Shop-App"),
        ("server: replica", "app", "missing"),
        ("app: shop\n    tables: {}", "tables", "non-empty"),
    ],
)
def test_source_level_errors(tmp_path, source_yaml, key, fragment):
    tables = (
        ""
        if "tables" in source_yaml
        else "\n    tables:\n      orders: {kind: event, mode: snapshot, primary_key: [id]}"
    )
    path = tmp_path / "sources.yml"
    path.write_text(f"sources:\n  shop_db:\n    {source_yaml}{tables}\n", encoding="utf-8")
    error = load_error(path)
    assert_names_location(error, path, key=key, table=None)
    assert fragment in str(error)


@pytest.mark.parametrize("name", ["Shop_db", "shop-db", "1shop_db", "shop db", "_shop_db"])
def test_source_database_names_must_be_identifier_safe(tmp_path, name):
    path = tmp_path / "sources.yml"
    path.write_text(
        f'sources:\n  "{name}":\n    app: shop\n    tables:\n'
        "      orders: {kind: event, mode: snapshot, primary_key: [id]}\n",
        encoding="utf-8",
    )
    error = load_error(path)
    assert str(path) in str(error)
    assert repr(name) in str(error)
    assert "^[a-z][a-z0-9_]*$" in str(error)


def test_empty_table_name_rejected(tmp_path):
    path = tmp_path / "sources.yml"
    path.write_text(
        'sources:\n  shop_db:\n    app: shop\n    tables:\n      "": {kind: event, mode: snapshot, primary_key: [id]}\n',
        encoding="utf-8",
    )
    assert "table name must be a non-empty string" in str(load_error(path))


def test_unknown_top_level_key(tmp_path):
    path = tmp_path / "sources.yml"
    path.write_text(
        "version: 2\nsources:\n  shop_db:\n    app: shop\n    tables:\n"
        "      orders: {kind: event, mode: snapshot, primary_key: [id]}\n",
        encoding="utf-8",
    )
    error = load_error(path)
    assert "key 'version'" in str(error) and "unknown key" in str(error)


def test_duplicate_table_yaml_key(tmp_path):
    path = write_registry(
        tmp_path,
        """
        sources:
          shop_db:
            app: shop
            tables:
              orders: {kind: event, mode: snapshot, primary_key: [id]}
              orders: {kind: event, mode: snapshot, primary_key: [id]}
        """,
    )
    error = load_error(path)
    message = str(error)
    assert str(path) in message and "'shop_db'" in message and "'orders'" in message
    assert "duplicate table (first defined on line 6)" in message
    assert f"{path}:7," in message


def test_duplicate_source_and_duplicate_key(tmp_path):
    path = write_registry(
        tmp_path,
        """
        sources:
          shop_db:
            app: shop
            tables:
              orders:
                kind: event
                kind: dimension
                mode: snapshot
                primary_key: [id]
          shop_db:
            app: shop2
            tables:
              orders: {kind: event, mode: snapshot, primary_key: [id]}
        """,
    )
    message = str(load_error(path))
    assert "source 'shop_db': duplicate source" in message
    assert "source 'shop_db', table 'orders', key 'kind': duplicate key" in message


def test_duplicate_raw_table_names_across_sources(tmp_path):
    path = write_registry(
        tmp_path,
        """
        sources:
          shop_db:
            app: shop
            tables:
              a__b: {kind: event, mode: snapshot, primary_key: [id]}
          shop_db__a:
            app: shop
            tables:
              b: {kind: event, mode: snapshot, primary_key: [id]}
        """,
    )
    message = str(load_error(path))
    assert "duplicate table: raw table 'shop_db__a__b' is also produced by shop_db.a__b" in message


def test_all_errors_reported_together(tmp_path):
    path = write_registry(
        tmp_path,
        """
        sources:
          shop_db:
            app: shop
            tables:
              orders: {kind: fact, mode: incremental, primary_key: [id], wat: 1}
              refunds: {kind: event, mode: snapshot, primary_key: [], schedule: "nope"}
          Bad-DB:
            app: bad
            tables:
              x: {kind: event, mode: snapshot, primary_key: [id]}
        """,
    )
    error = load_error(path)
    located = {(issue.source, issue.table, issue.key) for issue in error.issues}
    assert {
        ("shop_db", "orders", "kind"),
        ("shop_db", "orders", "cursor"),
        ("shop_db", "orders", "wat"),
        ("shop_db", "refunds", "primary_key"),
        ("shop_db", "refunds", "schedule"),
        ("Bad-DB", None, None),
    } <= located
    assert str(error).startswith(f"{len(error.issues)} problem(s) in source registry {path}")


def test_unreadable_and_invalid_yaml(tmp_path):
    missing = tmp_path / "absent.yml"
    assert "cannot read file" in str(load_error(missing))
    broken = write_registry(tmp_path, "sources: [unclosed\n")
    assert "invalid YAML" in str(load_error(broken))
    empty = write_registry(tmp_path, "")
    assert "file is empty" in str(load_error(empty))
    no_sources = write_registry(tmp_path, "sources: {}\n")
    assert "key 'sources'" in str(load_error(no_sources))


def test_parse_registry_from_text():
    registry = parse_registry(
        "sources:\n  a_db:\n    app: a\n    tables:\n      t: {kind: dimension, mode: snapshot, primary_key: [k]}\n",
        "inline.yml",
    )
    assert registry.table("a_db", "t").qualified_raw == ("raw", "a_db__t")
    with pytest.raises(RegistryError, match=r"inline\.yml"):
        parse_registry("sources:\n  a_db:\n    app: a\n    tables: {t: {kind: x}}\n", "inline.yml")
