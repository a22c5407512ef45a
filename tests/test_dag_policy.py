"""DAG policy, in the style of mozilla/telemetry-airflow: every DAG in dags/ must carry what the
on-call needs (DESIGN §5). A DAG that breaks a rule fails here, not in production."""

from __future__ import annotations

from pathlib import Path

import pytest

from dataacuity.dag_defaults import ALLOWED_TAGS, OWNER

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def test_dags_folder_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert len(dagbag.dags) > 0


def test_every_registry_source_has_its_extract_dag(dagbag, registry):
    for source in registry.sources:
        dag = dagbag.dags.get(f"extract__{source.name}")
        assert dag is not None, f"no extract DAG for {source.name}"
        assert {t.task_id for t in dag.tasks} == set(source.table_names)
        for table in source.tables:
            outlets = dag.get_task(table.name).outlets
            assert [a.name for a in outlets] == [f"raw.{table.raw_table}"]
        assert dag.max_active_runs == 1


def test_every_dag_has_owner_tags_doc_retries_and_alerting(dagbag, registry):
    extra_tags = {s.name for s in registry.sources} | set(registry.apps)
    problems = []
    for dag_id, dag in dagbag.dags.items():
        if not dag.tags or not set(dag.tags) & ALLOWED_TAGS:
            problems.append(f"{dag_id}: needs a tag from {sorted(ALLOWED_TAGS)}")
        unknown = set(dag.tags) - ALLOWED_TAGS - extra_tags
        if unknown:
            problems.append(f"{dag_id}: unknown tags {sorted(unknown)}")
        if not dag.doc_md or "fail" not in dag.doc_md.lower():
            problems.append(f"{dag_id}: doc_md must tell the on-call what to do when it fails")
        if dag.catchup and "catchup" not in (dag.doc_md or "").lower():
            problems.append(f"{dag_id}: catchup is on without saying why in doc_md")
        for task in dag.tasks:
            if task.owner != OWNER:
                problems.append(f"{dag_id}.{task.task_id}: owner {task.owner!r}, expected {OWNER!r}")
            if not task.retries or task.retries < 1:
                problems.append(f"{dag_id}.{task.task_id}: no retries")
            if not task.on_failure_callback:
                problems.append(f"{dag_id}.{task.task_id}: no on_failure_callback")
    assert problems == []


def test_an_invalid_registry_is_a_loud_import_error(tmp_path, monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    broken = tmp_path / "sources.yml"
    broken.write_text(
        (REPO / "config" / "sources.yml").read_text().replace("    primary_key: [id]", "    primary_key: []")
    )
    monkeypatch.setenv("DATAACUITY_REGISTRY", str(broken))
    dagbag = DagBag(dag_folder=str(REPO / "dags" / "extract.py"))
    assert dagbag.dags == {}
    (error,) = dagbag.import_errors.values()
    assert str(broken) in error and "primary_key" in error


def test_dag_tags_come_from_the_one_list():
    """Every `tags=` of a DAG is dataacuity.dag_defaults.tags(...), which accepts only TAGS."""
    import ast

    from dataacuity.dag_defaults import TAGS, tags

    problems = []
    for path in [*sorted((REPO / "dags").glob("*.py")), REPO / "plugins" / "dataacuity" / "extract" / "dags.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            for keyword in getattr(node, "keywords", []) if isinstance(node, ast.Call) else []:
                value = keyword.value
                if keyword.arg == "tags" and not (
                    isinstance(value, ast.Call) and getattr(value.func, "id", "") == "tags"
                ):
                    problems.append(f"{path.relative_to(REPO)}:{value.lineno}: tags= must be dag_defaults.tags(...)")
    assert problems == []
    assert tags("extract", registry_names=("ledger_db", "ledger")) == ["extract", "ledger_db", "ledger"]
    for bad in (("extracts",), ()):
        with pytest.raises(ValueError, match="compliance"):
            tags(*bad)
    assert set(TAGS) == ALLOWED_TAGS
