"""DAG factory: one `push_back__{app}` DAG per app of config/pushback.yml (runbook 3.5, 4.4)."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, AssetAny, task

from dataacuity.assets import warehouse_asset
from dataacuity.dag_defaults import default_args
from dataacuity.pushback import App, PushBackConfig, load_pushback_config

START_DATE = datetime(2026, 1, 1)

DOC_TEMPLATE = """\
### Push `{app}`'s summaries back to analytics_db.{app} on .104

Runs when the transform has rebuilt the summary marts (Assets {assets}); refreshes:

| table on .104 (analytics_db) | from mart | computed from | what the app shows |
|---|---|---|---|
{rows}

1. `pii_gate`: refuses (and pages **PushBackRefused**, P1) when a PII-absence or k-anonymity test
   of any model the data comes from failed, or did not run on the current data (dbt_artifacts).
   The task log lists every failing or missing test. Nothing is pushed.
2. `push`: `pushback.refresh_summary()` on .106 deletes and re-inserts each summary through
   postgres_fdw in ONE transaction (readers on .104 never see an empty or half-written table) and
   re-keys `user_hash` to `{app}`'s own `user_id` inside the database. Re-running is safe.

**When it fails**
- *PushBackRefused*: fix the upstream model / test first (docs/runbooks/PIITestFailed.md); the
  next transform run triggers this DAG again. Never push with the gate off.
- *could not connect to server "analytics_104"* / *password authentication failed*: the link
  (user mapping) is wrong; re-run the link set-up (`make up` locally), then clear the task.
- *marts.X does not exist*: the transform has not built the summary yet.
- *has column(s) ... no longer has*: the mart dropped a column the app reads; agree with the team.
Lag: `freshness_monitor` pages **PushBackStale** (P1) when a summary is older than 1 hour.
Rollback: docs/pushback.md (drop the link; analytics_db keeps the last good summaries).
"""


def build_pushback_dag(app: App) -> DAG:
    assets = [warehouse_asset("marts", s.model) for s in app.summaries]
    rows = "\n".join(
        f"| `{s.app}.{s.name}` | `marts.{s.model}` | {', '.join(f'`{m}`' for m in s.marts)} | {s.description} |"
        for s in app.summaries
    )
    with DAG(
        dag_id=app.dag_id,
        schedule=AssetAny(*assets),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,  # two refreshes of the same summary at once would only queue on .104
        dagrun_timeout=timedelta(minutes=30),
        default_args=default_args(retries=1),
        tags=["pushback", app.name],
        doc_md=DOC_TEMPLATE.format(app=app.name, assets=", ".join(f"`{a.name}`" for a in assets), rows=rows),
    ) as dag:

        @task  # a refusal raises AirflowFailException: no retry (it would only page twice)
        def pii_gate(app_name: str = app.name, **context) -> None:
            """Refuse (P1) when upstream PII / k-anonymity tests failed or did not run on this data."""
            from airflow.sdk.exceptions import AirflowFailException

            from dataacuity import connections, pushback

            config = pushback.load_pushback_config()
            with connections.connect(connections.WAREHOUSE_PUSHBACK, autocommit=True) as conn:
                problems = [
                    f"{s.name}: {p}" for s in config.app(app_name).summaries for p in pushback.pii_gate(conn, s)
                ]
            if problems:
                refused = pushback.PushBackRefused(app_name, problems)
                ti = context.get("ti")
                pushback.page_refusal(refused, run_url=getattr(ti, "log_url", "") or "")
                raise AirflowFailException(str(refused))

        @task
        def push(app_name: str = app.name) -> list[dict]:
            """Atomic refresh of every summary of the app (gate checked by the previous task)."""
            from dataacuity import pushback

            results = pushback.refresh_app(app_name, gate=False)
            return [
                {"summary": r.summary, "rows_pushed": r.rows_pushed, "rows_unmatched": r.rows_unmatched}
                for r in results
            ]

        pii_gate() >> push()
    return dag


def build_pushback_dags(config: PushBackConfig | None = None, only_dag_id: str | None = None) -> list[DAG]:
    config = config or load_pushback_config()
    return [build_pushback_dag(app) for app in config.apps if not only_dag_id or only_dag_id == app.dag_id]
