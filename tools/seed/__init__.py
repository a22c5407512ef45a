"""Synthetic South African data for the source databases (developer tooling, not deployed).

Everything is generated from ``random.Random`` streams derived from one seed, so the same
(seed, scale, now) always gives the same rows. No Faker: names, streets and cities are listed in
``reference``. The modules follow the seams of the job:

    reference  names, cities, mobile prefixes, FX, rows per table      (data only)
    people     SA ID numbers, mobiles, e-mails, places, devices, IPs; make_person
    world      SeedUser, TableRows, World, build_users
    rows       one row builder per table of the 18 apps (shared by the seed and live traffic)
    apps       per-database generators (GENERATORS), make_world, generate_database
    ddl        include/sql/sources/<db>.sql read as columns per table
    load       apply_source_schemas, seed (COPY, idempotent)
    live       live_traffic on the primary
    cli        python -m tools.seed

    apply_source_schemas(dsn_for_db, registry)      # include/sql/sources/<db>.sql, idempotent
    seed(dsn_for_db, registry, scale=1, seed=42)    # ~2,000 users, ~86k rows at scale 1
    live_traffic(dsn_for_db, registry, seconds=60, rows_per_second=20, seed=7)

Idempotency of ``seed``: a source database whose registry tables already hold rows is left
alone (nothing is truncated); pass ``reset=True`` to truncate that database's tables and reload.
Live traffic can run again and again on the same topology (each run continues from the state the
last one left).

CLI (DSNs from ``DA_SOURCE_DSN_TEMPLATE``, e.g. postgresql://postgres:pw@127.0.0.1:54104/{db}):

    python -m tools.seed --scale 1 --seed 42 [--live SECONDS] [--rate N] [--reset]
"""

from tools.seed.apps import generate_database, make_world
from tools.seed.ddl import SOURCE_SQL_DIR, source_ddl_columns
from tools.seed.live import LiveTrafficCounts, live_traffic
from tools.seed.load import apply_source_schemas, seed

__all__ = [
    "SOURCE_SQL_DIR",
    "LiveTrafficCounts",
    "apply_source_schemas",
    "generate_database",
    "live_traffic",
    "make_world",
    "seed",
    "source_ddl_columns",
]
