"""Source registry: load and validate config/sources.yml into frozen dataclasses.

Pure Python (no database access); runs at DAG parse time, so it must stay fast.

    registry = load_registry()
    for table in registry.tables():
        table.raw_table       # "ledger_db__transactions"
        table.qualified_raw   # ("raw", "ledger_db__transactions")

Every problem found in the file is collected and raised together as one ``RegistryError`` whose
lines name the file (with line number), the source, the table and the key.
"""

from __future__ import annotations

import dataclasses
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from croniter import croniter

from dataacuity.paths import CONFIG_DIR

DEFAULT_REGISTRY_PATH = CONFIG_DIR / "sources.yml"

RAW_SCHEMA = "raw"
SOURCE_DB_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
# Table ids (Airflow task_id, dbt model and raw table names): snake_case ASCII, no double underscore
# (`__` separates the source from the table in raw and dbt names).
TABLE_ID_PATTERN = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
# Longest dbt model name derived from a table: int_<source_db>__<id>_anon.
MODEL_NAME_OVERHEAD = len("int_") + len("_anon")
POSTGRES_MAX_IDENTIFIER_LENGTH = 63
CRON_FIELD_COUNT = 5

KINDS = ("event", "dimension")
MODES = ("incremental", "snapshot")
SERVERS = ("replica", "primary")
PII_CLASSES = (
    "email",
    "phone",
    "name",
    "id_number",
    "address",
    "device_id",
    "ip",
    "geo",
    "dob",
    "free_text",
)

DEFAULT_SCHEDULE_BY_KIND = {"event": "*/5 * * * *", "dimension": "0 * * * *"}
DEFAULT_EXPECTED_INTERVAL_MINUTES_BY_KIND = {"event": 5, "dimension": 60}
DEFAULT_LOOKBACK_MINUTES = 10
# Retention of raw (and the staging views over it) per kind, unless a table sets retention_days:
# events 2 years, dimensions 5 years after their last change (enforced by the `retention` DAG).
DEFAULT_RETENTION_DAYS_BY_KIND = {"event": 730, "dimension": 1825}
DEFAULT_SERVER = "replica"

TOP_LEVEL_KEYS = frozenset({"sources"})
SOURCE_KEYS = frozenset({"app", "server", "tables", "description"})
TABLE_KEYS = frozenset(
    {
        "kind",
        "mode",
        "cursor",
        "event_time",
        "primary_key",
        "schedule",
        "expected_interval_minutes",
        "lookback_minutes",
        "user_column",
        "pii",
        "description",
        "active_hours",
        "id",
        "late_commit_limit_minutes",
        "reconcile",
        "retention_days",
    }
)
# Registry `active_hours: "HH:MM-HH:MM"` are in the apps' local time (South Africa, no DST).
ACTIVE_HOURS_TZ = "Africa/Johannesburg"
DEFAULT_LATE_COMMIT_LIMIT_MINUTES = 60


# --------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class RegistryIssue:
    """One validation problem, located as precisely as the file allows."""

    file: str
    message: str
    source: str | None = None
    table: str | None = None
    key: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        location = f"{self.file}:{self.line}" if self.line else self.file
        parts = [location]
        if self.source is not None:
            parts.append(f"source {self.source!r}")
        if self.table is not None:
            parts.append(f"table {self.table!r}")
        if self.key is not None:
            parts.append(f"key {self.key!r}")
        return f"{', '.join(parts)}: {self.message}"


class RegistryError(ValueError):
    """The registry file is invalid. ``issues`` lists every problem found."""

    def __init__(self, file: str, issues: list[RegistryIssue]):
        self.file = file
        self.issues = tuple(issues)
        lines = "\n".join(f"  - {issue}" for issue in issues)
        super().__init__(f"{len(issues)} problem(s) in source registry {file}:\n{lines}")


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Table:
    """One extracted source table, with defaults applied."""

    source_db: str
    name: str
    app: str
    server: str
    kind: str
    mode: str
    cursor: str | None
    event_time: str | None
    primary_key: tuple[str, ...]
    schedule: str
    expected_interval_minutes: int
    lookback_minutes: int
    user_column: str | None
    pii: Mapping[str, str] = field(default_factory=dict, hash=False)
    description: str | None = None
    # (start, end) minutes after local midnight when an event source normally has traffic; None:
    # unknown, so a quiet source is never reported (a quiet dimension never is, whatever this says).
    active_hours: tuple[int, int] | None = None
    id: str = ""
    late_commit_limit_minutes: int = DEFAULT_LATE_COMMIT_LIMIT_MINUTES
    reconcile: bool = True
    retention_days: int = 0  # 0 only when built by hand; the loader always applies the kind default
    # Other columns that may hold an auth_db user id: the registry's user-column names (`user_id` and
    # every table's user_column) other than this table's own. Set by the loader. The right-to-be-
    # forgotten cascade and the extract blank a forgotten user's id there (a payment to them as a
    # merchant); a name the source table does not have is ignored.
    user_references: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.id:  # built by hand (tests): derive it as the registry does
            object.__setattr__(self, "id", safe_id(self.name))

    def is_active_at(self, moment: datetime) -> bool:
        """Inside the registry's active hours (end exclusive; a range may wrap midnight)."""
        if self.active_hours is None:
            return False
        local = moment.astimezone(ZoneInfo(ACTIVE_HOURS_TZ))
        minute = local.hour * 60 + local.minute
        start, end = self.active_hours
        return start <= minute < end if start < end else (minute >= start or minute < end)

    @property
    def retention_column(self) -> str:
        """What a row's age is measured on: the event time (events), the cursor (last change), else
        the extract time."""
        return self.event_time or self.cursor or "_extracted_at"

    @property
    def key(self) -> str:
        """'ledger_db.transactions' (the source's own names)."""
        return f"{self.source_db}.{self.name}"

    @property
    def task_id(self) -> str:
        """Airflow task id of the table's extract: its safe id."""
        return self.id

    @property
    def raw_table(self) -> str:
        """Warehouse raw table name from the safe id: 'ledger_db__transactions'."""
        return f"{self.source_db}__{self.id}"

    @property
    def intermediate_model(self) -> str:
        """Generated PII-free dbt model: 'int_ledger_db__transactions_anon'."""
        return f"int_{self.raw_table}_anon"

    @property
    def qualified_raw(self) -> tuple[str, str]:
        """(schema, table) for psycopg.sql.Identifier(*table.qualified_raw)."""
        return (RAW_SCHEMA, self.raw_table)

    @property
    def staging_model(self) -> str:
        """dbt staging model name: 'stg_ledger_db__transactions'."""
        return f"stg_{self.raw_table}"

    @property
    def is_incremental(self) -> bool:
        return self.mode == "incremental"

    @property
    def is_snapshot(self) -> bool:
        return self.mode == "snapshot"

    @property
    def is_user_linked(self) -> bool:
        return self.user_column is not None

    @property
    def freshness_column(self) -> str | None:
        """Column whose max() says how fresh the data is (None: use the extract time)."""
        return self.event_time

    @property
    def pii_columns(self) -> tuple[str, ...]:
        return tuple(self.pii)

    def pii_columns_of_class(self, pii_class: str) -> tuple[str, ...]:
        return tuple(column for column, cls in self.pii.items() if cls == pii_class)

    @property
    def referenced_columns(self) -> frozenset[str]:
        """Every column the registry names for this table (all must exist in the source)."""
        columns = set(self.primary_key) | set(self.pii)
        for column in (self.cursor, self.event_time, self.user_column):
            if column is not None:
                columns.add(column)
        return frozenset(columns)


@dataclass(frozen=True)
class Source:
    """One source database on the app primary / replica."""

    name: str
    app: str
    server: str
    tables: tuple[Table, ...]
    description: str | None = None

    def table(self, name: str) -> Table:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(f"source {self.name!r} has no table {name!r}")

    @property
    def table_names(self) -> tuple[str, ...]:
        return tuple(table.name for table in self.tables)


@dataclass(frozen=True)
class Registry:
    """All sources, in file order."""

    path: Path
    sources: tuple[Source, ...]
    # Only from load_registry(partial=True): source name -> the error that keeps it out.
    broken: Mapping[str, RegistryError] = field(default_factory=dict, hash=False)

    def tables(self) -> Iterator[Table]:
        for source in self.sources:
            yield from source.tables

    def source(self, source_db: str) -> Source:
        for source in self.sources:
            if source.name == source_db:
                return source
        raise KeyError(f"no source {source_db!r} in {self.path}")

    def table(self, source_db: str, table: str) -> Table:
        return self.source(source_db).table(table)

    @property
    def source_names(self) -> tuple[str, ...]:
        return tuple(source.name for source in self.sources)

    @property
    def apps(self) -> tuple[str, ...]:
        """Distinct apps in file order."""
        return tuple(dict.fromkeys(source.app for source in self.sources))

    def user_linked_tables(self) -> Iterator[Table]:
        return (table for table in self.tables() if table.is_user_linked)

    def user_column_names(self) -> frozenset[str]:
        """Column names that hold an auth_db user id wherever they appear: `user_id` and every
        table's user_column (the right-to-be-forgotten cascade and its scan look there)."""
        return _user_column_names(self.sources)

    def __len__(self) -> int:
        return sum(len(source.tables) for source in self.sources)


# Letters Unicode does not decompose into ASCII ones.
_NO_DECOMPOSITION = str.maketrans(
    {"ß": "ss", "Æ": "AE", "æ": "ae", "Ø": "O", "ø": "o", "Œ": "OE", "œ": "oe", "Đ": "D", "đ": "d", "Ł": "L", "ł": "l"}
)


def safe_id(name: str) -> str:
    """snake_case ASCII id for any PostgreSQL name ('' when nothing usable is left).

    'Order Lines' -> 'order_lines', 'InvoiceLine' -> 'invoice_line', 'Café' -> 'cafe',
    'select' -> 'select' (always quoted where used), '2024 data' -> 't_2024_data'."""
    text = unicodedata.normalize("NFKD", name.translate(_NO_DECOMPOSITION)).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", text)
    text = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()
    if text and not text[0].isalpha():
        text = f"t_{text}"
    return text


# --------------------------------------------------------------------------- YAML


_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _compose_and_construct(text: str) -> tuple[yaml.Node | None, Any]:
    """Return the YAML node tree (for line numbers and duplicate keys) and its Python value."""
    loader = _BaseLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
        return root, data
    finally:
        loader.dispose()


def _scalar_key(node: yaml.Node) -> Any:
    return node.value if isinstance(node, yaml.ScalarNode) else repr(node)


def _walk_nodes(
    node: yaml.Node,
    path: tuple[Any, ...],
    lines: dict[tuple[Any, ...], int],
    duplicates: list[tuple[tuple[Any, ...], int, int]],
) -> None:
    """Record the line of every mapping key path and every duplicate mapping key."""
    if isinstance(node, yaml.MappingNode):
        first_seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = _scalar_key(key_node)
            key_path = (*path, key)
            line = key_node.start_mark.line + 1
            if key in first_seen:
                duplicates.append((key_path, line, first_seen[key]))
            else:
                first_seen[key] = line
                lines[key_path] = line
            _walk_nodes(value_node, key_path, lines, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk_nodes(item, (*path, index), lines, duplicates)


# --------------------------------------------------------------------------- validation


def _is_valid_cron(expression: Any) -> bool:
    """Five-field cron or an @preset (@hourly, @daily, ...), as Airflow schedules accept."""
    if not isinstance(expression, str) or not expression.strip():
        return False
    if not expression.startswith("@") and len(expression.split()) != CRON_FIELD_COUNT:
        return False
    return bool(croniter.is_valid(expression))


class _Validator:
    def __init__(self, file: str, lines: dict[tuple[Any, ...], int]):
        self.file = file
        self.lines = lines
        self.issues: list[RegistryIssue] = []

    def error(
        self,
        message: str,
        *,
        source: str | None = None,
        table: str | None = None,
        key: str | None = None,
    ) -> None:
        path: tuple[Any, ...] = ()
        if source is not None:
            path = ("sources", source)
            if table is not None:
                path = (*path, "tables", table)
        if key is not None:
            path = (*path, key)
        line = None
        while path and line is None:
            line = self.lines.get(path)
            path = path[:-1]
        self.issues.append(
            RegistryIssue(
                file=self.file,
                message=message,
                source=source,
                table=table,
                key=key,
                line=line,
            )
        )

    # -- helpers returning a validated value or None

    def optional_text(self, value: Any, **where: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.error(f"must be a non-empty string, got {value!r}", **where)
            return None
        return value

    def positive_int(self, value: Any, *, allow_zero: bool, unit: str = "minutes", **where: Any) -> int | None:
        minimum = 0 if allow_zero else 1
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            wanted = "a non-negative integer" if allow_zero else "a positive integer"
            self.error(f"must be {wanted} ({unit}), got {value!r}", **where)
            return None
        return value

    def choice(self, value: Any, allowed: tuple[str, ...], **where: Any) -> str | None:
        if value not in allowed:
            self.error(f"must be one of {', '.join(allowed)}; got {value!r}", **where)
            return None
        return value

    def unknown_keys(self, mapping: Mapping[Any, Any], allowed: frozenset[str], **where: Any):
        for key in mapping:
            if key not in allowed:
                self.error(
                    f"unknown key (allowed: {', '.join(sorted(allowed))})",
                    **where,
                    key=str(key),
                )

    # -- levels

    def registry(self, data: Any) -> list[Source]:
        if not isinstance(data, Mapping):
            self.error(f"top level must be a mapping with a 'sources' key, got {data!r}")
            return []
        self.unknown_keys(data, TOP_LEVEL_KEYS)
        sources_data = data.get("sources")
        if not isinstance(sources_data, Mapping) or not sources_data:
            self.error(
                f"must be a non-empty mapping of source databases, got {sources_data!r}",
                key="sources",
            )
            return []
        sources = []
        for source_name, source_data in sources_data.items():
            source = self.source(source_name, source_data)
            if source is not None:
                sources.append(source)
        self.unique_raw_tables(sources)
        return sources

    def source(self, name: Any, data: Any) -> Source | None:
        name_ok = isinstance(name, str) and bool(SOURCE_DB_PATTERN.match(name))
        source_label = str(name)
        if not name_ok:
            self.error(
                f"source database name {name!r} must match {SOURCE_DB_PATTERN.pattern}",
                source=source_label,
            )
        if not isinstance(data, Mapping):
            self.error(f"must be a mapping, got {data!r}", source=source_label)
            return None
        self.unknown_keys(data, SOURCE_KEYS, source=source_label)

        app = data.get("app")
        if app is None:
            self.error("missing required key", source=source_label, key="app")
        elif not isinstance(app, str) or not SOURCE_DB_PATTERN.match(app):
            self.error(
                f"app must match {SOURCE_DB_PATTERN.pattern} (it is a schema name), got {app!r}",
                source=source_label,
                key="app",
            )
            app = None
        server = self.choice(
            data.get("server", DEFAULT_SERVER),
            SERVERS,
            source=source_label,
            key="server",
        )
        description = self.optional_text(data.get("description"), source=source_label, key="description")

        tables_data = data.get("tables")
        tables: list[Table] = []
        if not isinstance(tables_data, Mapping) or not tables_data:
            self.error(
                f"must be a non-empty mapping of tables, got {tables_data!r}",
                source=source_label,
                key="tables",
            )
        else:
            for table_name, table_data in tables_data.items():
                table = self.table(source_label, app or "", server or "", table_name, table_data)
                if table is not None:
                    tables.append(table)
            self.unique_ids(source_label, tables)

        if not name_ok or app is None or server is None:
            return None
        return Source(
            name=name,
            app=app,
            server=server,
            tables=tuple(tables),
            description=description,
        )

    def table(self, source: str, app: str, server: str, name: Any, data: Any) -> Table | None:
        table_label = str(name)
        where = {"source": source, "table": table_label}
        name_ok = isinstance(name, str) and bool(name.strip())
        if not name_ok:
            self.error(f"table name must be a non-empty string, got {name!r}", **where)
        if not isinstance(data, Mapping):
            self.error(f"must be a mapping, got {data!r}", **where)
            return None
        self.unknown_keys(data, TABLE_KEYS, **where)

        kind = data.get("kind")
        if kind is None:
            self.error("missing required key", **where, key="kind")
        else:
            kind = self.choice(kind, KINDS, **where, key="kind")
        mode = data.get("mode")
        if mode is None:
            self.error("missing required key", **where, key="mode")
        else:
            mode = self.choice(mode, MODES, **where, key="mode")

        cursor = self.optional_text(data.get("cursor"), **where, key="cursor")
        if mode == "incremental" and cursor is None and data.get("cursor") is None:
            self.error("incremental tables need a cursor column", **where, key="cursor")
        event_time = self.optional_text(data.get("event_time"), **where, key="event_time")
        if event_time is None and data.get("event_time") is None:
            event_time = cursor

        primary_key = self.primary_key(data, **where)

        schedule = data.get("schedule", DEFAULT_SCHEDULE_BY_KIND.get(kind or ""))
        schedule_given_or_defaulted = "schedule" in data or kind is not None
        if schedule_given_or_defaulted and not _is_valid_cron(schedule):
            self.error(f"invalid cron expression {schedule!r}", **where, key="schedule")
            schedule = None

        expected = data.get(
            "expected_interval_minutes",
            DEFAULT_EXPECTED_INTERVAL_MINUTES_BY_KIND.get(kind or ""),
        )
        if "expected_interval_minutes" in data or kind is not None:
            expected = self.positive_int(expected, allow_zero=False, **where, key="expected_interval_minutes")
        lookback = self.positive_int(
            data.get("lookback_minutes", DEFAULT_LOOKBACK_MINUTES),
            allow_zero=True,
            **where,
            key="lookback_minutes",
        )
        user_column = self.optional_text(data.get("user_column"), **where, key="user_column")
        pii = self.pii(data.get("pii"), **where)
        description = self.optional_text(data.get("description"), **where, key="description")
        active_hours = self.active_hours(data.get("active_hours"), **where)
        table_id = self.table_id(name, data, **where) if name_ok else None
        late_limit = self.positive_int(
            data.get("late_commit_limit_minutes", DEFAULT_LATE_COMMIT_LIMIT_MINUTES),
            allow_zero=False,
            **where,
            key="late_commit_limit_minutes",
        )
        retention = data.get("retention_days", DEFAULT_RETENTION_DAYS_BY_KIND.get(kind or ""))
        if "retention_days" in data or kind is not None:
            retention = self.positive_int(retention, allow_zero=False, unit="days", **where, key="retention_days")

        reconcile = data.get("reconcile", True)
        if not isinstance(reconcile, bool):
            self.error(f"must be true or false, got {reconcile!r}", **where, key="reconcile")
            reconcile = None

        required = (
            name_ok,
            kind,
            mode,
            primary_key,
            schedule,
            expected,
            lookback,
            pii,
            table_id,
            late_limit,
            retention,
        )
        if reconcile is None or any(value is None or value is False for value in required):
            return None
        if mode == "incremental" and cursor is None:
            return None
        return Table(
            source_db=source,
            name=name,
            app=app,
            server=server,
            kind=kind,
            mode=mode,
            cursor=cursor,
            event_time=event_time,
            primary_key=primary_key,
            schedule=schedule,
            expected_interval_minutes=expected,
            lookback_minutes=lookback,
            user_column=user_column,
            pii=pii,
            description=description,
            active_hours=active_hours if active_hours is not False else None,
            id=table_id,
            late_commit_limit_minutes=late_limit,
            reconcile=reconcile,
            retention_days=retention,
        )

    def table_id(self, name: str, data: Mapping[str, Any], *, source: str, **where: Any) -> str | None:
        """The table's safe id: `id:` when given, else derived from its name (safe_id)."""
        given = data.get("id")
        if given is not None:
            if not isinstance(given, str) or not TABLE_ID_PATTERN.match(given):
                self.error(
                    f"id must be snake_case ASCII ({TABLE_ID_PATTERN.pattern}), got {given!r}. "
                    f"Fix: id: {safe_id(str(given)) or 'my_table'}",
                    source=source,
                    **where,
                    key="id",
                )
                return None
            table_id = given
        else:
            table_id = safe_id(name)
            if not TABLE_ID_PATTERN.match(table_id):
                self.error(
                    f"table name {name!r} gives no usable id for Airflow and dbt (derived {table_id!r}). "
                    f"Fix: add `id: <snake_case_name>` to this table, e.g. id: table_{len(self.issues) + 1}",
                    source=source,
                    **where,
                )
                return None
        model = f"{source}__{table_id}"
        if len(model) + MODEL_NAME_OVERHEAD > POSTGRES_MAX_IDENTIFIER_LENGTH:
            self.error(
                f"id {table_id!r} makes the model name int_{model}_anon longer than "
                f"{POSTGRES_MAX_IDENTIFIER_LENGTH} characters. Fix: add a shorter `id:` to this table",
                source=source,
                **where,
                key="id" if given is not None else None,
            )
            return None
        return table_id

    def active_hours(self, value: Any, **where: Any) -> tuple[int, int] | None | bool:
        """ "HH:MM-HH:MM" -> (start, end) minutes; None when absent; False (and an error) when bad."""
        if value is None:
            return None
        match = (
            re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)", value)
            if isinstance(value, str)
            else None
        )
        if match is None:
            self.error(f'must be "HH:MM-HH:MM" (local time), got {value!r}', **where, key="active_hours")
            return False
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if start == end or end > 24 * 60:
            self.error(f"empty or impossible range {value!r}", **where, key="active_hours")
            return False
        return (start, end)

    def primary_key(self, data: Mapping[str, Any], **where: Any) -> tuple[str, ...] | None:
        if "primary_key" not in data:
            self.error("missing required key", **where, key="primary_key")
            return None
        value = data["primary_key"]
        if not isinstance(value, list) or not value:
            self.error(
                f"must be a non-empty list of column names, got {value!r}",
                **where,
                key="primary_key",
            )
            return None
        if not all(isinstance(column, str) and column.strip() for column in value):
            self.error(
                f"column names must be non-empty strings, got {value!r}",
                **where,
                key="primary_key",
            )
            return None
        if len(set(value)) != len(value):
            self.error(f"repeats a column: {value!r}", **where, key="primary_key")
            return None
        return tuple(value)

    def pii(self, value: Any, **where: Any) -> Mapping[str, str] | None:
        if value is None:
            return MappingProxyType({})
        if not isinstance(value, Mapping):
            self.error(f"must be a mapping of column: class, got {value!r}", **where, key="pii")
            return None
        ok = True
        for column, pii_class in value.items():
            if not isinstance(column, str) or not column.strip():
                self.error(
                    f"column name must be a non-empty string, got {column!r}",
                    **where,
                    key="pii",
                )
                ok = False
            if pii_class not in PII_CLASSES:
                self.error(
                    f"column {column!r} has unknown PII class {pii_class!r} (allowed: {', '.join(PII_CLASSES)})",
                    **where,
                    key="pii",
                )
                ok = False
        return MappingProxyType(dict(value)) if ok else None

    def unique_ids(self, source: str, tables: list[Table]) -> None:
        """Two names of one source mapping to the same id (e.g. 'Order Lines' and 'order_lines')."""
        seen: dict[str, Table] = {}
        for table in tables:
            other = seen.setdefault(table.id, table)
            if other is not table:
                first_line = self.lines.get(("sources", source, "tables", other.name))
                self.error(
                    f"maps to the same id {table.id!r} as table {other.name!r} (line {first_line}): "
                    "task ids, raw tables and dbt models would collide. "
                    f"Fix: add `id: <another_snake_case_name>` to one of them",
                    source=source,
                    table=table.name,
                )

    def unique_raw_tables(self, sources: list[Source]) -> None:
        seen: dict[str, Table] = {}
        for source in sources:
            for table in source.tables:
                if len(table.raw_table) > POSTGRES_MAX_IDENTIFIER_LENGTH:
                    self.error(
                        f"raw table name {table.raw_table!r} is longer than "
                        f"{POSTGRES_MAX_IDENTIFIER_LENGTH} characters",
                        source=source.name,
                        table=table.name,
                    )
                other = seen.get(table.raw_table)
                if other is not None and other.source_db != source.name:  # same source: unique_ids said it
                    self.error(
                        f"duplicate table: raw table {table.raw_table!r} is also produced by {other.key}",
                        source=source.name,
                        table=table.name,
                    )
                else:
                    seen[table.raw_table] = table

    def duplicate_keys(self, duplicates: list[tuple[tuple[Any, ...], int, int]]) -> None:
        for key_path, line, first_line in duplicates:
            source = table = key = None
            rest = list(key_path)
            if rest[:1] == ["sources"] and len(rest) >= 2:
                source = str(rest[1])
                rest = rest[2:]
                if rest[:1] == ["tables"] and len(rest) >= 2:
                    table = str(rest[1])
                    rest = rest[2:]
                    what = "duplicate table" if not rest else "duplicate key"
                else:
                    what = "duplicate source" if not rest else "duplicate key"
            else:
                what = "duplicate key"
            if rest:
                key = ".".join(str(part) for part in rest)
            self.issues.append(
                RegistryIssue(
                    file=self.file,
                    message=f"{what} (first defined on line {first_line})",
                    source=source,
                    table=table,
                    key=key,
                    line=line,
                )
            )


# --------------------------------------------------------------------------- entry point


def _user_column_names(sources: Iterable[Source]) -> frozenset[str]:
    return frozenset(
        {"user_id", *(t.user_column for s in sources for t in s.tables if t.user_column and t.user_column != "id")}
    )


def _with_user_references(sources: Sequence[Source]) -> tuple[Source, ...]:
    names = _user_column_names(sources)
    return tuple(
        dataclasses.replace(
            source,
            tables=tuple(
                dataclasses.replace(table, user_references=tuple(sorted(names - {table.user_column})))
                for table in source.tables
            ),
        )
        for source in sources
    )


def parse_registry(text: str, path: Path | str = "<string>", *, partial: bool = False) -> Registry:
    """Validate registry YAML text; ``path`` is used in messages and kept on the Registry.

    ``partial``: a problem inside one source keeps only that source out (it goes to
    ``Registry.broken`` with its error) so one bad entry cannot hide the other sources; a
    problem outside any source (bad YAML, unknown top-level key) still raises."""
    file = str(path)
    try:
        root, data = _compose_and_construct(text)
    except yaml.YAMLError as exc:
        issue = RegistryIssue(file=file, message=f"invalid YAML: {exc}")
        raise RegistryError(file, [issue]) from exc
    if root is None:
        raise RegistryError(file, [RegistryIssue(file=file, message="file is empty")])

    lines: dict[tuple[Any, ...], int] = {}
    duplicates: list[tuple[tuple[Any, ...], int, int]] = []
    _walk_nodes(root, (), lines, duplicates)
    validator = _Validator(file, lines)
    validator.duplicate_keys(duplicates)
    sources = _with_user_references(validator.registry(data))
    if not validator.issues:
        return Registry(path=Path(path), sources=tuple(sources))
    if not partial or any(issue.source is None for issue in validator.issues):
        raise RegistryError(file, validator.issues)
    by_source: dict[str, list[RegistryIssue]] = {}
    for issue in validator.issues:
        by_source.setdefault(issue.source, []).append(issue)
    return Registry(
        path=Path(path),
        sources=tuple(source for source in sources if source.name not in by_source),
        broken=MappingProxyType({name: RegistryError(file, issues) for name, issues in by_source.items()}),
    )


def load_registry(path: Path | str | None = None, *, partial: bool = False) -> Registry:
    """Load and validate the registry (default: <repo>/config/sources.yml); see parse_registry."""
    if path is None:
        # Tests (and a staging deploy) may point at another file; the default sits beside the code.
        path = os.environ.get("DATAACUITY_REGISTRY") or DEFAULT_REGISTRY_PATH
    registry_path = Path(path)
    try:
        text = registry_path.read_text(encoding="utf-8")
    except OSError as exc:
        issue = RegistryIssue(file=str(registry_path), message=f"cannot read file: {exc}")
        raise RegistryError(str(registry_path), [issue]) from exc
    return parse_registry(text, registry_path, partial=partial)
