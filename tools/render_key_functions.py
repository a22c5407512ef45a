"""Render the keyed hash functions of both hosts from ONE template.

    python -m tools.render_key_functions                 # (re)write the current renderings
    python -m tools.render_key_functions --as 0350_x.sql # after a template change: a NEW migration
    python -m tools.render_key_functions --check         # exit 1 if a rendering drifted

include/sql/templates/key_functions.sql.j2 is the only definition; each cluster gets it as a
migration (forward-only, checksummed like any other). tests/security/test_key_functions_one_definition.py
fails when the newest rendering of a cluster differs from the template.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jinja2

from dataacuity.paths import SQL_DIR

TEMPLATE = SQL_DIR / "templates" / "key_functions.sql.j2"
MARKER = "GENERATED from include/sql/templates/key_functions.sql.j2"
CURRENT = "0301_key_functions.sql"

# Families with a key of their own (plugins/dataacuity/compliance.py HASH_FAMILIES, same order).
FAMILIES = ("user", "device", "ip", "email", "phone", "id_number", "erasure")
HOSTS = {
    "compliance": {"host": "compliance (.118)", "grantees": ["compliance_user", "compliance_admin"]},
    "warehouse": {"host": "data_warehouse (.106)", "grantees": ["dbt_writer"]},
}


def render(cluster: str) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE.parent)),
        extensions=["jinja2.ext.do"],
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    return env.get_template(TEMPLATE.name).render(families=FAMILIES, **HOSTS[cluster])


def newest_rendering(cluster: str) -> Path | None:
    found = [p for p in sorted((SQL_DIR / cluster).glob("[0-9][0-9][0-9][0-9]_*.sql")) if MARKER in p.read_text()]
    return found[-1] if found else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.render_key_functions")
    parser.add_argument("--as", dest="filename", default=None, help="write a new migration with this file name")
    parser.add_argument("--check", action="store_true", help="fail if the newest rendering differs")
    args = parser.parse_args(argv)
    status = 0
    for cluster in HOSTS:
        text = render(cluster)
        if args.check:
            newest = newest_rendering(cluster)
            if newest is None or newest.read_text() != text:
                print(f"{cluster}: {newest} differs from {TEMPLATE}; render it into a new migration", file=sys.stderr)
                status = 1
            continue
        target = SQL_DIR / cluster / (args.filename or CURRENT)
        target.write_text(text)
        print(f"wrote {target}")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
