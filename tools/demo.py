"""`make demo`: the pipeline end to end once on the local topology, then what landed where.

1. seed synthetic South African source data on the primary (once), then a burst of live traffic;
2. run the DAGs with Airflow's `dag.test()` (as `airflow dags test` does): foundation_audit, every
   extract__{source_db}, the dbt transform when present, freshness_monitor;
3. print rows per source on the replica and in raw, replica lag, the audit, rows per warehouse
   layer, dbt test results and the alerts Alertmanager holds.

`python -m tools.demo --pause-extraction` skips step 2's extracts, as if extraction had stopped:
the freshness monitor then raises SourceStale for what has gone stale.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from dataacuity.paths import REPO_ROOT

REPO = REPO_ROOT


def _airflow_env() -> None:
    from tools import topology

    home = REPO / ".local" / "airflow"
    os.environ.setdefault("AIRFLOW_HOME", str(home))
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
    os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(REPO / "plugins")
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    # dag.test() in 3.3.2 cannot run a DAG that has a deadline (apache/airflow#73428).
    os.environ["DATAACUITY_DEADLINES"] = "off"
    os.environ.update(topology.connection_env())
    home.mkdir(parents=True, exist_ok=True)
    if not (home / ".migrated").exists():
        print("migrating the Airflow metadata DB (once)...")
        subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)
        (home / ".migrated").touch()


def _section(title: str) -> None:
    print(f"\n=== {title} " + "=" * max(0, 76 - len(title)))


def run_dags(pause_extraction: bool) -> dict[str, tuple[str, str]]:
    """dag_id -> (state, run_id) for every DAG run, in pipeline order."""
    from airflow.dag_processing.dagbag import DagBag

    dagbag = DagBag(dag_folder=str(REPO / "dags"))
    if dagbag.import_errors:
        raise SystemExit(f"DAG import errors: {dagbag.import_errors}")
    order = ["foundation_audit"]
    order += sorted(d for d in dagbag.dags if d.startswith("extract__")) if not pause_extraction else []
    order += sorted(d for d in dagbag.dags if d.startswith("transform"))
    order += sorted(d for d in dagbag.dags if d.startswith("push_back__"))
    order += ["freshness_monitor"]
    states = {}
    for dag_id in order:
        started = time.monotonic()
        run = dagbag.dags[dag_id].test()
        states[dag_id] = (str(run.state), run.run_id)
        print(f"  {dag_id:<32} {str(run.state):<8} {time.monotonic() - started:5.1f}s")
    return states


def _count_if_exists(conn, table_name: str) -> int:
    """Rows of public.<table> (0 when a source loaded from elsewhere lacks it)."""
    from psycopg import sql

    relation = sql.Identifier("public", table_name)
    if conn.execute("SELECT to_regclass(%s)", (relation.as_string(conn),)).fetchone()[0] is None:
        return 0
    return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(relation)).fetchone()[0]


def key_generations() -> None:
    """The active hashing-key generation per family (fingerprints, never keys) and the last rotation."""
    import psycopg

    from dataacuity import compliance
    from tools import topology

    _section("hashing key generations (.118 -> warehouse copy) and the last salt rotation")
    with (
        psycopg.connect(topology.dsn("compliance", "compliance"), autocommit=True) as c118,
        psycopg.connect(topology.dsn("warehouse", "data_warehouse"), autocommit=True) as c106,
    ):
        copy = {s.salt_family: s for s in compliance.warehouse_key_states(c106)}
        pending = {s.salt_family: s for s in compliance.compliance_key_states(c118, "pending")}
        for state in compliance.compliance_key_states(c118):
            activated = c118.execute(
                "SELECT activated_at FROM compliance.salt_status WHERE salt_id = %s", (state.salt_id,)
            ).fetchone()[0]
            here = copy.get(state.salt_family)
            if here and here.fingerprint == state.fingerprint:
                in_copy = "in sync"
            elif here and state.salt_family in pending and pending[state.salt_family].fingerprint == here.fingerprint:
                # the swap committed, .118 not told yet: rerun salt_rotation to complete it
                in_copy = f"already on pending generation {pending[state.salt_family].salt_id} (rotation not completed)"
            else:
                in_copy = "NOT IN SYNC"
            print(
                f"  {state.salt_family:<10} generation {state.salt_id:<4} fingerprint {state.fingerprint}"
                f"  active since {activated:%Y-%m-%d %H:%M}  warehouse copy {in_copy}"
            )
        last = c118.execute(
            "SELECT rotation_id, families, status, requested_by, reason, started_at, finished_at,"
            " coalesce(evidence -> 'swap' ->> 'swap_blocking_total_ms', evidence -> 'swap' ->> 'swap_blocking_ms') FROM compliance.key_rotation ORDER BY rotation_id DESC LIMIT 1"
        ).fetchone()
    if last is None:
        print("  last rotation: none yet (trigger salt_rotation, or python -m tools.salt_rotation run ...)")
    else:
        rid, families, status, who, reason, started, finished, blocking = last
        print(
            f"  last rotation #{rid}: {status}, families {','.join(families)}, requested by {who} ({reason!r}),"
            f" started {started:%Y-%m-%d %H:%M:%S}"
            + (f", finished {finished:%H:%M:%S}" if finished else "")
            + (f", analytics blocked {blocking} ms by the swap" if blocking else "")
        )


def summary(transform_run_id: str | None = None) -> None:
    import psycopg

    from dataacuity import audit, freshness
    from dataacuity.alerting import AlertmanagerClient, AlertmanagerError
    from dataacuity.registry import load_registry
    from tools import topology

    registry = load_registry()
    _section("rows per source: replica (.105) -> raw (.106)")
    with psycopg.connect(topology.dsn("warehouse", "data_warehouse"), autocommit=True) as wh:
        raw_tables = {r[0] for r in wh.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'raw'")}
        for source in registry.sources:
            with psycopg.connect(topology.dsn("replica", source.name), autocommit=True) as rep:
                replica_rows = sum(_count_if_exists(rep, t.name) for t in source.tables)
            raw_rows = sum(
                wh.execute(f'SELECT count(*) FROM raw."{t.raw_table}"').fetchone()[0]
                for t in source.tables
                if t.raw_table in raw_tables
            )
            print(f"  {source.name:<20} {len(source.tables):>2} tables  replica {replica_rows:>8}  raw {raw_rows:>8}")
        _section("rows per warehouse layer")
        registry_raw = {t.raw_table for t in registry.tables()}
        for schema in ("raw", "staging", "intermediate", "marts", "analytics"):
            tables = [
                r[0]
                for r in wh.execute(
                    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm')",
                    (schema,),
                )
            ]
            if schema == "raw":  # registry tables only (tests and benchmarks leave their own)
                tables = [t for t in tables if t in registry_raw]
            rows = sum(wh.execute(f'SELECT count(*) FROM "{schema}"."{t}"').fetchone()[0] for t in tables)
            print(f"  {schema:<13} {len(tables):>3} relations {rows:>10} rows")
        if transform_run_id:
            _section("dbt tests of this transform run (dbt_artifacts.test_results)")
            rows = wh.execute(
                "SELECT CASE WHEN test_type LIKE '%%pii%%' THEN 'PII absence (names, values)'"
                "            WHEN test_type LIKE '%%k_anonymity%%' THEN 'k-anonymity (k >= 5)'"
                "            ELSE 'keys, contracts, relationships' END AS kind,"
                "       count(*) FILTER (WHERE status = 'pass'), count(*) FILTER (WHERE status <> 'pass')"
                " FROM dbt_artifacts.test_results WHERE run_id LIKE '%%' || %s GROUP BY 1 ORDER BY 1",
                (transform_run_id,),
            ).fetchall()
            for kind, passed, failed in rows:
                print(f"  {kind:<32} {passed:>4} passed {failed:>4} failed")
    key_generations()
    with psycopg.connect(topology.dsn("replica", "postgres"), autocommit=True) as rep:
        lag = rep.execute("SELECT pg_is_in_recovery(), now() - pg_last_xact_replay_timestamp()").fetchone()
    _section("replica")
    print(f"  in recovery: {lag[0]}   replay lag (upper bound): {lag[1]}")
    _section("foundation audit")
    results = (
        audit.check_connections()
        + audit.check_replica()
        + audit.check_compliance_schema()
        + audit.check_privileges(registry)
    )
    failed = [r for r in results if not r.passed]
    print(f"  {len(results) - len(failed)} passed, {len(failed)} failed")
    for r in failed:
        print(f"  FAIL {r.group}: {r.check} ({r.detail})")
    _section("source freshness")
    with psycopg.connect(topology.dsn("warehouse", "data_warehouse", "pipeline_monitor")) as conn:
        stale = [f for f in freshness.measure(conn, registry) if f.severity]
    print(f"  {len(registry)} tables, {len(stale)} stale")
    _section("alerts in Alertmanager")
    try:
        active = AlertmanagerClient(f"http://127.0.0.1:{topology.alertmanager_port()}").active_alerts()
    except AlertmanagerError as error:
        print(f"  Alertmanager unreachable: {error}")
        return
    if not active:
        print("  none")
    for alert in sorted(active, key=lambda a: sorted(a["labels"].items())):
        labels = alert["labels"]
        where = ", ".join(f"{k}={v}" for k, v in labels.items() if k not in ("alertname", "severity"))
        print(f"  {labels['severity']} {labels['alertname']:<22} {where:<45} {alert['status']['state']}")


def print_app_summary(app: str = "bidbaas", limit: int = 5) -> None:
    """The end of the demo: what BidBaas reads in analytics_db, logged in as bidbaas_app_reader."""
    import psycopg

    from tools import topology

    _section(f"analytics_db.{app}.user_summary on .104, as {app}_app_reader sees it")
    with psycopg.connect(topology.dsn("primary", "analytics_db", topology.app_reader_role(app))) as conn:
        if not conn.execute("SELECT to_regclass(%s)", (f"{app}.user_summary",)).fetchone()[0]:
            print(f"  not pushed yet (push_back__{app} did not succeed)")
            return
        cur = conn.execute(
            "SELECT user_id, bids_this_week, auctions_bid_this_week, amount_bid_zar_this_week, "
            "auctions_won_this_week, active_bidders_this_week, last_updated_at "
            "FROM bidbaas.user_summary ORDER BY bids_this_week DESC, user_id LIMIT %s",
            (limit,),
        )
        names = [d.name for d in cur.description]
        rows = cur.fetchall()
        total = conn.execute("SELECT count(*) FROM bidbaas.user_summary").fetchone()[0]
    print("  " + " | ".join(names))
    for row in rows:
        print("  " + " | ".join(f"{v:%Y-%m-%d %H:%M:%S}" if hasattr(v, "strftime") else str(v) for v in row))
    print(f"  ({total} bidders; the app reads its own row: WHERE user_id = <its user id>; docs/pushback.md)")


def demo_rtbf() -> tuple[str, str]:
    """One right-to-be-forgotten request end to end (rtbf_cascade under dag.test), then its evidence."""
    from datetime import UTC, datetime

    import psycopg
    from airflow.dag_processing.dagbag import DagBag

    from dataacuity import rtbf
    from tools import topology

    _section("right to be forgotten: one request end to end (rtbf_cascade)")
    with psycopg.connect(topology.dsn("warehouse", "data_warehouse")) as conn:
        row = conn.execute(
            "SELECT id::text FROM raw.auth_db__users WHERE deleted_at IS NULL ORDER BY id DESC LIMIT 1"
        ).fetchone()
    if row is None:
        print("  no active user in raw.auth_db__users: skipped")
        return ("skipped", "")
    request_id = f"DEMO-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    dag = DagBag(dag_folder=str(REPO / "dags" / "rtbf_cascade.py")).dags["rtbf_cascade"]
    started = time.monotonic()
    run = dag.test(
        run_conf={
            "user_id": row[0],
            "request_id": request_id,
            "requested_at": datetime.now(UTC).isoformat(),
            "requested_by": "make demo",
        }
    )
    print(f"  request {request_id} (the newest active user): run {run.state} in {time.monotonic() - started:.1f}s")
    evidence = rtbf.evidence(rtbf.Links.from_airflow(), request_id)
    per_layer: dict[str, list[int]] = {}
    for item in evidence:
        counts, rows = per_layer.setdefault(item["layer"], [0, 0]), item["rows_affected"]
        counts[0] += 1 if rows else 0
        counts[1] += rows
    print(f"  {'layer':<14} {'tables with rows':>16} {'rows removed/blanked/recomputed':>32}")
    for layer, (tables, rows) in per_layer.items():
        print(f"  {layer:<14} {tables:>16} {rows:>32}")
    for item in [e for e in evidence if e["rows_affected"]][:12]:
        print(f"    {item['host']:<14} {item['target']:<58} {item['action']:<10} {item['rows_affected']:>6}")
    with psycopg.connect(topology.dsn("compliance", "compliance")) as conn:
        closing = conn.execute(
            "SELECT completed_at, evidence FROM compliance.deletion_completion WHERE request_id = %s", (request_id,)
        ).fetchone()
        events = [r[0] for r in conn.execute(
            "SELECT event FROM compliance.rtbf_event WHERE request_id = %s ORDER BY at, event_id", (request_id,)
        )]  # fmt: skip
    print(f"  events: {' -> '.join(events)}")
    print(f"  closing record (compliance.deletion_completion): {closing}")
    print(f"  prove it later: python -m dataacuity.rtbf evidence {request_id}")
    return (str(run.state), run.run_id)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.demo")
    parser.add_argument("--pause-extraction", action="store_true", help="run everything but the extracts")
    parser.add_argument("--live-seconds", type=float, default=15.0, help="live traffic before extracting")
    args = parser.parse_args(argv)

    from dataacuity.registry import load_registry
    from tools import seed, topology

    registry = load_registry()

    def dsn_for_db(db: str) -> str:
        return topology.dsn("primary", db)

    _section("synthetic source data on the primary (.104)")
    started = time.monotonic()
    seed.apply_source_schemas(dsn_for_db, registry)
    counts = seed.seed(dsn_for_db, registry, scale=1, seed=42)
    print(f"  {sum(counts.values())} rows in {len(counts)} tables ({time.monotonic() - started:.1f}s)")
    live = seed.live_traffic(dsn_for_db, registry, seconds=args.live_seconds, rows_per_second=40)
    print(f"  live traffic for {args.live_seconds:.0f}s: {live}")
    topology.wait_for_replica()

    _section("Airflow DAGs (dag.test)" + (" -- extraction paused" if args.pause_extraction else ""))
    _airflow_env()
    states = run_dags(args.pause_extraction)
    summary(states.get("transform", (None, None))[1])
    if not args.pause_extraction:
        states["rtbf_cascade"] = demo_rtbf()
    print_app_summary()
    failed = [dag_id for dag_id, (state, _) in states.items() if not state.endswith("success")]
    if failed:
        print(f"\nDAG runs that did not succeed: {failed}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
