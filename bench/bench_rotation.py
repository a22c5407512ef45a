"""Salt rotation benchmark (issue 8), as figures for `make bench` (bench/__main__.py calls run()).

1M users in the user-aggregating marts (int_users_anon, dim_user_360_anon and everything upstream
of dim_user_360_anon), in a throwaway database on the warehouse cluster (`bench_rotation_dw`, every
warehouse migration, random bench keys instead of the real salts: .118 is not touched).

(a) baseline: a full `dbt build` (models and their tests) of those models under the active key.
(b) the rotation's warehouse work for the same models: load a pending generation, build the
    shadow relations under it (dbt build with hash_key_state=pending into <schema>__rotation),
    verify them against the live ones, and swap in one transaction (dataacuity.rotation's own
    functions). Target: (b) / (a) <= 1.2. The .118 steps (begin/complete) are a few ms each.
(c) the time analytics is blocked by the swap: from the swap's first lock request to its commit,
    measured while an analyst session queries dim_user_360_anon in a loop; the analyst's slowest
    query during the rotation is reported alongside. Target < 1 s.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import psycopg
from psycopg import sql

from bench import figure
from dataacuity import dbt_runner, rotation
from tools import topology

REPO = Path(__file__).resolve().parents[1]
BENCH_DB = "bench_rotation_dw"
MODELS = ["+dim_user_360_anon"]
FAMILIES = ("user", "device", "ip", "email", "phone", "id_number", "erasure")


def _su(dbname: str):
    return psycopg.connect(topology.dsn("warehouse", dbname), autocommit=True)


def _connect_dbt():
    return psycopg.connect(topology.dsn("warehouse", BENCH_DB, "dbt_runner"))


def _ensure_raw_in_warehouse() -> None:
    """The bench copies raw DDL from data_warehouse: land the sources once if it has none."""
    with _su("data_warehouse") as conn:
        if conn.execute("SELECT to_regclass('raw.auth_db__users') IS NOT NULL").fetchone()[0]:
            return
    from dataacuity.registry import load_registry
    from tools import seed
    from tools.pipeline import extract_all

    registry = load_registry()
    seed.apply_source_schemas(lambda db: topology.dsn("primary", db), registry)
    seed.seed(lambda db: topology.dsn("primary", db), registry, scale=1, seed=42)
    topology.wait_for_replica()
    extract_all(registry)


def _create_bench_database(users: int) -> None:
    _ensure_raw_in_warehouse()
    with _su("postgres") as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(BENCH_DB)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BENCH_DB)))
    with _su(BENCH_DB) as conn:
        for path in sorted((REPO / "include" / "sql" / "warehouse").glob("[0-9][0-9][0-9][0-9]_*.sql")):
            with conn.transaction():
                conn.execute(path.read_text().replace("data_warehouse", BENCH_DB))
        conn.execute("GRANT CONNECT ON DATABASE {} TO dbt_runner".replace("{}", BENCH_DB))
        # random bench keys (never the real salts): same code path, same cost
        conn.execute(
            "INSERT INTO compliance.hash_keys (salt_family, salt_id, salt, source_created_at, status) "
            "SELECT f, 1000 + o, gen_random_bytes(32), now(), 'active' FROM unnest(%s::text[]) WITH ORDINALITY AS u(f, o)",
            (list(FAMILIES),),
        )
    bindir = topology.pg_bindir()
    env = {**os.environ, "PGPASSWORD": topology.load_secrets()["postgres"]}
    common = ["-h", "127.0.0.1", "-p", str(topology.port("warehouse")), "-U", "postgres"]
    ddl = subprocess.run(
        [str(bindir / "pg_dump"), *common, "-d", "data_warehouse", "--no-owner", "--schema-only", "-n", "raw"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout.replace("CREATE SCHEMA raw;", "")  # fmt: skip
    reference = subprocess.run(
        [str(bindir / "pg_dump"), *common, "-d", "data_warehouse", "--no-owner", "--data-only",
         "-t", "raw.markets_db__fx_rates"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    for script in (ddl, reference):
        subprocess.run(
            [str(bindir / "psql"), *common, "-d", BENCH_DB, "-v", "ON_ERROR_STOP=1", "-q"],
            input=script, env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
    with _su(BENCH_DB) as conn:
        conn.execute(
            f"""
            INSERT INTO raw.auth_db__users
                (id, public_id, first_name, last_name, email, phone, sa_id_number, date_of_birth, address_line,
                 city, province, postal_code, country_code, latitude, longitude, preferred_language, device_id,
                 last_ip, status, marketing_opt_in, created_at, updated_at, deleted_at, _extracted_at, _extract_batch_id)
            SELECT i, gen_random_uuid(), 'Name' || (i % 997), 'Surname' || (i % 991), 'user' || i || '@example.co.za',
                   '+2782' || lpad((i % 10000000)::text, 7, '0'), NULL, date '1960-01-01' + (i % 15000),
                   i || ' Main Road', (ARRAY['Johannesburg','Cape Town','Durban','Pretoria'])[1 + i % 4],
                   (ARRAY['Gauteng','Western Cape','KwaZulu-Natal','Gauteng'])[1 + i % 4], '2000', 'ZA',
                   -26.2, 28.04, 'en', 'dev-' || i, '10.0.0.1', 'active', i % 2 = 0,
                   now() - interval '400 days' + (i % 1000) * interval '1 hour', now() - interval '1 day', NULL,
                   now() - interval '1 day', gen_random_uuid()
            FROM generate_series(1, {users}) AS i
            """
        )
        for (table,) in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'raw'").fetchall():
            conn.execute(sql.SQL("ALTER TABLE {} OWNER TO etl_writer").format(sql.Identifier("raw", table)))
            conn.execute(sql.SQL("GRANT SELECT ON {} TO dbt_writer").format(sql.Identifier("raw", table)))
        conn.execute("ANALYZE")


def _run_dbt(args: list[str], target: Path) -> dbt_runner.DbtResult:
    result = dbt_runner.run_dbt(args, target_path=target, env={"DA_DBT_DBNAME": BENCH_DB})
    if not result.ok:
        raise RuntimeError(f"dbt {' '.join(args)} failed:\n{result.output[-4000:]}")
    return result


class _Analyst(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.slowest = 0.0
        self.queries = 0
        self.errors = 0

    def run(self) -> None:
        with psycopg.connect(topology.dsn("warehouse", BENCH_DB, "analytics_user"), autocommit=True) as conn:
            while not self.stop.is_set():
                started = time.perf_counter()
                try:
                    conn.execute("SELECT count(*), count(DISTINCT province) FROM marts.dim_user_360_anon").fetchone()
                    self.queries += 1
                except psycopg.Error:
                    self.errors += 1
                self.slowest = max(self.slowest, time.perf_counter() - started)
                time.sleep(0.05)


def bench_rotation(users: int = 1_000_000, keep: bool = False) -> dict:
    target = Path("/tmp") / "bench_rotation_target"
    _create_bench_database(users)
    try:
        with _su(BENCH_DB) as conn:
            conn.execute("GRANT CONNECT ON DATABASE " + BENCH_DB + " TO analytics_user")
        started = time.perf_counter()
        _run_dbt(["build", "--select", *MODELS, "--vars", '{"full_scan": true}'], target)
        full_build = time.perf_counter() - started
        with _su(BENCH_DB) as conn:
            live_rows = conn.execute("SELECT count(*) FROM marts.dim_user_360_anon").fetchone()[0]
        current = rotation.Rotation(rotation_id=0, families=list(FAMILIES[:-1]), new_salt_ids=[], status="building")

        analyst = _Analyst()
        analyst.start()
        started = time.perf_counter()
        with _su(BENCH_DB) as conn:  # stands for load_pending (the FDW pull of one row per family)
            ids = conn.execute(
                "INSERT INTO compliance.hash_keys (salt_family, salt_id, salt, source_created_at, status) "
                "SELECT f, 2000 + o, gen_random_bytes(32), now(), 'pending' FROM unnest(%s::text[]) WITH ORDINALITY AS u(f, o) "
                "RETURNING salt_id",
                (current.families,),
            ).fetchall()
        current.new_salt_ids = [row[0] for row in ids]
        build = rotation.build_shadow(current, connect_dbt=_connect_dbt, select=MODELS, env={"DA_DBT_DBNAME": BENCH_DB})
        verification = rotation.verify_shadow(current, connect_dbt=_connect_dbt)
        swapped = rotation.swap(current, connect_dbt=_connect_dbt)
        rotation_s = time.perf_counter() - started
        time.sleep(0.5)
        analyst.stop.set()
        analyst.join(10)
        return {
            "users": users,
            "dim_user_360_rows": live_rows,
            "full_build_s": full_build,
            "rotation_s": rotation_s,
            "shadow_build_s": build["build_seconds"],
            "swap_blocking_ms": swapped["swap_blocking_ms"],
            "analyst_slowest_s": analyst.slowest,
            "analyst_queries": analyst.queries,
            "analyst_errors": analyst.errors,
            "columns_checked": verification["pseudonym_columns_checked"],
        }
    finally:
        if not keep:
            with _su("postgres") as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(BENCH_DB)))


def run(users: int = 1_000_000) -> list[dict]:
    r = bench_rotation(users)
    note = (
        f"{r['users']:,} users ({r['dim_user_360_rows']:,} rows in dim_user_360_anon after k-anonymity); "
        f"shadow build {r['shadow_build_s']:.1f}s; analyst: {r['analyst_queries']} queries, "
        f"{r['analyst_errors']} refused, slowest {r['analyst_slowest_s']:.2f}s"
    )
    return [
        figure(
            "rotation (pending key, shadow build, verify, swap) vs full dbt build",
            r["rotation_s"],
            r["full_build_s"],
            "ratio <= 1.2",
            r["rotation_s"] / r["full_build_s"] <= 1.2,
            note,
        ),
        figure(
            "analytics blocked by the rotation's swap",
            r["swap_blocking_ms"] / 1000,
            None,
            "< 1 s",
            r["swap_blocking_ms"] < 1000,
        ),
    ]
