"""dataacuity.transform_watch pieces that the transform DAG's structure tests do not reach: the
trigger runner's DAG cache (one deserialisation per DAG version, not one per started sensor)."""

from __future__ import annotations

import copy
import os
import subprocess
import sys

from tests.conftest import REPO


def _serialised_dag(task_ids):
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.sdk import DAG
    from airflow.serialization.serialized_objects import DagSerialization

    with DAG(dag_id="watch_cache_probe", schedule=None) as dag:
        for task_id in task_ids:
            EmptyOperator(task_id=task_id)
    return DagSerialization.to_dict(dag)


def test_the_trigger_runner_deserialises_each_dag_version_once(monkeypatch):
    from airflow.jobs import triggerer_job_runner as runner

    from dataacuity import transform_watch

    monkeypatch.setattr(runner, "DagSerialization", runner.DagSerialization)  # restored afterwards
    assert transform_watch.cache_trigger_runner_dags()
    assert transform_watch.cache_trigger_runner_dags()  # idempotent: no cache around the cache
    cached = runner.DagSerialization
    assert cached.__mro__[1].__name__ == "DagSerialization"

    encoded = _serialised_dag(["a", "b"])
    first = cached.from_dict(copy.deepcopy(encoded))
    again = cached.from_dict(copy.deepcopy(encoded))  # a new dict per workload, same content
    assert again is first and first.get_task("b").task_id == "b"

    changed = cached.from_dict(_serialised_dag(["a", "b", "c"]))  # a new DAG version: deserialised
    assert changed is not first and "c" in changed.task_dict and "c" not in first.task_dict


def test_the_cache_is_installed_where_the_trigger_is_loaded_and_nowhere_else():
    """The triggerer imports NodeStatusTrigger's module by its classpath: that installs the cache. A
    worker or the DAG processor never imports the triggerer, so nothing changes there."""
    code = (
        "import sys, airflow.sdk\n"
        "import dataacuity.transform_watch\n"
        "print('runner loaded:', 'airflow.jobs.triggerer_job_runner' in sys.modules)\n"
        "import airflow.jobs.triggerer_job_runner as r\n"
        "print('before:', r.DagSerialization.__name__)\n"
        "import importlib; importlib.reload(dataacuity.transform_watch)  # as the triggerer loads it\n"
        "print('after:', r.DagSerialization.__name__)\n"
    )
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'plugins'}:{REPO}"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "runner loaded: False" in out.stdout
    assert "before: DagSerialization" in out.stdout
    assert "after: CachedDagSerialization" in out.stdout


class _RecordingTaskInstance:
    """Stands in for the producer's task instance: records the XCom writes dbt's events cause."""

    def __init__(self):
        self.pushed: dict[str, object] = {}

    def xcom_push(self, key, value):
        self.pushed[key] = value

    def xcom_pull(self, *args, **kwargs):
        return None


def _node_finished(unique_id, status, resource_type="model"):
    import json

    return json.dumps(
        {
            "info": {"name": "NodeFinished", "level": "info", "msg": f"{unique_id} {status}"},
            "data": {
                "node_info": {
                    "unique_id": unique_id,
                    "node_status": status,
                    "resource_type": resource_type,
                    "node_path": "staging/stg_x.sql",
                },
                "run_result": {"message": "boom" if status == "error" else "OK"},
            },
        }
    )


def test_the_producer_writes_what_the_per_node_tasks_read_and_nothing_else(tmp_path):
    """Per node: its status; dbt's event only when it did not succeed (its task logs it on a worker);
    never the compiled SQL (nobody reads it: successful tasks end in the triggerer)."""
    import airflow.sdk  # noqa: F401  (Airflow before Cosmos)
    from cosmos.operators._watcher import base

    from dataacuity import transform_watch

    transform_watch.push_final_node_events_only()
    transform_watch.push_final_node_events_only()  # idempotent (every DAG parse calls it)
    compiled = tmp_path / "target" / "compiled" / "dataacuity" / "models" / "staging"
    compiled.mkdir(parents=True)
    (compiled / "stg_x.sql").write_text("select 1 as compiled_sql_marker")

    ti = _RecordingTaskInstance()
    extra = {"context": {"ti": ti}, "project_dir": str(tmp_path)}
    base.store_dbt_resource_status_from_log(_node_finished("model.dataacuity.stg_ok", "success"), extra)
    base.store_dbt_resource_status_from_log(_node_finished("model.dataacuity.stg_bad", "error"), extra)

    assert ti.pushed["model__dataacuity__stg_ok_status"]["status"] == "success"
    assert ti.pushed["model__dataacuity__stg_bad_status"]["status"] == "error"
    assert "model__dataacuity__stg_ok_dbt_event" not in ti.pushed
    assert ti.pushed["model__dataacuity__stg_bad_dbt_event"]["msg"] == "boom"
    assert not [k for k in ti.pushed if "compiled" in k]
    assert "compiled_sql_marker" not in repr(ti.pushed)
