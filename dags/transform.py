"""transform: the dbt project (include/dbt) rendered by Cosmos, fed by the extract DAGs' Assets.

Wiring only: the Cosmos configuration is in plugins/dataacuity/dbt.py. Rendered from the
pre-built manifest (LoadMode.DBT_MANIFEST: no dbt, no database at parse time).
"""

from datetime import datetime

from airflow.sdk import DAG, AssetAny, task
from cosmos import DbtTaskGroup
from cosmos.constants import TestBehavior

from dataacuity import dbt
from dataacuity.alert_callbacks import deadline_alert
from dataacuity.assets import raw_asset, warehouse_asset
from dataacuity.dag_defaults import default_args, tags
from dataacuity.registry import load_registry

DOC = """\
### transform: raw -> staging -> intermediate (PII boundary) -> marts

Runs whenever an extract DAG lands new rows (any `raw.*` Asset), never two runs at once
(`max_active_runs=1`; each model also takes a PostgreSQL advisory lock while it builds). One
task per dbt model, `dbt build --select <model>`: the model, then its tests. Event models are
incremental, so a run costs in proportion to the rows extracted since the previous one.

Every model in `intermediate` and `marts` is checked for PII twice: the `da_pii_guard`
post-hook (rolls the model back if a column name or a value looks like PII) and the
`no_pii_column_names` / `no_pii_values` tests. Marts must carry their contract (description,
owner, compliance class, key tests, k-anonymity): a missing piece fails every task at start.
Results land in `dbt_artifacts.model_results` / `dbt_artifacts.test_results` (runbook §10.2).

**When it fails** (open the failed task's log; dbt prints the model and the reason):
- *PII guard / no_pii_* failed*: a model would expose personal data. Downstream models did not
  run and the leaking relation was not committed. Treat as a P1 privacy incident: fix the model
  (drop the column, hash it), log it in `compliance.incident_log`, then clear the task.
- *Model contract check failed*: a mart lacks description/owner/compliance_class/tests; fix its YAML.
- *compliance.hash_keys is empty*: the warehouse lost its key copy; run
  `SELECT * FROM compliance.refresh_hash_keys()` as warehouse_admin (see salt rotation).
- *not_null / unique / k_anonymity failed*: data problem in that model; query it, fix, clear.
- *permission denied / kill switch*: warehouse writes are revoked on purpose; wait for release.
The next run picks up everything that was skipped; nothing needs a backfill.

While a salt rotation builds its shadow relations (`salt_rotation` DAG, between `load_pending`
and `swap`), `writes_allowed` is skipped and so is the run: expected, nothing to do; the first run
after the swap processes everything extracted meanwhile.

A run still going 30 minutes after it was queued pages **TransformDeadlineMissed** (P1). While
the kill switch is engaged the first task, `writes_allowed`, fails at once naming who engaged it
and why; no model runs.
"""

REGISTRY = load_registry()
if not dbt.MANIFEST_PATH.exists():
    raise FileNotFoundError(
        f"{dbt.MANIFEST_PATH} is missing: build it with `python -m tools.build_dbt_manifest` (part of set-up)"
    )

with DAG(
    dag_id="transform",
    schedule=AssetAny(*(raw_asset(table) for table in REGISTRY.tables())),
    start_date=datetime(2026, 1, 1),
    catchup=False,  # asset-driven: each run processes whatever was extracted since the last one
    max_active_runs=1,  # no model is ever built by two runs at once
    deadline=deadline_alert("transform", 30, "TransformDeadlineMissed"),
    default_args=default_args(retries=1),
    tags=tags("transform"),
    doc_md=DOC,
) as dag:

    @task
    def writes_allowed() -> None:
        """Refuse to start while the kill switch is engaged (who, when and why in the error).
        AirflowFailException skips the retries, which stay for connection hiccups."""
        from airflow.sdk.exceptions import AirflowFailException

        from dataacuity import connections, kill_switch

        with connections.connect(connections.WAREHOUSE_DBT, statement_timeout="1min") as conn:
            try:
                kill_switch.assert_writes_allowed(conn)
            except kill_switch.WritesRefusedError as error:
                raise AirflowFailException(str(error)) from error
            # A salt rotation is building its shadow relations: this run would hash with the
            # generation being retired. Skip (no page); the next run after the swap catches up.
            from airflow.sdk.exceptions import AirflowSkipException

            from dataacuity import rotation

            conn.execute("SET ROLE dbt_writer")
            if rotation.rotation_in_progress(conn):
                raise AirflowSkipException("salt rotation in progress (pending key generation loaded): skipped")

    group = DbtTaskGroup(
        group_id="dbt",
        project_config=dbt.project_config(),
        profile_config=dbt.profile_config(),
        execution_config=dbt.execution_config(),
        render_config=dbt.render_config(test_behavior=TestBehavior.BUILD),
        operator_args={"install_deps": False, "env": dbt.airflow_run_id_env()},
    )
    writes_allowed() >> group

    # Each mart also emits its logical warehouse Asset (`marts.<name>`, the URI scheme of
    # dataacuity.assets), which push-back DAGs schedule on; Cosmos' own per-model Assets carry
    # the connection's host:port and so differ between environments.
    for node in group.dbt_graph.filtered_nodes.values():
        if node.resource_type.value == "model" and node.config.get("schema") == "marts":
            mart_task = dag.get_task(f"dbt.{node.name}_model_build")
            mart_task.outlets = [*mart_task.outlets, warehouse_asset("marts", node.name)]
