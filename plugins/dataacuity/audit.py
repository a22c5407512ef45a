"""Phase 0 foundation audit (runbook 0.1, 0.5, 0.6, 0.7): plain checks returning pass/fail rows.

Each check group returns `CheckResult`s; `format_report` renders the table the on-call reads in the
task log; `raise_on_failure` fails the task naming every failed check.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import yaml

from dataacuity import connections
from dataacuity.paths import CONFIG_DIR
from dataacuity.registry import Registry
from dataacuity.sqlfiles import query

AUDIT_CONFIG = CONFIG_DIR / "foundation_audit.yml"


@dataclass(frozen=True)
class CheckResult:
    group: str
    check: str
    passed: bool
    detail: str


class FoundationAuditFailed(RuntimeError):
    pass


@cache
def audit_config() -> dict:
    return yaml.safe_load(AUDIT_CONFIG.read_text())


def _safely(group: str, check: str, fn) -> CheckResult:
    try:
        passed, detail = fn()
    except Exception as error:
        return CheckResult(group, check, False, f"{type(error).__name__}: {str(error).strip()[:300]}")
    return CheckResult(group, check, passed, detail)


def check_connections() -> list[CheckResult]:
    """Runbook 0.1: each documented connection logs in as its documented role."""
    results = []
    for conn_id, role in audit_config()["connections"].items():

        def probe(conn_id=conn_id, role=role):
            with connections.connector(conn_id)() as conn:
                user = conn.execute("SELECT current_user").fetchone()[0]
            return user == role, f"current_user={user} (expected {role})"

        results.append(_safely("connections", conn_id, probe))
    return results


def check_replica() -> list[CheckResult]:
    """Runbook 0.7: the ETL's connection reaches a hot standby."""
    conn_id = audit_config()["replica_connection"]

    def probe():
        with connections.connector(conn_id)() as conn:
            in_recovery, lag = conn.execute(query("extract/replica_state.sql")).fetchone()[0::3]
        lag_text = "unknown" if lag is None else f"{lag:.1f}s"
        return (
            in_recovery is True,
            f"pg_is_in_recovery()={in_recovery}, replay lag <= {lag_text}",
        )

    return [_safely("replica", f"{conn_id} is a hot standby", probe)]


def check_compliance_schema() -> list[CheckResult]:
    """Runbook 0.5: the compliance schema and its tables exist on .118."""
    config = audit_config()["compliance"]
    results = []
    try:
        with connections.connector(config["connection"])() as conn:
            rows = conn.execute(
                query("audit/compliance_tables.sql"),
                {"schema": config["schema"], "tables": config["tables"]},
            ).fetchall()
    except Exception as error:
        return [
            CheckResult(
                "compliance",
                "compliance schema",
                False,
                f"{type(error).__name__}: {error}",
            )
        ]
    for name, exists in rows:
        results.append(
            CheckResult(
                "compliance",
                f"{config['schema']}.{name}",
                exists,
                "exists" if exists else "MISSING",
            )
        )
    return results


def check_privileges(registry: Registry) -> list[CheckResult]:
    """Runbook 0.6 / security posture §8.4: expected grants present, expected denials hold."""
    results = []
    for conn_id, checks in audit_config()["privileges"].items():
        try:
            conn = connections.connector(conn_id, autocommit=True)()
        except Exception as error:
            results.append(CheckResult("privileges", conn_id, False, f"cannot connect: {error}"))
            continue
        with conn:
            for check in checks:
                name = f"{check['role']} {check['privilege']} on {check['object_type']} {check['object']}"

                def probe(check=check, conn=conn):
                    actual = conn.execute(query("audit/privilege.sql"), check).fetchone()[0]
                    return actual == check["expected"], f"actual={actual} expected={check['expected']}"

                results.append(_safely("privileges", name, probe))
    results += _app_reader_isolation(registry)
    return results


def _app_reader_isolation(registry: Registry) -> list[CheckResult]:
    """Each {app}_app_reader reads its own analytics_db schema and no other."""
    apps = registry.apps
    results = []
    try:
        conn = connections.connector(connections.ANALYTICS_DB, autocommit=True)()
    except Exception as error:
        return [
            CheckResult(
                "privileges",
                "analytics_db app readers",
                False,
                f"cannot connect: {error}",
            )
        ]
    with conn:
        for app in apps:
            other = next((a for a in apps if a != app), None)
            for schema, expected in [(app, True)] + ([(other, False)] if other else []):
                name = f"{app}_app_reader USAGE on analytics_db.{schema}"

                def probe(app=app, schema=schema, expected=expected, conn=conn):
                    actual = conn.execute(
                        query("audit/app_schema_privilege.sql"),
                        {"role": f"{app}_app_reader", "schema": schema},
                    ).fetchone()[0]
                    return actual == expected, f"actual={actual} expected={expected}"

                results.append(_safely("privileges", name, probe))
    return results


def format_report(results: list[CheckResult]) -> str:
    width = max((len(r.check) for r in results), default=10)
    lines = [
        f"{'result':<6}  {'group':<11}  {'check':<{width}}  detail",
        "-" * (width + 40),
    ]
    for r in results:
        lines.append(f"{'PASS' if r.passed else 'FAIL':<6}  {r.group:<11}  {r.check:<{width}}  {r.detail}")
    failed = sum(not r.passed for r in results)
    lines.append(f"{len(results) - failed} passed, {failed} failed")
    return "\n".join(lines)


def raise_on_failure(results: list[CheckResult]) -> None:
    failed = [r for r in results if not r.passed]
    if failed:
        names = "; ".join(f"{r.group}: {r.check} ({r.detail})" for r in failed)
        raise FoundationAuditFailed(f"{len(failed)} foundation check(s) failed: {names}")
