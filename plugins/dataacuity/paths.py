"""Where the deployment's files are: the one place that knows the repository layout.

Airflow deploys plugins/, dags/, config/ and include/ side by side (docker-compose.airflow.yml
mounts them under /opt/airflow), so everything is found relative to this package.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO_ROOT / "config"
SQL_DIR = REPO_ROOT / "include" / "sql"
DBT_PROJECT_DIR = REPO_ROOT / "include" / "dbt"
