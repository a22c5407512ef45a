"""``python -m tools.seed``: seed the source databases and optionally run live traffic."""

from __future__ import annotations

import argparse
import logging
import os
import time
from pathlib import Path

import psycopg
from psycopg import sql

from tools.seed.live import live_traffic
from tools.seed.load import DsnForDb, apply_source_schemas, log, seed

DSN_TEMPLATE_ENV = "DA_SOURCE_DSN_TEMPLATE"


def dsn_from_template(template: str) -> DsnForDb:
    if "{db}" not in template:
        raise ValueError(f"{DSN_TEMPLATE_ENV} must contain '{{db}}', got a template without it")
    return lambda database: template.format(db=database)


def ensure_databases(dsn_for_db: DsnForDb, registry, maintenance_db: str = "postgres") -> None:
    """Create any missing source database (local throwaway clusters only)."""
    with psycopg.connect(dsn_for_db(maintenance_db), autocommit=True) as conn:
        existing = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
        for source in registry.sources:
            if source.name not in existing:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(source.name)))
                log.info("created database %s", source.name)


def main(argv: list[str] | None = None) -> int:
    from dataacuity.registry import load_registry  # plugins/ is on sys.path (see below)

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1, help="1 = demo size (~2,000 users)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--live", type=float, default=0.0, metavar="SECONDS",
                        help="after seeding, run live traffic for this many seconds")  # fmt: skip
    parser.add_argument("--rate", type=int, default=20, help="live operations per second")
    parser.add_argument("--reset", action="store_true",
                        help="truncate and reload databases that already have rows")  # fmt: skip
    parser.add_argument("--create-databases", action="store_true",
                        help="create missing source databases first (throwaway clusters)")  # fmt: skip
    parser.add_argument("--registry", type=Path, default=None, help="path to sources.yml")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    template = os.environ.get(DSN_TEMPLATE_ENV)
    if not template:
        parser.error(f"set {DSN_TEMPLATE_ENV}, e.g. postgresql://postgres:...@127.0.0.1:54104/{{db}}")
    dsn_for_db = dsn_from_template(template)
    registry = load_registry(args.registry)

    if args.create_databases:
        ensure_databases(dsn_for_db, registry)
    started = time.monotonic()
    apply_source_schemas(dsn_for_db, registry)
    counts = seed(dsn_for_db, registry, scale=args.scale, seed=args.seed, reset=args.reset)
    width = max(map(len, counts))
    for key, count in counts.items():
        print(f"{key:<{width}}  {count:>8,}")
    print(f"{'total':<{width}}  {sum(counts.values()):>8,}  ({time.monotonic() - started:.1f}s)")
    if args.live > 0:
        live = live_traffic(dsn_for_db, registry, args.live, args.rate, seed=args.seed + 1)
        print(f"live traffic: {live.as_dict()}")
    return 0
