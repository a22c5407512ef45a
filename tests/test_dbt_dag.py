"""extract -> transform under dag.test() on the local topology: a new ledger transaction on the
primary travels through the replica, `extract__ledger_db`, and the Cosmos `transform` DAG
(the models upstream of fct_ledger_transactions_anon) into the mart, hashed and FX-normalised;
the run's results land in dbt_artifacts under the DAG run's id and no salt is in the task output."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from tests.conftest import REPO, superuser_connect
from tools import key_link

FACT_TASK = "dbt.fct_ledger_transactions_anon.run"  # watcher mode: a task per model (its tests: .test)


@pytest.fixture(scope="module")
def dags(seeded_sources, airflow_db):
    os.environ["DATAACUITY_DEADLINES"] = "off"  # dag.test() of 3.3.2 crashes on DAGs with deadlines
    from airflow.dag_processing.dagbag import DagBag

    key_link.ensure_local_key_link()
    extract = DagBag(dag_folder=str(REPO / "dags" / "extract.py")).dags["extract__ledger_db"]
    transform = DagBag(dag_folder=str(REPO / "dags" / "transform.py")).dags["transform"]
    return extract, transform


def test_a_new_transaction_flows_from_extract_to_the_mart(dags, topology, capfd):
    extract, transform = dags
    with superuser_connect("primary", "ledger_db") as conn:
        account_id, user_id = conn.execute("SELECT id, user_id FROM accounts ORDER BY id DESC LIMIT 1").fetchone()
        txn_id = conn.execute(
            "INSERT INTO transactions (txn_ref, account_id, user_id, txn_type, status, amount, currency) "
            "VALUES (gen_random_uuid(), %s, %s, 'fee', 'posted', 7.50, 'ZAR') RETURNING id",
            (account_id, user_id),
        ).fetchone()[0]
    topology.wait_for_replica()

    assert extract.test().state == "success"

    # the fact's task and its upstream, plus the build they follow (the per-node tasks do not wait
    # for it: they are released while it runs; dag.test() runs it first, see transform_watch)
    subset = transform.partial_subset(
        task_ids=[FACT_TASK, "dbt.dbt_producer_watcher"], include_upstream=True, include_downstream=False
    )
    assert {
        "dbt.dbt_producer_watcher",  # the one dbt build
        "dbt.stg_ledger_db__transactions_run",  # no tests of its own: no sub-group
        "dbt.int_ledger_transactions_anon.run",
        "dbt.int_ledger_transactions_anon.test",
        "dbt.dim_fx_rates_daily.run",
        FACT_TASK,
    } <= set(subset.task_ids)
    # The producer builds what the render selected (the project); for this subset, only the fact's
    # upstream (the watcher tasks of the subset report on exactly those nodes).
    subset.get_task("dbt.dbt_producer_watcher").select = "+fct_ledger_transactions_anon"
    run = subset.test()
    assert run.state == "success", {ti.task_id: ti.state for ti in run.get_task_instances()}

    with superuser_connect("warehouse", "data_warehouse") as conn:
        fact = conn.execute(
            "SELECT user_hash, amount_zar, amount_usd, amount_btc_sats FROM marts.fct_ledger_transactions_anon "
            "WHERE transaction_id = %s",
            (txn_id,),
        ).fetchone()
        expected = conn.execute("SELECT compliance.hash_user(%s::bigint)", (user_id,)).fetchone()[0]
        stored = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = 'pass') FROM dbt_artifacts.test_results "
            "WHERE run_id LIKE %s",
            (f"%_{run.run_id}",),
        ).fetchone()
    assert fact is not None and fact[0] == expected and fact[1] is not None and fact[2] is not None and fact[3]
    assert stored[0] > 0 and stored[0] == stored[1]

    output = capfd.readouterr()
    text = output.out + output.err
    with superuser_connect("compliance", "compliance") as conn:
        salts = [
            bytes(r[0]) for r in conn.execute("SELECT salt FROM compliance.salts WHERE salt IS NOT NULL").fetchall()
        ]
    assert "fct_ledger_transactions_anon" in text  # the task output was captured
    for salt in salts:
        for form in (salt.hex(), base64.b64encode(salt).decode(), salt.hex().upper()):
            assert form not in text
    logs = Path(os.environ["AIRFLOW_HOME"]) / "logs"
    for path in logs.rglob("*") if logs.exists() else []:
        if path.is_file():
            content = path.read_text(errors="ignore")
            assert not any(salt.hex() in content for salt in salts), path
