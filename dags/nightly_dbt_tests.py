"""nightly_dbt_tests: every dbt test over every row, nightly (runbook 2.9); a failure pages P1."""

from datetime import datetime

from airflow.sdk import DAG
from cosmos.constants import InvocationMode
from cosmos.operators.local import DbtTestLocalOperator

from dataacuity import dbt
from dataacuity.alert_callbacks import deadline_alert, task_failure_alert
from dataacuity.dag_defaults import default_args, tags

DOC = """\
### Nightly full dbt test run (runbook 2.9)

`dbt test` over the whole project with `full_scan: true`: the PII-absence tests
(`no_pii_column_names`, `no_pii_values`) read every row of every intermediate and mart model
(the 5-minute transform runs only check the rows of the last days), plus not_null / unique /
k-anonymity on every mart. Builds nothing, so it never competes with `transform` for a model.
Results: `dbt_artifacts.test_results` (monitoring query 10.2, `include/sql/monitoring`).

**When it fails** it pages **DbtNightlyTestsFailed (P1)**. Find the failing tests:
`SELECT model_name, test_name, status, num_failing_rows FROM dbt_artifacts.test_results WHERE
run_id = (SELECT max(run_id) FROM dbt_artifacts.test_results) AND status != 'pass'`.
- a `no_pii_*` test: personal data reached intermediate/marts. Follow runbook §4 rollback:
  revoke reads on the schema, drop or fix the model, log it in `compliance.incident_log`.
- `k_anonymity`: a small cell escaped suppression; fix the model's suppression, rebuild it.
- `not_null` / `unique`: a data problem; fix the model and run `dbt build --select <model>`.
- the task errored before testing (connection, `compliance.hash_keys is empty`): fix that and
  clear the task; nothing was tested that night.
"""

with DAG(
    dag_id="nightly_dbt_tests",
    schedule="30 1 * * *",  # 01:30 UTC: after the 5-minute runs have settled the previous day
    start_date=datetime(2026, 1, 1),
    catchup=False,  # a check of the current state: past nights have nothing left to test
    max_active_runs=1,
    deadline=deadline_alert("nightly_dbt_tests", 60, "TransformDeadlineMissed"),
    default_args=default_args(retries=1),
    tags=tags("transform", "compliance"),
    doc_md=DOC,
) as dag:
    DbtTestLocalOperator(
        task_id="dbt_test_full",
        project_dir=str(dbt.DBT_PROJECT_DIR),
        profile_config=dbt.profile_config(),
        invocation_mode=InvocationMode.DBT_RUNNER,
        install_deps=False,
        vars={"full_scan": True},
        env=dbt.airflow_run_id_env(),
        on_failure_callback=[task_failure_alert, dbt.nightly_tests_failed_alert],
        doc_md="`dbt test --vars '{full_scan: true}'` on include/dbt; fails when any test fails.",
    )
