"""ReplicaExtractOperator's core against the real topology: primary -> hot standby -> warehouse."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from psycopg import errors, sql

from dataacuity.extract import core
from dataacuity.extract.core import (
    NotAReplicaError,
    SchemaDriftError,
    extract_table,
)
from dataacuity.kill_switch import WritesRefusedError
from dataacuity.registry import parse_registry
from tests.conftest import drop_lab_source, superuser_connect

LAB_DB = "extract_lab"

REGISTRY_YAML = """
sources:
  extract_lab:
    app: lab
    tables:
      events:
        kind: event
        mode: incremental
        cursor: updated_at
        primary_key: [id]
        lookback_minutes: 10
      exotic:
        kind: event
        mode: incremental
        cursor: "Updated At"
        primary_key: ["Order"]
      dim_snapshot:
        kind: dimension
        mode: snapshot
        primary_key: [code]
      drift:
        kind: event
        mode: incremental
        cursor: updated_at
        primary_key: [id]
"""

PRIMARY_REGISTRY_YAML = REGISTRY_YAML.replace("app: lab", "app: lab\n    server: primary")


def lab_table(name: str, yaml_text: str = REGISTRY_YAML):
    return parse_registry(yaml_text).table(LAB_DB, name)


@pytest.fixture(scope="module")
def lab(topology):
    """The lab source database; at teardown it, its raw tables (raw.extract_lab__events holds user
    ids 0..96, real users' ids too) and its bookkeeping are gone."""
    drop_lab_source(LAB_DB)
    with superuser_connect("primary", "postgres") as conn:
        conn.execute(f"CREATE DATABASE {LAB_DB}")
    yield topology
    drop_lab_source(LAB_DB)


@pytest.fixture
def primary(lab):
    with superuser_connect("primary", LAB_DB) as conn:
        yield conn


@pytest.fixture
def fresh(primary, warehouse_su):
    """Empty lab tables at source, no raw tables, no watermarks."""
    primary.execute("DROP TABLE IF EXISTS events, exotic, dim_snapshot, drift CASCADE")
    primary.execute("DROP TYPE IF EXISTS mood")
    for name in ("events", "exotic", "dim_snapshot", "drift"):
        warehouse_su.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier("raw", f"{LAB_DB}__{name}")))
    warehouse_su.execute("DELETE FROM etl.extract_watermark WHERE source_db = %s", (LAB_DB,))
    primary.execute(
        "CREATE TABLE events (id bigint PRIMARY KEY, user_id bigint, amount numeric(18,2), note text,"
        " updated_at timestamptz NOT NULL DEFAULT now())"
    )
    return primary


def replica_connector(lab, db=LAB_DB):
    return lambda: psycopg.connect(lab.dsn("replica", db, "etl_reader"))


def warehouse_connector(lab):
    return lambda: psycopg.connect(lab.dsn("warehouse", "data_warehouse", "etl_user"))


def run_extract(lab, table, **kwargs):
    lab.wait_for_replica()
    return extract_table(table, replica_connector(lab), warehouse_connector(lab), **kwargs)


def insert_events(conn, first: int, count: int, age: str = "1 hour") -> None:
    # user ids far above any real one: `user_id` holds an auth_db user id wherever it appears, so the
    # extract would blank one that a right-to-be-forgotten test tombstoned earlier in the session
    conn.execute(
        "INSERT INTO events (id, user_id, amount, note, updated_at)"
        " SELECT g, 8000000000 + g %% 97, (g %% 1000) / 10.0, 'row ' || g, now() - %s::interval"
        " FROM generate_series(%s::bigint, %s::bigint) g",
        (age, first, first + count - 1),
    )


def raw_rows(warehouse_su, name: str, columns: str = "id, user_id, amount, note"):
    return warehouse_su.execute(
        sql.SQL("SELECT {} FROM {} ORDER BY 1").format(sql.SQL(columns), sql.Identifier("raw", f"{LAB_DB}__{name}"))
    ).fetchall()


def test_initial_load_lands_every_row_with_audit_columns(lab, fresh, warehouse_su):
    insert_events(fresh, 1, 500)
    summary = run_extract(lab, lab_table("events"))
    assert summary.rows_inserted == 500
    rows = warehouse_su.execute(
        "SELECT count(*), count(DISTINCT _extract_batch_id), min(_extracted_at) IS NOT NULL"
        " FROM raw.extract_lab__events"
    ).fetchone()
    assert rows == (500, 1, True)
    logged = warehouse_su.execute(
        "SELECT status, rows_read, rows_inserted FROM etl.extract_batch WHERE batch_id = %s",
        (summary.batches[0].batch_id,),
    ).fetchone()
    assert logged == ("success", 500, 500)


def test_rerun_is_idempotent_and_rewrites_nothing(lab, fresh, warehouse_su):
    insert_events(fresh, 1, 300, age="2 minutes")
    run_extract(lab, lab_table("events"))
    before = warehouse_su.execute("SELECT id, xmin::text FROM raw.extract_lab__events ORDER BY id").fetchall()
    again = run_extract(lab, lab_table("events"))
    after = warehouse_su.execute("SELECT id, xmin::text FROM raw.extract_lab__events ORDER BY id").fetchall()
    assert again.rows_read == 300  # the look-back window re-read them...
    assert (again.rows_inserted, again.rows_updated) == (0, 0)  # ...and changed nothing
    assert before == after  # same xmin: no row rewritten


def test_changed_rows_are_updated_new_rows_inserted(lab, fresh, warehouse_su):
    insert_events(fresh, 1, 100)
    run_extract(lab, lab_table("events"))
    fresh.execute("UPDATE events SET note = 'changed', updated_at = now() WHERE id <= 10")
    insert_events(fresh, 101, 5, age="0 seconds")
    summary = run_extract(lab, lab_table("events"))
    assert (summary.rows_inserted, summary.rows_updated) == (5, 10)
    assert (
        raw_rows(warehouse_su, "events")
        == fresh.execute("SELECT id, user_id, amount, note FROM events ORDER BY 1").fetchall()
    )


def test_crash_between_copy_and_merge_leaves_raw_and_watermark_untouched(lab, fresh, warehouse_su, mocker):
    insert_events(fresh, 1, 50)
    run_extract(lab, lab_table("events"))
    watermark = warehouse_su.execute(
        "SELECT cursor_value FROM etl.extract_watermark WHERE source_db = %s AND table_name = 'events'",
        (LAB_DB,),
    ).fetchone()
    fresh.execute("UPDATE events SET note = 'late edit', updated_at = now() WHERE id <= 5")
    insert_events(fresh, 51, 20, age="0 seconds")
    # The process dies after the rows are copied into the stage, before the merge.
    mocker.patch.object(core, "_merge", side_effect=KeyboardInterrupt("worker killed"))
    with pytest.raises(KeyboardInterrupt):
        run_extract(lab, lab_table("events"))
    mocker.stopall()
    assert len(raw_rows(warehouse_su, "events")) == 50
    assert ("late edit",) not in warehouse_su.execute("SELECT note FROM raw.extract_lab__events").fetchall()
    assert (
        warehouse_su.execute(
            "SELECT cursor_value FROM etl.extract_watermark WHERE source_db = %s AND table_name = 'events'",
            (LAB_DB,),
        ).fetchone()
        == watermark
    )
    summary = run_extract(lab, lab_table("events"))
    assert (summary.rows_inserted, summary.rows_updated) == (20, 5)
    assert (
        raw_rows(warehouse_su, "events")
        == fresh.execute("SELECT id, user_id, amount, note FROM events ORDER BY 1").fetchall()
    )


def test_late_committing_transaction_inside_lookback_is_not_lost(lab, fresh, warehouse_su):
    insert_events(fresh, 1, 10)
    run_extract(lab, lab_table("events"))
    with superuser_connect("primary", LAB_DB) as slow:
        slow.autocommit = False
        # Takes its now() (the cursor value) first, commits after a later transaction.
        slow.execute("INSERT INTO events (id, note, updated_at) VALUES (1000, 'slow', now())")
        time.sleep(0.2)
        insert_events(fresh, 11, 1, age="0 seconds")  # commits first, with a later cursor
        run_extract(lab, lab_table("events"))  # watermark moves past the slow row's cursor
        slow.commit()
    run_extract(lab, lab_table("events"))
    notes = {row[0] for row in warehouse_su.execute("SELECT note FROM raw.extract_lab__events")}
    assert "slow" in notes


def test_concurrent_writes_on_primary_during_extract(lab, fresh, warehouse_su):
    insert_events(fresh, 1, 20_000)
    stop = threading.Event()

    def writer():
        next_id = 100_000
        with superuser_connect("primary", LAB_DB) as conn:
            while not stop.is_set():
                insert_events(conn, next_id, 50, age="0 seconds")
                conn.execute(
                    "UPDATE events SET note = 'busy', updated_at = now() WHERE id %% 1000 = %s",
                    (next_id % 7,),
                )
                next_id += 50
                time.sleep(0.01)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(3):
            run_extract(lab, lab_table("events"), chunk_rows=5_000)
    finally:
        stop.set()
        thread.join()
    run_extract(lab, lab_table("events"))
    expected = fresh.execute("SELECT id, user_id, amount, note FROM events ORDER BY 1").fetchall()
    assert raw_rows(warehouse_su, "events") == expected


def test_initial_load_is_chunked_by_key_range(lab, fresh, warehouse_su):
    insert_events(fresh, 1, 1_000)
    summary = run_extract(lab, lab_table("events"), chunk_rows=300)
    assert [b.rows_read for b in summary.batches] == [300, 300, 300, 100]
    assert len(raw_rows(warehouse_su, "events")) == 1_000
    assert (
        warehouse_su.execute(
            "SELECT count(*) FROM etl.extract_watermark WHERE source_db = %s AND table_name = 'events'",
            (LAB_DB,),
        ).fetchone()[0]
        == 1
    )


def test_recovery_conflict_is_retried(lab, fresh, warehouse_su, mocker):
    """SQLSTATE 40001 from the standby cannot be provoked on demand: injected once, then real."""
    insert_events(fresh, 1, 10)
    real_stream = core._stream
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise errors.SerializationFailure("canceling statement due to conflict with recovery")
        return real_stream(*args, **kwargs)

    mocker.patch.object(core, "_stream", side_effect=flaky)
    summary = run_extract(lab, lab_table("events"), backoff_s=0.01)
    assert calls["n"] == 2
    assert summary.rows_inserted == 10


def test_refuses_a_server_that_is_not_in_recovery(lab, fresh):
    def on_primary():
        return psycopg.connect(lab.dsn("primary", LAB_DB, "etl_reader"))

    with pytest.raises(NotAReplicaError, match="not in recovery.*server: primary"):
        extract_table(lab_table("events"), on_primary, warehouse_connector(lab))
    # ...unless the registry marks the source as a primary.
    summary = extract_table(lab_table("events", PRIMARY_REGISTRY_YAML), on_primary, warehouse_connector(lab))
    assert summary.rows_read == 0


def test_snapshot_mode_mirrors_inserts_updates_and_deletes(lab, fresh, warehouse_su):
    fresh.execute("CREATE TABLE dim_snapshot (code text PRIMARY KEY, label text)")
    fresh.execute("INSERT INTO dim_snapshot VALUES ('ZA', 'South Africa'), ('ZW', 'Zimbabwe'), ('BW', 'Botswana')")
    assert run_extract(lab, lab_table("dim_snapshot")).rows_inserted == 3
    fresh.execute("DELETE FROM dim_snapshot WHERE code = 'ZW'")
    fresh.execute("UPDATE dim_snapshot SET label = 'Republic of Botswana' WHERE code = 'BW'")
    fresh.execute("INSERT INTO dim_snapshot VALUES ('NA', 'Namibia')")
    summary = run_extract(lab, lab_table("dim_snapshot"))
    assert (summary.rows_inserted, summary.rows_updated, summary.rows_deleted) == (
        1,
        1,
        1,
    )
    assert raw_rows(warehouse_su, "dim_snapshot", "code, label") == [
        ("BW", "Republic of Botswana"),
        ("NA", "Namibia"),
        ("ZA", "South Africa"),
    ]


def test_schema_drift_new_column_dropped_column_and_incompatible_type(lab, fresh, warehouse_su):
    fresh.execute(
        "CREATE TABLE drift (id bigint PRIMARY KEY, keep text, old_col text, narrow varchar(10),"
        " updated_at timestamptz NOT NULL DEFAULT now())"
    )
    fresh.execute("INSERT INTO drift (id, keep, old_col, narrow) VALUES (1, 'a', 'x', 'n')")
    run_extract(lab, lab_table("drift"))
    # A new column appears, one is dropped, one is widened safely.
    fresh.execute("ALTER TABLE drift ADD COLUMN new_col jsonb, DROP COLUMN old_col")
    fresh.execute("ALTER TABLE drift ALTER COLUMN narrow TYPE varchar(50)")
    fresh.execute("""INSERT INTO drift (id, keep, new_col, narrow) VALUES (2, 'b', '{"k": 1}', 'wider value')""")
    summary = run_extract(lab, lab_table("drift"))
    assert summary.batches[0].columns_added == ["new_col"]
    rows = raw_rows(warehouse_su, "drift", "id, keep, old_col, new_col, narrow")
    assert rows == [(1, "a", "x", None, "n"), (2, "b", None, {"k": 1}, "wider value")]
    # An incompatible change stops this table with a clear error...
    fresh.execute("ALTER TABLE drift ALTER COLUMN keep TYPE integer USING length(keep)")
    with pytest.raises(
        SchemaDriftError,
        match=r"extract_lab.drift: column 'keep' changed type.*text to integer",
    ):
        run_extract(lab, lab_table("drift"))
    # ...while the other tables go on.
    insert_events(fresh, 1, 5)
    assert run_extract(lab, lab_table("events")).rows_inserted == 5


def test_exotic_types_and_identifiers_are_identical_in_raw(lab, fresh, warehouse_su):
    fresh.execute("CREATE TYPE mood AS ENUM ('happy', 'sad', 'ünïcode')")
    fresh.execute(
        """CREATE TABLE exotic (
            "Order" bigint PRIMARY KEY,
            "Mixed Case Col" text,
            "select" integer,
            doc jsonb, amount numeric(30,10), tags text[], nums integer[], blob bytea,
            at timestamptz, uid uuid, feeling mood, flag boolean, plain_json json,
            "Updated At" timestamptz NOT NULL DEFAULT now())"""
    )
    fresh.execute(
        """INSERT INTO exotic VALUES
        (1, 'Sipho Ndlovu — ñ 漢字 🙂', 1, '{"a": [1, 2, {"b": null}]}', 12345678901234567890.0123456789,
         ARRAY['x', 'y z', NULL], ARRAY[1, NULL, 3], '\\x00ff10'::bytea, '2026-03-01 10:00:00+02',
         'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'ünïcode', true, '{"k": "v"}', now() - interval '1 hour'),
        (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, now() - interval '1 hour'),
        (3, '', 0, '[]', -0.5, '{}', '{}', '', 'infinity', gen_random_uuid(), 'sad', false, '[]',
         now() - interval '1 hour')"""
    )
    run_extract(lab, lab_table("exotic"))
    columns = sql.SQL(", ").join(
        sql.Identifier(c)
        for c in (
            "Order",
            "Mixed Case Col",
            "select",
            "doc",
            "amount",
            "tags",
            "nums",
            "blob",
            "at",
            "uid",
            "flag",
        )
    )
    # Bring the source rows into the warehouse (text COPY), then EXCEPT both ways there.
    with warehouse_su.transaction():
        warehouse_su.execute(
            sql.SQL(
                "CREATE TEMP TABLE source_copy ON COMMIT DROP AS"
                " SELECT {}, feeling, plain_json::text AS pj FROM {} LIMIT 0"
            ).format(columns, sql.Identifier("raw", f"{LAB_DB}__exotic"))
        )
        copy_out = sql.SQL("COPY (SELECT {}, feeling::text, plain_json::text FROM exotic) TO STDOUT").format(columns)
        with (
            fresh.cursor().copy(copy_out) as reader,
            warehouse_su.cursor().copy("COPY source_copy FROM STDIN") as w,
        ):
            for data in reader:
                w.write(data)
        raw_select = sql.SQL("SELECT {}, feeling, plain_json::text FROM {}").format(
            columns, sql.Identifier("raw", f"{LAB_DB}__exotic")
        )
        only_raw = warehouse_su.execute(sql.SQL("{} EXCEPT SELECT * FROM source_copy").format(raw_select)).fetchall()
        only_source = warehouse_su.execute(sql.SQL("SELECT * FROM source_copy EXCEPT {}").format(raw_select)).fetchall()
        assert only_raw == [] and only_source == []
        assert warehouse_su.execute("SELECT count(*) FROM source_copy").fetchone()[0] == 3


def test_kill_switch_revoked_writes_fail_fast_and_write_nothing(lab, fresh, warehouse_su):
    insert_events(fresh, 1, 10)
    warehouse_su.execute("REVOKE etl_writer FROM etl_user")
    try:
        with pytest.raises(WritesRefusedError, match="kill switch"):
            run_extract(lab, lab_table("events"))
        assert warehouse_su.execute("SELECT to_regclass('raw.extract_lab__events') IS NULL").fetchone()[0] is True
    finally:
        warehouse_su.execute("GRANT etl_writer TO etl_user")
    assert run_extract(lab, lab_table("events")).rows_inserted == 10
