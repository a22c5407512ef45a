"""The dbt project and its DAGs without a database: registry agreement, layout, contracts in the
manifest, no credentials in files, Cosmos rendering from the manifest."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from dataacuity import dbt
from tests.conftest import REPO
from tools.build_dbt_manifest import SOURCES_YML, render_sources, staging_model_path

MODELS = dbt.DBT_PROJECT_DIR / "models"


@pytest.fixture(scope="module")
def manifest():
    from tools.build_dbt_manifest import build_manifest

    build_manifest()
    return json.loads(dbt.MANIFEST_PATH.read_text())


def model_files() -> list[Path]:
    return sorted(MODELS.rglob("*.sql"))


def test_sources_are_generated_from_the_registry(registry):
    assert SOURCES_YML.read_text() == render_sources(registry), (
        "models/staging/_sources.yml is stale: python -m tools.build_dbt_manifest --write-sources"
    )
    sources = yaml.safe_load(SOURCES_YML.read_text())["sources"]
    tables = {(s["name"], t["name"]) for s in sources for t in s["tables"]}
    assert tables == {(t.source_db, t.raw_table) for t in registry.tables()}
    freshness = {t["name"]: t["config"]["freshness"] for s in sources for t in s["tables"]}
    assert freshness["ledger_db__transactions"]["warn_after"] == {"count": 10, "period": "minute"}


def test_every_registry_table_has_a_staging_model(registry):
    for table in registry.tables():
        path = staging_model_path(table)
        assert path.exists() and path.with_suffix(".yml").exists(), table.key
        assert f"source('{table.source_db}', '{table.raw_table}')" in path.read_text()


def test_one_model_per_file_with_its_yaml_beside_it():
    for path in model_files():
        doc = yaml.safe_load(path.with_suffix(".yml").read_text())
        assert [m["name"] for m in doc["models"]] == [path.stem], path


def test_the_named_intermediate_models_and_marts_exist(registry):
    names = {p.stem for p in model_files()}
    assert {
        "int_users_anon",
        "int_ledger_transactions_anon",
        "int_sdpkt_payments_anon",
        "int_bidbaas_auctions_anon",
        "fct_ledger_transactions_anon",
        "fct_bidbaas_auctions",
        "fct_sdpkt_payments",
        "dim_user_360_anon",
        "agg_revenue_daily_app_country",
        "dim_fx_rates_daily",
    } <= names
    # one anonymised intermediate model (at least) per source database
    for source in registry.sources:
        prefix = source.name.removesuffix("_db")
        assert any(n.startswith(f"int_{prefix}_") for n in names) or source.name == "auth_db", source.name


def test_no_credentials_in_dbt_files():
    profile = (dbt.DBT_PROFILES_DIR / "profiles.yml").read_text()
    outputs = yaml.safe_load(profile)["dataacuity"]["outputs"]["warehouse"]
    for key in ("host", "port", "user", "password", "dbname"):
        assert "env_var(" in str(outputs[key]), key
    assert "DBT_ENV_SECRET_" in str(outputs["password"])
    assert outputs["role"] == "dbt_writer"
    for path in dbt.DBT_PROJECT_DIR.rglob("*"):
        if path.is_file() and "target" not in path.parts and "logs" not in path.parts:
            text = path.read_text(errors="ignore")
            assert not re.search(r"password\s*[:=]\s*['\"]?[A-Za-z0-9]{6,}", text.replace("env_var", "")), path


def test_leaky_fixtures_are_disabled_by_default(manifest):
    enabled = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    disabled = {n[0]["name"] for n in manifest["disabled"].values()}
    assert {
        "int_leaky_users",
        "int_leaky_downstream",
        "int_leaky_formats",
        "int_leaky_unmodelled",
        "ml_leaky_features",
        "analytics_leaky_cohorts",
        "int_guard_sample_coverage",
        "mart_without_contract",
    } <= disabled
    assert not enabled & disabled


def test_every_intermediate_and_mart_model_carries_the_pii_tests_and_guard(manifest):
    tests_by_model: dict[str, set[str]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test" and node.get("test_metadata"):
            tests_by_model.setdefault(node.get("attached_node") or "", set()).add(node["test_metadata"]["name"])
    checked = 0
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] == "model" and node["schema"] in ("intermediate", "marts"):
            assert {"no_pii_column_names", "no_pii_values"} <= tests_by_model.get(unique_id, set()), unique_id
            assert any("da_pii_guard()" in hook["sql"] for hook in node["config"]["post-hook"]), unique_id
            checked += 1
    assert checked >= 25


def test_marts_declare_their_contract(manifest):
    marts = [n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["schema"] == "marts"]
    assert len(marts) >= 6
    for node in marts:
        meta = node["config"]["meta"]
        assert "purpose" in node["description"].lower() and ("POPIA" in node["description"]), node["name"]
        assert meta["owner"] and meta["compliance_class"] in {"operational", "ops_analytics", "marketing", "financial"}
        assert meta["primary_key"] and meta["natural_key"]
        if meta.get("user_aggregating"):
            assert meta["quasi_identifiers"], node["name"]


def test_event_facts_are_incremental(manifest):
    by_name = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    for name in (
        "int_ledger_transactions_anon",
        "int_sdpkt_payments_anon",
        "int_bidbaas_auctions_anon",
        "fct_ledger_transactions_anon",
        "fct_bidbaas_auctions",
        "fct_sdpkt_payments",
    ):
        config = by_name[name]["config"]
        assert config["materialized"] == "incremental", name
        assert any(index.get("unique") for index in config["indexes"]), name
        assert any(index["columns"] == ["_extracted_at"] for index in config["indexes"]), name


def test_cosmos_renders_the_transform_dag_from_the_manifest_without_dbt(manifest, mocker):
    """Parse time stays cheap because the graph comes from the pre-built manifest, never from dbt
    (`make bench` measures the parse time itself: bench/bench_parse.py)."""
    import airflow.sdk  # noqa: F401  (Airflow before Cosmos, else Cosmos' plugin import is circular)
    from cosmos.constants import LoadMode
    from cosmos.dbt.graph import DbtGraph

    mocker.patch.object(DbtGraph, "load_via_dbt_ls", side_effect=AssertionError("dbt ls at parse time"))
    mocker.patch.object(DbtGraph, "load_via_dbt_ls_without_cache", side_effect=AssertionError("dbt ls"))

    render = dbt.render_config()
    assert render.load_method == LoadMode.DBT_MANIFEST
    execution = dbt.execution_config()
    execution.project_path = dbt.DBT_PROJECT_DIR  # what DbtTaskGroup does with the ProjectConfig's path
    graph = DbtGraph(
        project=dbt.project_config(),
        render_config=render,
        execution_config=execution,
        profile_config=dbt.profile_config(),
    )
    graph.load(method=LoadMode.DBT_MANIFEST)
    models = {n.name for n in graph.filtered_nodes.values() if n.resource_type.value == "model"}
    assert "fct_ledger_transactions_anon" in models and not any("leaky" in m for m in models)


def test_transform_and_nightly_dags(manifest, registry):
    from airflow.dag_processing.dagbag import DagBag
    from cosmos.constants import InvocationMode

    from dataacuity.dag_defaults import OWNER

    bag = DagBag(dag_folder=str(REPO / "dags" / "transform.py"))
    assert bag.import_errors == {}
    dag = bag.dags["transform"]
    assert dag.max_active_runs == 1 and not dag.catchup
    condition = dag.timetable.asset_condition
    assets = {a.name for a in condition.objects}
    assert type(condition).__name__ == "AssetAny"
    assert assets == {f"raw.{t.raw_table}" for t in registry.tables()}
    tasks = {t.task_id: t for t in dag.tasks}
    assert "dbt.fct_ledger_transactions_anon.run" in tasks and "dbt.fct_ledger_transactions_anon.test" in tasks
    producer = tasks["dbt.dbt_producer_watcher"]  # watcher mode: ONE dbt build (a retry skips, Cosmos)
    assert producer.invocation_mode == InvocationMode.DBT_RUNNER and producer.retries >= 1
    internal = {"dbt.dbt_producer_watcher", "dbt.dbt_producer_watcher_done"}
    dbt_tasks = [t for t in tasks.values() if t.task_id.startswith("dbt.") and t.task_id not in internal]
    assert len(dbt_tasks) >= 120
    for task in dbt_tasks:
        # a task per model and per model's tests, started and (on success) ended in the triggerer
        assert task.start_from_trigger and task.start_trigger_args.trigger_cls.endswith("NodeStatusTrigger")
        assert task.owner == OWNER and task.retries >= 1 and task.on_failure_callback
    # lineage: the fact waits for its intermediate model's tests; roots wait for the producer
    fact = tasks["dbt.fct_ledger_transactions_anon.run"]
    assert "dbt.int_ledger_transactions_anon.test" in fact.upstream_task_ids
    assert "dbt.dbt_producer_watcher" in tasks["dbt.stg_ledger_db__transactions_run"].upstream_task_ids
    # every mart emits its logical Asset once per run that ran dbt (push-back schedules on them)
    publish = tasks["publish_marts"]
    assert "marts.fct_ledger_transactions_anon" in {getattr(a, "name", None) for a in publish.outlets}
    assert "marts.bidbaas__user_summary" in {getattr(a, "name", None) for a in publish.outlets}

    nightly = DagBag(dag_folder=str(REPO / "dags" / "nightly_dbt_tests.py"))
    assert nightly.import_errors == {}
    test_task = nightly.dags["nightly_dbt_tests"].get_task("dbt_test_full")
    assert test_task.vars == {"full_scan": True}
    assert test_task.upstream_task_ids == {"kill_switch_gate"}
    callbacks = test_task.on_failure_callback
    assert dbt.nightly_tests_failure_callback in (callbacks if isinstance(callbacks, list) else [callbacks])


def test_nightly_failure_pages_p1(topology, alertmanager, webhook, monkeypatch):
    """The on_failure_callback through the real notify and the real Alertmanager to the pager."""
    monkeypatch.setenv("AIRFLOW_CONN_ALERTMANAGER", alertmanager)

    class TI:
        dag_id, task_id, run_id, log_url = "nightly_dbt_tests", "dbt_test_full", "scheduled__x", "http://airflow/log"

    dbt.nightly_tests_failed_alert({"task_instance": TI(), "exception": RuntimeError("3 tests failed")})
    (page,) = webhook.wait("/pager", alertname=dbt.NIGHTLY_ALERTNAME, dag_id="nightly_dbt_tests")
    assert page["labels"]["severity"] == "P1"
    assert "3 tests failed" in page["annotations"]["description"]
    assert page["generatorURL"] == "http://airflow/log"
