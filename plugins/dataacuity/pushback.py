"""Push-back: per-app summaries from the warehouse's marts to analytics_db.<app> on .104 (runbook 3.4-3.7).

    config = load_pushback_config()                  # config/pushback.yml, validated
    refresh_app("bidbaas")                          # PII gate, then every summary of the app
    pii_gate(warehouse_conn, summary)               # [] or the reasons to refuse
    install_link(warehouse_su, host=..., port=..., password=...)   # one-off set-up of the FDW link

The rows never pass through Python: `pushback.refresh_summary()` (SECURITY DEFINER, owned by
pushback_owner on .106) deletes and re-inserts the summary through postgres_fdw in one
transaction, re-keying user_hash to the app's own user id inside the database. This module checks
the gate, makes sure the table exists on .104 (as pushback_writer, the owner of the app schemas)
and records what happened. `refresh_app` is the one entry point: the push_back__{app} DAGs, salt
rotation and right-to-be-forgotten call it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from psycopg import sql

from dataacuity import connections, sqlfiles
from dataacuity.dbt import MANIFEST_PATH
from dataacuity.paths import CONFIG_DIR
from dataacuity.server_links import point_server_link

log = logging.getLogger(__name__)

CONFIG_PATH = CONFIG_DIR / "pushback.yml"
FDW_SERVER = "analytics_104"
LINK_OWNER = "pushback_owner"  # .106 NOLOGIN owner of the server, its user mapping and the functions
REMOTE_ROLE = "pushback_writer"  # .104 role of the user mapping: owns the app schemas, nothing else
USER_ID_COLUMN = "user_id"
# dbt tests the gate requires on every model the pushed data comes from (intermediate onwards).
GATE_TESTS = ("no_pii_column_names", "no_pii_values", "k_anonymity")
GATED_SCHEMAS = ("intermediate", "marts")
REFUSED_ALERTNAME = "PushBackRefused"
STALE_ALERTNAME = "PushBackStale"
STALE_AFTER_SECONDS = 3600  # P1 when a summary is older than 1 hour (DESIGN §7)

_NAME = r"^[a-z][a-z0-9_]*$"


class PushBackConfigError(ValueError):
    """config/pushback.yml is invalid: the message names the file, the app, the key and the value."""


class PushBackRefused(RuntimeError):
    """The PII gate refused: upstream PII / k-anonymity tests failed or did not run for the data."""

    def __init__(self, app: str, problems: list[str]):
        self.app = app
        self.problems = problems
        super().__init__(
            f"push-back of {app} refused: {len(problems)} PII / k-anonymity check(s) not passed for the data "
            "it would push: " + "; ".join(problems)
        )


@dataclass(frozen=True)
class Summary:
    app: str
    name: str  # analytics_db.<app>.<name>
    model: str  # marts.<model> in the warehouse (dbt model)
    marts: tuple[str, ...]
    description: str = ""

    @property
    def table(self) -> str:
        return f"{self.app}.{self.name}"


@dataclass(frozen=True)
class App:
    name: str
    summaries: tuple[Summary, ...]

    @property
    def dag_id(self) -> str:
        return f"push_back__{self.name}"


@dataclass(frozen=True)
class PushBackConfig:
    apps: tuple[App, ...]
    user_id_column: str = USER_ID_COLUMN
    path: Path = CONFIG_PATH

    def app(self, name: str) -> App:
        for app in self.apps:
            if app.name == name:
                return app
        raise KeyError(f"{self.path}: no app {name!r} (apps: {', '.join(a.name for a in self.apps)})")

    def summaries(self) -> list[Summary]:
        return [s for app in self.apps for s in app.summaries]


def load_pushback_config(path: Path | str = CONFIG_PATH, registry=None) -> PushBackConfig:
    """Read and validate config/pushback.yml. Errors name the file, the app, the key and the value."""
    import re

    import yaml

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise PushBackConfigError(f"{path}: cannot read: {error}") from error
    if not isinstance(raw, dict) or not isinstance(raw.get("apps"), dict) or not raw["apps"]:
        raise PushBackConfigError(f"{path}: expected a mapping with a non-empty 'apps:' mapping")
    unknown = set(raw) - {"apps", "user_id_column"}
    if unknown:
        raise PushBackConfigError(f"{path}: unknown top-level key(s) {sorted(unknown)}")
    user_id_column = raw.get("user_id_column", USER_ID_COLUMN)
    if user_id_column != USER_ID_COLUMN:
        raise PushBackConfigError(
            f"{path}: user_id_column: {user_id_column!r}: every app's per-user column is {USER_ID_COLUMN!r} "
            "(right-to-be-forgotten deletes by it)"
        )
    known_apps = {s.app for s in registry.sources} if registry is not None else None
    apps: list[App] = []
    seen_models: dict[str, str] = {}
    for app_name, entry in raw["apps"].items():
        where = f"{path}: apps.{app_name}"
        if not isinstance(app_name, str) or not re.match(_NAME, app_name):
            raise PushBackConfigError(f"{where}: app name must match {_NAME}")
        if known_apps is not None and app_name not in known_apps:
            raise PushBackConfigError(f"{where}: not an app of config/sources.yml ({', '.join(sorted(known_apps))})")
        if not isinstance(entry, dict) or set(entry) - {"summaries"} or not isinstance(entry.get("summaries"), dict):
            raise PushBackConfigError(f"{where}: expected exactly 'summaries:' (a mapping), got {entry!r}")
        summaries = []
        for name, spec in entry["summaries"].items():
            here = f"{where}.summaries.{name}"
            if not isinstance(name, str) or not re.match(_NAME, name):
                raise PushBackConfigError(f"{here}: summary name must match {_NAME}")
            if not isinstance(spec, dict):
                raise PushBackConfigError(f"{here}: expected a mapping with model, marts, description")
            extra = set(spec) - {"model", "marts", "description"}
            if extra:
                raise PushBackConfigError(f"{here}: unknown key(s) {sorted(extra)}")
            model = spec.get("model")
            if not isinstance(model, str) or not model.startswith(f"{app_name}__") or not re.match(_NAME, model):
                raise PushBackConfigError(f"{here}.model: {model!r} must be a dbt model named {app_name}__<name>")
            if model in seen_models:
                raise PushBackConfigError(f"{here}.model: {model!r} already used by {seen_models[model]}")
            seen_models[model] = here
            marts = spec.get("marts")
            if not isinstance(marts, list) or not marts or not all(isinstance(m, str) for m in marts):
                raise PushBackConfigError(f"{here}.marts: expected a non-empty list of model names, got {marts!r}")
            summaries.append(Summary(app_name, name, model, tuple(marts), str(spec.get("description") or "")))
        if not summaries:
            raise PushBackConfigError(f"{where}.summaries: empty")
        apps.append(App(app_name, tuple(summaries)))
    return PushBackConfig(tuple(apps), user_id_column, path)


# --------------------------------------------------------------------------- the PII gate


@cache
def _manifest(path: Path = MANIFEST_PATH) -> dict:
    return json.loads(Path(path).read_text())


def gate_requirements(model: str, manifest: dict | None = None) -> dict[str, list[tuple[str, str]]]:
    """{upstream model name: [(test unique_id, test type), ...]} the gate checks for `model`.

    Every model the summary is computed from, from intermediate on (where PII must be gone), with
    its PII-absence and k-anonymity tests, from the dbt manifest."""
    manifest = manifest or _manifest()
    nodes = manifest["nodes"]
    root = f"model.dataacuity.{model}"
    if root not in nodes:
        raise KeyError(
            f"dbt model {model!r} is not in {MANIFEST_PATH} (rebuild it: python -m tools.build_dbt_manifest)"
        )
    ancestors, todo = set(), [root]
    while todo:
        node_id = todo.pop()
        if node_id in ancestors:
            continue
        ancestors.add(node_id)
        todo.extend(d for d in nodes[node_id]["depends_on"]["nodes"] if d.startswith("model."))
    gated = {nid for nid in ancestors if nodes[nid]["config"].get("schema") in GATED_SCHEMAS}
    required: dict[str, list[tuple[str, str]]] = {nodes[nid]["name"]: [] for nid in gated}
    for test in nodes.values():
        if test["resource_type"] != "test":
            continue
        test_type = (test.get("test_metadata") or {}).get("name")
        attached = test.get("attached_node") or next(
            (d for d in test["depends_on"]["nodes"] if d.startswith("model.")), None
        )
        if test_type in GATE_TESTS and attached in gated:
            required[nodes[attached]["name"]].append((test["unique_id"], test_type))
    return required


def pii_gate(warehouse_conn, summary: Summary, manifest: dict | None = None) -> list[str]:
    """Reasons to refuse pushing `summary`; [] when every PII and k-anonymity test of every model its
    data comes from passed AFTER that model's latest successful build (dbt_artifacts)."""
    required = gate_requirements(summary.model, manifest)
    models = sorted(required)
    tests = sorted(t for ts in required.values() for t, _ in ts)
    builds = {
        row[0]: row[1:]
        for row in warehouse_conn.execute(sqlfiles.query("pushback/latest_builds.sql"), {"models": models}).fetchall()
    }
    results = {
        row[0]: row[1:]
        for row in warehouse_conn.execute(sqlfiles.query("pushback/latest_test_results.sql"), {"tests": tests})
    }
    problems = []
    for model in models:
        build = builds.get(model)
        if build is None:
            problems.append(f"{model}: never built successfully (no model_results row)")
            continue
        built_at, build_run = build
        if not required[model]:
            problems.append(f"{model}: has no PII tests at all")
        for test_id, test_type in required[model]:
            short = test_id.split(".")[2]
            result = results.get(test_id)
            if result is None:
                problems.append(f"{model}: {test_type} ({short}) never ran")
                continue
            status, completed_at, run_id, failing = result
            if status != "pass":
                problems.append(
                    f"{model}: {test_type} ({short}) {status} with {failing} failing row(s) in run {run_id}"
                )
            elif completed_at < built_at:
                problems.append(
                    f"{model}: {test_type} ({short}) did not run on the current data "
                    f"(model built {built_at:%Y-%m-%d %H:%M:%S} in run {build_run}, test last passed {completed_at:%H:%M:%S})"
                )
    return problems


# --------------------------------------------------------------------------- the refresh


@dataclass
class RefreshResult:
    app: str
    summary: str
    rows_pushed: int
    rows_unmatched: int
    refreshed_at: Any
    seconds: float = 0.0


def ensure_remote_table(analytics_conn, warehouse_conn, summary: Summary) -> None:
    """Create analytics_db.<app>.<summary> on .104 (as pushback_writer) with the mart's shape, or add
    columns the mart gained. A column the mart lost is an error naming it (app teams read it)."""
    per_user, column_defs, _, _ = warehouse_conn.execute(
        "SELECT * FROM pushback.summary_columns(%s)", (summary.model,)
    ).fetchone()
    defs = column_defs + (f", PRIMARY KEY ({USER_ID_COLUMN})" if per_user else "")
    existing = {
        row[0]: row[1]
        for row in analytics_conn.execute(sqlfiles.query("pushback/remote_columns.sql"), (summary.app, summary.name))
    }
    if not existing:
        analytics_conn.execute(
            sql.SQL("CREATE TABLE IF NOT EXISTS {}.{} ({})").format(
                sql.Identifier(summary.app), sql.Identifier(summary.name), sql.SQL(defs)
            )
        )
        return
    wanted = _parse_column_defs(column_defs)
    missing = [name for name in wanted if name not in existing]
    gone = [name for name in existing if name not in wanted]
    if gone:
        raise RuntimeError(
            f"analytics_db.{summary.table} has column(s) {gone} that marts.{summary.model} no longer has: "
            "the app reads them. Agree the change with the app team, then drop them on .104 by hand"
        )
    for name in missing:
        analytics_conn.execute(
            sql.SQL("ALTER TABLE {}.{} ADD COLUMN {} {}").format(
                sql.Identifier(summary.app), sql.Identifier(summary.name), sql.Identifier(name), sql.SQL(wanted[name])
            )
        )


def _parse_column_defs(column_defs: str) -> dict[str, str]:
    """'a bigint NOT NULL, "b" numeric(18,2)' -> {'a': 'bigint', 'b': 'numeric(18,2)'} (names from format('%I'))."""
    out = {}
    depth, current, parts = 0, "", []
    for ch in column_defs:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    parts.append(current.strip())
    for part in parts:
        if part.startswith('"'):
            end = part.index('"', 1)
            name, rest = part[1:end], part[end + 1 :]
        else:
            name, _, rest = part.partition(" ")
        out[name] = rest.replace(" NOT NULL", "").strip()
    return out


def refresh_summary(warehouse_conn, summary: Summary) -> RefreshResult:
    """One atomic refresh of analytics_db.<app>.<summary> through the link (autocommit connection:
    the function's single statement is the transaction, local and remote)."""
    import time

    started = time.monotonic()
    row = warehouse_conn.execute(
        "SELECT * FROM pushback.refresh_summary(%s, %s, %s)", (summary.app, summary.name, summary.model)
    ).fetchone()
    return RefreshResult(summary.app, summary.name, row[0], row[1], row[2], time.monotonic() - started)


def refresh_app(
    app: str,
    *,
    gate: bool = True,
    page: bool = True,
    config: PushBackConfig | None = None,
    warehouse_connect: Callable | None = None,
    analytics_connect: Callable | None = None,
    manifest: dict | None = None,
) -> list[RefreshResult]:
    """Refresh every summary of `app`: the PII gate (refuses and pages P1 unless gate=False),
    the table on .104, then the atomic refresh. Safe to re-run; what salt rotation and
    right-to-be-forgotten call after rebuilding the marts."""
    config = config or load_pushback_config()
    entry = config.app(app)
    warehouse_connect = warehouse_connect or connections.connector(connections.WAREHOUSE_PUSHBACK, autocommit=True)
    analytics_connect = analytics_connect or connections.connector(connections.ANALYTICS_DB, autocommit=True)
    with warehouse_connect() as warehouse_conn:
        if gate:
            problems = [f"{s.name}: {p}" for s in entry.summaries for p in pii_gate(warehouse_conn, s, manifest)]
            if problems:
                refused = PushBackRefused(app, problems)
                if page:
                    page_refusal(refused)
                raise refused
        with analytics_connect() as analytics_conn:
            for summary in entry.summaries:
                ensure_remote_table(analytics_conn, warehouse_conn, summary)
        results = [refresh_summary(warehouse_conn, summary) for summary in entry.summaries]
    for r in results:
        log.info(
            "pushed %s rows to analytics_db.%s.%s in %.2fs (%s pseudonyms not among the app's users, not pushed)",
            r.rows_pushed,
            r.app,
            r.summary,
            r.seconds,
            r.rows_unmatched,
        )
    return results


# --------------------------------------------------------------------------- alerting


def page_refusal(refused: PushBackRefused, run_url: str = "") -> str:
    """P1 PushBackRefused for the app, naming every failed or missing test."""
    from dataacuity.alerting import Alert, AlertDeliveryError, notify

    alert = Alert(
        labels={"alertname": REFUSED_ALERTNAME, "severity": "P1", "app": refused.app},
        annotations={
            "summary": f"push-back to analytics_db.{refused.app} refused by the PII gate",
            "description": "; ".join(refused.problems)[:1500],
            "run_url": run_url,
        },
        generator_url=run_url,
    )
    try:
        return notify([alert])
    except AlertDeliveryError:  # logged by notify at CRITICAL; the refusal itself still fails the task
        log.exception("PushBackRefused for %s not delivered", refused.app)
        return "failed"


@dataclass
class SummaryLag:
    app: str
    summary: str
    last_updated_at: Any
    lag_seconds: float | None
    stale: bool = field(default=False)


def summary_lags(monitor_conn, stale_after: float = STALE_AFTER_SECONDS) -> list[SummaryLag]:
    """Age of every summary already pushed, read on .104 over the link (runbook 10.4)."""
    rows = monitor_conn.execute("SELECT app, summary, last_updated_at, lag_seconds FROM pushback.summary_lag()")
    return [SummaryLag(a, s, ts, lag, lag is None or lag > stale_after) for a, s, ts, lag in rows.fetchall()]


def stale_alerts(lags: Iterable[SummaryLag]) -> tuple[list, list]:
    """(firing, resolved) PushBackStale alerts, one per app (labels: alertname, severity, app)."""
    from dataacuity.alerting import Alert

    by_app: dict[str, list[SummaryLag]] = {}
    for lag in lags:
        by_app.setdefault(lag.app, []).append(lag)
    firing, resolved = [], []
    for app, items in sorted(by_app.items()):
        stale = [i for i in items if i.stale]
        worst = max((i.lag_seconds or float("inf")) for i in items)
        alert = Alert(
            labels={"alertname": STALE_ALERTNAME, "severity": "P1", "app": app},
            annotations={
                "summary": f"analytics_db.{app} summaries older than 1 hour" if stale else f"analytics_db.{app} fresh",
                "description": ", ".join(
                    f"{i.summary}: last_updated_at {i.last_updated_at}, lag {i.lag_seconds if i.lag_seconds is None else round(i.lag_seconds)} s"
                    for i in items
                ),
                "lag_seconds": "" if worst == float("inf") else str(round(worst)),
            },
        )
        (firing if stale else resolved).append(alert)
    return firing, resolved


# --------------------------------------------------------------------------- set-up


def install_link(warehouse_su, *, host: str, port: int, password: str, dbname: str = "analytics_db") -> None:
    """Point the warehouse's analytics_104 server at .104 and (re)write the user mapping of
    pushback_owner -> pushback_writer. Statement logging is off for the statement that carries the
    password; the mapping's options are visible to superusers only (its user cannot log in)."""
    with warehouse_su.transaction():
        point_server_link(
            warehouse_su,
            server=FDW_SERVER,
            local_role=LINK_OWNER,
            remote_user=REMOTE_ROLE,
            password=password,
            host=host,
            port=port,
            dbname=dbname,
        )
    warehouse_su.execute("SELECT postgres_fdw_disconnect_all()")


def drop_link(warehouse_su) -> None:
    """Rollback (runbook Phase 3): remove the link's credentials. analytics_db keeps the last good
    summaries and stays readable; every push fails with 'user mapping not found' until
    install_link() runs again. The foreign tables stay (they hold nothing)."""
    warehouse_su.execute(
        sql.SQL("DROP USER MAPPING IF EXISTS FOR {} SERVER {}").format(
            sql.Identifier(LINK_OWNER), sql.Identifier(FDW_SERVER)
        )
    )
    warehouse_su.execute("SELECT postgres_fdw_disconnect_all()")


def register_app_user_columns(warehouse_su, registry) -> None:
    """Which raw columns hold each app's own user ids (config/sources.yml user_column), for rekey()."""
    by_app: dict[str, list[dict]] = {}
    for source in registry.sources:
        for table in source.tables:
            if table.user_column:
                by_app.setdefault(source.app, []).append(
                    {"raw_table": table.raw_table, "user_column": table.user_column}
                )
    with warehouse_su.transaction():
        for app in sorted({s.app for s in registry.sources}):
            warehouse_su.execute(
                "SELECT pushback.register_app_user_columns(%s, %s::jsonb)", (app, json.dumps(by_app.get(app, [])))
            )
