"""Run pipeline steps against the local topology without a scheduler (demo, tests, debugging).

python -m tools.pipeline extract [--source ledger_db ...]   land registry tables in raw
"""

from __future__ import annotations

import argparse
import sys
import time

import psycopg

from dataacuity.extract import extract_table
from dataacuity.registry import Registry, load_registry
from tools import topology


def extract_all(registry: Registry | None = None, sources: list[str] | None = None) -> dict[str, dict]:
    """Extract every table (of `sources`, default all) through the plain-Python core."""
    registry = registry or load_registry()
    results = {}
    for table in registry.tables():
        if sources and table.source_db not in sources:
            continue
        summary = extract_table(
            table,
            lambda db=table.source_db: psycopg.connect(topology.dsn("replica", db, "etl_reader")),
            lambda: psycopg.connect(topology.dsn("warehouse", "data_warehouse", "etl_user")),
        )
        results[table.key] = summary.as_dict()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.pipeline")
    sub = parser.add_subparsers(dest="command", required=True)
    extract = sub.add_parser("extract", help="land registry tables from the replica in raw")
    extract.add_argument("--source", action="append", help="source database (repeatable); default all")
    args = parser.parse_args(argv)
    if args.command == "extract":
        started = time.monotonic()
        results = extract_all(sources=args.source)
        for key, result in results.items():
            print(f"{key:<45} read {result['rows_read']:>8}  +{result['rows_inserted']:<8} ~{result['rows_updated']}")
        print(f"{len(results)} tables in {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
