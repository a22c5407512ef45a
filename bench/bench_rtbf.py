"""Right-to-be-forgotten benchmark (issue 9), as figures for `make bench`.

One user through every layer (rtbf.cascade_many: tombstone, raw, staging .. marts / ml /
analytics, push-back, vault, evidence) while the warehouse holds large user-linked tables of N
rows: raw.bench_rtbf__events (registry table of a bench registry, user_id indexed by the extract's
rule), intermediate.bench_rtbf_events_anon and marts.bench_rtbf_fct (user_hash indexed by the
dbt post-hook's rule). Targets: N = 1M under 60 s; 10M vs 1M <= 1.5 (deletes go by index).
The zero-residual scan reads every table by design (its cost follows the warehouse size) and is
reported separately. The bench tables are dropped afterwards.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from bench import figure
from dataacuity import rtbf
from dataacuity.registry import load_registry
from tools import topology

USER_ID = 1_900_000_001  # never a real user
ROWS_PER_USER = 25
REGISTRY = """
sources:
  bench_rtbf:
    app: bench
    tables:
      events:
        kind: event
        mode: incremental
        cursor: updated_at
        primary_key: [id]
        user_column: user_id
        pii: {email: email}
"""


def _su():
    return psycopg.connect(topology.dsn("warehouse", "data_warehouse"), autocommit=True)


def _build(rows: int) -> None:
    users = max(rows // ROWS_PER_USER, 1)
    with _su() as conn:
        _drop(conn)
        conn.execute("SET ROLE etl_writer")
        conn.execute(
            # user ids far above any real one: the bench never touches (or is scanned as) a real user
            "CREATE TABLE raw.bench_rtbf__events AS SELECT g AS id, 2000000000 + (g %% %s) AS user_id,"
            " 'u' || ((g %% %s) + 1) || '@bench.invalid' AS email, now() AS updated_at, now() AS _extracted_at"
            " FROM generate_series(1, %s) AS g",
            (users, users, rows),
        )
        conn.execute(
            "UPDATE raw.bench_rtbf__events SET user_id = %s, email = 'forget.me@bench.invalid' WHERE id <= %s",
            (USER_ID, ROWS_PER_USER),
        )
        conn.execute("ALTER TABLE raw.bench_rtbf__events ADD PRIMARY KEY (id)")
        # the indexes the extract builds for erasure (extract/core.py _erasure_indexes)
        conn.execute("CREATE INDEX ON raw.bench_rtbf__events (user_id)")
        conn.execute("CREATE INDEX ON raw.bench_rtbf__events (email)")
        conn.execute("RESET ROLE")
        conn.execute("SET ROLE dbt_writer")
        pseudonym = conn.execute("SELECT compliance.hash_user(%s::text)", (str(USER_ID),)).fetchone()[0]
        conn.execute(
            "CREATE TABLE intermediate.bench_rtbf_events_anon AS SELECT id AS event_id,"
            " CASE WHEN id <= %s THEN %s ELSE md5(user_id::text) || md5(user_id::text) END AS user_hash,"
            " _extracted_at FROM raw.bench_rtbf__events",
            (ROWS_PER_USER, pseudonym),
        )
        conn.execute("CREATE INDEX ON intermediate.bench_rtbf_events_anon (user_hash)")
        conn.execute("CREATE TABLE marts.bench_rtbf_fct AS SELECT * FROM intermediate.bench_rtbf_events_anon")
        conn.execute("CREATE INDEX ON marts.bench_rtbf_fct (user_hash)")
        conn.execute("ANALYZE raw.bench_rtbf__events")
        conn.execute("ANALYZE intermediate.bench_rtbf_events_anon")
        conn.execute("ANALYZE marts.bench_rtbf_fct")


def _drop(conn) -> None:
    conn.execute(
        "DROP TABLE IF EXISTS raw.bench_rtbf__events, intermediate.bench_rtbf_events_anon, marts.bench_rtbf_fct"
    )


def bench_one_user(rows: int, registry) -> dict[str, float]:
    _build(rows)
    links = rtbf.Links.from_airflow()
    request_id = f"BENCH-{uuid.uuid4().hex[:12]}"
    rtbf.register(links, rtbf.RequestInput(request_id, str(USER_ID), datetime.now(UTC), "bench"), "bench")
    started = time.monotonic()
    (outcome,) = rtbf.cascade_many(links, [request_id], "bench", registry)
    cascade_s = time.monotonic() - started
    started = time.monotonic()
    rtbf.verify_many(links, [request_id], "bench", registry)
    scan_s = time.monotonic() - started
    rtbf.close(links, request_id, "bench")
    with _su() as conn:
        _drop(conn)
    assert outcome.rows_removed >= 3 * ROWS_PER_USER, outcome
    return {"cascade_s": cascade_s, "scan_s": scan_s, "rows_removed": outcome.rows_removed}


def run(with_10m: bool = True) -> list[dict]:
    os.environ.update(topology.connection_env())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sources.yml"
        path.write_text(REGISTRY)
        registry = load_registry(path)
        one = bench_one_user(1_000_000, registry)
        figures = [
            figure(
                "rtbf: one user through every layer, 1M-row tables",
                one["cascade_s"],
                60.0,
                "< 60 s",
                one["cascade_s"] < 60,
                note=f"{one['rows_removed']} rows removed; zero-residual scan of every table {one['scan_s']:.1f} s",
            )
        ]
        if with_10m:
            ten = bench_one_user(10_000_000, registry)
            figures.append(
                figure(
                    "rtbf: same, 10M-row tables vs 1M-row tables",
                    ten["cascade_s"],
                    one["cascade_s"],
                    "<= 1.5",
                    ten["cascade_s"] / one["cascade_s"] <= 1.5,
                    note=f"zero-residual scan {ten['scan_s']:.1f} s (reads every table by design)",
                )
            )
    return figures


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(with_10m="--quick" not in sys.argv), indent=2))
