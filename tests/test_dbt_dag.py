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

FACT_TASK = "dbt.fct_ledger_transactions_anon_model_build"


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

    subset = transform.partial_subset(task_ids=[FACT_TASK], include_upstream=True, include_downstream=False)
    assert {
        "dbt.stg_ledger_db__transactions_model_build",
        "dbt.int_ledger_transactions_anon_model_build",
        "dbt.dim_fx_rates_daily_model_build",
        FACT_TASK,
    } <= set(subset.task_ids)
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
        salts = [bytes(r[0]) for r in conn.execute("SELECT salt FROM compliance.salts").fetchall()]
    assert "fct_ledger_transactions_anon" in text  # the task output was captured
    for salt in salts:
        for form in (salt.hex(), base64.b64encode(salt).decode(), salt.hex().upper()):
            assert form not in text
    logs = Path(os.environ["AIRFLOW_HOME"]) / "logs"
    for path in logs.rglob("*") if logs.exists() else []:
        if path.is_file():
            content = path.read_text(errors="ignore")
            assert not any(salt.hex() in content for salt in salts), path
