"""Push-back to analytics_db on .104 through postgres_fdw (runbook 3.4-3.7, DESIGN §3, §5).

On the seeded local topology: a bid inserted on the primary reaches
analytics_db.bidbaas.user_summary through replica -> raw -> marts -> push_back__bidbaas (dag.test),
keyed by BidBaas' own user id, readable by bidbaas_app_reader only; refreshes are atomic and
idempotent; the PII gate refuses on a real failing test and pages P1; no app schema holds a direct
identifier or a user another app does not have; the roles cannot get more by any route they have;
rollback (dropping the link) leaves the last good summaries readable; lag pages PushBackStale.

One dbt build of the summaries the module pushes (and their upstream) for the module."""

from __future__ import annotations

import re
import threading

import psycopg
import pytest

from dataacuity import pushback
from dataacuity.dbt_runner import run_dbt
from tests.conftest import REPO, superuser_connect
from tools import key_link

APPS = ("bidbaas", "tagme", "txtme", "geo")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z]{2,}")
PHONE = re.compile(r"(\+27|0027|\b0)[ -]?[0-9]{2}[ -]?[0-9]{3}[ -]?[0-9]{4}\b")
ID_NUMBER = re.compile(r"\b[0-9]{13}\b")


@pytest.fixture(scope="module")
def pushed(topology, seeded_sources, registry):
    """Raw landed for the apps under test, their summaries built by dbt, then pushed once."""
    from tools.pipeline import extract_all

    config = pushback.load_pushback_config(registry=registry)
    # markets_db: FX rates; auth_db: the PII guard compares values with staging's user names
    sources = sorted({s.name for s in registry.sources if s.app in APPS} | {"markets_db", "auth_db"})
    extract_all(registry, sources=sources)
    key_link.ensure_local_key_link()
    selection = ["stg_auth_db__users"] + [f"+{s.model}" for app in APPS for s in config.app(app).summaries]
    result = run_dbt(["build", "--select", *selection])
    assert result.ok, result.output[-6000:]
    for app in APPS:
        pushback.refresh_app(app, config=config, page=False)
    return config


def reader(app: str) -> psycopg.Connection:
    return psycopg.connect(_dsn("primary", "analytics_db", f"{app}_app_reader"), autocommit=True)


def _dsn(cluster, db, role):
    from tools import topology

    return topology.dsn(cluster, db, role)


def as_role(cluster: str, db: str, role: str) -> psycopg.Connection:
    return psycopg.connect(_dsn(cluster, db, role), autocommit=True)


def summary_rows(app: str = "bidbaas", table: str = "user_summary") -> list[tuple]:
    """Every row but last_updated_at, as the app's reader sees it, in a stable order."""
    with reader(app) as conn:
        cur = conn.execute(f"SELECT * FROM {app}.{table}")
        names = [d.name for d in cur.description]
        keep = [i for i, n in enumerate(names) if n != "last_updated_at"]
        return sorted(tuple(row[i] for i in keep) for row in cur.fetchall())


def test_config_matches_registry_and_manifest(registry):
    config = pushback.load_pushback_config(registry=registry)
    manifest = pushback._manifest()
    models = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    user_tables = {t.raw_table: t.app for t in registry.tables() if t.user_column}
    assert {a.name for a in config.apps} == set(registry.apps)  # every app has at least one summary
    for s in config.summaries():
        node = models[s.model]
        assert node["config"]["schema"] == "marts" and node["config"]["meta"]["pushback_app"] == s.app
        parents = {models[p.split(".")[-1]]["name"] for p in node["depends_on"]["nodes"] if p.startswith("model.")}
        assert set(s.marts) == parents, (s.model, parents)
        # purpose limitation: every user-linked source upstream belongs to the summary's own app
        upstream_sources = {
            manifest["sources"][p]["name"] for p in _ancestors(manifest, node["unique_id"]) if p.startswith("source.")
        }
        foreign = {t for t in upstream_sources if t in user_tables and user_tables[t] != s.app}
        assert not foreign, f"{s.model} reads other apps' user data: {foreign}"


def _ancestors(manifest, node_id):
    seen, todo = set(), [node_id]
    while todo:
        current = todo.pop()
        node = manifest["nodes"].get(current) or manifest["sources"].get(current)
        for parent in (node or {}).get("depends_on", {}).get("nodes", []):
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


def test_bad_config_names_file_app_and_key(tmp_path, registry):
    bad = tmp_path / "pushback.yml"
    bad.write_text(
        "apps:\n  bidbaas:\n    summaries:\n      user_summary:\n        model: tagme__x\n        marts: [a]\n"
    )
    with pytest.raises(pushback.PushBackConfigError, match=r"pushback.yml: apps.bidbaas.summaries.user_summary.model"):
        pushback.load_pushback_config(bad, registry)
    bad.write_text("apps:\n  nosuchapp:\n    summaries: {s: {model: nosuchapp__s, marts: [a]}}\n")
    with pytest.raises(pushback.PushBackConfigError, match="apps.nosuchapp: not an app of config/sources.yml"):
        pushback.load_pushback_config(bad, registry)


def test_a_new_bid_reaches_the_app_summary_through_the_dags(pushed, topology, airflow_db, capfd):
    from airflow.dag_processing.dagbag import DagBag

    from tools.pipeline import extract_all

    with superuser_connect("primary", "bidbaas_db") as conn:
        auction_id, user_id = conn.execute(
            "SELECT b.auction_id, b.user_id FROM bids AS b ORDER BY b.id DESC LIMIT 1"
        ).fetchone()
        conn.execute(
            "INSERT INTO bids (auction_id, user_id, amount, currency) VALUES (%s, %s, 123.45, 'ZAR')",
            (auction_id, user_id),
        )
    with reader("bidbaas") as conn:
        before = conn.execute("SELECT bids_total FROM bidbaas.user_summary WHERE user_id = %s", (user_id,)).fetchone()
    topology.wait_for_replica()
    extract_all(sources=["bidbaas_db"])
    assert run_dbt(["build", "--select", "stg_bidbaas_db__bids int_bidbaas_bids_anon bidbaas__user_summary"]).ok

    dag = DagBag(dag_folder=str(REPO / "dags" / "push_back.py")).dags["push_back__bidbaas"]
    run = dag.test()
    assert run.state == "success", {ti.task_id: ti.state for ti in run.get_task_instances()}

    with reader("bidbaas") as conn:
        after = conn.execute(
            "SELECT bids_total, bids_this_week, last_updated_at FROM bidbaas.user_summary WHERE user_id = %s",
            (user_id,),
        ).fetchone()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM bidbaas.user_summary")
    assert after[0] == (before[0] if before else 0) + 1 and after[1] >= 1
    with reader("tagme") as conn:  # another app's reader sees nothing of BidBaas
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM bidbaas.user_summary")
        visible = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'bidbaas'"
        ).fetchone()[0]
        assert visible == 0
    # the link's password is nowhere in the task output or the servers' logs
    password = topology.load_secrets()["pushback_writer"]
    out = capfd.readouterr()
    assert password not in out.out + out.err
    for log in topology.state_dir().glob("*/server.log"):
        assert password not in log.read_text(errors="ignore")


def test_rerun_changes_nothing_and_readers_never_see_a_partial_summary(pushed):
    first = summary_rows()
    expected = len(first)
    seen: list[tuple[int, int]] = []
    stop = threading.Event()

    def read_loop():
        with reader("bidbaas") as conn:
            while not stop.is_set():
                seen.append(
                    conn.execute(
                        "SELECT count(*), count(DISTINCT last_updated_at) FROM bidbaas.user_summary"
                    ).fetchone()
                )

    thread = threading.Thread(target=read_loop)
    thread.start()
    try:
        for _ in range(3):
            pushback.refresh_app("bidbaas", gate=False)
    finally:
        stop.set()
        thread.join()
    assert summary_rows() == first
    assert len(seen) > 10 and set(seen) == {(expected, 1)}


def test_no_app_schema_row_holds_an_identifier_or_another_apps_user(pushed, registry):
    with superuser_connect("primary", "analytics_db") as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema', 'public')"
        ).fetchall()
        assert {s for s, _ in tables} >= set(APPS)
        for schema, table in tables:
            cur = conn.execute(f'SELECT * FROM "{schema}"."{table}"')
            names = [d.name for d in cur.description]
            rows = cur.fetchall()
            for row in rows:
                # cell by cell: joined cells ("0", "24", "130", "2026-...") would read as a phone number
                for name, value in zip(names, row, strict=True):
                    text = str(value)
                    assert not EMAIL.search(text) and not PHONE.search(text) and not ID_NUMBER.search(text), (
                        schema,
                        table,
                        name,
                    )
            if "user_id" in names:
                own = _own_user_ids(schema, registry)
                pushed_ids = {row[names.index("user_id")] for row in rows}
                assert pushed_ids and pushed_ids <= own, (schema, table, len(pushed_ids - own))
            assert not {"user_hash", "email", "phone", "first_name", "last_name"} & set(names)


def _own_user_ids(app: str, registry) -> set[int]:
    ids: set[int] = set()
    for source in registry.sources:
        if source.app != app:
            continue
        with superuser_connect("primary", source.name) as conn:
            for table in source.tables:
                if table.user_column:
                    ids |= {r[0] for r in conn.execute(f'SELECT DISTINCT "{table.user_column}" FROM "{table.name}"')}
    return ids


def test_roles_get_no_more_than_they_are(pushed, topology):
    # analysts: cannot re-key, refresh, read the app user columns or use the link
    with as_role("warehouse", "data_warehouse", "analytics_user") as conn:
        for statement in (
            "SELECT * FROM pushback.rekey('bidbaas')",
            "SELECT * FROM pushback.refresh_summary('bidbaas', 'user_summary', 'bidbaas__user_summary')",
            "SELECT * FROM pushback.app_user_columns",
            "SELECT * FROM pushback.bidbaas__user_summary",
            "CREATE FOREIGN TABLE public.x (a int) SERVER analytics_104",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
    with as_role("warehouse", "data_warehouse", "pushback_agent") as conn:
        for statement in (
            "SELECT * FROM pushback.rekey('bidbaas')",  # the mapping never reaches the agent
            "SELECT * FROM pushback.bidbaas__user_summary",  # nor the link itself
            "DELETE FROM pushback.bidbaas__user_summary",
            "SELECT user_id FROM raw.bidbaas_db__bids LIMIT 1",
            "SELECT * FROM pushback.register_app_user_columns('bidbaas', '[]')",
            "CREATE TEMP TABLE t (a int)",  # no temp schema to plant operators in
            "ALTER SERVER analytics_104 OPTIONS (SET host 'evil')",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        # only a summary mart of the app, into the app's own schema
        for args in (
            ("tagme", "user_summary", "bidbaas__user_summary"),
            ("bidbaas", "user_summary", "fct_bidbaas_auctions"),
            ("bidbaas", "x; DROP TABLE y", "bidbaas__user_summary"),
        ):
            with pytest.raises(psycopg.errors.RaiseException):
                conn.execute("SELECT * FROM pushback.refresh_summary(%s, %s, %s)", args)
        umoptions = conn.execute("SELECT umoptions FROM pg_user_mappings WHERE srvname = 'analytics_104'").fetchall()
        assert all(row[0] is None for row in umoptions)  # the password is not readable
    # the SECURITY DEFINER functions pin their search_path and are not executable by PUBLIC
    with superuser_connect("warehouse", "data_warehouse") as conn:
        for name, config, acl in conn.execute(
            "SELECT p.proname, p.proconfig, p.proacl::text FROM pg_proc p "
            "WHERE p.pronamespace = 'pushback'::regnamespace AND p.prosecdef"
        ).fetchall():
            assert config == ["search_path=pg_catalog, pg_temp"], name
            assert not re.search(r"(^|[{,])=X", acl or "=X"), (name, acl)
    # the writer on .104 touches the app schemas only
    with as_role("primary", "bidbaas_db", "pushback_writer") as conn:
        for statement in ("SELECT * FROM bids LIMIT 1", "UPDATE bids SET amount = 0", "CREATE TABLE public.x (a int)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def test_rollback_drop_the_link_keeps_the_last_good_summaries(pushed, topology):
    before = summary_rows()
    with superuser_connect("warehouse", "data_warehouse") as conn:
        pushback.drop_link(conn)
    try:
        assert summary_rows() == before  # the app keeps reading the last good summary
        with pytest.raises(psycopg.Error, match="user mapping not found"):
            pushback.refresh_app("bidbaas", gate=False)
        assert summary_rows() == before
    finally:
        topology.install_pushback_link()
    pushback.refresh_app("bidbaas", gate=False)
    assert summary_rows() == before


def test_lag_over_an_hour_pages_pushback_stale_and_resolves(pushed, alertmanager, webhook, monkeypatch):
    from dataacuity.monitoring import check_pushback_lag

    monkeypatch.setenv("AIRFLOW_CONN_ALERTMANAGER", alertmanager)
    with as_role("warehouse", "data_warehouse", "pipeline_monitor") as conn:
        lags = {(lag.app, lag.summary): lag for lag in pushback.summary_lags(conn)}
    assert lags[("bidbaas", "user_summary")].lag_seconds < 3600 and not lags[("bidbaas", "user_summary")].stale
    with superuser_connect("primary", "analytics_db") as conn:  # an hour and a bit without a push
        conn.execute("UPDATE bidbaas.user_summary SET last_updated_at = now() - interval '61 minutes'")
    result = check_pushback_lag()
    assert "bidbaas" in result["stale"]
    page = webhook.wait("/pager", alertname="PushBackStale", app="bidbaas")[0]
    assert page["labels"]["severity"] == "P1"
    pushback.refresh_app("bidbaas", gate=False)
    assert check_pushback_lag()["resolved"] >= 1
    webhook.wait("/pager", status="resolved", alertname="PushBackStale", app="bidbaas")


def test_gate_refuses_data_its_tests_did_not_run_on(pushed):
    summary = pushed.app("bidbaas").summaries[0]
    assert run_dbt(["run", "--select", summary.model]).ok  # rebuilt, tests not run
    with as_role("warehouse", "data_warehouse", "pushback_agent") as conn:
        problems = pushback.pii_gate(conn, summary)
    assert problems and all("bidbaas__user_summary" in p and "did not run on the current data" in p for p in problems)
    with pytest.raises(pushback.PushBackRefused):
        pushback.refresh_app("bidbaas", page=False)
    # (the next test relies on this: the gate refuses until the summary's tests run again)


def test_planted_pii_failure_upstream_refuses_unchanged_and_pages(
    pushed, airflow_db, alertmanager, webhook, monkeypatch
):
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("AIRFLOW_CONN_ALERTMANAGER", alertmanager)
    before = summary_rows()
    with superuser_connect("warehouse", "data_warehouse") as conn:
        bid_id, currency = conn.execute(
            "SELECT bid_id, currency FROM intermediate.int_bidbaas_bids_anon ORDER BY bid_id LIMIT 1"
        ).fetchone()
        # A leak that got past the build (e.g. a guard bug): an email in an intermediate column.
        conn.execute(
            "UPDATE intermediate.int_bidbaas_bids_anon SET currency = 'thandi.mokoena@example.co.za' WHERE bid_id = %s",
            (bid_id,),
        )
    try:
        tested = run_dbt(["test", "--select", "int_bidbaas_bids_anon"])
        assert not tested.ok
        dag = DagBag(dag_folder=str(REPO / "dags" / "push_back.py")).dags["push_back__bidbaas"]
        run = dag.test()
        states = {ti.task_id: ti.state for ti in run.get_task_instances()}
        assert states["pii_gate"] == "failed" and states["push"] != "success", states
        assert summary_rows() == before
        page = webhook.wait("/pager", alertname="PushBackRefused", app="bidbaas")[0]
        assert "int_bidbaas_bids_anon: no_pii_values" in page["annotations"]["description"]
        assert "thandi" not in str(page)  # the page names the test, never the value
    finally:
        with superuser_connect("warehouse", "data_warehouse") as conn:
            conn.execute(
                "UPDATE intermediate.int_bidbaas_bids_anon SET currency = %s WHERE bid_id = %s", (currency, bid_id)
            )
        # the failing result stays in dbt_artifacts until the next build tests the model again
