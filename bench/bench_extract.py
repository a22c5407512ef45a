"""Extract benchmarks (issue 3 §5), on generated 1M- and 10M-row tables of 10 columns read from the
hot standby. Every figure is printed next to its baseline from the same run.

(a) the limit: `COPY ... TO STDOUT (FORMAT binary)` piped into `COPY ... FROM STDIN` (psql | psql)
(b) ReplicaExtractOperator's core, initial load into an empty raw table      target (b)/(a) <= 1.3
(c) the same window re-run with no changes; no raw row rewritten             target (c)/(a) <= 2
(d) an incremental window of 10k changed rows on 1M and on 10M rows          target 10M/1M <= 1.5
(e) the peer: dlt 1.31 sql_database, connectorx backend, merge on the key    target (e)/(b) >= 6
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from dataacuity.extract import extract_table
from dataacuity.registry import parse_registry
from tools import topology

BENCH_DB = "bench_db"
REPO = Path(__file__).resolve().parent.parent
PEER_VENV = REPO / ".bench-venv"

REGISTRY = """
sources:
  bench_db:
    app: bench
    tables:
      wide_1m: {kind: event, mode: incremental, cursor: updated_at, primary_key: [id]}
      wide_10m: {kind: event, mode: incremental, cursor: updated_at, primary_key: [id]}
"""

TABLE_DDL = """
CREATE TABLE IF NOT EXISTS {name} (
    id bigint PRIMARY KEY, updated_at timestamptz NOT NULL, amount numeric(18,2),
    first_name text, last_name text, city text, ref uuid, attrs jsonb, active boolean, score integer)
"""
FILL = """
INSERT INTO {name}
SELECT g, now() - interval '180 days' * random(), round((random() * 10000)::numeric, 2),
       'first_' || (g % 5000), 'last_' || (g % 7000), 'city_' || (g % 300), gen_random_uuid(),
       jsonb_build_object('k', g % 10, 'tag', 'x' || (g % 100)), g % 3 = 0, (g % 1000)::int
FROM generate_series({start}, {stop}) g
"""


def _primary(db: str = BENCH_DB):
    return psycopg.connect(topology.dsn("primary", db), autocommit=True)


def _warehouse():
    return psycopg.connect(topology.dsn("warehouse", "data_warehouse"), autocommit=True)


def prepare_source(name: str, rows: int) -> None:
    with _primary("postgres") as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (BENCH_DB,)).fetchone():
            conn.execute(f"CREATE DATABASE {BENCH_DB}")
    with _primary() as conn:
        conn.execute(TABLE_DDL.format(name=name))
        have = conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
        if have != rows:
            conn.execute(f"TRUNCATE {name}")
            step = 1_000_000
            for start in range(1, rows + 1, step):
                conn.execute(FILL.format(name=name, start=start, stop=min(start + step - 1, rows)))
            conn.execute(f"CREATE INDEX IF NOT EXISTS {name}_updated_at ON {name} (updated_at)")
            conn.execute(f"VACUUM ANALYZE {name}")
    topology.wait_for_replica(timeout=600)


def reset_raw(name: str) -> None:
    with _warehouse() as conn:
        conn.execute(f"DROP TABLE IF EXISTS raw.{BENCH_DB}__{name}, raw.bench_limit_{name}")
        conn.execute("DELETE FROM etl.extract_watermark WHERE source_db = %s", (BENCH_DB,))


def _extract(name: str):
    table = parse_registry(REGISTRY).table(BENCH_DB, name)
    started = time.perf_counter()
    summary = extract_table(
        table,
        lambda: psycopg.connect(topology.dsn("replica", BENCH_DB, "etl_reader")),
        lambda: psycopg.connect(topology.dsn("warehouse", "data_warehouse", "etl_user")),
    )
    return time.perf_counter() - started, summary


def measure_limit(name: str) -> float:
    """(a): psql | psql, binary COPY from the standby into a table shaped like raw (same key)."""
    with _warehouse() as conn:
        conn.execute(
            f"CREATE TABLE raw.bench_limit_{name} (LIKE raw.{BENCH_DB}__{name} INCLUDING ALL)"
            if _raw_exists(name)
            else TABLE_DDL.format(name=f"raw.bench_limit_{name}")
        )
        conn.execute(f"TRUNCATE raw.bench_limit_{name}")
    secrets = topology.load_secrets()
    out_env = {**os.environ, "PGPASSWORD": secrets["etl_reader"]}
    in_env = {**os.environ, "PGPASSWORD": secrets["postgres"]}
    psql = str(topology.pg_bindir() / "psql")
    columns = "id, updated_at, amount, first_name, last_name, city, ref, attrs, active, score"
    extra = ", now(), gen_random_uuid()" if _raw_exists(name) else ""
    started = time.perf_counter()
    reader = subprocess.Popen(
        [psql, "-h", "127.0.0.1", "-p", str(topology.port("replica")), "-U", "etl_reader", "-d", BENCH_DB, "-c",
         f"COPY (SELECT {columns}{extra} FROM {name}) TO STDOUT (FORMAT binary)"],
        stdout=subprocess.PIPE, env=out_env,
    )  # fmt: skip
    subprocess.run(
        [psql, "-h", "127.0.0.1", "-p", str(topology.port("warehouse")), "-U", "postgres", "-d", "data_warehouse",
         "-c", f"COPY raw.bench_limit_{name} FROM STDIN (FORMAT binary)"],
        stdin=reader.stdout, env=in_env, check=True, capture_output=True,
    )  # fmt: skip
    reader.wait()
    return time.perf_counter() - started


def _raw_exists(name: str) -> bool:
    with _warehouse() as conn:
        return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"raw.{BENCH_DB}__{name}",)).fetchone()[0]


def _xmin_fingerprint(name: str) -> str:
    with _warehouse() as conn:
        return conn.execute(
            f"SELECT md5(string_agg(xmin::text, ',' ORDER BY id)) FROM raw.{BENCH_DB}__{name}"
        ).fetchone()[0]


def change_rows(name: str, count: int) -> None:
    with _primary() as conn:
        conn.execute(
            f"UPDATE {name} SET amount = amount + 1, updated_at = now()"
            f" WHERE id IN (SELECT (random() * (SELECT max(id) FROM {name}))::bigint + 1 FROM generate_series(1, %s))",
            (count,),
        )
    topology.wait_for_replica(timeout=120)


def measure_peer(name: str) -> float | None:
    """(e): dlt sql_database (connectorx backend) with merge, in its own venv; None if absent."""
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        return None
    secrets = topology.load_secrets()
    env = {
        **os.environ,
        "SOURCE_URL": f"postgresql://etl_reader:{secrets['etl_reader']}@127.0.0.1:{topology.port('replica')}/{BENCH_DB}",
        "DEST_URL": f"postgresql://postgres:{secrets['postgres']}@127.0.0.1:{topology.port('warehouse')}/data_warehouse",
        "TABLE": name,
    }
    with _warehouse() as conn:
        conn.execute("DROP SCHEMA IF EXISTS bench_dlt CASCADE")
        conn.execute("DROP SCHEMA IF EXISTS bench_dlt_staging CASCADE")
    started = time.perf_counter()
    subprocess.run([str(python), str(REPO / "bench" / "peer_dlt.py")], env=env, check=True, cwd="/tmp")
    return time.perf_counter() - started


def run(with_10m: bool = True) -> list[dict]:
    figures = []
    prepare_source("wide_1m", 1_000_000)
    reset_raw("wide_1m")
    b, summary = _extract("wide_1m")
    assert summary.rows_inserted == 1_000_000, summary.as_dict()
    a = measure_limit("wide_1m")
    figures.append(_figure("extract (a) limit: psql COPY binary pipe, 1M x 10", a, None, None, "s"))
    figures.append(_figure("extract (b) initial load, 1M x 10 (vs a)", b, a, 1.3, "s"))
    fingerprint = _xmin_fingerprint("wide_1m")
    with _warehouse() as conn:
        conn.execute("DELETE FROM etl.extract_watermark WHERE source_db = %s", (BENCH_DB,))
    c, summary = _extract("wide_1m")
    assert (summary.rows_inserted, summary.rows_updated) == (0, 0), summary.as_dict()
    rewritten = _xmin_fingerprint("wide_1m") != fingerprint
    figures.append(_figure("extract (c) same window re-run, no changes (vs a)", c, a, 2.0, "s",
                           note=f"rows rewritten: {'YES' if rewritten else 'none (xmin unchanged)'}"))  # fmt: skip
    change_rows("wide_1m", 10_000)
    d1, summary = _extract("wide_1m")
    if with_10m:
        prepare_source("wide_10m", 10_000_000)
        reset_raw("wide_10m")
        _extract("wide_10m")
        change_rows("wide_10m", 10_000)
        d10, _ = _extract("wide_10m")
        figures.append(_figure("extract (d) 10k changed rows: 1M base", d1, None, None, "s"))
        figures.append(_figure("extract (d) 10k changed rows: 10M base (vs 1M)", d10, d1, 1.5, "s"))
    e = measure_peer("wide_1m")
    if e is not None:
        figures.append(_figure("extract (e) peer dlt+connectorx merge, 1M (b vs e)", e, b, None, "s",
                               inverse_target=6.0))  # fmt: skip
    return figures


def _figure(name, value, baseline, target, unit, note="", inverse_target=None) -> dict:
    ratio = value / baseline if baseline else None
    if inverse_target is not None:  # the peer: we want baseline (ours) to be this many times faster
        ratio = value / baseline
        ok = ratio >= inverse_target
        target_text = f">= {inverse_target}"
    else:
        ok = None if target is None else ratio <= target
        target_text = "" if target is None else f"<= {target}"
    return {
        "name": name,
        "value": round(value, 3),
        "unit": unit,
        "baseline": None if baseline is None else round(baseline, 3),
        "ratio": None if ratio is None else round(ratio, 2),
        "target": target_text,
        "meets_target": ok,
        "note": note,
    }


if __name__ == "__main__":
    for f in run(with_10m="--no-10m" not in sys.argv):
        print(f)
