"""dbt on the seeded local topology: the whole project builds green, PII never passes the
boundary (the leaky fixture is caught and its downstream skipped), contracts and k-anonymity are
enforced, results land in dbt_artifacts, no salt appears in dbt's files, increments are small.

One `dbt build` for the module; the other invocations are small selections."""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from dataacuity import dbt
from dataacuity.dbt_runner import run_dbt
from dataacuity.sqlfiles import query
from tests.conftest import expected_hash, superuser_connect
from tools import key_link

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def registry_pii_columns() -> set[str]:
    """Every source column the registry classifies as PII (any class: email, device_id, ip, geo, ...)."""
    from dataacuity.registry import load_registry

    columns = {column for table in load_registry().tables() for column in table.pii}
    assert {"device_id", "last_ip", "email", "sa_id_number"} <= columns
    return columns


@pytest.fixture(scope="module")
def built(topology, seeded_sources, tmp_path_factory):
    """Raw landed from the replica, the key link installed, then one full `dbt build`."""
    from tools.pipeline import extract_all

    extract_all()
    key_link.ensure_local_key_link()
    target = tmp_path_factory.mktemp("dbt_target")
    result = run_dbt(["build"], target_path=target)
    assert result.ok, result.output[-6000:]
    return result, target


def dbt_writer():
    conn = superuser_connect("warehouse", "data_warehouse")
    conn.execute("SET ROLE dbt_writer")
    return conn


def rows(conn, sql: str, *params):
    return conn.execute(sql, params).fetchall()


def test_build_is_green_on_seeded_data(built):
    result, target = built
    statuses = result.statuses()
    assert statuses and all(s in ("success", "pass") for s in statuses.values()), {
        k: v for k, v in statuses.items() if v not in ("success", "pass")
    }
    # every enabled model, seed and snapshot of the project ran, and every test of them (none left out)
    nodes = json.loads((Path(target) / "manifest.json").read_text())["nodes"]
    expected = {
        uid
        for uid, node in nodes.items()
        if node["resource_type"] in ("model", "test", "seed", "snapshot") and node["config"]["enabled"]
    }
    assert sum(uid.startswith("model.") for uid in expected) >= 60
    assert expected - set(statuses) == set()


def test_intermediate_holds_user_hashes_not_pii(built):
    with dbt_writer() as conn:
        columns = {
            r[0]
            for r in rows(
                conn,
                "SELECT column_name FROM information_schema.columns WHERE table_schema IN ('intermediate', 'marts')",
            )
        }
        assert columns and not columns & registry_pii_columns()
        user_id, first = rows(conn, "SELECT id, first_name FROM staging.stg_auth_db__users ORDER BY id LIMIT 1")[0]
        expected = expected_hash("user", str(user_id))
        hashes = [r[0] for r in rows(conn, "SELECT user_hash FROM intermediate.int_users_anon")]
        assert expected in hashes and all(HEX64.match(h) for h in hashes)
        n_users = rows(conn, "SELECT count(*) FROM staging.stg_auth_db__users")[0][0]
        assert len(hashes) == len(set(hashes)) == n_users
        # the same user carries the same hash in every app's facts (deterministic join key)
        txn_user = rows(
            conn,
            "SELECT t.user_id, f.user_hash FROM staging.stg_ledger_db__transactions t "
            "JOIN marts.fct_ledger_transactions_anon f ON f.transaction_id = t.id LIMIT 1",
        )[0]
        assert txn_user[1] == expected_hash("user", str(txn_user[0]))
        assert not rows(
            conn, "SELECT 1 FROM intermediate.int_users_anon WHERE city = %s OR province = %s", first, first
        )


def test_monetary_facts_are_fx_normalised(built):
    with dbt_writer() as conn:
        for fact in ("fct_ledger_transactions_anon", "fct_sdpkt_payments", "fct_bidbaas_auctions"):
            total, zar, usd, sats = rows(
                conn,
                f"SELECT count(amount), count(amount_zar), count(amount_usd), count(amount_btc_sats) FROM marts.{fact}",
            )[0]
            assert total > 0 and total == zar == usd == sats, fact
        amount, usd, rate = rows(
            conn,
            "SELECT f.amount_zar, f.amount_usd, fx.zar_per_usd FROM marts.fct_ledger_transactions_anon f "
            "JOIN marts.dim_fx_rates_daily fx ON fx.rate_date = f.event_date WHERE f.currency = 'ZAR' LIMIT 1",
        )[0]
        assert abs(usd - (amount / rate)) <= Decimal("0.01")
        # dim_fx_rates_daily has no gaps through today
        gaps = rows(
            conn,
            "SELECT count(*) FROM generate_series((SELECT min(rate_date) FROM marts.dim_fx_rates_daily), current_date, "
            "interval '1 day') d WHERE d::date NOT IN (SELECT rate_date FROM marts.dim_fx_rates_daily)",
        )[0][0]
        assert gaps == 0


def test_user_aggregating_marts_hold_k_anonymity(built):
    with dbt_writer() as conn:
        small = rows(conn, query("monitoring/10_3_k_anonymity_health.sql"))
        assert small == []
        assert rows(conn, "SELECT min(user_count) FROM marts.agg_revenue_daily_app_country")[0][0] >= 5
        # suppression really happens on the seeded data (small provinces lose their value)
        users = rows(conn, "SELECT count(*) FROM intermediate.int_users_anon WHERE NOT is_deleted")[0][0]
        kept = rows(conn, "SELECT count(*), count(province) FROM marts.dim_user_360_anon")[0]
        assert kept[0] <= users and kept[1] < kept[0]


def test_a_planted_small_cell_is_caught_by_the_k_anonymity_test(built, tmp_path):
    planted = "f" * 63 + "0"
    with dbt_writer() as conn:
        conn.execute(
            "INSERT INTO marts.dim_user_360_anon (user_hash, age_band, province, country_code) "
            "VALUES (%s, 'planted', 'Planted Province', 'ZA')",
            (planted,),
        )
    try:
        result = run_dbt(
            ["test", "--select", "dim_user_360_anon,test_name:k_anonymity"], target_path=tmp_path / "target"
        )
        assert not result.ok
        (status,) = [v for k, v in result.statuses().items() if k.startswith("test.")]
        assert status == "fail"
        assert "Got 1 result" in result.output
    finally:
        with dbt_writer() as conn:
            conn.execute("DELETE FROM marts.dim_user_360_anon WHERE user_hash = %s", (planted,))


def relation_exists(schema: str, name: str) -> bool:
    with superuser_connect("warehouse", "data_warehouse") as conn:
        return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{schema}.{name}",)).fetchone()[0]


# The leaky fixtures (models/leaky/): int_leaky_users (PII under PII-ish names), int_leaky_formats
# (phones, ID numbers and e-mails in the formats a pattern misses, under harmless names) and
# int_leaky_unmodelled (raw PII of tables read straight from raw, renamed). Only the registry's
# sampled values give the last two away.
LEAKY_SELECTION = [
    "int_leaky_users+",
    "int_leaky_formats",
    "int_leaky_unmodelled",
    "ml_leaky_features",
    "analytics_leaky_cohorts",
]
LEAKY_VARS = "enable_leaky_model: true, enable_leaky_formats: true"
FORMAT_COLUMNS = {
    "int_leaky_formats": {
        "dial_no_plus",
        "dial_spaces",
        "dial_dots",
        "dial_brackets",
        "dial_trunk_zero",
        "ref_separated",
        "ref_dashed",
        "memo_escalation",
        "memo_parcel",
        "digest_login_sha256",
        "digest_dial_md5",
        "digest_ref_sha256",
        "num_dial",
        "num_ref",
    },
    "int_leaky_unmodelled": {"hw_serial", "origin_host", "probe_log", "dial_code", "handle_digest", "remark"},
    # the analytics and ml schemas are guarded like marts
    "ml_leaky_features": {"label_key"},
    "analytics_leaky_cohorts": {"cohort_tag"},
}
FIXTURE_SCHEMA = {"ml_leaky_features": "ml", "analytics_leaky_cohorts": "analytics"}  # default: intermediate


def _run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S}_pytest_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def guarded_leaks(built, tmp_path_factory):
    """One build of every leaky fixture with the guard on (as it always is outside models/leaky)."""
    run_id = _run_id()
    result = run_dbt(
        ["build", "--select", *LEAKY_SELECTION, "--vars", "{" + LEAKY_VARS + "}"],
        target_path=tmp_path_factory.mktemp("guarded"),
        env={"DA_DBT_RUN_ID": run_id},
    )
    return result, run_id


@pytest.fixture(scope="module")
def unguarded_leaks(built, tmp_path_factory):
    """One build of every leaky fixture with the guard off (only models/leaky may): the PII tests
    are then what stops them."""
    run_id = _run_id()
    try:
        result = run_dbt(
            ["build", "--select", *LEAKY_SELECTION, "--vars", "{" + LEAKY_VARS + ", leaky_pii_guard: false}"],
            target_path=tmp_path_factory.mktemp("unguarded"),
            env={"DA_DBT_RUN_ID": run_id},
        )
    finally:
        with dbt_writer() as conn:
            for model in ("int_leaky_users", *FORMAT_COLUMNS):
                conn.execute(f"DROP TABLE IF EXISTS {FIXTURE_SCHEMA.get(model, 'intermediate')}.{model}")
    return result, run_id


def test_the_leaky_model_is_stopped_by_the_guard_and_downstream_skipped(guarded_leaks):
    result, _ = guarded_leaks
    assert not result.ok
    assert result.status_of("int_leaky_users") == "error"
    assert result.status_of("int_leaky_downstream") == "skipped"
    assert "PII guard" in result.output and "look like sa_id_number" in result.output
    # rolled back: the leaking relation never became visible
    assert not relation_exists("intermediate", "int_leaky_users")


def test_every_format_and_unmodelled_source_is_stopped_by_the_guard_naming_model_and_column(guarded_leaks):
    """Issue 10 §2: the registry's values, normalised, catch what names and patterns miss; the
    guard's failure in dbt_artifacts names the model and every leaking column."""
    result, run_id = guarded_leaks
    with superuser_connect("warehouse", "data_warehouse") as conn:
        stored = dict(
            conn.execute(
                "SELECT model_name, status || ': ' || coalesce(message, '') FROM dbt_artifacts.model_results "
                "WHERE run_id = %s",
                (run_id,),
            ).fetchall()
        )
    for model, columns in FORMAT_COLUMNS.items():
        assert result.status_of(model) == "error", model
        assert not relation_exists(FIXTURE_SCHEMA.get(model, "intermediate"), model)
        message = stored[model]
        assert message.startswith("error: ") and "PII guard" in message, message
        for column in columns:
            assert f"of {column} look like registry " in message, (model, column, message)
    # the unmodelled source's values are recognised as what the registry says they are
    unmodelled = stored["int_leaky_unmodelled"]
    for finding in (
        "of hw_serial look like registry device_id values of mesh_db.nodes.device_id",
        "of origin_host look like registry ip values of mesh_db.nodes.last_ip",
        "of dial_code look like registry phone values of",
        "of handle_digest look like registry unkeyed hash of email values of",
        "of remark look like registry free_text values of kyc_db.verifications.reviewer_note",
    ):
        assert finding in unmodelled, (finding, unmodelled)
    assert "@" not in " ".join(stored.values())  # names and counts, never a value


def test_the_pii_tests_fail_on_the_leaky_model_and_stop_downstream(unguarded_leaks):
    result, run_id = unguarded_leaks
    assert result.status_of("int_leaky_users") == "success"
    failed = {k.split(".")[2] for k, v in result.statuses().items() if v == "fail"}
    assert {t for t in failed if t.startswith("no_pii_column_names_int_leaky_users")}
    assert {t for t in failed if t.startswith("no_pii_values_int_leaky_users")}
    assert result.status_of("int_leaky_downstream") == "skipped"
    # results are in the warehouse (runbook 10.2)
    with superuser_connect("warehouse", "data_warehouse") as conn:
        stored = conn.execute(
            "SELECT test_type, status, num_failing_rows, model_name FROM dbt_artifacts.test_results "
            "WHERE run_id = %s ORDER BY test_type",
            (run_id,),
        ).fetchall()
        leaky = {(r[0], r[1], r[3]) for r in stored}
        # a failing PII test names the model AND the columns (issue 10)
        columns = {
            (r[0], r[1]): r[2]
            for r in conn.execute(
                "SELECT test_type, model_name, column_name FROM dbt_artifacts.test_results "
                "WHERE run_id = %s AND status = 'fail'",
                (run_id,),
            ).fetchall()
        }
        users_values = set(columns[("no_pii_values", "int_leaky_users")].split(", "))
        assert {"contact", "mobile", "reference_code"} <= users_values, columns
        assert "mobile" in columns[("no_pii_column_names", "int_leaky_users")].split(", "), columns
        assert ("no_pii_values", "fail", "int_leaky_users") in leaky
        assert ("no_pii_column_names", "fail", "int_leaky_users") in leaky
        assert ("no_pii_values", "skipped", "int_leaky_downstream") in leaky
        assert max(r[2] for r in stored if r[3] == "int_leaky_users") >= 150  # emails, phones, names, IDs of 50 users
        # The formats and the unmodelled source: no name gives them away, their values do, and
        # the failing test names every leaking column.
        for model, expected in FORMAT_COLUMNS.items():
            assert result.status_of(model) == "success", model
            assert ("no_pii_column_names", "pass", model) in leaky, model
            assert set(columns[("no_pii_values", model)].split(", ")) == expected, (model, columns)
        # The on-call's query (runbook 10.2) reports the latest run: this one (nothing else runs dbt
        # during this test), and in it exactly the leaky models' failures.
        latest = conn.execute("SELECT max(run_id) FROM dbt_artifacts.test_results").fetchone()[0]
        assert latest == run_id
        summary = conn.execute(query("monitoring/10_2_dbt_test_failures.sql")).fetchall()
        assert {(r[0], r[2]) for r in summary if r[2] == "fail"} == {
            (model, "fail") for model in ("int_leaky_users", *FORMAT_COLUMNS)
        }
        messages = conn.execute(
            "SELECT string_agg(coalesce(message, ''), ' ') FROM dbt_artifacts.test_results"
        ).fetchone()
        assert "@" not in (messages[0] or "")


def test_a_mart_without_its_contract_stops_only_itself_and_its_dependants(built, tmp_path):
    result = run_dbt(
        [
            "build",
            "--select",
            "dim_fx_rates_daily",
            "mart_without_contract+",
            "--vars",
            "{enable_contract_violation: true}",
        ],
        target_path=tmp_path / "t",
    )
    assert not result.ok
    assert result.status_of("mart_without_contract") == "error"
    assert result.status_of("mart_without_contract_downstream") == "skipped"
    assert result.status_of("dim_fx_rates_daily") == "success"  # an unrelated mart is built
    assert "Model contract check failed" in result.output
    for missing in ("meta.owner missing", "meta.compliance_class", "meta.primary_key missing", "missing PII test"):
        assert missing in result.output, missing
    assert not relation_exists("marts", "mart_without_contract")


def test_the_pii_guard_cannot_be_switched_off_outside_the_leaky_fixtures(built, tmp_path):
    result = run_dbt(
        ["build", "--select", "int_guard_switched_off", "--vars", "{enable_guard_override: true}"],
        target_path=tmp_path / "t",
    )
    assert result.status_of("int_guard_switched_off") == "error"
    assert "pii_guard may be switched off only for the test fixtures in models/leaky/" in result.output
    assert not relation_exists("intermediate", "int_guard_switched_off")


@pytest.fixture(scope="module")
def source_rule_fixtures(built, tmp_path_factory):
    """One build of the guard fixtures: per-source name rules and the registry sample's coverage."""
    result = run_dbt(
        [
            "build",
            "--select",
            "int_guard_cross_source",
            "int_guard_same_source",
            "int_guard_sample_coverage",
            "--vars",
            "{enable_source_rule_fixtures: true}",
        ],
        target_path=tmp_path_factory.mktemp("source_rules"),
    )
    try:
        with dbt_writer() as conn:
            coverage = conn.execute(
                "SELECT origin, sampled_values, needles FROM intermediate.int_guard_sample_coverage"
            ).fetchall()
    finally:
        with dbt_writer() as conn:
            conn.execute("DROP TABLE IF EXISTS intermediate.int_guard_cross_source")
            conn.execute("DROP TABLE IF EXISTS intermediate.int_guard_sample_coverage")
    return result, {origin: (sampled, needles) for origin, sampled, needles in coverage}


def test_column_name_rules_are_per_source_table(source_rule_fixtures):
    """`description` is PII in ledger_db.transactions (registry free_text), not in markets_db."""
    result, _ = source_rule_fixtures
    assert result.status_of("int_guard_cross_source") == "success"
    assert result.status_of("int_guard_same_source") == "error"
    assert "column description (registry PII column)" in result.output


def test_value_checks_sample_every_registry_pii_column(source_rule_fixtures, registry):
    """A green build proves nothing if the sample is empty: every PII column the registry declares,
    in every source, is sampled; every one that is not free text (whose canned phrases are left
    out) or a short number yields values to look for."""
    result, coverage = source_rule_fixtures
    assert result.status_of("int_guard_sample_coverage") == "success"
    declared = {
        f"{table.source_db}.{table.name}.{column}": pii_class
        for table in registry.tables()
        for column, pii_class in table.pii.items()
    }
    assert set(coverage) == set(declared)
    assert all(sampled > 0 for sampled, _ in coverage.values()), coverage
    short_numbers = {"auth_db.users.postal_code"}
    without_needles = {origin for origin, (_, needles) in coverage.items() if needles == 0}
    assert without_needles <= {o for o, c in declared.items() if c == "free_text"} | short_numbers, without_needles
    for pii_class in ("email", "phone", "id_number", "name", "address", "device_id", "ip", "geo", "dob"):
        assert any(coverage[o][1] > 0 for o, c in declared.items() if c == pii_class), pii_class


def test_results_are_stored_for_every_invocation(built):
    result, _ = built
    invocation = result.run_results["metadata"]["invocation_id"]
    with superuser_connect("warehouse", "data_warehouse") as conn:
        models, tests = conn.execute(
            "SELECT (SELECT count(*) FROM dbt_artifacts.model_results WHERE invocation_id = %s),"
            "       (SELECT count(*) FROM dbt_artifacts.test_results WHERE invocation_id = %s)",
            (invocation, invocation),
        ).fetchone()
    statuses = result.statuses()
    assert models == sum(k.startswith("model.") for k in statuses)
    assert tests == sum(k.startswith("test.") for k in statuses)


def pii_guard_tables() -> set[str]:
    with superuser_connect("warehouse", "data_warehouse") as conn:
        return {r[0] for r in rows(conn, "SELECT relname FROM pg_class WHERE relnamespace = 'pii_guard'::regnamespace")}


def test_the_pii_sample_is_built_once_per_invocation_and_leaves_nothing_behind(built, tmp_path):
    """The guard's sample of raw (personal data) lives in pii_guard only while its dbt invocation runs:
    the guard and the PII tests read that one table, on-run-end drops it, and the next invocation drops
    what a killed one left behind more than 6 hours ago (not what a running one is using)."""
    from datetime import timedelta

    now = datetime.now(UTC)
    killed = "needles_" + (now - timedelta(hours=7)).strftime("%Y%m%d%H%M%S") + "_" + uuid.uuid4().hex
    running = "needles_" + (now - timedelta(hours=1)).strftime("%Y%m%d%H%M%S") + "_" + uuid.uuid4().hex
    with dbt_writer() as conn:
        for name in (killed, running):
            conn.execute(f"CREATE UNLOGGED TABLE pii_guard.{name} AS SELECT 'planted'::text AS needle")
    try:
        result = run_dbt(["build", "--select", "int_bidbaas_bids_anon"], target_path=tmp_path / "target")
        assert result.ok, result.output[-3000:]
        assert pii_guard_tables() == {running}
        # the model's PII test joined the invocation's shared sample, not a per-node copy
        (compiled,) = (tmp_path / "target" / "run").rglob("no_pii_values_int_bidbaas_bids_anon_*.sql")
        invocation = result.run_results["metadata"]["invocation_id"].replace("-", "")
        assert re.search(rf"pii_guard\.needles_\d{{14}}_{invocation}", compiled.read_text())
        assert "pg_temp" not in compiled.read_text()
    finally:
        with dbt_writer() as conn:
            conn.execute(f"DROP TABLE IF EXISTS pii_guard.{running}")
            conn.execute(f"DROP TABLE IF EXISTS pii_guard.{killed}")


def test_every_monitoring_query_runs(built, topology):
    folder = dbt.DBT_PROJECT_DIR.parent / "sql" / "monitoring"
    files = sorted(p.name for p in folder.glob("*.sql"))
    assert [f[:4] for f in files] == ["10_1", "10_2", "10_3", "10_4", "10_5"]
    targets = {
        "10_1": ("warehouse", "data_warehouse"),
        "10_2": ("warehouse", "data_warehouse"),
        "10_3": ("warehouse", "data_warehouse"),
        "10_4": ("primary", "analytics_db"),
        "10_5": ("compliance", "compliance"),
    }
    for name in files:
        cluster, dbname = targets[name[:4]]
        with superuser_connect(cluster, dbname) as conn:
            cursor = conn.execute(query(f"monitoring/{name}"))
            assert cursor.description, name
            if name.startswith("10_1"):
                assert len(cursor.fetchall()) >= len(list(seeded_tables()))


def seeded_tables():
    from dataacuity.registry import load_registry

    return load_registry().tables()


def salt_strings() -> list[str]:
    """Every salt (active and retired) of .118, in each encoding it could leak in."""
    with superuser_connect("compliance", "compliance") as conn:
        salts = [
            bytes(r[0]) for r in conn.execute("SELECT salt FROM compliance.salts WHERE salt IS NOT NULL").fetchall()
        ]
    forms = []
    for salt in salts:
        forms += [salt.hex(), "\\x" + salt.hex(), base64.b64encode(salt).decode(), salt.hex().upper()]
    return forms


def test_no_salt_in_dbt_target_logs_or_output(built):
    result, target = built
    forms = salt_strings()
    assert forms
    files = [p for p in Path(target).rglob("*") if p.is_file()]
    # dbt's own log of this very build must be among the files searched
    log_file = dbt.DBT_PROJECT_DIR / "logs" / "dbt.log"
    assert log_file.is_file(), f"no dbt log at {log_file}"
    assert result.run_results["metadata"]["invocation_id"] in log_file.read_text(errors="ignore")
    files += [p for p in (dbt.DBT_PROJECT_DIR / "logs").rglob("*") if p.is_file()]
    assert any(p.name == "run_results.json" for p in files)
    for path in files:
        content = path.read_bytes()
        text = content.decode("utf-8", errors="ignore")
        for form in forms:
            assert form not in text, f"salt found in {path}"
        for salt in forms[::4]:
            assert bytes.fromhex(salt) not in content, f"raw salt bytes in {path}"
    for form in forms:
        assert form not in result.output


def test_an_incremental_run_reads_only_the_new_rows(built, tmp_path):
    """A new ledger transaction on the primary reaches the fact; the run touched only new rows."""
    from tools import topology
    from tools.pipeline import extract_all

    with superuser_connect("primary", "ledger_db") as conn:
        account_id, user_id = conn.execute("SELECT id, user_id FROM accounts ORDER BY id LIMIT 1").fetchone()
        txn_id = conn.execute(
            "INSERT INTO transactions (txn_ref, account_id, user_id, txn_type, status, amount, currency, description) "
            "VALUES (gen_random_uuid(), %s, %s, 'deposit', 'posted', 123.45, 'ZAR', 'pytest deposit') RETURNING id",
            (account_id, user_id),
        ).fetchone()[0]
    topology.wait_for_replica()
    extract_all(sources=["ledger_db"])
    result = run_dbt(
        [
            "run",
            "--select",
            "int_ledger_transactions_anon fct_ledger_transactions_anon",
            "--vars",
            "{incremental_lookback: '0 seconds'}",
        ],
        target_path=tmp_path / "t",
    )
    assert result.ok, result.output[-3000:]
    affected = {
        r["unique_id"].split(".")[-1]: r["adapter_response"].get("rows_affected") for r in result.run_results["results"]
    }
    with dbt_writer() as conn:
        total = conn.execute("SELECT count(*) FROM intermediate.int_ledger_transactions_anon").fetchone()[0]
        fact = conn.execute(
            "SELECT user_hash, amount_zar, amount_usd FROM marts.fct_ledger_transactions_anon WHERE transaction_id = %s",
            (txn_id,),
        ).fetchone()
    assert (
        fact is not None
        and fact[0] == expected_hash("user", str(user_id))
        and fact[1] == Decimal("123.45")
        and fact[2] is not None
    )
    # (0 is possible when another runner - e.g. a scheduled transform - took the row first)
    assert affected["int_ledger_transactions_anon"] < total / 10, affected
    assert affected["fct_ledger_transactions_anon"] < total / 10, affected
