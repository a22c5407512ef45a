"""The routine warehouse backup: pg_dump of the schemas config/backup.yml names (no key inside).

python -m tools.backup_warehouse OUT.sql
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from dataacuity.paths import CONFIG_DIR
from tools import topology

CONFIG = CONFIG_DIR / "backup.yml"


def backup_schemas() -> tuple[str, list[str]]:
    spec = yaml.safe_load(CONFIG.read_text())["warehouse"]
    schemas = spec["schemas"]
    if "compliance" in schemas:
        raise ValueError(f"{CONFIG}: warehouse.schemas must not name 'compliance' (the key copy lives there)")
    return spec["database"], schemas


def dump_command(dsn: str, schemas: list[str]) -> list[str]:
    command = [str(topology.pg_bindir() / "pg_dump"), "--dbname", dsn, "--no-owner"]
    for schema in schemas:
        command += ["--schema", schema]
    return command


def dump(out: Path) -> Path:
    database, schemas = backup_schemas()
    # the password goes in the environment, never on the command line (ps)
    params = conninfo_to_dict(topology.dsn("warehouse", database))
    password = params.pop("password")
    env = {**os.environ, "PGPASSWORD": password}
    with out.open("wb") as handle:
        subprocess.run(dump_command(make_conninfo(**params), schemas), stdout=handle, check=True, env=env)
    return out


if __name__ == "__main__":
    print(dump(Path(sys.argv[1])))
