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

from dataacuity import dbt
from dataacuity.registry import load_registry


class ManifestBuildError(RuntimeError):
    pass


def check_sources(write: bool = False) -> bool:
    """True when _sources.yml matches the registry (after writing it when `write`)."""
    expected = dbt.render_sources(load_registry())
    if write:
        dbt.SOURCES_YML.write_text(expected)
        return True
    return dbt.SOURCES_YML.exists() and dbt.SOURCES_YML.read_text() == expected


def missing_staging_models() -> list[str]:
    return [table.staging_model for table in load_registry().tables() if not dbt.staging_model_path(table).exists()]


def build_manifest(write_sources: bool = False) -> float:
    """Check sources and staging models against the registry, then `dbt parse`. Returns seconds."""
    started = time.monotonic()
    if not check_sources(write=write_sources):
        raise ManifestBuildError(
            f"{dbt.SOURCES_YML} does not match config/sources.yml: run "
            "`python -m tools.build_dbt_manifest --write-sources` and commit the result"
        )
    missing = missing_staging_models()
    if missing:
        raise ManifestBuildError(
            f"registry tables without a staging model: {', '.join(missing)}. "
            "Run `make sources` to generate their dbt models (README: Add a source)"
        )
    result = dbt.run_dbt(["parse", "--no-partial-parse"], conn_id=None)
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
