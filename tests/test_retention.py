"""Retention (issue 9): raw rows past their table's retention_days are deleted in bounded batches,
rows of users under legal hold are kept, and every batch is in compliance.governance_log."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from dataacuity import retention, rtbf
from dataacuity.registry import RegistryError, parse_registry
from tests.conftest import superuser_connect

REGISTRY = """
sources:
  retention_lab:
    app: lab
    tables:
      events:
        kind: event
        mode: incremental
        cursor: updated_at
        event_time: created_at
        primary_key: [id]
        user_column: user_id
        retention_days: 30
      profiles:
        kind: dimension
        mode: incremental
        cursor: updated_at
        primary_key: [id]
"""


def test_retention_defaults_per_kind_and_rejects_bad_values():
    registry = parse_registry(REGISTRY)
    assert registry.table("retention_lab", "events").retention_days == 30
    assert registry.table("retention_lab", "profiles").retention_days == 1825  # dimension default
    assert registry.table("retention_lab", "profiles").retention_column == "updated_at"
    with pytest.raises(RegistryError, match=r"retention_days.*positive integer \(days\)"):
        parse_registry(REGISTRY.replace("retention_days: 30", "retention_days: -1"), "lab.yml")


@pytest.fixture
def lab(topology):
    with superuser_connect("warehouse", "data_warehouse") as conn:
        conn.execute("SET ROLE etl_writer")
        conn.execute("DROP TABLE IF EXISTS raw.retention_lab__events")
        conn.execute(
            "CREATE TABLE raw.retention_lab__events AS SELECT g AS id, 800000000 + g % 4 AS user_id,"
            " now() - (g || ' days')::interval AS created_at, now() AS updated_at FROM generate_series(1, 100) AS g"
        )
        conn.execute("ALTER TABLE raw.retention_lab__events ADD PRIMARY KEY (id)")
    yield
    with superuser_connect("warehouse", "data_warehouse") as conn:
        conn.execute("DROP TABLE IF EXISTS raw.retention_lab__events")


def test_rows_past_retention_go_in_batches_and_held_users_stay(lab):
    links = rtbf.Links.from_airflow()
    held_user = "800000001"
    hold = rtbf.place_hold(links, held_user, "CASE-RET-1", "legal (test)", "retention must keep this user")
    run_id = f"retention-test-{uuid.uuid4().hex[:8]}"
    try:
        summary = retention.enforce(
            retention.Links.from_airflow(), run_id, parse_registry(REGISTRY), batch_rows=7, now=datetime.now(UTC)
        )
    finally:
        rtbf.lift_hold(links, held_user, "legal (test)", "test over")
    with superuser_connect("warehouse", "data_warehouse") as conn:
        left = conn.execute(
            "SELECT count(*) FILTER (WHERE created_at < now() - interval '30 days' AND user_id <> 800000001),"
            " count(*) FILTER (WHERE created_at < now() - interval '30 days' AND user_id = 800000001),"
            " count(*) FILTER (WHERE created_at >= now() - interval '30 days') FROM raw.retention_lab__events"
        ).fetchone()
    assert left[0] == 0  # past retention: gone
    assert left[1] == 17  # the held user's old rows (ids 30..100 with id % 4 = 1) are kept
    assert left[2] == 29  # within retention: untouched
    (table_summary,) = summary
    assert table_summary["rows_deleted"] == 54 and table_summary["batches"] == 8
    with superuser_connect("compliance", "compliance") as conn:
        logged = conn.execute(
            "SELECT count(*), sum(rows_affected), bool_and(details ->> 'legal_holds_kept' = 'true')"
            " FROM compliance.governance_log WHERE run_id = %s AND target = 'raw.retention_lab__events'",
            (run_id,),
        ).fetchone()
    assert logged == (8, 54, True)
    assert hold
