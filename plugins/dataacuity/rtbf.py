"""Right to be forgotten (runbook §11.4, POPIA §24 / GDPR Art. 17; DESIGN §3 "Erasure wins over every copy").

One request = one user. The cascade is generated, never hand-kept:

- **raw**: every registry table with a ``user_column`` (rows deleted) and every PII column of
  class email / phone / id_number (another user's row that names the subject: that column blanked);
- **staging .. ml / analytics** (warehouse): every table the catalog lists in those schemas, by the
  user's pseudonym under every salt generation that still exists (``*_hash`` columns: rows
  deleted), the pseudonyms of their email / phone / SA ID / device / ip (blanked), their vault
  tokens (``*token*`` columns: blanked) and registry user columns (rows deleted); a column dbt
  requires a value in (``not_null`` test or constraint in the manifest) is never blanked: those
  rows are deleted, so the next dbt build stays green;
- **aggregates**: marts whose dbt ``meta.rtbf_recompute`` names their grain are recomputed for the
  grains the user counted in (their k-anonymity tests run with them);
- **push-back**: every table of the app schemas in analytics_db (.104) with a user-id column;
- **token vault** (.118): the user's tokens.

Before anything is deleted the user is **tombstoned** on .118 (keyed by a never-rotated key: the
tombstone neither names the user nor depends on a salt) and the warehouse's copy refreshed, so a
concurrent or later extract, replay or backfill cannot land them again (extract/core.py drops
tombstoned rows on the way in; everything downstream reads raw).

Every delete writes its journal row in the same transaction (``rtbf.erasure_journal`` on the
warehouse and analytics_db); the journal is then shipped to ``compliance.rtbf_evidence``
(idempotent by journal id), so a crash between two tables never leaves a deletion unrecorded.
The last step is the **zero-residual scan** of every table of every schema on the warehouse and
analytics_db; a hit fails the request and pages. A legal hold pauses the request (recorded) and
the daily sweep resumes it when the hold is lifted. No user identifier is logged, put in XCom or
in an alert; the only copy of the id is the request's sealed subject on .118, wiped at close.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from dataacuity import connections
from dataacuity.registry import Registry, load_registry
from dataacuity.sqlfiles import compose, query

log = logging.getLogger(__name__)

DAG_ID = "rtbf_cascade"
REQUEST_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{2,79}$"
USER_ID_PATTERN = r"^[0-9]{1,18}$"
# ISO 8601 date and time (seconds, fraction and offset optional; no offset = UTC). A plain text field
# with this pattern: Airflow's date-time picker cannot be filled reliably and sends a local time.
REQUESTED_AT_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:?[0-9]{2})?$"
)
MIN_REQUESTED_BY_LENGTH = 2

# The identity table: its soft-deleted rows are picked up by the daily sweep.
IDENTITY_SOURCE, IDENTITY_TABLE, SOFT_DELETE_COLUMN = "auth_db", "users", "deleted_at"

WAREHOUSE_DBT_SCHEMAS = ("staging", "intermediate", "marts", "analytics", "ml")
# Key material (docs/compliance-hashing.md): tables of the NOLOGIN key holder that no login role
# may read (keys, the wrap key). The scan cannot and need not read them; it lists them as skipped.
KEY_HOLDER = "compliance_keyholder"
# The NOLOGIN, member-less owner of rtbf.residual_hits() (warehouse 0901_rtbf_scanner.sql).
SCANNER_ROLE = "rtbf_scanner"

# registry PII class -> hash family (pseudonyms in *_hash columns) and token family (vault)
HASH_FAMILY_OF_CLASS = {"email": "email", "phone": "phone", "id_number": "id_number", "device_id": "device", "ip": "ip"}
TOKEN_FAMILY_OF_CLASS = {c: c for c in ("email", "phone", "id_number", "name", "address", "device_id", "ip", "dob")}
# Identifier classes that other users' rows may name (redacted in raw) and that are tombstoned.
TOMBSTONED_CLASSES = ("email", "phone", "id_number")
# The tombstone kind (= hash family) of each class tombstoned: those above, and device ids (not
# redacted in raw: dbt's hash_lookup gives them no pseudonym, so no rebuild brings the user's
# device / card pseudonym back through another row).
TOMBSTONE_KIND_OF_CLASS = {**{cls: cls for cls in TOMBSTONED_CLASSES}, "device_id": "device"}
# What the zero-residual scan looks for as substrings (distinctive enough not to match by chance).
SUBSTRING_CLASSES = ("email", "id_number")

# Fault injection for the crash test: the cascade stops (SIGKILL from the test) after this layer.
PAUSE_AFTER_LAYER_ENV = "DATAACUITY_RTBF_PAUSE_AFTER_LAYER"

TEXT_TYPES = frozenset({"text", "character varying", "character", "citext", "name"})
INTEGER_TYPES = frozenset({"bigint", "integer", "smallint", "numeric"})


class RtbfInputError(ValueError):
    """A request parameter is invalid; the message names the parameter (never echoes a user id)."""


class ResidualFoundError(RuntimeError):
    """The zero-residual scan found the user somewhere: the request is not closed."""


# --------------------------------------------------------------------------- connections


@dataclass(frozen=True)
class Links:
    """Zero-argument connection factories (tests and tools pass DSN-based ones)."""

    compliance: Callable[[], psycopg.Connection]
    warehouse_etl: Callable[[], psycopg.Connection]  # etl_user  -> SET ROLE etl_writer (raw)
    warehouse_dbt: Callable[[], psycopg.Connection]  # dbt_runner -> SET ROLE dbt_writer (dbt layers)
    warehouse_admin: Callable[[], psycopg.Connection]  # journal shipping, tombstone refresh, scan
    analytics: Callable[[], psycopg.Connection]  # pushback_writer on analytics_db (.104)

    @classmethod
    def from_airflow(cls) -> Links:
        return cls(
            compliance=connections.connector(connections.COMPLIANCE),
            warehouse_etl=connections.connector(connections.WAREHOUSE_ETL),
            warehouse_dbt=connections.connector(connections.WAREHOUSE_DBT),
            warehouse_admin=connections.connector(connections.WAREHOUSE_ADMIN),
            analytics=connections.connector(connections.ANALYTICS_DB),
        )


# --------------------------------------------------------------------------- input


@dataclass(frozen=True)
class RequestInput:
    request_id: str
    user_id: str = field(repr=False)
    requested_at: datetime
    requested_by: str


def validate_request(params: Mapping[str, Any]) -> RequestInput:
    """The trigger form's values, checked again here (the form is not the only way in)."""
    request_id = str(params.get("request_id") or "").strip()
    if not re.match(REQUEST_ID_PATTERN, request_id):
        raise RtbfInputError(
            f"param 'request_id' must match {REQUEST_ID_PATTERN} (3-80 letters, digits, _.:-), got {request_id!r}"
        )
    user_id = str(params.get("user_id") or "").strip()
    if not re.match(USER_ID_PATTERN, user_id):
        raise RtbfInputError("param 'user_id' must be the numeric auth_db.users.id (1-18 digits); value not echoed")
    requested_by = str(params.get("requested_by") or "").strip()
    if len(requested_by) < MIN_REQUESTED_BY_LENGTH:
        raise RtbfInputError(f"param 'requested_by' must name who filed the request, got {requested_by!r}")
    raw_at = params.get("requested_at")
    try:
        requested_at = raw_at if isinstance(raw_at, datetime) else datetime.fromisoformat(str(raw_at).strip())
    except ValueError as error:
        raise RtbfInputError(f"param 'requested_at' must be an ISO-8601 timestamp, got {raw_at!r}") from error
    if requested_at.tzinfo is None:
        requested_at = requested_at.replace(tzinfo=UTC)
    if requested_at > datetime.now(UTC):
        raise RtbfInputError(f"param 'requested_at' is in the future: {requested_at.isoformat()}")
    return RequestInput(request_id, user_id, requested_at, requested_by)


# --------------------------------------------------------------------------- registration


def _event(conn, request_id: str, event: str, run_id: str, **detail: Any) -> None:
    conn.execute(
        query("rtbf/record_event.sql"),
        {"request_id": request_id, "event": event, "run_id": run_id, "detail": Jsonb(detail)},
    )


def register(links: Links, request: RequestInput, run_id: str, source: str = "manual") -> str:
    """Register (or re-open for re-verification) a request. Idempotent on request_id."""
    with links.compliance() as conn, conn.transaction():
        params = {
            "request_id": request.request_id,
            "user_id": request.user_id,
            "source": source,
            "requested_at": request.requested_at,
            "requested_by": request.requested_by,
            "run_id": run_id,
        }
        inserted = conn.execute(query("rtbf/register_request.sql"), params).fetchone()
        if inserted:
            _event(conn, request.request_id, "registered", run_id, source=source, requested_by=request.requested_by)
            return request.request_id
        same_subject, status = conn.execute(query("rtbf/request_subject_matches.sql"), params).fetchone()
        if not same_subject:
            raise RtbfInputError(
                f"param 'request_id' {request.request_id!r} is already used by another subject: "
                "request ids are never reused"
            )
        if status == "closed":
            conn.execute(query("rtbf/reopen_request.sql"), params)
            _event(conn, request.request_id, "reopened_for_verification", run_id)
    return request.request_id


def sweep(links: Links, run_id: str, registry: Registry | None = None) -> list[str]:
    """Daily: register every user soft-deleted in auth_db, then return every open request id."""
    registry = registry or load_registry()
    table = registry.table(IDENTITY_SOURCE, IDENTITY_TABLE)
    statement = compose(
        "rtbf/soft_deleted_users.sql",
        id=sql.Identifier(table.user_column or table.primary_key[0]),
        deleted_at=sql.Identifier(SOFT_DELETE_COLUMN),
        table=sql.Identifier(*table.qualified_raw),
    )
    with links.warehouse_dbt() as conn, conn.transaction():
        conn.execute("SET LOCAL ROLE dbt_writer")
        exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (".".join(table.qualified_raw),)).fetchone()[0]
        deleted = conn.execute(statement).fetchall() if exists else []
    with links.compliance() as conn:
        refs = {}
        for user_id, deleted_at in deleted:
            ref = conn.execute("SELECT compliance.rtbf_ref('user', %s)", (user_id,)).fetchone()[0]
            refs[ref] = (user_id, deleted_at)
        conn.commit()
    registered = 0
    for ref, (user_id, deleted_at) in refs.items():
        request = RequestInput(f"sweep-{ref[:20]}", user_id, deleted_at, "auth_db soft-delete sweep")
        with links.compliance() as conn:
            exists = conn.execute(
                "SELECT 1 FROM compliance.rtbf_request WHERE request_id = %s OR (subject_ref = %s AND status <> 'closed')"
                " UNION SELECT 1 FROM compliance.rtbf_tombstone WHERE tombstone_ref = %s",
                (request.request_id, ref, ref),
            ).fetchone()
        if not exists:
            register(links, request, run_id, source="sweep")
            registered += 1
    with links.compliance() as conn:
        open_ids = [row[0] for row in conn.execute(query("rtbf/open_requests.sql")).fetchall()]
    log.info("sweep: %d soft-deleted user(s) newly registered; %d open request(s)", registered, len(open_ids))
    return open_ids


# --------------------------------------------------------------------------- legal hold


def place_hold(
    links: Links, user_id: str, case_ref: str, placed_by: str, reason: str, hold_until: datetime | None = None
) -> int:
    if not re.match(USER_ID_PATTERN, str(user_id)):
        raise RtbfInputError("user_id must be the numeric auth_db.users.id; value not echoed")
    with links.compliance() as conn, conn.transaction():
        try:
            (hold_id,) = conn.execute(
                query("rtbf/place_hold.sql"),
                {
                    "user_id": str(user_id),
                    "case_ref": case_ref,
                    "placed_by": placed_by,
                    "reason": reason,
                    "hold_until": hold_until,
                },
            ).fetchone()
        except psycopg.errors.CheckViolation as error:
            raise RtbfInputError(
                "legal hold needs case_ref (>= 3 chars), placed_by (>= 2) and reason (>= 10): "
                f"{error.diag.constraint_name}"
            ) from error
    log.info("legal hold %s placed (case %s) by %s", hold_id, case_ref, placed_by)
    return hold_id


def lift_hold(links: Links, user_id: str, lifted_by: str, reason: str) -> list[int]:
    with links.compliance() as conn, conn.transaction():
        rows = conn.execute(
            query("rtbf/lift_hold.sql"), {"user_id": str(user_id), "lifted_by": lifted_by, "reason": reason}
        ).fetchall()
    return [row[0] for row in rows]


# --------------------------------------------------------------------------- the cascade


@dataclass
class Subject:
    """What the cascade knows about the user (never logged, never returned)."""

    user_id: str = field(repr=False)
    identifiers: dict[str, list[str]] = field(default_factory=dict, repr=False)  # pii class -> values
    grains: dict[str, list[str]] = field(default_factory=dict, repr=False)  # model -> grain values
    collected: bool = False

    def to_json(self) -> str:
        return json.dumps(
            {"user_id": self.user_id, "identifiers": self.identifiers, "grains": self.grains, "collected": True}
        )

    @classmethod
    def from_json(cls, text: str) -> Subject:
        data = json.loads(text)
        return cls(
            str(data["user_id"]), data.get("identifiers", {}), data.get("grains", {}), bool(data.get("collected"))
        )


@dataclass
class Needles:
    """The subject's identifiers in every form the pipeline stores them."""

    user_id: str = field(repr=False)
    user_pseudonyms: list[str] = field(default_factory=list, repr=False)
    value_pseudonyms: list[str] = field(default_factory=list, repr=False)
    tokens: list[str] = field(default_factory=list, repr=False)
    by_class: dict[str, list[str]] = field(default_factory=dict, repr=False)  # value variants per class

    def exact(self) -> list[str]:
        """Whole-value matches for text columns (the numeric user id is matched only in user-id
        columns: as a bare number it equals postal codes, amounts, counts)."""
        values = {*self.user_pseudonyms, *self.value_pseudonyms, *self.tokens}
        for cls in TOMBSTONED_CLASSES:
            values.update(self.by_class.get(cls, []))
        return sorted(values)

    def substrings(self) -> list[str]:
        values = {*self.user_pseudonyms, *self.value_pseudonyms, *self.tokens}
        for cls in SUBSTRING_CLASSES:
            values.update(v for v in self.by_class.get(cls, []) if len(v) >= 6)
        return sorted(values)


@dataclass
class CascadeOutcome:
    request_id: str
    state: str  # cascaded | held | closed_already
    rows_removed: int = 0
    tables_touched: int = 0
    holds: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "request_id": self.request_id,
            "state": self.state,
            "rows_removed": self.rows_removed,
            "tables_touched": self.tables_touched,
            "holds": self.holds,
        }


def phone_variants(value: str) -> list[str]:
    digits = re.sub(r"[^0-9]", "", value or "")
    if re.match(r"^(0027|27|0)[0-9]{9}$", digits):
        tail = digits[-9:]
        return sorted(
            {value, f"0{tail}", f"27{tail}", f"+27{tail}", f"0027{tail}", f"+27 {tail[:2]} {tail[2:5]} {tail[5:]}"}
        )
    return [value]


def value_variants(pii_class: str, values: Iterable[str]) -> list[str]:
    out: set[str] = set()
    for value in values:
        if value is None or str(value).strip() == "":
            continue
        value = str(value)
        if pii_class == "phone":
            out.update(phone_variants(value))
        elif pii_class == "email":
            out.update({value, value.strip().lower()})
        else:
            out.add(value)
    return sorted(out)


def _pause_point(layer: str) -> None:
    """Test hook for the crash test: announce the layer and wait to be killed."""
    if os.environ.get(PAUSE_AFTER_LAYER_ENV) == layer:
        print(f"RTBF-PAUSED-AFTER {layer}", flush=True)
        time.sleep(3600)


def _collect_identifiers(links: Links, registry: Registry, user_id: str) -> dict[str, list[str]]:
    """The subject's identifier values from every user-linked raw table (before deleting)."""
    found: dict[str, set[str]] = {}
    with links.warehouse_dbt() as conn, conn.transaction():
        conn.execute("SET LOCAL ROLE dbt_writer")
        raw_columns = _raw_columns(conn)
        for table in registry.user_linked_tables():
            columns = [
                c
                for c, cls in table.pii.items()
                if cls in TOKEN_FAMILY_OF_CLASS and c in raw_columns.get(table.raw_table, {})
            ]
            if not columns or table.raw_table not in raw_columns:
                continue
            statement = compose(
                "rtbf/subject_values.sql",
                columns=sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in columns),
                table=sql.Identifier(*table.qualified_raw),
                user_column=sql.Identifier(table.user_column),
            )
            for row in conn.execute(
                statement, {"user_id": _typed(user_id, raw_columns[table.raw_table][table.user_column])}
            ):
                for column, value in zip(columns, row, strict=True):
                    if value is not None and str(value).strip():
                        found.setdefault(table.pii[column], set()).add(str(value))
    return {cls: sorted(values) for cls, values in found.items()}


def _raw_columns(conn) -> dict[str, dict[str, str]]:
    """raw table -> column -> type."""
    out: dict[str, dict[str, str]] = {}
    for _schema, name, _readable, _owner, columns, types in conn.execute(
        query("rtbf/tables_in_schemas.sql"), {"schemas": ["raw"], "reader": None}
    ):
        out[name] = dict(zip(columns, types, strict=True))
    return out


def _typed(user_id: str, column_type: str) -> Any:
    return int(user_id) if column_type in INTEGER_TYPES else str(user_id)


def _needles(links: Links, subject: Subject) -> Needles:
    by_class = {cls: value_variants(cls, values) for cls, values in subject.identifiers.items()}
    needles = Needles(user_id=subject.user_id, by_class=by_class)
    with links.compliance() as conn:
        needles.user_pseudonyms = [
            r[0] for r in conn.execute(query("rtbf/user_pseudonyms.sql"), {"user_id": subject.user_id})
        ]
        for cls, family in HASH_FAMILY_OF_CLASS.items():
            values = subject.identifiers.get(cls)
            if values:
                needles.value_pseudonyms += [
                    r[0] for r in conn.execute(query("rtbf/value_pseudonyms.sql"), {"family": family, "values": values})
                ]
        for cls, family in TOKEN_FAMILY_OF_CLASS.items():
            values = subject.identifiers.get(cls)
            if values:
                needles.tokens += [
                    r[0] for r in conn.execute(query("rtbf/vault_tokens.sql"), {"family": family, "values": values})
                ]
        conn.commit()
    return needles


def needles_for(links: Links, user_id: str, identifiers: Mapping[str, list[str]]) -> Needles:
    """The forms a user's identifiers take in the pipeline (for a scan without a request)."""
    return _needles(links, Subject(str(user_id), {k: list(v) for k, v in identifiers.items()}))


def _tombstone(links: Links, request_id: str, subject: Subject) -> None:
    """Tombstone the user (and the identifiers others' rows may name) on .118, then refresh the
    warehouse's copy: from here on no extract can land them again."""
    with links.compliance() as conn, conn.transaction():
        conn.execute(
            query("rtbf/add_tombstone.sql"), {"kind": "user", "value": subject.user_id, "request_id": request_id}
        )
        for cls, kind in TOMBSTONE_KIND_OF_CLASS.items():
            for value in subject.identifiers.get(cls, []):
                conn.execute(query("rtbf/add_tombstone.sql"), {"kind": kind, "value": value, "request_id": request_id})
    with links.warehouse_admin() as conn:
        conn.execute(query("rtbf/refresh_tombstones.sql"))
        conn.commit()


@dataclass
class _Step:
    """One generated statement over one column of one table, for every request of the run.
    `owners` maps each value looked for to the request it belongs to (evidence per request)."""

    layer: str
    target: tuple[str, str]
    action: str  # deleted | redacted
    column: str
    owners: dict[Any, str] = field(default_factory=dict, repr=False)


def _merge(steps: Iterable[_Step]) -> list[_Step]:
    merged: dict[tuple, _Step] = {}
    for step in steps:
        key = (step.layer, step.target, step.action, step.column)
        if key in merged:
            merged[key].owners.update(step.owners)
        else:
            merged[key] = _Step(step.layer, step.target, step.action, step.column, dict(step.owners))
    return list(merged.values())


def _journaled(conn, role: str | None, step: _Step, run_id: str) -> dict[str, int]:
    """One delete/redact and its journal rows (one per request), in one transaction."""
    template = "rtbf/delete_by_column.sql" if step.action == "deleted" else "rtbf/redact_column.sql"
    statement = compose(template, table=sql.Identifier(*step.target), column=sql.Identifier(step.column))
    counts = dict.fromkeys(sorted(set(step.owners.values())), 0)
    with conn.transaction():
        if role:
            conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
        # Serialise with whoever writes this table (the extract's per-table lock, dbt's per-model
        # lock): a batch or a model build that read the user before the tombstone commits before
        # this delete runs (and is deleted with it); one that starts later sees the tombstone / a
        # clean raw layer.
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (_writer_lock(step),))
        for (value,) in conn.execute(statement, {"values": list(step.owners)}).fetchall():
            owner = step.owners.get(value)
            if owner is None:  # e.g. a numeric column returning Decimal for an int id
                owner = next((r for v, r in step.owners.items() if str(v) == str(value)), None)
            if owner is not None:
                counts[owner] += 1
        with conn.cursor() as cursor:
            cursor.executemany(
                query("rtbf/journal_insert.sql"),
                [
                    {
                        "request_id": request_id,
                        "run_id": run_id,
                        "layer": step.layer,
                        "target": ".".join(step.target) + f"({step.column})",
                        "action": step.action,
                        "rows_affected": count,
                    }
                    for request_id, count in counts.items()
                ],
            )
    return counts


def _writer_lock(step: _Step) -> str:
    """The advisory-lock key of the table's writer (extract/core.py, dbt macro da_model_lock)."""
    schema, table = step.target
    return f"{schema}.{table}" if step.layer == "raw" else f"dataacuity.dbt:{schema}.{table}"


def raw_steps(
    registry: Registry, raw_columns: Mapping[str, Mapping[str, str]], needles: Needles, request_id: str
) -> list[_Step]:
    """The raw layer's cascade for one request, generated from the registry."""
    steps = []
    for table in registry.tables():
        columns = raw_columns.get(table.raw_table)
        if columns is None:
            continue  # not extracted yet
        if table.user_column and table.user_column in columns:
            user = _typed(needles.user_id, columns[table.user_column])
            steps.append(_Step("raw", table.qualified_raw, "deleted", table.user_column, {user: request_id}))
        for column in table.user_references:  # another user's row naming them (a payment to them)
            if column in columns and (columns[column] in TEXT_TYPES or columns[column] in INTEGER_TYPES):
                user = _typed(needles.user_id, columns[column])
                steps.append(_Step("raw", table.qualified_raw, "redacted", column, {user: request_id}))
        for column, pii_class in table.pii.items():
            values = needles.by_class.get(pii_class) if pii_class in TOMBSTONED_CLASSES else None
            if values and column in columns and columns[column] in TEXT_TYPES:
                steps.append(_Step("raw", table.qualified_raw, "redacted", column, dict.fromkeys(values, request_id)))
    return steps


def _dbt_layer(schema: str) -> str | None:
    """The dbt layer a schema belongs to: its own name, or the base of a salt rotation's shadow
    schema (`intermediate__rotation` holds pseudonyms of the pending generation)."""
    base = schema.split("__", 1)[0]
    return base if base in WAREHOUSE_DBT_SCHEMAS else None


def derived_steps(
    layer: str,
    schema: str,
    table: str,
    columns: Sequence[str],
    types: Sequence[str],
    needles: Needles,
    user_columns: frozenset[str],
    request_id: str,
    not_null: frozenset[str] = frozenset(),
) -> list[_Step]:
    """Catalog-driven steps for a table downstream of raw (dbt layers, push-back). A column in
    `not_null` (the table's dbt tests require a value: `not_null_columns`) is never blanked: the rows
    that name the user there are deleted instead (blanking them would fail the next dbt build)."""
    steps = []
    target = (schema, table)
    for column, column_type in zip(columns, types, strict=True):
        text = column_type in TEXT_TYPES
        if column in user_columns and (text or column_type in INTEGER_TYPES):
            steps.append(_Step(layer, target, "deleted", column, {_typed(needles.user_id, column_type): request_id}))
        elif text and column.endswith("_hash"):
            if needles.user_pseudonyms:
                steps.append(
                    _Step(layer, target, "deleted", column, dict.fromkeys(needles.user_pseudonyms, request_id))
                )
            if needles.value_pseudonyms:
                action = "deleted" if column in not_null else "redacted"
                steps.append(_Step(layer, target, action, column, dict.fromkeys(needles.value_pseudonyms, request_id)))
        elif text and "token" in column and needles.tokens:
            action = "deleted" if column in not_null else "redacted"
            steps.append(_Step(layer, target, action, column, dict.fromkeys(needles.tokens, request_id)))
    return steps


def not_null_columns(manifest_path=None) -> dict[tuple[str, str], frozenset[str]]:
    """(schema, relation) -> the columns dbt requires a value in, from the manifest: a `not_null`
    data test or a `not_null` / `primary_key` column constraint. The cascade deletes the rows that
    name the user in those columns rather than blanking them."""
    from dataacuity import dbt

    path = Path(manifest_path or dbt.MANIFEST_PATH)
    if not path.exists():
        return {}
    nodes = json.loads(path.read_text()).get("nodes", {})
    required: dict[tuple[str, str], set[str]] = {}

    def add(model_id: str | None, column: str | None) -> None:
        model = nodes.get(model_id or "")
        if model and column:
            required.setdefault((model["schema"], model.get("alias") or model["name"]), set()).add(column)

    for node in nodes.values():
        if node.get("resource_type") == "test" and (node.get("test_metadata") or {}).get("name") == "not_null":
            add(node.get("attached_node"), node.get("column_name"))
        elif node.get("resource_type") == "model":
            for column, spec in (node.get("columns") or {}).items():
                if any(c.get("type") in ("not_null", "primary_key") for c in spec.get("constraints") or []):
                    add(node["unique_id"], column)
    return {key: frozenset(columns) for key, columns in required.items()}


def _catalog(conn, schemas: Sequence[str] | None) -> list[tuple[str, str, bool, list[str], list[str]]]:
    """(schema, table, readable, columns, types) of every table of the schemas (None: all)."""
    rows = conn.execute(
        query("rtbf/tables_in_schemas.sql"), {"schemas": list(schemas) if schemas else None, "reader": None}
    )
    return [(schema, table, readable, columns, types) for schema, table, readable, _owner, columns, types in rows]


def _ship_journal(links: Links) -> int:
    """Copy journal rows (warehouse, analytics_db) into compliance.rtbf_evidence; idempotent."""
    shipped = 0
    for host, connect in (("warehouse_106", links.warehouse_admin), ("analytics_104", links.analytics)):
        with connect() as source:
            rows = source.execute(query("rtbf/journal_unshipped.sql")).fetchall()
            if not rows:
                continue
            with links.compliance() as target, target.transaction(), target.cursor() as cursor:
                cursor.executemany(
                    query("rtbf/record_evidence.sql"),
                    [
                        {
                            "journal_id": journal_id,
                            "request_id": request_id,
                            "run_id": run_id,
                            "host": host,
                            "layer": layer,
                            "target": target_name,
                            "action": action,
                            "rows_affected": count,
                            "done_at": done_at,
                        }
                        for journal_id, request_id, run_id, layer, target_name, action, count, done_at in rows
                    ],
                )
            source.execute(query("rtbf/journal_mark_shipped.sql"), {"ids": [r[0] for r in rows]})
            source.commit()
            shipped += len(rows)
    return shipped


def _evidence_direct(conn, request_id: str, run_id: str, layer: str, target: str, action: str, count: int) -> None:
    conn.execute(
        query("rtbf/record_evidence.sql"),
        {
            "journal_id": uuid.uuid4(),
            "request_id": request_id,
            "run_id": run_id,
            "host": "compliance_118",
            "layer": layer,
            "target": target,
            "action": action,
            "rows_affected": count,
            "done_at": datetime.now(UTC),
        },
    )


# -- aggregates (dbt meta.rtbf_recompute on the aggregating mart)


@dataclass(frozen=True)
class Recompute:
    model: str  # the aggregating mart
    source_schema: str  # where the user's rows sit (read before the delete)
    source_table: str
    grain_column: str | None  # None: the whole model is rebuilt (full: true)
    var: str | None


def aggregate_recomputes(manifest_path=None) -> list[Recompute]:
    """Marts that declare `meta.rtbf_recompute`: `{source, grain_column, var}` (the grains the
    user counted in are recomputed) or `{full: true}` (rebuilt when the user had a row)."""
    from dataacuity import dbt

    path = Path(manifest_path or dbt.MANIFEST_PATH)
    if not path.exists():
        return []
    manifest = json.loads(path.read_text())
    by_name = {n["name"]: n for n in manifest.get("nodes", {}).values() if n.get("resource_type") == "model"}
    out = []
    for node in by_name.values():
        spec = (node.get("config", {}).get("meta") or {}).get("rtbf_recompute") or node.get("meta", {}).get(
            "rtbf_recompute"
        )
        if not spec or not node.get("config", {}).get("enabled", True):
            continue
        if spec.get("full"):
            out.append(Recompute(node["name"], node["schema"], node.get("alias") or node["name"], None, None))
            continue
        source = by_name[spec["source"]]
        out.append(
            Recompute(
                node["name"], source["schema"], source.get("alias") or source["name"], spec["grain_column"], spec["var"]
            )
        )
    return sorted(out, key=lambda r: r.model)


def _grains(links: Links, recomputes: Sequence[Recompute], needles: Needles) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if not recomputes or not needles.user_pseudonyms:
        return out
    with links.warehouse_dbt() as conn, conn.transaction():
        conn.execute("SET LOCAL ROLE dbt_writer")
        schemas = sorted({r.source_schema for r in recomputes})
        catalog = {(s, t): (cols, types) for s, t, _r, cols, types in _catalog(conn, schemas)}
        for recompute in recomputes:
            cols, types = catalog.get((recompute.source_schema, recompute.source_table), ([], []))
            hash_columns = [c for c, t in zip(cols, types, strict=True) if c.endswith("_hash") and t in TEXT_TYPES]
            if not hash_columns:
                continue
            predicate = sql.SQL(" OR ").join(sql.SQL("{} = ANY(%(p)s)").format(sql.Identifier(c)) for c in hash_columns)
            grain = sql.Identifier(recompute.grain_column) if recompute.grain_column else sql.Literal("all")
            statement = sql.SQL("SELECT DISTINCT {g}::text FROM {t} WHERE {p}").format(
                g=grain, t=sql.Identifier(recompute.source_schema, recompute.source_table), p=predicate
            )
            values = sorted(r[0] for r in conn.execute(statement, {"p": needles.user_pseudonyms}) if r[0] is not None)
            if values:
                out[recompute.model] = values
    return out


def recompute_aggregates(links: Links, request_ids: Sequence[str], run_id: str) -> dict[str, int]:
    """Rebuild the aggregates the run's users counted in, once for all requests (dbt build runs the
    models' k-anonymity tests: a failure fails the step). Evidence per request."""
    from dataacuity.dbt_runner import run_dbt

    recomputes = aggregate_recomputes()
    grains_by_request = {}
    for request_id in request_ids:
        _row, subject = _load_subject(links, request_id)
        if subject is not None:
            grains_by_request[request_id] = subject.grains
    done: dict[str, int] = {}
    variables: dict[str, list[str]] = {}
    for recompute in recomputes:
        values = sorted({g for grains in grains_by_request.values() for g in grains.get(recompute.model, [])})
        if values:
            done[recompute.model] = len(values)
            if recompute.var:
                variables[recompute.var] = values
    if not done:
        return done
    # one dbt invocation for every aggregate: the models and their tests (k-anonymity among them)
    args = ["build", "--select", *sorted(done)]
    if variables:
        args += ["--vars", json.dumps(variables)]
    result = run_dbt(args)
    if not result.ok:
        raise RuntimeError(
            f"recomputing {sorted(done)} failed (k-anonymity or another test?):\n" + result.output[-3000:]
        )
    with links.compliance() as conn, conn.transaction():
        for request_id, grains in grains_by_request.items():
            for model in done:
                if grains.get(model):
                    _evidence_direct(
                        conn, request_id, run_id, "aggregate", f"marts.{model}", "recomputed", len(grains[model])
                    )
    return done


def _load_subject(links: Links, request_id: str) -> tuple[tuple, Subject | None]:
    with links.compliance() as conn:
        row = conn.execute(query("rtbf/load_request.sql"), {"request_id": request_id}).fetchone()
        conn.commit()
    if row is None:
        raise RtbfInputError(f"no request {request_id!r} in compliance.rtbf_request")
    subject = Subject.from_json(row[7]) if row[7] else None
    return row, subject


def _hold_or_start(links: Links, request_id: str, run_id: str) -> tuple[CascadeOutcome | None, Subject | None]:
    """Record a legal hold (and stop) or the start of the cascade (resumed if it was held)."""
    (req_id, subject_ref, status, *_rest), subject = _load_subject(links, request_id)
    with links.compliance() as conn, conn.transaction():
        holds = conn.execute(query("rtbf/active_holds.sql"), {"subject_ref": subject_ref}).fetchall()
        if holds:
            described = [
                {"hold_id": h[0], "case_ref": h[1], "placed_by": h[2], "until": h[5].isoformat() if h[5] else None}
                for h in holds
            ]
            conn.execute(query("rtbf/set_status.sql"), {"status": "held", "request_id": req_id, "run_id": run_id})
            _event(conn, req_id, "held", run_id, holds=described)
            log.warning("request %s paused by legal hold(s): %s", req_id, [h["case_ref"] for h in described])
            return CascadeOutcome(req_id, "held", holds=described), None
        if status == "held":
            _event(conn, req_id, "resumed", run_id)
        _event(conn, req_id, "cascade_started", run_id)
    if subject is None:
        raise RtbfInputError(f"request {req_id!r} has no sealed subject (closed): trigger it again with the user id")
    return None, subject


def cascade_many(
    links: Links, request_ids: Sequence[str], run_id: str, registry: Registry | None = None
) -> list[CascadeOutcome]:
    """Delete every request's user from every layer (each generated statement runs once for all
    the run's users). Requests under a legal hold are recorded as held and skipped."""
    registry = registry or load_registry()
    outcomes: dict[str, CascadeOutcome] = {}
    active: dict[str, tuple[Subject, Needles]] = {}
    recomputes = aggregate_recomputes()
    for request_id in request_ids:
        held, subject = _hold_or_start(links, request_id, run_id)
        if held:
            outcomes[request_id] = held
            continue
        # 1. identifiers and the grains they counted in, sealed BEFORE anything is deleted (crash-safe)
        if not subject.collected:
            subject.identifiers = _collect_identifiers(links, registry, subject.user_id)
            needles = _needles(links, subject)
            subject.grains = _grains(links, recomputes, needles)
            subject.collected = True
            with links.compliance() as conn, conn.transaction():
                conn.execute(query("rtbf/reseal_subject.sql"), {"subject": subject.to_json(), "request_id": request_id})
        else:
            needles = _needles(links, subject)
        # 2. tombstone first: nothing can land again while (and after) we delete
        _tombstone(links, request_id, subject)
        active[request_id] = (subject, needles)
        outcomes[request_id] = CascadeOutcome(request_id, "cascaded")
    if not active:
        return [outcomes[r] for r in request_ids]
    with links.warehouse_admin() as conn:
        conn.execute(query("rtbf/refresh_tombstones.sql"))
        conn.commit()
    _pause_point("tombstone")

    def tally(counts: Mapping[str, int]) -> None:
        for request_id, count in counts.items():
            outcomes[request_id].rows_removed += count
            outcomes[request_id].tables_touched += 1

    # 3. raw (etl_writer), generated from the registry
    with links.warehouse_etl() as conn:
        with conn.transaction():
            conn.execute("SET LOCAL ROLE etl_writer")
            raw_columns = _raw_columns(conn)
        steps = _merge(s for r, (_s, n) in active.items() for s in raw_steps(registry, raw_columns, n, r))
        for step in steps:
            tally(_journaled(conn, "etl_writer", step, run_id))
    _pause_point("raw")

    # 4. dbt layers (dbt_writer), from the catalog
    users = registry.user_column_names()
    required = not_null_columns()
    with links.warehouse_dbt() as conn:
        with conn.transaction():
            conn.execute("SET LOCAL ROLE dbt_writer")
            catalog = [row for row in _catalog(conn, None) if _dbt_layer(row[0])]
        steps = _merge(
            s
            for schema, table, _readable, columns, types in catalog
            for r, (_s, n) in active.items()
            for s in derived_steps(
                _dbt_layer(schema),
                schema,
                table,
                columns,
                types,
                n,
                users,
                r,
                required.get((_dbt_layer(schema), table), frozenset()),
            )
        )
        for step in steps:
            tally(_journaled(conn, "dbt_writer", step, run_id))
    _pause_point("marts")

    # 5. push-back summaries in analytics_db (.104): every app schema table with a user column
    with links.analytics() as conn:
        catalog = _catalog(conn, sorted(registry.apps))
        conn.commit()
        steps = _merge(
            s
            for schema, table, _readable, columns, types in catalog
            for r, (_s, n) in active.items()
            for s in derived_steps("pushback", schema, table, columns, types, n, users, r)
        )
        for step in steps:
            tally(_journaled(conn, None, step, run_id))
    _pause_point("pushback")

    # 6. the token vault (.118): evidence in the same transaction
    with links.compliance() as conn, conn.transaction():
        for request_id, (_subject, needles) in active.items():
            count = conn.execute(query("rtbf/erase_vault_tokens.sql"), {"tokens": needles.tokens}).fetchone()[0]
            _evidence_direct(conn, request_id, run_id, "vault", "compliance.token_vault", "deleted", count)
            outcomes[request_id].rows_removed += count

    # 7. evidence for everything journaled, then the requests are cascaded
    _ship_journal(links)
    with links.compliance() as conn, conn.transaction():
        for request_id in active:
            outcome = outcomes[request_id]
            conn.execute(
                query("rtbf/set_status.sql"), {"status": "cascaded", "request_id": request_id, "run_id": run_id}
            )
            _event(conn, request_id, "cascaded", run_id, rows_removed=outcome.rows_removed)
    log.info(
        "%d request(s) cascaded, %d held: %s",
        len(active),
        len(outcomes) - len(active),
        {r: o.rows_removed for r, o in outcomes.items()},
    )
    return [outcomes[r] for r in request_ids]


# --------------------------------------------------------------------------- zero-residual scan


@dataclass
class ScanResult:
    tables_scanned: int = 0
    hits: list[dict] = field(default_factory=list)  # {"host", "table", "rows", "request_id"}: names only
    unreadable: list[str] = field(default_factory=list)  # a table the scanner cannot read fails it
    key_tables_skipped: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.hits and not self.unreadable


def scan_predicate(
    columns: Sequence[str], types: Sequence[str], user_columns: frozenset[str], substring_columns: frozenset[str]
):
    """Rows where any column holds one of the needles: whole values in every text column (ids only
    in user-id columns), substrings in json and free-text columns."""
    parts = []
    for column, column_type in zip(columns, types, strict=True):
        ident = sql.Identifier(column)
        if column in user_columns and column_type in TEXT_TYPES:
            parts.append(sql.SQL("{} = ANY(%(uid_texts)s)").format(ident))
        elif column in user_columns and column_type in INTEGER_TYPES:
            parts.append(sql.SQL("{} = ANY(%(uids)s)").format(ident))
        if column_type in TEXT_TYPES:
            parts.append(sql.SQL("{} = ANY(%(exact)s)").format(ident))
            if column in substring_columns:
                parts.append(sql.SQL("{} LIKE ANY(%(like)s)").format(ident))
        elif column_type in ("json", "jsonb"):
            parts.append(sql.SQL("{}::text LIKE ANY(%(like)s)").format(ident))
    return sql.SQL(" OR ").join(parts) if parts else None


def _scan_params(needles: Sequence[Needles]) -> dict:
    return {
        "exact": sorted({v for n in needles for v in n.exact()}),
        "like": sorted({f"%{_like_escape(v)}%" for n in needles for v in n.substrings()}),
        "contains": sorted({v for n in needles for v in n.substrings()}),
        "uids": sorted({int(n.user_id) for n in needles}),
        "uid_texts": sorted({n.user_id for n in needles}),
    }


# How long the scan waits for dbt invocations that sampled raw before it started (a build takes
# about a minute; the transform's deadline is 30 minutes).
PII_SAMPLE_WAIT_SECONDS = 15 * 60


def wait_for_earlier_pii_samples(links: Links, timeout: float = PII_SAMPLE_WAIT_SECONDS) -> list[str]:
    """Wait until no PII guard sample taken before now is left in pii_guard (warehouse migration
    0903): a dbt invocation that started before the cascade may hold the user's values sampled from
    raw until it ends and drops its sample (a minute or so); one started after it samples clean raw.
    Returns what is still there after `timeout` (then scanned like any table: a hit is a residual)."""
    cutoff = datetime.now(UTC)
    deadline = time.monotonic() + timeout
    while True:
        with links.warehouse_admin() as conn:
            left = [r[0] for r in conn.execute(query("rtbf/pii_samples_before.sql"), {"cutoff": cutoff})]
        if not left or time.monotonic() >= deadline:
            return left
        log.info("waiting for %d dbt invocation(s) that sampled raw before the scan to end", len(left))
        time.sleep(min(5.0, max(0.0, deadline - time.monotonic())))


def zero_residual_scan(
    links: Links,
    needles_by_request: Mapping[str, Needles],
    registry: Registry | None = None,
    sample_wait_seconds: float = PII_SAMPLE_WAIT_SECONDS,
) -> ScanResult:
    """Every table of every schema on the warehouse and analytics_db (not only the registry's), for
    all the requests at once; a table with a hit is scanned again per request to attribute it.

    On the warehouse the scan runs through rtbf.residual_hits() (SECURITY DEFINER, owned by the
    NOLOGIN, member-less rtbf_scanner, executable by warehouse_admin only): it answers hit counts
    per column, never a value. On analytics_db the push-back writer reads its own tables.
    It first waits for dbt invocations that sampled raw before it (wait_for_earlier_pii_samples)."""
    registry = registry or load_registry()
    wait_for_earlier_pii_samples(links, sample_wait_seconds)
    users = registry.user_column_names()
    free_text = {
        (t.raw_table, column) for t in registry.tables() for column, cls in t.pii.items() if cls == "free_text"
    }
    result = ScanResult()
    combined = _scan_params(list(needles_by_request.values()))

    def record(host: str, name: str, counts: Callable[[dict], tuple[int, list[str]]]) -> None:
        result.tables_scanned += 1
        if not counts(combined)[0]:
            return
        for request_id, needles in needles_by_request.items():
            rows, columns = counts(_scan_params([needles]))
            if rows:
                result.hits.append(
                    {"host": host, "table": name, "rows": rows, "columns": columns, "request_id": request_id}
                )

    for host, connect, reader in (
        ("warehouse_106", links.warehouse_admin, SCANNER_ROLE),
        ("analytics_104", links.analytics, None),
    ):
        with connect() as conn, conn.transaction():
            catalog = conn.execute(query("rtbf/tables_in_schemas.sql"), {"schemas": None, "reader": reader}).fetchall()
            for schema, table, readable, owner, columns, types in catalog:
                name = f"{schema}.{table}"
                if not readable:
                    if owner == KEY_HOLDER:
                        result.key_tables_skipped.append(f"{host}:{name}")
                    else:
                        result.unreadable.append(f"{host}:{name}")
                    continue
                is_identity = schema == "raw" and table == f"{IDENTITY_SOURCE}__{IDENTITY_TABLE}"
                user_columns = users | ({"id"} if is_identity else set())
                substring = frozenset(c for c in columns if schema == "raw" and (table, c) in free_text)
                if reader:
                    record(host, name, _residual_hits(conn, schema, table, user_columns, substring))
                    continue
                predicate = scan_predicate(columns, types, user_columns, substring)
                if predicate is None:
                    result.tables_scanned += 1
                    continue
                statement = compose("rtbf/scan_table.sql", table=sql.Identifier(schema, table), predicate=predicate)
                record(
                    host, name, lambda params, statement=statement: (conn.execute(statement, params).fetchone()[0], [])
                )
    return result


def _residual_hits(conn, schema: str, table: str, user_columns: Iterable[str], substring_columns: Iterable[str]):
    """The warehouse's scan of one table through rtbf.residual_hits(): (rows with any hit, columns hit)."""

    def counts(params: dict) -> tuple[int, list[str]]:
        found = conn.execute(
            query("rtbf/residual_hits.sql"),
            {
                "schema": schema,
                "table": table,
                "user_columns": sorted(user_columns),
                "substring_columns": sorted(substring_columns),
                "exact": params["exact"],
                "contains": params["contains"],
                "user_ids": params["uids"],
            },
        ).fetchall()
        rows = next((hits for column, hits in found if column is None), 0)
        return rows, sorted(column for column, hits in found if column is not None and hits)

    return counts


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def verify_many(links: Links, request_ids: Sequence[str], run_id: str, registry: Registry | None = None) -> ScanResult:
    """The last step: zero residual, or the requests with a hit fail and page (request ids only)."""
    registry = registry or load_registry()
    needles_by_request = {}
    for request_id in request_ids:
        _row, subject = _load_subject(links, request_id)
        if subject is None:
            raise RtbfInputError(f"request {request_id!r} has no sealed subject (closed): nothing to verify")
        needles_by_request[request_id] = _needles(links, subject)
    if not needles_by_request:
        return ScanResult()
    result = zero_residual_scan(links, needles_by_request, registry)
    with links.compliance() as conn, conn.transaction():
        for request_id in request_ids:
            hits = [h for h in result.hits if h["request_id"] == request_id]
            if hits or result.unreadable:
                conn.execute(
                    query("rtbf/set_status.sql"), {"status": "residual", "request_id": request_id, "run_id": run_id}
                )
                _event(
                    conn,
                    request_id,
                    "residual_found",
                    run_id,
                    hits=hits,
                    unreadable=result.unreadable,
                    tables_scanned=result.tables_scanned,
                )
            else:
                _event(conn, request_id, "verified_clean", run_id, tables_scanned=result.tables_scanned)
    if not result.clean:
        from dataacuity.alerting import notify

        failing = sorted({h["request_id"] for h in result.hits} or set(request_ids))
        notify([residual_alert(failing, result)])
        raise ResidualFoundError(
            f"request(s) {failing}: zero-residual scan found the user in "
            f"{sorted({h['host'] + ':' + h['table'] for h in result.hits})}; could not read {result.unreadable}"
        )
    return result


def close(links: Links, request_id: str, run_id: str) -> dict:
    """Closing record (deletion_completion), confirmation outbox row, sealed subject wiped."""
    with links.compliance() as conn, conn.transaction():
        row = conn.execute(query("rtbf/close_request.sql"), {"request_id": request_id, "run_id": run_id}).fetchone()
        summary = row[0] if row else {}
        _event(conn, request_id, "closed", run_id, summary=summary)
    return summary


# --------------------------------------------------------------------------- alerts


def residual_alert(request_ids: Sequence[str], result: ScanResult):
    from dataacuity.alerting import Alert, runbook_url

    return Alert(
        labels={"alertname": "RTBFResidualFound", "severity": "P1", "dag_id": DAG_ID},
        annotations={
            "summary": f"RTBF request(s) {', '.join(request_ids)}: the user is still present after the cascade",
            "description": f"tables with residual rows: {sorted({h['host'] + ':' + h['table'] for h in result.hits})}; "
            f"unreadable: {result.unreadable}",
            "request_ids": ", ".join(request_ids),
            "runbook_url": runbook_url("RTBFResidualFound"),
        },
    )


def sla_report(links: Links) -> dict[str, list[dict]]:
    """Open requests by SLA state; held requests separately. Request ids and dates only."""
    report: dict[str, list[dict]] = {"held": [], "at_risk": [], "on_track": []}
    with links.compliance() as conn:
        for request_id, status, requested_at, age, cascade_due, close_due, held, state in conn.execute(
            query("rtbf/sla_report.sql")
        ):
            item = {
                "request_id": request_id,
                "status": status,
                "requested_at": requested_at.isoformat(),
                "age_days": round(age.total_seconds() / 86400, 2),
                "cascade_due": cascade_due.isoformat(),
                "close_due": close_due.isoformat(),
                "sla_state": state,
            }
            bucket = "held" if held else ("at_risk" if state.endswith("_at_risk") else "on_track")
            report[bucket].append(item)
    return report


def sla_alert(report: Mapping[str, list[dict]]):
    from dataacuity.alerting import Alert, runbook_url

    at_risk = report.get("at_risk", [])
    ids = ", ".join(item["request_id"] for item in at_risk) or "none"
    return Alert(
        labels={"alertname": "RTBFSlaAtRisk", "severity": "P1", "dag_id": DAG_ID},
        annotations={
            "summary": f"{len(at_risk)} right-to-be-forgotten request(s) at risk of missing the SLA",
            "description": "; ".join(
                f"{i['request_id']}: {i['sla_state']}, age {i['age_days']} d, cascade due {i['cascade_due']}, "
                f"close due {i['close_due']}"
                for i in at_risk
            )
            or "none",
            "request_ids": ids,
            "held_requests": ", ".join(item["request_id"] for item in report.get("held", [])) or "none",
            "runbook_url": runbook_url("RTBFSlaAtRisk"),
        },
    )


def check_sla(links: Links) -> dict[str, list[dict]]:
    """Page RTBFSlaAtRisk (P1) while any request is at risk; resolve it when none is."""
    from dataacuity.alerting import notify

    report = sla_report(links)
    notify([sla_alert(report)], resolve=not report["at_risk"])
    return report


# --------------------------------------------------------------------------- one request end to end


def process(links: Links, request_ids: Sequence[str], run_id: str, registry: Registry | None = None) -> list[dict]:
    """cascade -> aggregates -> verify -> close for the requests (held ones stop after the hold is
    recorded). What the DAG's tasks do, in one call (tools, tests, the demo)."""
    outcomes = cascade_many(links, request_ids, run_id, registry)
    cascaded = [o.request_id for o in outcomes if o.state == "cascaded"]
    recompute_aggregates(links, cascaded, run_id)
    verify_many(links, cascaded, run_id, registry)
    closed = {r: close(links, r, run_id) for r in cascaded}
    return [
        {**o.as_dict(), **({"state": "closed", "summary": closed[o.request_id]} if o.request_id in closed else {})}
        for o in outcomes
    ]


def evidence(links: Links, request_id: str) -> list[dict]:
    """The request's evidence rows (what a compliance reviewer reads)."""
    with links.compliance() as conn:
        rows = conn.execute(
            "SELECT run_id, host, layer, target, action, rows_affected, done_at FROM compliance.rtbf_evidence "
            "WHERE request_id = %s ORDER BY done_at, evidence_id",
            (request_id,),
        ).fetchall()
    keys = ("run_id", "host", "layer", "target", "action", "rows_affected", "done_at")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def main(argv: list[str] | None = None) -> int:
    """python -m dataacuity.rtbf process|evidence|sla (connections from AIRFLOW_CONN_*)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m dataacuity.rtbf")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("process", help="cascade, verify and close registered request(s)")
    run.add_argument("request_ids", nargs="+")
    run.add_argument("--run-id", default=f"cli__{datetime.now(UTC):%Y%m%dT%H%M%S}")
    show = sub.add_parser("evidence", help="print a request's evidence rows")
    show.add_argument("request_id")
    sub.add_parser("sla", help="print the SLA report (held requests separately)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    links = Links.from_airflow()
    if args.command == "process":
        print(json.dumps(process(links, args.request_ids, args.run_id), default=str, indent=2))
    elif args.command == "evidence":
        for row in evidence(links, args.request_id):
            print(json.dumps(row, default=str))
    else:
        print(json.dumps(sla_report(links), default=str, indent=2))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
