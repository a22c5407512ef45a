"""transform: the dbt project (include/dbt) rendered by Cosmos, fed by the extract DAGs' Assets.

Wiring only: the Cosmos configuration is in plugins/dataacuity/dbt.py. Rendered from the
pre-built manifest (LoadMode.DBT_MANIFEST: no dbt, no database at parse time).
"""

from datetime import UTC, datetime

from airflow.sdk import DAG, AssetAny, task
from cosmos import DbtTaskGroup
from cosmos.constants import TestBehavior

from dataacuity import dbt
from dataacuity.alert_callbacks import deadline_alert
from dataacuity.assets import raw_asset, warehouse_asset
from dataacuity.dag_defaults import default_args, tags
from dataacuity.registry import load_registry
from dataacuity.transform_watch import PRODUCER_TASK_ID, make_consumers_cheap

DOC = """\
### transform: raw -> staging -> intermediate (PII boundary) -> marts (incl. the app summaries)

Runs when extract DAGs land new rows (any `raw.*` Asset), never two runs at once
(`max_active_runs=1`; each model also takes a PostgreSQL advisory lock while it builds). One run
per extract cycle: the events that arrive while a run waits for the cycle to settle are consumed
by that run when it succeeds (listed under its Asset events; dataacuity.transform_coalesce), so
they set off no second run. A run whose build failed leaves them queued: the next run follows.

**Shape (Cosmos watcher mode).** `writes_allowed` (kill switch; waits until the extract cycle has
settled; skips the run when nothing new landed since the last build) -> `dbt.dbt_producer_watcher`
runs ONE `dbt build` of the project (4 threads) -> one task per model (`dbt.<model>_run`) and per
model's tests (`dbt.<model>_test`) shows what dbt did to that node, with dbt's log line. These
tasks follow the dbt graph: a failed model or test leaves everything downstream upstream_failed.
They run in the triggerer (no worker) unless they fail, and follow the build while it runs.
`publish_marts` emits every mart's Asset once as soon as the build is done (whatever its outcome:
the `push_back__{app}` DAGs it starts refuse on their own when a PII or k-anonymity test failed).

Every model in `intermediate` and `marts` is checked for PII twice: the `da_pii_guard`
post-hook (rolls the model back if a column name or a value looks like PII) and the
`no_pii_column_names` / `no_pii_values` tests. Marts must carry their contract (description,
owner, compliance class, key tests, k-anonymity): a missing piece fails the build at start.
Results land in `dbt_artifacts.model_results` / `dbt_artifacts.test_results` (runbook §10.2).

**When it fails** (the producer's log has dbt's whole output; a failed node's task says which):
- *PII guard / no_pii_* failed*: a model would expose personal data. Downstream models did not
  run and the leaking relation was not committed; the push-back gate refuses. Treat as a P1
  privacy incident: fix the model, log it in `compliance.incident_log`, then clear the task.
- *Model contract check failed*: a mart lacks description/owner/compliance_class/tests; fix its YAML.
- *compliance.hash_keys is empty*: the warehouse lost its key copy; run
  `SELECT * FROM compliance.refresh_hash_keys()` as warehouse_admin (see salt rotation).
- *not_null / unique / k_anonymity failed*: data problem in that model; query it, fix, clear.
- *permission denied / kill switch*: warehouse writes are revoked on purpose; wait for release.
Retrying or clearing a failed model/test task runs dbt for that node alone (`dbt run|test
--select <node>`); the producer itself never re-runs the whole build on retry. The next run picks
up everything that was skipped; nothing needs a backfill.

While a salt rotation builds its shadow relations (`salt_rotation` DAG, between `load_pending`
and `swap`), `writes_allowed` is skipped and so is the run: expected, nothing to do; the first run
after the swap processes everything extracted meanwhile.

A run still going 30 minutes after it was queued pages **TransformDeadlineMissed** (P1). While
the kill switch is engaged the first task, `writes_allowed`, fails at once naming who engaged it
and why; no model runs.
"""

REGISTRY = load_registry()
EXTRACT_DAG_IDS = [f"extract__{source.name}" for source in REGISTRY.sources]
if not dbt.MANIFEST_PATH.exists():
    raise FileNotFoundError(
        f"{dbt.MANIFEST_PATH} is missing: build it with `python -m tools.build_dbt_manifest` (part of set-up)"
    )

MART_ASSETS = [warehouse_asset("marts", name) for name in dbt.mart_models()]

with DAG(
    dag_id="transform",
    schedule=AssetAny(*(raw_asset(table) for table in REGISTRY.tables())),
    start_date=datetime(2026, 1, 1),
    catchup=False,  # asset-driven: each run processes whatever was extracted since the last one
    max_active_runs=1,  # no model is ever built by two runs at once; events queue for the next run
    deadline=deadline_alert("transform", 30, "TransformDeadlineMissed"),
    default_args=default_args(retries=1),
    tags=tags("transform"),
    doc_md=DOC,
) as dag:

    @task
    def writes_allowed(**context) -> None:
        """Refuse to start while the kill switch is engaged (who, when and why in the error).
        Then wait for the extract cycle to settle and skip the run when nothing new landed since the
        last build (dataacuity.transform_cycle). AirflowFailException skips the retries."""
        from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
        from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

        from dataacuity import connections, kill_switch, transform_coalesce, transform_cycle

        with connections.connect(connections.WAREHOUSE_DBT, statement_timeout="1min") as conn:
            try:
                kill_switch.assert_writes_allowed(conn)
            except kill_switch.WritesRefusedError as error:
                raise AirflowFailException(str(error)) from error
            # A salt rotation is building its shadow relations: this run would hash with the
            # generation being retired. Skip (no page); the next run after the swap catches up.
            from dataacuity import rotation

            conn.execute("SET ROLE dbt_writer")
            if rotation.rotation_in_progress(conn):
                raise AirflowSkipException("salt rotation in progress (pending key generation loaded): skipped")
        if context["dag_run"].run_type != "asset_triggered":
            return  # manual / test runs build now
        transform_cycle.wait_for_extract_cycle(
            EXTRACT_DAG_IDS,
            lambda dag_id: RuntimeTaskInstance.get_dr_count(dag_id=dag_id, states=["queued", "running"]),
        )
        checked_at = datetime.now(UTC)
        with connections.connect(connections.WAREHOUSE_MONITOR, autocommit=True) as conn:
            if not transform_cycle.has_changes_since_last_build(conn):
                # the events queued up to now announced nothing to build: they set off no other run
                context["ti"].xcom_push(key=transform_coalesce.NOTHING_NEW_XCOM_KEY, value=checked_at.isoformat())
                raise AirflowSkipException("nothing extracted since the last build: this cycle is already built")

    group = DbtTaskGroup(
        group_id="dbt",
        project_config=dbt.project_config(),
        profile_config=dbt.profile_config(),
        execution_config=dbt.execution_config(),
        render_config=dbt.render_config(test_behavior=TestBehavior.AFTER_EACH),
        operator_args={"install_deps": False, "env": dbt.airflow_run_id_env()},
    )
    # A sensor per model and per model's tests, ended in the triggerer (no worker) unless it fails.
    make_consumers_cheap(group)

    @task(trigger_rule="all_done", outlets=MART_ASSETS)
    def publish_marts(**context) -> None:
        """Emit every mart's Asset (`marts.<name>`) once per run that ran dbt, when the build is done:
        the push_back__{app} DAGs schedule on them (one push-back run per transform run; their PII
        gate checks the tests in dbt_artifacts). Skipped (no events) when dbt did not run: kill
        switch, nothing new."""
        from airflow.sdk.exceptions import AirflowSkipException

        from dataacuity import connections, transform_cycle

        with connections.connect(connections.WAREHOUSE_MONITOR, autocommit=True) as conn:
            if not transform_cycle.dbt_ran_in(conn, context["dag_run"].run_id):
                raise AirflowSkipException("dbt did not run in this transform run: no mart changed")

    # publish as soon as the build is done (its results are in dbt_artifacts, which the push-back's
    # PII gate reads), not after the per-model tasks have caught up with it
    writes_allowed() >> group
    dag.get_task(f"{group.group_id}.{PRODUCER_TASK_ID}") >> publish_marts()
