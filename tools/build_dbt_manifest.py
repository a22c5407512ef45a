"""Set-up step: build include/dbt/target/manifest.json with `dbt parse` (no database needed).

Cosmos renders the transform DAG from this manifest (LoadMode.DBT_MANIFEST), so DAG parsing
needs neither dbt nor a warehouse. Before parsing, the dbt sources are checked against the
registry (config/sources.yml): a difference fails with the command that regenerates them.

    python -m tools.build_dbt_manifest                  # check sources, dbt parse
    python -m tools.build_dbt_manifest --write-sources  # regenerate models/staging/_sources.yml first
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from dataacuity import dbt, freshness
from dataacuity.dbt_runner import run_dbt
from dataacuity.registry import load_registry

SOURCES_YML = dbt.DBT_PROJECT_DIR / "models" / "staging" / "_sources.yml"


class ManifestBuildError(RuntimeError):
    pass


def render_sources(registry) -> str:
    """include/dbt/models/staging/_sources.yml generated from config/sources.yml.

    One dbt source per source database (schema raw, tables raw.<db>__<table>), freshness from
    the registry (loaded_at_field = event time or extract time; warn at the P2 and error at the P1
    factor of dataacuity.freshness times the expected interval) and every PII column with meta.pii_class (read by the PII tests)."""
    import yaml

    sources = []
    for source in registry.sources:
        tables = []
        for table in source.tables:
            interval = table.expected_interval_minutes
            columns = []
            for column in table.primary_key:
                columns.append(
                    {"name": column, "description": "Primary key (registry).", "meta": {"primary_key": True}}
                )
            if table.user_column and table.user_column not in table.primary_key:
                columns.append(
                    {
                        "name": table.user_column,
                        "description": "auth_db.users.id of the row's user (right-to-be-forgotten link).",
                        "meta": {"user_column": True},
                    }
                )
            for column, pii_class in table.pii.items():
                columns.append({"name": column, "description": f"PII ({pii_class}).", "meta": {"pii_class": pii_class}})
            tables.append(
                {
                    "name": table.raw_table,
                    "description": table.description or f"{table.key} as extracted ({table.kind}, {table.mode}).",
                    "config": {
                        "loaded_at_field": table.freshness_column or "_extracted_at",
                        "freshness": {
                            "warn_after": {"count": freshness.P2_FACTOR * interval, "period": "minute"},
                            "error_after": {"count": freshness.P1_FACTOR * interval, "period": "minute"},
                        },
                        "meta": {
                            "source_db": table.source_db,
                            "source_table": table.name,
                            "app": table.app,
                            "kind": table.kind,
                            "mode": table.mode,
                            "expected_interval_minutes": interval,
                            "user_column": table.user_column,
                        },
                    },
                    "columns": columns,
                }
            )
        sources.append(
            {
                "name": source.name,
                "description": source.description or f"{source.name} ({source.app})",
                "schema": "raw",
                "config": {"meta": {"app": source.app}},
                "tables": tables,
            }
        )
    header = (
        "# GENERATED from config/sources.yml by `python -m tools.build_dbt_manifest --write-sources`.\n"
        "# Do not edit: change the registry and regenerate (tests/test_dbt_project.py checks they agree).\n"
    )
    return header + yaml.safe_dump({"version": 2, "sources": sources}, sort_keys=False, width=120)


def staging_model_path(table) -> Path:
    return dbt.DBT_PROJECT_DIR / "models" / "staging" / table.source_db / f"{table.staging_model}.sql"


def check_sources(write: bool = False) -> bool:
    """True when _sources.yml matches the registry (after writing it when `write`)."""
    expected = render_sources(load_registry())
    if write:
        SOURCES_YML.write_text(expected)
        return True
    return SOURCES_YML.exists() and SOURCES_YML.read_text() == expected


def missing_staging_models() -> list[str]:
    return [table.staging_model for table in load_registry().tables() if not staging_model_path(table).exists()]


def build_manifest(write_sources: bool = False) -> float:
    """Check sources and staging models against the registry, then `dbt parse`. Returns seconds."""
    started = time.monotonic()
    if not check_sources(write=write_sources):
        raise ManifestBuildError(
            f"{SOURCES_YML} does not match config/sources.yml: run "
            "`python -m tools.build_dbt_manifest --write-sources` and commit the result"
        )
    missing = missing_staging_models()
    if missing:
        raise ManifestBuildError(f"registry tables without a staging model: {', '.join(missing)}")
    result = run_dbt(["parse", "--no-partial-parse"], conn_id=None)
    if not result.ok or not dbt.MANIFEST_PATH.exists():
        raise ManifestBuildError(f"dbt parse failed:\n{result.output[-4000:]}")
    return time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.build_dbt_manifest", description=__doc__.split("\n")[0])
    parser.add_argument("--write-sources", action="store_true", help="regenerate models/staging/_sources.yml")
    args = parser.parse_args(argv)
    try:
        seconds = build_manifest(write_sources=args.write_sources)
    except ManifestBuildError as error:
        print(f"build_dbt_manifest: {error}", file=sys.stderr)
        return 1
    print(f"{dbt.MANIFEST_PATH} built in {seconds:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
