"""The pipeline under the real scheduler (issue 11): `airflow standalone` (LocalExecutor, SQLite) on
the local topology with the scheduler sizing of config/airflow-local.env.

1. transform run vs one `dbt build` on the same-sized increment: 60 s of live traffic, extract,
   then `dbt build` (the project, 4 threads) by hand = baseline; another 60 s, extract, then a
   manual `transform` DAG run under the scheduler (queued -> finished). Target <= 1.5x.
2. end-to-end with the real schedules: every extract (*/5), transform and push-back DAG unpaused;
   a bid is inserted on the primary 20 s after a 5-minute tick (its extract window is usually
   already read, so it waits for the next tick: close to the worst case) and
   analytics_db.bidbaas.user_summary is polled as bidbaas_app_reader until it shows it.
   Targets: < 10 min; pipeline work time (the extract__bidbaas_db, transform and
   push_back__bidbaas runs that carried it, queued -> finished) < 60 s.
3. transform runs per extract cycle of all sources (created, and how many ran dbt). Target 1.

`python -m bench.bench_pipeline` runs it alone (about 15 minutes); `make bench` includes it
unless --quick. Airflow's ports: AIRFLOW_PORT (default 8083), log servers DA_PORT_BASE+7001/7002.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from bench import figure
from dataacuity import dbt
from dataacuity.dbt_runner import run_dbt
from dataacuity.pushback import load_pushback_config
from dataacuity.registry import load_registry
from tools import topology

REPO = Path(__file__).resolve().parents[1]
LOCAL_ENV = REPO / "config" / "airflow-local.env"
TRAFFIC_SECONDS = 60


def _figure(name, value, baseline, target, meets, note="", unit="s") -> dict:
    print(f"FIGURE {name}: {value} (baseline {baseline}, target {target}) {note}", file=sys.stderr, flush=True)
    return figure(name, value, baseline, target, meets, note, unit)


def _local_env() -> dict[str, str]:
    env = {}
    for line in LOCAL_ENV.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    return env


def _traffic_and_extract(registry) -> int:
    from tools import seed as seed_sources
    from tools.pipeline import extract_all

    deadline = time.monotonic() + TRAFFIC_SECONDS
    while (left := deadline - time.monotonic()) > 1:
        try:  # a fresh seed each slice; a failed generated row only ends that slice early
            seed_sources.live_traffic(
                lambda db: topology.dsn("primary", db), registry, left, seed=time.time_ns() % 10**6
            )
        except psycopg.Error as error:
            print(f"live traffic slice stopped: {type(error).__name__}", file=sys.stderr)
    topology.wait_for_replica()
    results = extract_all(registry)
    return sum(r["rows_inserted"] + r["rows_updated"] for r in results.values())


class Standalone:
    """`airflow standalone` in a throwaway AIRFLOW_HOME; stopped (with its children) by pid."""

    def __init__(self, home: Path):
        self.home = home
        self.env = {
            **os.environ,
            **topology.connection_env(),
            **_local_env(),
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": os.environ.get("AIRFLOW_PORT", "8083"),
            # the workers' Execution API: this instance's, never whatever listens on the default :8080
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{os.environ.get('AIRFLOW_PORT', '8083')}",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{os.environ.get('AIRFLOW_PORT', '8083')}/execution/",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(topology.port_base() + 7001),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(topology.port_base() + 7002),
            "PYTHONPATH": f"{REPO / 'plugins'}:{REPO}",
            "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        }
        self.proc: subprocess.Popen | None = None

    def start(self, dag_ids: list[str], timeout: float = 600) -> None:
        log = open(self.home / "standalone.log", "w")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "airflow"), "standalone"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"airflow standalone exited: see {self.home / 'standalone.log'}")
            try:
                found = {r[0] for r in self.query("SELECT dag_id FROM serialized_dag")}
            except sqlite3.Error:
                found = set()
            if set(dag_ids) <= found:
                return
            time.sleep(5)
        raise TimeoutError(f"DAGs not serialized within {timeout}s: {sorted(set(dag_ids) - found)}")

    def query(self, sql: str, params=()) -> list[tuple]:
        with sqlite3.connect(self.home / "airflow.db", timeout=30) as conn:
            return conn.execute(sql, params).fetchall()

    def cli(self, *args: str) -> str:
        out = subprocess.run(
            [str(Path(sys.executable).parent / "airflow"), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if out.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)}: {out.stderr[-2000:]}")
        return out.stdout

    def runs(self, dag_id: str, since: datetime) -> list[dict]:
        rows = self.query(
            "SELECT run_id, state, run_type, queued_at, start_date, end_date FROM dag_run "
            "WHERE dag_id = ? AND queued_at >= ? ORDER BY queued_at",
            (dag_id, since.strftime("%Y-%m-%d %H:%M:%S")),
        )
        keys = ("run_id", "state", "run_type", "queued_at", "start_date", "end_date")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def task_state(self, dag_id: str, run_id: str, task_id: str) -> str | None:
        rows = self.query(
            "SELECT state FROM task_instance WHERE dag_id = ? AND run_id = ? AND task_id = ?", (dag_id, run_id, task_id)
        )
        return rows[0][0] if rows else None

    def wait_run(self, dag_id: str, since: datetime, timeout: float = 900) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = [r for r in self.runs(dag_id, since) if r["state"] in ("success", "failed")]
            if done:
                return done[0]
            time.sleep(2)
        raise TimeoutError(f"{dag_id}: no finished run within {timeout}s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        # standalone can leave children behind: they share its session (process group)
        if self.proc:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)


def _seconds(start: str | None, end: str | None) -> float:
    def parse(value: str) -> datetime:
        return datetime.fromisoformat(value.replace(" ", "T")).replace(tzinfo=UTC)

    return (parse(end) - parse(start)).total_seconds() if start and end else float("nan")


def _next_tick(now: float, minutes: int = 5) -> float:
    return (int(now // (minutes * 60)) + 1) * minutes * 60


def run(quick: bool = False) -> list[dict]:
    registry = load_registry()
    config = load_pushback_config()
    figures: list[dict] = []

    # Warm: everything extracted and built once (tables exist, increments are small afterwards).
    from tools.pipeline import extract_all

    extract_all(registry)
    with psycopg.connect(topology.dsn("warehouse", "data_warehouse")) as conn:
        built = conn.execute("SELECT to_regclass('marts.bidbaas__user_summary')").fetchone()[0]
    if not built:
        assert run_dbt(["build", "--exclude", "path:models/leaky"]).ok

    # 1a. baseline: one dbt build of the project on a 60 s increment
    changed = _traffic_and_extract(registry)
    started = time.monotonic()
    result = run_dbt(["build", "--exclude", "path:models/leaky"], env={"DA_DBT_THREADS": str(dbt.DBT_THREADS)})
    baseline = time.monotonic() - started
    assert result.ok, result.output[-3000:]
    print(f"FIGURE baseline dbt build: {baseline:.1f}s on {changed} changed rows", file=sys.stderr, flush=True)

    home = Path(tempfile.mkdtemp(prefix="da-bench-airflow-"))
    airflow = Standalone(home)
    extract_ids = [f"extract__{s.name}" for s in registry.sources]
    pushback_ids = [a.dag_id for a in config.apps]
    try:
        airflow.start(["transform", *extract_ids, *pushback_ids])
        # 1b. the transform DAG under the scheduler on a same-sized increment
        changed_2 = _traffic_and_extract(registry)
        since = datetime.now(UTC)
        airflow.cli("dags", "unpause", "transform")
        airflow.cli("dags", "trigger", "transform")
        run_ = airflow.wait_run("transform", since)
        transform_s = _seconds(run_["queued_at"], run_["end_date"])
        figures.append(
            _figure(
                "transform DAG run (scheduler, queued->done) vs one dbt build",
                transform_s,
                baseline,
                "<= 1.5x",
                run_["state"] == "success" and transform_s <= 1.5 * baseline,
                note=f"state {run_['state']}; increments {changed} / {changed_2} changed rows; watcher mode, "
                f"{dbt.DBT_THREADS} dbt threads; {LOCAL_ENV.name}",
            )
        )
        if quick:
            return figures

        # 2. end to end on the real schedules
        for dag_id in [*extract_ids, *pushback_ids]:
            airflow.cli("dags", "unpause", dag_id)
        tick = _next_tick(time.time())
        time.sleep(max(0.0, tick + 20 - time.time()))
        cycle_start = datetime.fromtimestamp(tick, UTC)
        with psycopg.connect(topology.dsn("primary", "bidbaas_db"), autocommit=True) as conn:
            auction_id, user_id = conn.execute(
                "SELECT auction_id, user_id FROM bids ORDER BY id DESC LIMIT 1"
            ).fetchone()
            inserted_at = conn.execute(
                "INSERT INTO bids (auction_id, user_id, amount, currency) VALUES (%s, %s, 99.99, 'ZAR') "
                "RETURNING created_at",
                (auction_id, user_id),
            ).fetchone()[0]
        t0 = time.monotonic()
        reader = topology.dsn("primary", "analytics_db", "bidbaas_app_reader")
        latency = None
        while time.monotonic() - t0 < 900:
            with psycopg.connect(reader) as conn:
                row = conn.execute(
                    "SELECT last_bid_at FROM bidbaas.user_summary WHERE user_id = %s", (user_id,)
                ).fetchone()
            if row and row[0] and row[0] >= inserted_at:
                latency = time.monotonic() - t0
                break
            time.sleep(2)
        # the runs that carried it: the first of each after the insert
        after = datetime.fromtimestamp(time.time() - (time.monotonic() - t0), UTC)
        work = 0.0
        parts = []
        for dag_id in ("extract__bidbaas_db", "transform", "push_back__bidbaas"):
            runs = [r for r in airflow.runs(dag_id, after) if r["state"] == "success"]
            if dag_id == "transform":
                runs = [
                    r for r in runs if airflow.task_state(dag_id, r["run_id"], "dbt.dbt_producer_watcher") == "success"
                ]
            if runs:
                seconds = _seconds(runs[0]["queued_at"], runs[0]["end_date"])
                work += seconds
                parts.append(f"{dag_id} {seconds:.0f}s")
        figures.append(
            _figure(
                "end to end: insert -> bidbaas.user_summary (real schedules)",
                latency if latency is not None else float("nan"),
                None,
                "< 600 s",
                latency is not None and latency < 600,
                note="bid inserted 20 s after a 5-minute tick; read as bidbaas_app_reader",
            )
        )
        figures.append(
            _figure(
                "pipeline work time on that path (queued -> done, no tick wait)",
                work,
                None,
                "< 60 s",
                bool(parts) and work < 60,
                note=", ".join(parts),
            )
        )
        # 3. transform runs per extract cycle: the cycle that started at `tick`, up to the next one
        cycle_end = datetime.fromtimestamp(tick + 300, UTC)
        transform_runs = [
            r
            for r in airflow.runs("transform", cycle_start)
            if r["queued_at"] < cycle_end.strftime("%Y-%m-%d %H:%M:%S")
        ]
        built = [
            r
            for r in transform_runs
            if airflow.task_state("transform", r["run_id"], "dbt.dbt_producer_watcher") == "success"
        ]
        figures.append(
            _figure(
                "transform runs that built per extract cycle (18 sources)",
                len(built),
                None,
                "1",
                len(built) == 1,
                unit="",
                note=f"{len(transform_runs)} run(s) created in the cycle; the others skipped in writes_allowed",
            )
        )
    finally:
        airflow.stop()
        shutil.rmtree(home, ignore_errors=True)
    return figures
