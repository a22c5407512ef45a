"""Right to be forgotten (issue 9): rtbf_cascade under dag.test against the real topology, real dbt.

One module-scoped world: three subject users created on the app primary, each present in every
user-linked source table (plus a contact row of another user naming the subject's phone), landed
by the real extract, transformed by one real `dbt run`, planted in ml/analytics tables, a push-back
table in analytics_db and the token vault. Then, in order: the cascade end to end, its idempotent
rerun, resurrection (more extracts, a transform run and a full refresh of what the app's new rows
feed), the SLA page, a crash midway (SIGKILL between layers), and a legal hold that pauses; one
daily sweep then resumes the held request and completes the crashed one (two full cascades in all).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from dataacuity import rtbf
from dataacuity.dbt_runner import run_dbt
from tests.alerting_support import poll
from tests.conftest import REPO, superuser_connect

PUSHBACK_TABLE = ("ledger", "rtbf_probe_user_summary")
RUN = uuid.uuid4().hex[:8].upper()  # request ids are never reused: one set per test session
MAIN, CRASH, HOLD, AGED = (f"DSAR-{RUN}-{name}" for name in ("MAIN", "CRASH", "HOLD", "AGED"))


# --------------------------------------------------------------------------- the world


def _sa_id(rng: random.Random) -> str:
    from tools.seed.people import make_sa_id_number

    return make_sa_id_number(rng, datetime(1990, 5, 17).date(), female=rng.random() < 0.5)


def _create_subject(registry, rng: random.Random, tag: str, taken: list[int]) -> dict:
    """A new auth_db user, then one row of every other user-linked table reassigned to them (never a
    row an earlier subject was given: `taken` holds their ids)."""
    email = f"rtbf.{tag}.{rng.randrange(10**9)}@example.co.za"
    phone = f"+2782{rng.randrange(10**7):07d}"
    sa_id = _sa_id(rng)
    with superuser_connect("primary", "auth_db") as conn:
        (user_id,) = conn.execute(
            "INSERT INTO users (public_id, first_name, last_name, email, phone, sa_id_number, date_of_birth,"
            " city, province, country_code, status, created_at, updated_at)"
            " VALUES (gen_random_uuid(), 'Forget', 'Me', %s, %s, %s, '1990-05-17', 'Pretoria', 'Gauteng', 'ZA',"
            " 'active', now() - interval '30 days', now()) RETURNING id",
            (email, phone, sa_id),
        ).fetchone()
    values = {"email": email, "phone": phone, "id_number": sa_id}
    for table in registry.user_linked_tables():
        if (table.source_db, table.name) == (rtbf.IDENTITY_SOURCE, rtbf.IDENTITY_TABLE):
            continue
        sets = [f"{table.user_column} = %(uid)s"]
        sets += [f"{c} = %({cls})s" for c, cls in table.pii.items() if cls in values]
        if table.cursor:
            sets.append(f"{table.cursor} = now()")
        pk = table.primary_key[0]
        with superuser_connect("primary", table.source_db) as conn:
            for _attempt in range(5):
                try:
                    with conn.transaction():
                        conn.execute(
                            f"UPDATE {table.name} SET {', '.join(sets)} WHERE {pk} = ("
                            f" SELECT {pk} FROM {table.name} WHERE {table.user_column} IS DISTINCT FROM %(uid)s"
                            f" AND {table.user_column}::text <> ALL(%(taken)s::text[])"
                            " ORDER BY random() LIMIT 1)",
                            {"uid": user_id, "taken": [str(t) for t in taken], **values},
                        )
                    break
                except Exception:  # a unique (merchant, day) clash: another row
                    continue
            else:
                raise AssertionError(f"could not give {table.key} a row of the subject")
    # another user's contact names the subject's phone (must be blanked, not deleted)
    with superuser_connect("primary", "txtme_db") as conn:
        conn.execute(
            "UPDATE contacts SET phone = %s, updated_at = now() WHERE id = ("
            " SELECT id FROM contacts WHERE owner_user_id <> %s AND owner_user_id <> ALL(%s) ORDER BY random() LIMIT 1)",
            (phone.replace("+27", "0"), user_id, taken),
        )
    # another user's payment names the subject as its merchant (a user reference: the id must be
    # blanked in raw, the payer's payment kept)
    with superuser_connect("primary", "sdpkt_db") as conn:
        (merchant_payment,) = conn.execute(
            "UPDATE payments SET merchant_user_id = %s, updated_at = now() WHERE id = ("
            " SELECT id FROM payments WHERE user_id <> %s AND user_id <> ALL(%s) ORDER BY random() LIMIT 1)"
            " RETURNING id",
            (user_id, user_id, taken),
        ).fetchone()
    taken.append(user_id)
    return {
        "user_id": str(user_id),
        "identifiers": {"email": [email], "phone": [phone], "id_number": [sa_id]},
        "merchant_payment": merchant_payment,
    }


def _links():
    return rtbf.Links.from_airflow()


def _stray_user_tables(registry) -> list[str]:
    """raw tables no registry table lands that hold a registry user column: an earlier test's lab
    left behind (tests.conftest.drop_lab_source removes a lab). The zero-residual scan reads every
    table and would find real users' ids in their made-up ones."""
    with superuser_connect("warehouse", "data_warehouse") as conn:
        return [
            row[0]
            for row in conn.execute(
                "SELECT DISTINCT table_schema || '.' || table_name FROM information_schema.columns"
                " WHERE table_schema = 'raw' AND column_name = ANY(%s) AND table_name <> ALL(%s) ORDER BY 1",
                (sorted(registry.user_column_names()), [t.raw_table for t in registry.tables()]),
            )
        ]


@pytest.fixture(scope="module")
def world(topology, seeded_sources, registry, airflow_db):
    from tools import key_link
    from tools.pipeline import extract_all

    strays = _stray_user_tables(registry)
    assert not strays, f"an earlier test left raw tables with user ids behind (drop them at teardown): {strays}"
    rng = random.Random()
    taken: list[int] = []
    subjects = {name: _create_subject(registry, rng, name, taken) for name in ("main", "crash", "hold")}
    topology.wait_for_replica()
    extract_all(registry)
    key_link.ensure_local_key_link()
    build = run_dbt(["run"])  # the models (their tests are test_dbt_build's business)
    assert build.ok, build.output[-4000:]
    with superuser_connect("compliance", "compliance") as conn:
        for subject in subjects.values():
            conn.execute("SET ROLE compliance_admin")
            subject["tokens"] = [
                conn.execute(
                    "SELECT compliance.tokenise('email', %s)", (subject["identifiers"]["email"][0],)
                ).fetchone()[0],
                conn.execute(
                    "SELECT compliance.tokenise('phone', %s)", (subject["identifiers"]["phone"][0],)
                ).fetchone()[0],
            ]
            conn.execute("RESET ROLE")
    ids = [int(s["user_id"]) for s in subjects.values()]
    with superuser_connect("warehouse", "data_warehouse") as conn:
        conn.execute("SET ROLE dbt_writer")
        conn.execute("DROP TABLE IF EXISTS ml.rtbf_probe_features, analytics.rtbf_probe_contacts")
        conn.execute(
            "CREATE TABLE ml.rtbf_probe_features AS SELECT user_hash, random() AS churn_score"
            " FROM intermediate.int_users_anon"
        )
        conn.execute("CREATE TABLE analytics.rtbf_probe_contacts (contact_token text, note text)")
        for subject in subjects.values():
            conn.execute(
                "INSERT INTO analytics.rtbf_probe_contacts VALUES (%s, 'planted'), ('tok_email_other', 'kept')",
                (subject["tokens"][0],),
            )
    with superuser_connect("primary", "analytics_db") as conn:
        conn.execute("SET ROLE pushback_writer")
        conn.execute(f"DROP TABLE IF EXISTS {'.'.join(PUSHBACK_TABLE)}")
        conn.execute(f"CREATE TABLE {'.'.join(PUSHBACK_TABLE)} (user_id bigint PRIMARY KEY, transactions int)")
        conn.execute(
            f"INSERT INTO {'.'.join(PUSHBACK_TABLE)} SELECT u, 3 FROM unnest(%s::bigint[] || ARRAY[1, 2]::bigint[]) AS u"
            " ON CONFLICT DO NOTHING",
            (ids,),
        )
    yield subjects
    with superuser_connect("warehouse", "data_warehouse") as conn:
        conn.execute("DROP TABLE IF EXISTS ml.rtbf_probe_features, analytics.rtbf_probe_contacts")
    with superuser_connect("primary", "analytics_db") as conn:
        conn.execute(f"DROP TABLE IF EXISTS {'.'.join(PUSHBACK_TABLE)}")


@pytest.fixture(scope="module")
def cascade_dag(airflow_db, alertmanager, tmp_path_factory):
    from airflow.dag_processing.dagbag import DagBag

    # dag.test() parses and syncs the DAG's whole bundle to the metadata DB on every call: ~6 s
    # for dags/ (most of it the Cosmos transform DAG). The bundle here holds this DAG file alone.
    folder = tmp_path_factory.mktemp("rtbf-bundle")
    (folder / "rtbf_cascade.py").symlink_to(REPO / "dags" / "rtbf_cascade.py")
    bundle = {"name": "rtbf-cascade", "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle"}
    bundle["kwargs"] = {"path": str(folder)}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW_CONN_ALERTMANAGER", alertmanager)  # pages go to the test's receiver
        patch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps([bundle]))
        bag = DagBag(dag_folder=str(folder))
        assert bag.import_errors == {}
        yield bag.dags[rtbf.DAG_ID]


def conf(subject: dict, request_id: str, days_ago: float = 1) -> dict:
    at = datetime.now(UTC) - timedelta(days=days_ago)
    return {
        "user_id": subject["user_id"],
        "request_id": request_id,
        "requested_at": at.isoformat(),
        "requested_by": "compliance officer (test)",
    }


def raw_rows_of(registry, user_id: str) -> dict[str, int]:
    out = {}
    with superuser_connect("warehouse", "data_warehouse") as conn:
        for table in registry.user_linked_tables():
            out[table.key] = conn.execute(
                f"SELECT count(*) FROM raw.{table.raw_table} WHERE {table.user_column} = %s",
                (int(user_id),),
            ).fetchone()[0]
    return out


def request_row(request_id: str) -> dict:
    with superuser_connect("compliance", "compliance") as conn:
        row = conn.execute(
            "SELECT status, subject_ref, subject_sealed IS NOT NULL, cascaded_at, closed_at"
            " FROM compliance.rtbf_request WHERE request_id = %s",
            (request_id,),
        ).fetchone()
    return dict(zip(("status", "subject_ref", "sealed", "cascaded_at", "closed_at"), row, strict=True))


def evidence_of(request_id: str, run_id: str | None = None) -> list[dict]:
    rows = rtbf.evidence(_links(), request_id)
    return [r for r in rows if run_id is None or r["run_id"] == run_id]


def scan(subject: dict):
    needles = rtbf.needles_for(_links(), subject["user_id"], subject["identifiers"])
    return rtbf.zero_residual_scan(_links(), {"check": needles})


def agg_days_total(days: list[str]) -> int:
    with superuser_connect("warehouse", "data_warehouse") as conn:
        return conn.execute(
            "SELECT coalesce(sum(user_count), 0) FROM marts.agg_revenue_daily_app_country"
            " WHERE revenue_date = ANY(%s::date[])",
            (days,),
        ).fetchone()[0]


def revenue_days_of(subject: dict) -> list[str]:
    with superuser_connect("warehouse", "data_warehouse") as conn:
        return [
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT event_date::text FROM intermediate.int_revenue_events"
                " WHERE user_hash = compliance.hash_user(%s::text)",
                (subject["user_id"],),
            )
        ]


# --------------------------------------------------------------------------- the cascade


def test_cascade_removes_the_user_from_every_layer_with_evidence(world, cascade_dag, registry):
    subject = world["main"]
    before = raw_rows_of(registry, subject["user_id"])
    assert all(count >= 1 for count in before.values()), before  # present in every user-linked table
    days = revenue_days_of(subject)
    assert days, "the subject has revenue events"
    agg_before = agg_days_total(days)
    assert not scan(subject).clean  # the scan sees them before

    with superuser_connect("warehouse", "data_warehouse") as conn:
        started = conn.execute("SELECT clock_timestamp()").fetchone()[0]
    run = cascade_dag.test(run_conf=conf(subject, MAIN))
    assert run.state == "success"

    # nothing dbt requires a value in was blanked (a shared card's taps name the subject's device
    # pseudonym in int_transit_taps_anon.card_hash): the not_null tests of every model still pass
    not_null = run_dbt(["test", "--select", "test_name:not_null"])
    assert not_null.ok, not_null.output[-3000:]

    # gone from raw (every registry table), and the zero-residual scan of every table is clean
    assert set(raw_rows_of(registry, subject["user_id"]).values()) == {0}
    with superuser_connect("warehouse", "data_warehouse") as conn:
        merchant = conn.execute(
            "SELECT merchant_user_id FROM raw.sdpkt_db__payments WHERE id = %s", (subject["merchant_payment"],)
        ).fetchall()
    assert merchant == [(None,)], "the payer's payment stays in raw, the forgotten merchant's id blanked"
    result = scan(subject)
    assert result.clean, (result.hits, result.unreadable)
    assert result.tables_scanned > 80
    with superuser_connect("warehouse", "data_warehouse") as conn:
        assert (
            conn.execute(
                "SELECT count(*) FROM ml.rtbf_probe_features WHERE user_hash = compliance.hash_user(%s::text)",
                (subject["user_id"],),
            ).fetchone()[0]
            == 0
        )
        assert conn.execute("SELECT count(*) FROM ml.rtbf_probe_features").fetchone()[0] > 0  # others kept
        notes = dict(conn.execute("SELECT note, count(contact_token) FROM analytics.rtbf_probe_contacts GROUP BY note"))
        assert notes["kept"] >= 1
    with superuser_connect("compliance", "compliance") as conn:
        vault = conn.execute(
            "SELECT count(*) FROM compliance.token_vault WHERE token = ANY(%s)", (subject["tokens"],)
        ).fetchone()[0]
        assert vault == 0
    with superuser_connect("primary", "analytics_db") as conn:
        assert (
            conn.execute(
                f"SELECT count(*) FROM {'.'.join(PUSHBACK_TABLE)} WHERE user_id = %s", (int(subject["user_id"]),)
            ).fetchone()[0]
            == 0
        )
    # the other user's contact that named the subject's phone was blanked, not deleted
    with superuser_connect("warehouse", "data_warehouse") as conn:
        phone_variants = rtbf.phone_variants(subject["identifiers"]["phone"][0])
        assert (
            conn.execute(
                "SELECT count(*) FROM raw.txtme_db__contacts WHERE phone = ANY(%s)", (phone_variants,)
            ).fetchone()[0]
            == 0
        )

    # evidence per layer and table, with the run
    rows = evidence_of(MAIN, run.run_id)
    removed = {(r["layer"], r["target"].split("(")[0]) for r in rows if r["rows_affected"] > 0}
    for table in registry.user_linked_tables():
        assert ("raw", f"raw.{table.raw_table}") in removed, table.key
    layers = {layer for layer, _target in removed}
    assert {"raw", "intermediate", "marts", "ml", "analytics", "pushback", "vault", "aggregate"} <= layers
    # the aggregates that counted them were recomputed for those days (and k-anonymity held: the
    # recompute runs the models' tests; checked again here)
    assert agg_days_total(days) < agg_before
    with superuser_connect("warehouse", "data_warehouse") as conn:
        k_tests = conn.execute(
            "SELECT model_name, status FROM dbt_artifacts.test_results WHERE test_type = 'k_anonymity'"
            " AND completed_at > %s AND model_name = ANY(%s) ORDER BY completed_at DESC",
            (started, ["agg_revenue_daily_app_country", "dim_user_360_anon"]),
        ).fetchall()
    assert {m for m, _s in k_tests} >= {"agg_revenue_daily_app_country", "dim_user_360_anon"}
    assert {s for _m, s in k_tests} == {"pass"}

    # closing record, confirmation for the app team, sealed subject wiped; nothing identifies the user
    req = request_row(MAIN)
    assert req["status"] == "closed" and not req["sealed"] and req["closed_at"]
    with superuser_connect("compliance", "compliance") as conn:
        completion = conn.execute(
            "SELECT user_ref, evidence FROM compliance.deletion_completion WHERE request_id = %s", (MAIN,)
        ).fetchone()
        assert completion[0] == req["subject_ref"] and completion[1]["rows_removed"] > 0
        assert conn.execute(
            "SELECT status FROM compliance.rtbf_confirmation_outbox WHERE request_id = %s", (MAIN,)
        ).fetchone() == ("pending",)
        dump = json.dumps(
            [
                list(row)
                for table in (
                    "rtbf_tombstone",
                    "rtbf_request",
                    "rtbf_event",
                    "rtbf_evidence",
                    "deletion_completion",
                    "rtbf_confirmation_outbox",
                    "legal_hold",
                )
                for row in conn.execute(f"SELECT t::text FROM compliance.{table} AS t")
            ]
        )
        for table in ("rtbf_tombstone", "rtbf_request", "rtbf_event", "rtbf_evidence", "deletion_completion"):
            # every field but the serial surrogate keys (a counter can reach the same number by chance)
            serials = [
                r[0]
                for r in conn.execute(
                    "SELECT a.attname::text FROM pg_attribute AS a JOIN pg_attrdef AS d"
                    " ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
                    " WHERE a.attrelid = %s::regclass AND pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%%'",
                    (f"compliance.{table}",),
                )
            ]
            as_field = conn.execute(
                f"SELECT count(*) FROM compliance.{table} AS t, jsonb_each_text(to_jsonb(t) - %s::text[]) AS f"
                " WHERE f.value = %s",
                (serials, subject["user_id"]),
            ).fetchone()[0]
            assert as_field == 0, f"the user id is a field of compliance.{table}"
    plain = [subject["user_id"], *(v for vs in subject["identifiers"].values() for v in vs)]
    unkeyed = [hashlib.sha256(v.encode()).hexdigest() for v in plain]
    for value in [*(v for v in plain if len(v) > 4), *unkeyed]:
        assert value not in dump
    assert req["subject_ref"] not in unkeyed  # keyed, not a plain hash of the id


def test_a_second_run_finds_nothing_and_records_that(world, cascade_dag):
    run = cascade_dag.test(run_conf=conf(world["main"], MAIN))
    assert run.state == "success"
    rows = evidence_of(MAIN, run.run_id)
    assert rows and all(r["rows_affected"] == 0 for r in rows if r["action"] in ("deleted", "redacted"))
    assert request_row(MAIN)["status"] == "closed"
    with superuser_connect("compliance", "compliance") as conn:
        events = [
            r[0]
            for r in conn.execute(
                "SELECT event FROM compliance.rtbf_event WHERE request_id = %s AND run_id = %s ORDER BY at",
                (MAIN, run.run_id),
            )
        ]
    assert events[0] == "reopened_for_verification" and events[-1] == "closed"


def test_a_request_id_is_never_reused_for_another_user(world, cascade_dag):
    run = cascade_dag.test(run_conf=conf(world["crash"], MAIN))
    assert run.state == "failed"
    assert request_row(MAIN)["status"] == "closed"


def test_the_scan_waits_for_a_pii_sample_taken_before_it_and_scans_a_leftover(world):
    """A dbt invocation that sampled raw before the cascade holds the user's email in its PII guard
    sample (pii_guard) until it ends: the scan waits for it instead of paging; a sample that stays
    (a killed invocation's) is scanned like any table and its copy is a residual."""
    import threading

    subject = world["main"]
    name = "needles_" + (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y%m%d%H%M%S") + "_" + uuid.uuid4().hex

    def plant() -> None:
        with superuser_connect("warehouse", "data_warehouse") as conn:
            conn.execute("SET ROLE dbt_writer")  # as dbt creates it
            conn.execute(
                f"CREATE UNLOGGED TABLE pii_guard.{name} AS SELECT 'email'::text AS match, %s::text AS needle",
                (subject["identifiers"]["email"][0],),
            )

    def drop() -> None:
        with superuser_connect("warehouse", "data_warehouse") as conn:
            conn.execute(f"DROP TABLE IF EXISTS pii_guard.{name}")

    needles = {"check": rtbf.needles_for(_links(), subject["user_id"], subject["identifiers"])}
    plant()
    try:
        threading.Timer(3, drop).start()  # the invocation ends and drops its sample
        started = time.monotonic()
        result = rtbf.zero_residual_scan(_links(), needles, sample_wait_seconds=120)
        assert result.clean, (result.hits, result.unreadable)
        assert time.monotonic() - started >= 3
        plant()  # this one is never dropped
        result = rtbf.zero_residual_scan(_links(), needles, sample_wait_seconds=2)
        assert [h["table"] for h in result.hits] == [f"pii_guard.{name}"]
    finally:
        drop()


def test_the_user_never_comes_back(world, registry):
    """The app still holds their rows and keeps writing: more extracts, a transform run and a
    full refresh later they are still absent everywhere."""
    from tools.pipeline import extract_all

    subject = world["main"]
    uid = int(subject["user_id"])
    with superuser_connect("primary", "ledger_db") as conn:  # new activity of the forgotten user
        conn.execute("UPDATE transactions SET updated_at = now() WHERE user_id = %s", (uid,))
        # a row raw holds under another user is given to them
        (given,) = conn.execute(
            "UPDATE transactions SET user_id = %s, updated_at = now()"
            " WHERE id = (SELECT min(id) FROM transactions WHERE user_id <> %s) RETURNING id",
            (uid, uid),
        ).fetchone()
    with superuser_connect("primary", "txtme_db") as conn:  # someone else saves their number again
        conn.execute(
            "UPDATE contacts SET phone = %s, updated_at = now() WHERE id = (SELECT max(id) FROM contacts WHERE owner_user_id <> %s)",
            (subject["identifiers"]["phone"][0], uid),
        )
    # other users' rows that point at them without being theirs (raw keeps these rows): a payment
    # to them as a merchant, their transit card tapped without a known user
    with superuser_connect("primary", "sdpkt_db") as conn:
        (payment,) = conn.execute(
            "UPDATE payments SET merchant_user_id = %s, updated_at = now()"
            " WHERE id = (SELECT max(id) FROM payments WHERE user_id <> %s) RETURNING id",
            (uid, uid),
        ).fetchone()
    with superuser_connect("primary", "transit_db") as conn:
        (card,) = conn.execute("SELECT min(card_uid) FROM taps WHERE user_id = %s", (uid,)).fetchone()
        assert card, "the subject was given a tap"
        conn.execute(
            "UPDATE taps SET user_id = NULL, card_uid = %s, updated_at = now()"
            " WHERE id = (SELECT max(id) FROM taps WHERE user_id <> %s)",
            (card, uid),
        )
    from tools import topology

    topology.wait_for_replica()
    extract_all(registry)
    assert set(raw_rows_of(registry, subject["user_id"]).values()) == {0}
    with superuser_connect("warehouse", "data_warehouse") as conn:  # nor its old copy, under its old owner
        assert (
            conn.execute("SELECT count(*) FROM raw.ledger_db__transactions WHERE id = %s", (given,)).fetchone()[0] == 0
        )
    # the transform run and the full refresh of everything built from the tables the app wrote the
    # user into again (every other raw table is already asserted free of them just above)
    touched = [
        f"source:{source}.{source}__{table}+"
        for source, table in [
            ("ledger_db", "transactions"),
            ("txtme_db", "contacts"),
            ("sdpkt_db", "payments"),
            ("transit_db", "taps"),
        ]
    ]
    incremental = run_dbt(["run", "--select", *touched])
    assert incremental.ok, incremental.output[-3000:]
    full = run_dbt(["run", "--full-refresh", "--select", *touched])
    assert full.ok, full.output[-3000:]
    assert "fct_ledger_transactions_anon" in full.output  # the mart the new activity feeds was rebuilt
    # their pseudonyms (user, email, phone, SA ID, and their card's device pseudonym) are nowhere
    result = scan({**subject, "identifiers": {**subject["identifiers"], "device_id": [card]}})
    assert result.clean, (result.hits, result.unreadable)
    with superuser_connect("warehouse", "data_warehouse") as conn:
        landed = conn.execute(
            "SELECT merchant_user_id FROM raw.sdpkt_db__payments WHERE id = %s", (payment,)
        ).fetchall()
        assert landed == [(None,)], "raw keeps the payer's payment, the forgotten merchant's id blanked on the way in"
        kept = conn.execute(
            "SELECT count(*) FROM intermediate.int_sdpkt_payments_anon WHERE payment_id = %s", (payment,)
        ).fetchone()[0]
    assert kept == 0, "a payment needs its merchant's pseudonym: the one to a forgotten merchant is dropped"


def test_reconcile_does_not_report_what_the_tombstones_withhold(world, registry):
    """The app still holds the forgotten user's rows and another user's contact still names their
    phone: raw never will (the extract drops / blanks them), so reconcile must not page for it every
    night. A real difference in another row of the same key range still is reported."""
    from dataacuity import connections
    from dataacuity.reconcile import reconcile_table
    from tools import topology

    uid = int(world["main"]["user_id"])
    with superuser_connect("primary", "ledger_db") as conn:
        (user_row, user_rows) = conn.execute(
            "SELECT min(id), count(*) FROM transactions WHERE user_id = %s", (uid,)
        ).fetchone()
        (other_row,) = conn.execute(
            "SELECT min(id) FROM transactions WHERE user_id <> %s AND id / 10000 = %s / 10000", (uid, user_row)
        ).fetchone()
    assert user_row is not None and other_row is not None
    topology.wait_for_replica()

    def reconcile(source_db: str, table: str, run_id: str):
        return reconcile_table(
            registry.table(source_db, table),
            connections.connector(connections.REPLICA, dbname=source_db),
            connections.connector(connections.WAREHOUSE_ETL),
            run_id,
        )

    def recorded(run_id: str) -> list[tuple[str, str, str]]:
        with superuser_connect("warehouse", "data_warehouse") as conn:
            return conn.execute(
                "SELECT bucket, status, detail FROM etl.reconcile_result WHERE run_id = %s ORDER BY bucket", (run_id,)
            ).fetchall()

    # the user's rows (ledger) and the contact naming their phone (txtme): withheld, not differences
    for source_db, table in (("ledger_db", "transactions"), ("txtme_db", "contacts")):
        run_id = str(uuid.uuid4())
        outcome = reconcile(source_db, table, run_id)
        assert outcome.persisting == [] and outcome.error is None, (table, outcome)
        assert outcome.replica_rows == outcome.raw_rows + outcome.withheld_rows, outcome
        # every row of theirs is withheld (other forgotten users' rows may be too); contacts: a value blanked
        assert outcome.withheld_rows >= user_rows or table == "contacts", outcome
        assert any("withheld by RTBF tombstones" in detail for _b, _s, detail in recorded(run_id)), table

    # a row raw cannot hold as the replica does (a trigger rewrites it on every write), next to the
    # forgotten user's row: still persisting, and the bucket is reported
    with superuser_connect("warehouse", "data_warehouse") as conn:
        conn.execute(
            "CREATE FUNCTION pg_temp.corrupt() RETURNS trigger LANGUAGE plpgsql AS"
            f" $$ BEGIN IF NEW.id = {int(other_row)} THEN NEW.description := 'corrupted'; END IF; RETURN NEW; END $$"
        )
        conn.execute(
            "CREATE TRIGGER corrupt BEFORE INSERT OR UPDATE ON raw.ledger_db__transactions"
            " FOR EACH ROW EXECUTE FUNCTION pg_temp.corrupt()"
        )
        try:
            conn.execute("UPDATE raw.ledger_db__transactions SET description = description WHERE id = %s", (other_row,))
            outcome = reconcile("ledger_db", "transactions", str(uuid.uuid4()))
        finally:
            conn.execute("DROP TRIGGER corrupt ON raw.ledger_db__transactions")
    assert outcome.persisting == [str(user_row // 10000)], outcome
    repaired = reconcile("ledger_db", "transactions", str(uuid.uuid4()))  # without the fault: repaired
    assert repaired.persisting == [] and repaired.repaired == [str(user_row // 10000)], repaired


# --------------------------------------------------------------------------- SLA, crash, legal hold


def test_an_aged_request_pages_rtbf_sla_at_risk_without_identifiers(world, webhook, fresh_alertmanager, monkeypatch):
    # an Alertmanager of its own: when an earlier request is still at risk (a failed earlier run on
    # this topology), the session's has paged RTBFSlaAtRisk already and would not page it again
    monkeypatch.setenv("AIRFLOW_CONN_ALERTMANAGER", fresh_alertmanager)
    old = rtbf.RequestInput(AGED, "987654321012", datetime.now(UTC) - timedelta(days=6), "test")
    rtbf.register(_links(), old, "test")
    report = rtbf.check_sla(_links())
    assert AGED in [r["request_id"] for r in report["at_risk"]]
    (page, *_rest) = poll(
        lambda: [p for p in webhook.alerts("/pager", alertname="RTBFSlaAtRisk") if AGED in json.dumps(p)],
        what="an RTBFSlaAtRisk page naming the aged request",
    )
    text = json.dumps(page)
    assert AGED in text
    assert "987654321012" not in text
    for subject in world.values():
        for values in subject["identifiers"].values():
            assert values[0] not in text


def test_a_crash_between_layers_leaves_nothing_unrecorded(world, registry):
    """Killed between raw and the dbt layers: the raw deletions are committed with their journal
    rows. The rerun that completes it is the daily sweep of the next test (one cascade for both)."""
    subject = world["crash"]
    request = rtbf.validate_request(conf(subject, CRASH))
    rtbf.register(_links(), request, "test")
    env = {**os.environ, rtbf.PAUSE_AFTER_LAYER_ENV: "raw", "PYTHONPATH": f"{REPO / 'plugins'}:{REPO}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dataacuity.rtbf", "process", CRASH, "--run-id", "crashed-run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 180
    for line in proc.stdout:
        if "RTBF-PAUSED-AFTER raw" in line:
            break
        assert time.monotonic() < deadline
    os.kill(proc.pid, signal.SIGKILL)  # killed between raw and the dbt layers
    proc.wait()
    assert set(raw_rows_of(registry, subject["user_id"]).values()) == {0}  # raw deletions committed
    with superuser_connect("warehouse", "data_warehouse") as conn:
        unshipped = conn.execute(
            "SELECT count(*), sum(rows_affected) FROM rtbf.erasure_journal WHERE request_id = %s AND shipped_at IS NULL",
            (CRASH,),
        ).fetchone()
    assert unshipped[0] > 0 and unshipped[1] > 0  # journaled with the deletes, not yet evidence

    assert request_row(CRASH)["status"] not in ("cascaded", "closed")
    # the daily sweep (next test) resumes every open request: it completes this one


def test_legal_hold_pauses_and_the_sweep_resumes_after_it_is_lifted(world, cascade_dag, registry):
    """The hold pauses a request; after it is lifted the daily sweep resumes it, and with it the
    request the previous test crashed midway (and every soft-deleted user, and the aged request)."""
    subject = world["hold"]
    hold_id = rtbf.place_hold(
        _links(), subject["user_id"], "CASE-2026-117", "legal (test)", "preservation order in litigation"
    )
    assert hold_id
    run = cascade_dag.test(run_conf=conf(subject, HOLD))
    assert run.state == "success"
    assert request_row(HOLD)["status"] == "held"
    assert all(count >= 1 for count in raw_rows_of(registry, subject["user_id"]).values())  # nothing deleted
    report = rtbf.sla_report(_links())
    assert HOLD in [r["request_id"] for r in report["held"]]
    assert HOLD not in [r["request_id"] for r in report["at_risk"] + report["on_track"]]

    assert rtbf.lift_hold(_links(), subject["user_id"], "legal (test)", "case settled") == [hold_id]
    # the daily run (empty form): soft-deleted users + every open request. dag.test() would reuse
    # the params of the DAG object's last run, so the empty form is passed explicitly.
    sweep = cascade_dag.test(run_conf=dict.fromkeys(("user_id", "request_id", "requested_at", "requested_by")))
    assert sweep.state == "success"
    assert request_row(HOLD)["status"] == "closed"
    assert set(raw_rows_of(registry, subject["user_id"]).values()) == {0}
    with superuser_connect("compliance", "compliance") as conn:
        events = [
            r[0]
            for r in conn.execute(
                "SELECT event FROM compliance.rtbf_event WHERE request_id = %s ORDER BY at, event_id", (HOLD,)
            )
        ]
    assert events[:2] == ["registered", "held"] and "resumed" in events and events[-1] == "closed"
    # the sweep also forgot every user soft-deleted in auth_db
    with superuser_connect("warehouse", "data_warehouse") as conn:
        assert conn.execute("SELECT count(*) FROM raw.auth_db__users WHERE deleted_at IS NOT NULL").fetchone()[0] == 0
    assert request_row(AGED)["status"] == "closed"

    # the crashed request: completed by the sweep, its committed raw deletions recorded as evidence of
    # the run that made them, no journal row left unshipped, and the user gone everywhere
    assert request_row(CRASH)["status"] == "closed"
    crashed = evidence_of(CRASH, "crashed-run")
    assert {r["target"].split("(")[0] for r in crashed if r["layer"] == "raw" and r["rows_affected"]} >= {
        f"raw.{t.raw_table}" for t in registry.user_linked_tables()
    }
    completed = {r["layer"] for r in evidence_of(CRASH, sweep.run_id) if r["rows_affected"]}
    assert {"intermediate", "marts", "vault"} <= completed
    with superuser_connect("warehouse", "data_warehouse") as conn:
        assert conn.execute("SELECT count(*) FROM rtbf.erasure_journal WHERE shipped_at IS NULL").fetchone()[0] == 0
    both = {
        name: rtbf.needles_for(_links(), world[name]["user_id"], world[name]["identifiers"])
        for name in ("crash", "hold")
    }
    result = rtbf.zero_residual_scan(_links(), both)
    assert result.clean, (result.hits, result.unreadable)


def test_the_cascade_deletes_rather_than_blanks_a_column_dbt_requires():
    """Which columns may be blanked comes from the manifest's not_null tests, not a hand list."""
    required = rtbf.not_null_columns()
    assert "card_hash" in required[("intermediate", "int_transit_taps_anon")]
    needles = rtbf.Needles(user_id="42", user_pseudonyms=[], value_pseudonyms=["p" * 64], tokens=["tok_x"])
    args = ("intermediate", "intermediate", "int_transit_taps_anon", ["card_hash", "contact_token"], ["text", "text"])
    blanked = rtbf.derived_steps(*args, needles, frozenset(), "r1")
    assert {s.action for s in blanked} == {"redacted"}
    kept = rtbf.derived_steps(*args, needles, frozenset(), "r1", frozenset({"card_hash", "contact_token"}))
    assert {(s.column, s.action) for s in kept} == {("card_hash", "deleted"), ("contact_token", "deleted")}
