"""Issue 12 benchmarks: reconciliation and the model generator.

(r) `reconcile` of the 1M-row bench table (bench_extract's wide_1m) with no differences: counts and
    checksums per key range on the replica and in raw, both read at once     target (r)/(a) <= 1.5
    where (a) is the initial COPY pipe of the same table (psql COPY binary | psql COPY).
(g) `make sources` generating every registry table's dbt models (sources, staging, intermediate),
    reading each table's columns from the replica, on a copy of the dbt project from which the
    hand-written staging models are removed (so nothing is skipped)           target < 5 s
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from bench import bench_extract
from bench.bench_extract import BENCH_DB, REGISTRY, _figure
from dataacuity import dbt
from dataacuity.reconcile import reconcile_table
from dataacuity.registry import load_registry, parse_registry
from tools import generate_models, seed, topology


def measure_reconcile() -> tuple[float, float]:
    """(r) and (a) in seconds, on a raw table just landed from the replica (no differences)."""
    bench_extract.prepare_source("wide_1m", 1_000_000)
    bench_extract.reset_raw("wide_1m")
    _seconds, summary = bench_extract._extract("wide_1m")
    assert summary.rows_inserted == 1_000_000, summary.as_dict()
    a = bench_extract.measure_limit("wide_1m")
    table = parse_registry(REGISTRY).table(BENCH_DB, "wide_1m")
    started = time.perf_counter()
    outcome = reconcile_table(
        table,
        lambda: psycopg.connect(topology.dsn("replica", BENCH_DB, "etl_reader")),
        lambda: psycopg.connect(topology.dsn("warehouse", "data_warehouse", "etl_user")),
    )
    r = time.perf_counter() - started
    assert (outcome.replica_rows, outcome.raw_rows, outcome.repaired) == (1_000_000, 1_000_000, []), outcome
    return r, a


def measure_generator() -> tuple[float, int]:
    """(g) in seconds and the number of tables generated."""
    registry = load_registry()
    seed.apply_source_schemas(lambda db: topology.dsn("primary", db), registry)  # tables exist
    topology.wait_for_replica()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "dbt"
        shutil.copytree(dbt.DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
        for table in registry.tables():
            for path in generate_models.paths(table, project).values():
                path.unlink(missing_ok=True)
        started = time.perf_counter()
        outcome = generate_models.generate(registry, project_dir=project)
        seconds = time.perf_counter() - started
    assert outcome.failed == [], outcome.failed
    return seconds, len(registry)


def run() -> list[dict]:
    r, a = measure_reconcile()
    g, tables = measure_generator()
    return [
        _figure("reconcile 1M x 10, no differences (vs extract a)", r, a, 1.5, "s"),
        {
            **_figure(f"make sources: all {tables} registry tables generated", g, None, None, "s"),
            "target": "< 5 s",
            "meets_target": g < 5,
        },
    ]


if __name__ == "__main__":
    import os

    os.environ.update(topology.connection_env())
    for figure in run():
        print(figure)
    sys.exit(0)
