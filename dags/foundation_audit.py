"""foundation_audit: the Phase 0 checks (runbook 0.1, 0.5, 0.6, 0.7), daily and on demand."""

from datetime import datetime

from airflow.sdk import DAG, task

from dataacuity.dag_defaults import default_args, tags

DOC = """\
### Foundation audit (runbook Phase 0)

Checks, each a task with a PASS/FAIL table in its log:
- **connections**: every documented connection logs in as its documented role (`select current_user`);
- **replica**: `replica_105` reaches a hot standby (`pg_is_in_recovery()` is true);
- **compliance_schema**: the compliance schema and its tables exist on .118;
- **privileges**: the grants AND denials of security posture §8.4 (config/foundation_audit.yml),
  including each app reader's isolation in analytics_db.

**When it fails**: open the failed task's log; the table names the check and what was found.
A failed *connections* check is a credential or network problem (fix the Airflow connection);
*replica* false means `replica_105` points at a primary — stop the extract DAGs until fixed;
a *privileges* failure is a security regression: re-apply `include/sql` (`make up` locally) and
tell the security owner. `etl_user MEMBER of etl_writer = False` means the kill switch is engaged.
"""

with DAG(
    dag_id="foundation_audit",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,  # an audit of the present; past days cannot be re-audited
    max_active_runs=1,
    default_args=default_args(retries=1),
    tags=tags("foundation", "compliance"),
    doc_md=DOC,
):

    @task
    def connections():
        from dataacuity import audit

        return _report(audit.check_connections())

    @task
    def replica():
        from dataacuity import audit

        return _report(audit.check_replica())

    @task
    def compliance_schema():
        from dataacuity import audit

        return _report(audit.check_compliance_schema())

    @task
    def privileges():
        from dataacuity import audit
        from dataacuity.registry import load_registry

        return _report(audit.check_privileges(load_registry()))

    def _report(results):
        import logging

        from dataacuity import audit

        logging.getLogger("airflow.task").info("\n%s", audit.format_report(results))
        audit.raise_on_failure(results)
        return {"passed": sum(r.passed for r in results), "failed": 0}

    connections()
    replica()
    compliance_schema()
    privileges()
