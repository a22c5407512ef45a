"""Salt rotation end to end (issue 8 §2) on the local topology, through the real salt_rotation DAG
(dag.test), with live traffic landing on the primary and being extracted into raw the whole time,
and an analyst session querying the marts in a loop.

Checks: every pseudonym of every mart and intermediate relation changes; counts and joins hold;
the retired key (captured before, as a superuser, for the test's own HMAC) produces no stored
pseudonym and is destroyed on .118 and gone from .106; the analyst never saw a query mixing
generations and was never refused; durable (erasure) references are unchanged. A failed rotation
pages P1 and leaves analytics on the old generation; a wrong phrase changes nothing. A crash after
the swap committed but before .118 was told (.118 stopped right there) is continued by a rerun:
one rotation, the right key retired, analytics on a complete generation throughout, the apps'
push-back summaries refreshed from the new marts."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
import uuid

import psycopg
import pytest
from psycopg import sql

from dataacuity import compliance, dbt_runner, pushback, rotation
from tests.alerting_support import poll
from tests.conftest import REPO
from tests.security import support
from tools import key_link

CONF = {"family": "all", "requested_by": "test-suite", "confirm": rotation.CONFIRMATION}
ANALYST_QUERY = """
SELECT 'dim', user_hash FROM marts.dim_user_360_anon
UNION ALL
SELECT 'fct', f.user_hash FROM marts.fct_ledger_transactions_anon AS f
JOIN marts.dim_user_360_anon AS d ON d.user_hash = f.user_hash
"""


@pytest.fixture(scope="module")
def warehouse(topology, seeded_sources, tmp_path_factory):
    """Raw landed, the key link installed, the marts built (whatever an earlier module built stays)."""
    from tools.pipeline import extract_all

    extract_all()
    key_link.ensure_local_key_link()
    result = dbt_runner.run_dbt(
        # ledger__user_summary: one app's push-back summary, which the rotation refreshes on .104
        ["build", "--select", "+dim_user_360_anon", "+fct_ledger_transactions_anon", "ledger__user_summary"],
        target_path=tmp_path_factory.mktemp("dbt_target"),
    )
    assert result.ok, result.output[-4000:]


@pytest.fixture
def salt_rotation_dag(airflow_db, alertmanager, monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("AIRFLOW_CONN_ALERTMANAGER", alertmanager)
    bag = DagBag(dag_folder=str(REPO / "dags" / "salt_rotation.py"))
    assert bag.import_errors == {}
    return bag.dags["salt_rotation"]


def pseudonyms(topology) -> dict[str, set[str]]:
    """Every stored pseudonym (*_hash column) of the shadowed schemas, per schema.relation.column."""
    found: dict[str, set[str]] = {}
    with support.connect(topology, "warehouse") as conn:
        columns = conn.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = ANY(%s) AND column_name LIKE '%%\\_hash'",
            (list(rotation.SHADOWED_SCHEMAS),),
        ).fetchall()
        for schema, table, column in columns:
            rows = conn.execute(
                sql.SQL("SELECT DISTINCT {} FROM {} WHERE {} IS NOT NULL").format(
                    sql.Identifier(column), sql.Identifier(schema, table), sql.Identifier(column)
                )
            ).fetchall()
            found[f"{schema}.{table}.{column}"] = {row[0] for row in rows}
    return found


def orphan_facts(topology) -> tuple[int, object]:
    """Ledger facts whose user_hash finds no user in int_users_anon (the join key of the marts)."""
    with support.connect(topology, "warehouse") as conn:
        return conn.execute(
            "SELECT count(*), now() FROM marts.fct_ledger_transactions_anon AS f WHERE f.user_hash IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM intermediate.int_users_anon AS u WHERE u.user_hash = f.user_hash)"
        ).fetchone()


def state_snapshot(topology) -> dict:
    with support.connect(topology, "compliance") as c118, support.connect(topology, "warehouse") as c106:
        return {
            "rotations": c118.execute("SELECT count(*) FROM compliance.key_rotation").fetchone()[0],
            "salts": c118.execute(
                "SELECT salt_id, status, fingerprint FROM compliance.salt_status ORDER BY 1"
            ).fetchall(),
            "copy": c106.execute(
                "SELECT salt_id, status, fingerprint FROM compliance.hash_key_status ORDER BY 1"
            ).fetchall(),
            "schemas": c106.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE '%%\\_\\_%%' ORDER BY 1"
            ).fetchall(),
        }


class Analyst(threading.Thread):
    """analytics_user querying the marts in a loop; each result is classified by generation."""

    def __init__(self, topology, old: set[str]):
        super().__init__(daemon=True)
        self.topology, self.old = topology, old
        self.stop = threading.Event()
        self.results: list[str] = []  # 'old', 'new' or 'MIXED'
        self.errors: list[str] = []
        self.slowest = 0.0

    def run(self) -> None:
        with psycopg.connect(
            self.topology.dsn("warehouse", "data_warehouse", "analytics_user"), autocommit=True
        ) as conn:
            while not self.stop.is_set():
                started = time.monotonic()
                try:
                    rows = conn.execute(ANALYST_QUERY).fetchall()
                except psycopg.Error as error:
                    self.errors.append(str(error))
                    continue
                self.slowest = max(self.slowest, time.monotonic() - started)
                generations = {row[1] in self.old for row in rows}
                self.results.append("MIXED" if len(generations) > 1 else ("old" if generations == {True} else "new"))
                time.sleep(0.02)


class Ingestion(threading.Thread):
    """Live traffic on the primary and extracts of it into raw, until stopped."""

    def __init__(self, topology, registry):
        super().__init__(daemon=True)
        self.topology, self.registry = topology, registry
        self.stop = threading.Event()
        self.batches = 0
        self.errors: list[str] = []

    def run(self) -> None:
        from tools import seed
        from tools.pipeline import extract_all

        while not self.stop.is_set():
            try:
                seed.live_traffic(
                    lambda db: self.topology.dsn("primary", db), self.registry, seconds=2, rows_per_second=20
                )
                self.topology.wait_for_replica()
                extract_all(self.registry, sources=["auth_db", "ledger_db"])
                self.batches += 1
            except Exception as error:  # reported by the test
                self.errors.append(f"{type(error).__name__}: {error}")
                time.sleep(0.5)


def test_a_wrong_phrase_is_refused_before_anything_changes(topology, warehouse, salt_rotation_dag):
    from airflow.sdk.exceptions import ParamValidationError

    from dataacuity.rotation import RotationRefused, parse_request

    before = state_snapshot(topology)
    with pytest.raises(ParamValidationError, match="confirm"):
        salt_rotation_dag.test(run_conf={**CONF, "reason": "test: wrong phrase", "confirm": "rotate salts"})
    # the task re-checks too (a conf that reached it some other way)
    with pytest.raises(RotationRefused, match="confirmation"):
        parse_request({**CONF, "reason": "test: wrong phrase", "confirm": "ROTATE SALT"})
    assert state_snapshot(topology) == before


def test_rotation_end_to_end_with_live_traffic_and_an_analyst(topology, registry, warehouse, salt_rotation_dag):
    with support.connect(topology, "compliance") as c118:
        old_user_key = bytes(
            c118.execute(
                "SELECT salt FROM compliance.salts WHERE salt_family = 'user' AND status = 'active'"
            ).fetchone()[0]
        )
        old_ids = [r[0] for r in c118.execute("SELECT salt_id FROM compliance.salt_status WHERE status = 'active'")]
    with support.connect(topology, "warehouse") as c106:
        erasure_before = c106.execute("SELECT compliance.hash_erasure('42')").fetchone()[0]
        user_ids = [str(r[0]) for r in c106.execute("SELECT DISTINCT id FROM raw.auth_db__users")]
    before = pseudonyms(topology)
    old_all = set().union(*before.values())
    orphans_before, started_at = orphan_facts(topology)
    assert old_all and any(k.startswith("marts.") for k in before)

    ingestion, analyst = Ingestion(topology, registry), Analyst(topology, old_all)
    ingestion.start()
    analyst.start()
    try:
        time.sleep(1)
        run = salt_rotation_dag.test(run_conf={**CONF, "reason": f"test {uuid.uuid4().hex[:6]}: end to end"})
        time.sleep(1)  # the analyst keeps querying the new generation for a moment
    finally:
        analyst.stop.set()
        ingestion.stop.set()
        analyst.join(30)
        ingestion.join(60)
    assert run.state == "success"

    # the analyst: never refused, every answer from ONE generation, both generations seen
    assert analyst.errors == []
    assert "MIXED" not in analyst.results
    assert "old" in analyst.results and "new" in analyst.results, analyst.results[-5:]
    assert ingestion.errors == [] and ingestion.batches >= 1

    # every stored pseudonym changed; nothing from the old generation remains
    after = pseudonyms(topology)
    assert set(after) == set(before)
    for column, values in after.items():
        assert values, column
        assert not values & before[column], f"{column} still holds old-generation pseudonyms"
    # the retired key (independent HMAC here) produces no stored pseudonym
    old_user_hashes = {hmac.new(old_user_key, i.encode(), hashlib.sha256).hexdigest() for i in user_ids}
    assert old_user_hashes & old_all  # sanity: the old marts were made with that key
    assert not old_user_hashes & set().union(*after.values())

    with support.connect(topology, "compliance") as c118, support.connect(topology, "warehouse") as c106:
        # .118: the old generations are retired with who/when/why and their bytes destroyed
        retired = c118.execute(
            "SELECT salt_id, status, retired_by, rotation_reason, salt IS NULL, destroyed_at IS NOT NULL "
            "FROM compliance.salts WHERE salt_id = ANY(%s) ORDER BY 1",
            (old_ids,),
        ).fetchall()
        row = c118.execute(
            "SELECT status, requested_by, retired_salt_ids, evidence FROM compliance.key_rotation ORDER BY rotation_id DESC LIMIT 1"
        ).fetchone()
        # .106: the old keys are gone, the copy matches .118, no pending generation is left
        copy_ids = {r[0] for r in c106.execute("SELECT salt_id FROM compliance.hash_keys")}
        assert compliance.keys_in_sync(c106, c118)
        assert c106.execute("SELECT compliance.hash_erasure('42')").fetchone()[0] == erasure_before
        leftovers = c106.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE '%%\\_\\_rotation' OR nspname LIKE '%%\\_\\_retired\\_%%'"
        ).fetchall()
        new_users = c106.execute(
            "SELECT count(*) FROM raw.auth_db__users WHERE _extracted_at > %s", (started_at,)
        ).fetchone()[0]
    rotated_families = set(compliance.ROTATING_FAMILIES)
    assert {r[0] for r in retired} == set(old_ids)
    for salt_id, status, retired_by, reason, destroyed, destroyed_at in retired:
        family_rotated = status == "retired"
        if family_rotated:
            assert retired_by == "test-suite" and reason.startswith("test ") and destroyed and destroyed_at, salt_id
    assert sum(1 for r in retired if r[1] == "retired") == len(rotated_families)
    assert not copy_ids & {r[0] for r in retired if r[1] == "retired"}
    assert leftovers == []
    status, requested_by, retired_ids, evidence = row
    assert status == "completed" and requested_by == "test-suite" and len(retired_ids) == len(rotated_families)
    verification = evidence["verification"]
    assert verification["pseudonym_columns_checked"] > 0
    for name, counts in verification["relations"].items():
        # up to the rows extracted meanwhile and the rows RTBF cascades erased in place (a rebuild
        # recomputes those: rotation.verify_shadow)
        allowed = counts["extracted_since_live_build"] + counts["rtbf_rows_erased"]
        assert abs(counts["live"] - counts["shadow"]) <= allowed, name
    assert evidence["swap"]["swap_attempts"] >= 1 and evidence["swap"]["swap_blocking_ms"] < 5000
    # joins hold: ledger facts find their user as before (give or take users extracted meanwhile)
    orphans_after, _ = orphan_facts(topology)
    assert orphans_after <= orphans_before + new_users, (orphans_before, orphans_after, new_users)


def test_a_failed_rotation_pages_and_leaves_analytics_on_the_old_generation(
    topology, warehouse, salt_rotation_dag, webhook
):
    """.118 unreachable when the warehouse loads the new generation: P1 page, analytics untouched,
    the error on the rotation row; a rerun continues the same rotation; abandoning starts clean."""
    before = pseudonyms(topology)
    with support.connect(topology, "warehouse") as su:
        su.execute("ALTER SERVER compliance_118 OPTIONS (SET port '1')")
        su.execute("SELECT postgres_fdw_disconnect_all()")
    try:
        run = salt_rotation_dag.test(run_conf={**CONF, "family": "device", "reason": "test: failure path"})
    finally:
        with support.connect(topology, "warehouse") as su:
            su.execute(
                sql.SQL("ALTER SERVER compliance_118 OPTIONS (SET port {})").format(
                    sql.Literal(str(topology.port("compliance")))
                )
            )
    assert run.state == "failed"
    (page,) = webhook.wait("/pager", alertname=rotation.ALERTNAME)
    assert page["labels"]["severity"] == "P1" and "load_pending" in page["annotations"]["summary"]
    assert pseudonyms(topology) == before  # analytics untouched, on the old generation
    with support.connect(topology, "compliance") as c118:
        rotation_id, status, last_error = c118.execute(
            "SELECT rotation_id, status, last_error FROM compliance.key_rotation ORDER BY rotation_id DESC LIMIT 1"
        ).fetchone()
    assert status == "building" and last_error.startswith("load_pending:")
    with support.connect(topology, "warehouse") as c106:
        assert not rotation.rotation_in_progress(c106)  # nothing pending was loaded: transform runs on
    # the open rotation is resumed, not duplicated, by the next request for the same family
    connectors = rotation.Connectors.from_airflow()
    request = rotation.parse_request({**CONF, "family": "device", "reason": "test: rerun continues"})
    assert rotation.begin(request, "rerun", connect_compliance=connectors.compliance).rotation_id == rotation_id
    # ... and abandoning it starts clean
    current = rotation.get_rotation(rotation_id, connect_compliance=connectors.compliance)
    rotation.abandon(
        current,
        "test: starting clean",
        connect_compliance=connectors.compliance,
        connect_admin=connectors.admin,
        connect_dbt=connectors.dbt,
    )
    with support.connect(topology, "compliance") as c118:
        assert (
            c118.execute(
                "SELECT status FROM compliance.key_rotation WHERE rotation_id = %s", (rotation_id,)
            ).fetchone()[0]
            == "abandoned"
        )
        assert c118.execute("SELECT count(*) FROM compliance.salt_status WHERE status = 'pending'").fetchone()[0] == 0


class StopComplianceAfterSwap(threading.Thread):
    """Stops the compliance cluster (.118) in the one window between two databases: after the
    rotation's swap committed on .106 and before .118 was told (mark_rotation_swapped).

    As soon as the new rotation's row exists, a superuser session on .118 locks it FOR UPDATE, so
    the worker's mark_rotation_swapped (the first write to that row after begin) waits exactly
    there. Once the warehouse shows the new generation active and the worker waits on the lock,
    .118 is stopped (pg_ctl stop -m fast cuts every session, the worker's included)."""

    def __init__(self, topology, after_rotation_id: int):
        super().__init__(daemon=True)
        self.topology, self.after = topology, after_rotation_id
        self.rotation_id: int | None = None
        self.new_ids: list[int] = []
        self.stopped = threading.Event()
        self.errors: list[str] = []

    def _wait(self, what: str, condition, seconds: float = 600) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"gave up waiting for {what}")
            time.sleep(0.05)

    def run(self) -> None:
        try:
            with support.connect(self.topology, "compliance") as c118:
                found = []

                def rotation_begun() -> bool:
                    found[:] = c118.execute(
                        "SELECT rotation_id, new_salt_ids FROM compliance.key_rotation "
                        "WHERE rotation_id > %s AND status = 'building' AND cardinality(new_salt_ids) > 0",
                        (self.after,),
                    ).fetchall()
                    return bool(found)

                self._wait("the rotation to begin", rotation_begun)
                (self.rotation_id, self.new_ids), *_ = found
                c118.execute("BEGIN")
                c118.execute(
                    "SELECT 1 FROM compliance.key_rotation WHERE rotation_id = %s FOR UPDATE", (self.rotation_id,)
                )
                with (
                    support.connect(self.topology, "warehouse") as c106,
                    support.connect(self.topology, "compliance") as watcher,
                ):

                    def swapped_and_waiting() -> bool:
                        active = {
                            r[0]
                            for r in c106.execute(
                                "SELECT salt_id FROM compliance.hash_key_status WHERE status = 'active'"
                            )
                        }
                        waiting = watcher.execute(
                            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                            "AND query LIKE '%%mark_rotation_swapped%%'"
                        ).fetchone()[0]
                        return set(self.new_ids) <= active and waiting > 0

                    self._wait("the swap to commit and the worker to wait on .118", swapped_and_waiting)
                self.stopped.set()
                self.topology._stop("compliance")
        except psycopg.OperationalError:
            if not self.stopped.is_set():
                raise
        except Exception as error:  # reported by the test
            self.errors.append(f"{type(error).__name__}: {error}")


def ledger_summary(topology) -> dict[int, object]:
    """analytics_db.ledger.user_summary on .104: user_id -> last_updated_at."""
    with psycopg.connect(topology.dsn("primary", "analytics_db"), autocommit=True) as conn:
        return dict(conn.execute("SELECT user_id, last_updated_at FROM ledger.user_summary").fetchall())


def marts_built_at(topology, model: str):
    """When dbt last built the live mart (dbt_artifacts)."""
    with support.connect(topology, "warehouse") as conn:
        return conn.execute(
            "SELECT max(completed_at) FROM dbt_artifacts.model_results"
            " WHERE model_name = %s AND schema_name = 'marts' AND status = 'success'",
            (model,),
        ).fetchone()[0]


def ledger_users_extracted_since(topology, since) -> set[int]:
    """Users with a row in a raw ledger table extracted after `since`."""
    with support.connect(topology, "warehouse") as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.columns"
                " WHERE table_schema = 'raw' AND table_name LIKE 'ledger\\_db\\_\\_%%' AND column_name = 'user_id'"
            )
        ]
        users: set[int] = set()
        for table in tables:
            users |= {
                r[0]
                for r in conn.execute(
                    sql.SQL("SELECT DISTINCT user_id FROM {} WHERE _extracted_at > %s").format(
                        sql.Identifier("raw", table)
                    ),
                    (since,),
                )
            }
        return users


def test_a_crash_after_the_swap_before_118_knows_is_continued_by_a_rerun(
    topology, warehouse, salt_rotation_dag, webhook
):
    """The one window between two databases: the swap committed on .106, .118 never told. A rerun
    completes THE SAME rotation (no second one, exactly the old generation retired, one active
    generation per family on both hosts); nothing can abandon it meanwhile; analytics and the
    transform stay on one complete generation throughout; push-back is refreshed from the new marts."""
    pushback.refresh_app("ledger", page=False)  # the apps' summaries as they were before
    summary_before = ledger_summary(topology)
    assert summary_before
    live_built_at = marts_built_at(topology, "ledger__user_summary")
    with support.connect(topology, "compliance") as c118:
        last_id = c118.execute("SELECT coalesce(max(rotation_id), 0) FROM compliance.key_rotation").fetchone()[0]
        rotations_before = c118.execute("SELECT count(*) FROM compliance.key_rotation").fetchone()[0]
        old_ids = sorted(
            r[0]
            for r in c118.execute(
                "SELECT salt_id FROM compliance.salt_status WHERE status = 'active' AND salt_family = ANY(%s)",
                (list(compliance.ROTATING_FAMILIES),),
            )
        )
        old_user_key = bytes(
            c118.execute(
                "SELECT salt FROM compliance.salts WHERE salt_family = 'user' AND status = 'active'"
            ).fetchone()[0]
        )
    with support.connect(topology, "warehouse") as c106:
        user_ids = [str(r[0]) for r in c106.execute("SELECT DISTINCT id FROM raw.auth_db__users")]
    before = pseudonyms(topology)
    old_all = set().union(*before.values())

    analyst = Analyst(topology, old_all)
    crash = StopComplianceAfterSwap(topology, last_id)
    analyst.start()
    crash.start()
    try:
        failed = salt_rotation_dag.test(run_conf={**CONF, "reason": "test: crash after the swap"})
        crash.join(30)
        assert crash.errors == [] and crash.stopped.is_set(), crash.errors
        assert failed.state == "failed"
        states = {ti.task_id: ti.state for ti in failed.get_task_instances()}
        assert states["verify"] == "success" and states["swap"] == "failed", states
        (page,) = webhook.wait("/pager", alertname=rotation.ALERTNAME, task_id="swap")
        assert page["labels"]["severity"] == "P1" and "swap" in page["annotations"]["summary"]

        # .118 is down: the warehouse is on the new generation, complete, and transforms on it
        swapped = pseudonyms(topology)
        assert set(swapped) == set(before)
        for column, values in swapped.items():
            assert values and not values & before[column], column
        with support.connect(topology, "warehouse") as c106:
            assert not rotation.rotation_in_progress(c106)  # the transform is not held
            active = c106.execute(
                "SELECT salt_family, salt_id FROM compliance.hash_key_status WHERE status = 'active'"
            ).fetchall()
        assert {salt_id for _, salt_id in active} >= set(crash.new_ids)
        assert len({family for family, _ in active}) == len(active)  # one active generation per family
        assert not {salt_id for _, salt_id in active} & set(old_ids)
        rebuilt = dbt_runner.run_dbt(["build", "--select", "dim_user_360_anon"])
        assert rebuilt.ok, rebuilt.output[-3000:]
        assert pseudonyms(topology)["marts.dim_user_360_anon.user_hash"] == swapped["marts.dim_user_360_anon.user_hash"]
    finally:
        topology._start("compliance")  # .118 back (also when the test failed above)

    # back: .118 still says 'building' with the old generation active and the new one pending
    connectors = rotation.Connectors.from_airflow()
    current = rotation.get_rotation(crash.rotation_id, connect_compliance=connectors.compliance)
    assert current.status == "building" and sorted(current.new_salt_ids) == sorted(crash.new_ids)
    # nothing can give it up now: the pending key is the warehouse's active one
    with pytest.raises(rotation.RotationError, match="cannot be abandoned"):
        rotation.abandon(
            current,
            "test: must be refused",
            connect_compliance=connectors.compliance,
            connect_admin=connectors.admin,
            connect_dbt=connectors.dbt,
        )
    # ... nor can a second rotation start
    other = rotation.parse_request({**CONF, "family": "device", "reason": "test: a second rotation"})
    with pytest.raises(psycopg.errors.ObjectInUse):
        rotation.begin(other, "second", connect_compliance=connectors.compliance)
    # a key refresh in the window (set-up, an operator) keeps the swapped generation active
    with connectors.admin() as admin:
        admin.autocommit = True
        states = compliance.refresh_hash_keys(admin)
    assert {s.salt_id for s in states if s.status == "active"} >= set(crash.new_ids)
    assert not {s.salt_id for s in states} & set(old_ids) and all(s.status == "active" for s in states)
    with support.connect(topology, "compliance") as c118:
        assert c118.execute(
            "SELECT count(*) FROM compliance.salt_status WHERE salt_id = ANY(%s) AND status = 'pending'",
            (crash.new_ids,),
        ).fetchone()[0] == len(crash.new_ids)

    try:
        rerun = salt_rotation_dag.test(run_conf={**CONF, "reason": "test: rerun after the crash"})
    finally:
        analyst.stop.set()
        analyst.join(30)
    assert rerun.state == "success"
    assert analyst.errors == [] and "MIXED" not in analyst.results
    assert "old" in analyst.results and "new" in analyst.results

    # the same rotation completed: no second one, exactly the old generation retired
    with support.connect(topology, "compliance") as c118, support.connect(topology, "warehouse") as c106:
        assert c118.execute("SELECT count(*) FROM compliance.key_rotation").fetchone()[0] == rotations_before + 1
        status, retired_ids, new_ids, evidence = c118.execute(
            "SELECT status, retired_salt_ids, new_salt_ids, evidence FROM compliance.key_rotation WHERE rotation_id = %s",
            (crash.rotation_id,),
        ).fetchone()
        assert status == "completed" and sorted(retired_ids) == old_ids and sorted(new_ids) == sorted(crash.new_ids)
        assert evidence["swap"] == rotation.SWAPPED_EARLIER
        destroyed = c118.execute(
            "SELECT bool_and(status = 'retired' AND salt IS NULL AND destroyed_at IS NOT NULL) "
            "FROM compliance.salts WHERE salt_id = ANY(%s)",
            (old_ids,),
        ).fetchone()[0]
        assert destroyed
        per_family = c118.execute(
            "SELECT salt_family, count(*) FROM compliance.salt_status WHERE status = 'active' GROUP BY 1"
        ).fetchall()
        assert per_family and all(n == 1 for _, n in per_family)
        assert c118.execute("SELECT count(*) FROM compliance.salt_status WHERE status = 'pending'").fetchone()[0] == 0
        assert {
            r[0] for r in c118.execute("SELECT salt_id FROM compliance.salt_status WHERE status = 'active'")
        } >= set(crash.new_ids)
        new_user_key = bytes(
            c118.execute(
                "SELECT salt FROM compliance.salts WHERE salt_family = 'user' AND status = 'active'"
            ).fetchone()[0]
        )
        assert compliance.keys_in_sync(c106, c118)
        leftovers = c106.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE '%%\\_\\_rotation' OR nspname LIKE '%%\\_\\_retired\\_%%'"
        ).fetchall()
        assert leftovers == []
    # the rerun did not rebuild under yet another key: the pseudonyms are the swapped ones, made
    # with the key .118 now calls active; the retired key makes none of them
    after = pseudonyms(topology)
    assert after == swapped
    stored = set().union(*after.values())
    assert {hmac.new(new_user_key, i.encode(), hashlib.sha256).hexdigest() for i in user_ids} & stored
    assert not {hmac.new(old_user_key, i.encode(), hashlib.sha256).hexdigest() for i in user_ids} & stored
    # push-back: the app's summary was refreshed from the new marts and re-keyed to the same users
    summary_after = ledger_summary(topology)
    assert set(summary_before) <= set(summary_after)  # every user still there, under their own id
    # a user the live marts did not have yet comes only from rows extracted after their last build
    # (the rotation rebuilds from raw: an earlier test's last extract may not have been transformed)
    assert set(summary_after) - set(summary_before) <= ledger_users_extracted_since(topology, live_built_at)
    assert min(summary_after.values()) > max(summary_before.values())


def test_push_back_after_the_swap_goes_through_the_pii_gate_and_a_refusal_pages(
    topology, warehouse, alertmanager, webhook, monkeypatch
):
    """The rotation's push-back step is the push-back code path: every app whose summary marts
    exist is pushed (the others are skipped, named); when the gate refuses an app, that app is not
    pushed, PushBackRefused pages for it and the step fails (so SaltRotationFailed pages too)."""
    monkeypatch.setenv("AIRFLOW_CONN_ALERTMANAGER", alertmanager)
    connectors = rotation.Connectors.from_airflow()
    with support.connect(topology, "compliance") as c118:
        (last,) = c118.execute(
            "SELECT max(rotation_id) FROM compliance.key_rotation WHERE status = 'completed'"
        ).fetchone()
    done = rotation.get_rotation(last, connect_compliance=connectors.compliance)

    result = rotation.refresh_pushback_after_rotation(done)
    apps = {app.name for app in pushback.load_pushback_config().apps}
    assert "ledger" in result["refreshed"] and set(result["refreshed"]) | set(result["skipped"]) == apps
    assert not set(result["refreshed"]) & set(result["skipped"])
    assert result["refreshed"]["ledger"]["user_summary"]["rows_pushed"] == len(ledger_summary(topology))

    before = ledger_summary(topology)
    pages_before = len(webhook.alerts("/pager", alertname=pushback.REFUSED_ALERTNAME, app="ledger"))
    rebuilt = dbt_runner.run_dbt(["run", "--select", "ledger__user_summary"])  # its PII tests not run on it
    assert rebuilt.ok, rebuilt.output[-3000:]
    try:
        with pytest.raises(rotation.RotationError, match=r"PII gate refused the push-back of \['ledger'\]"):
            rotation.refresh_pushback_after_rotation(done)
        page = poll(
            lambda: webhook.alerts("/pager", alertname=pushback.REFUSED_ALERTNAME, app="ledger")[pages_before:],
            what="PushBackRefused for ledger",
        )[0]
        assert page["labels"]["severity"] == "P1"
        assert "ledger__user_summary" in page["annotations"]["description"]
        assert ledger_summary(topology) == before  # the refused app's summary was not touched
    finally:
        tested = dbt_runner.run_dbt(["test", "--select", "ledger__user_summary"])  # the gate passes again
        assert tested.ok, tested.output[-3000:]


def test_demo_shows_the_active_generations_and_the_last_rotation(topology, warehouse, capsys):
    from tools import demo

    demo.key_generations()  # the section `make demo` prints
    out = capsys.readouterr().out
    with support.connect(topology, "compliance") as c118:
        (last_id,) = c118.execute("SELECT max(rotation_id) FROM compliance.key_rotation").fetchone()
        active = c118.execute(
            "SELECT salt_family, salt_id FROM compliance.salt_status WHERE status = 'active'"
        ).fetchall()
    assert active and last_id
    for family, salt_id in active:
        assert any(line.split()[:3] == [family, "generation", str(salt_id)] for line in out.splitlines()), out
    assert f"last rotation #{last_id}:" in out and "NOT IN SYNC" not in out
