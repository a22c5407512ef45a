"""Issue 12 §1-2, end to end on the real topology: a source with hostile names is one registry entry;
`make sources` (tools.generate_models) writes its dbt models; extract lands it byte for byte; dbt
builds staging and the PII-free intermediate model with the PII guard green; the intermediate
holds none of the declared PII values. Runs on a copy of the dbt project (the repo is untouched)."""

from __future__ import annotations

import shutil

import psycopg
import pytest
from psycopg import sql

from dataacuity import dbt
from dataacuity.dbt_runner import run_dbt
from dataacuity.extract.core import extract_table
from dataacuity.registry import DEFAULT_REGISTRY_PATH, parse_registry
from tests.conftest import drop_lab_source, superuser_connect
from tools import generate_models, key_link

LAB_DB = "generated_lab"
TABLE = "Customer Accounts"
ENTRY = f"""
  {LAB_DB}:
    app: genlab
    description: An externally loaded database the synthetic generator does not know.
    tables:
      "{TABLE}":
        kind: dimension
        mode: incremental
        cursor: "Updated At"
        primary_key: ["Account ID"]
        user_column: CustomerRef
        pii: {{"E-Mail": email, "Phone Number": phone, "Full Name": name, "Notes": free_text, "Straße": address}}
"""
# Every value a PII column holds: none may reach intermediate, in any column, in any form.
PII_VALUES = {
    "E-Mail": ["thandi.mokoena@example.co.za", "pieter@example.com"],
    "Phone Number": ["+27 82 555 0101", "0731234567"],
    "Full Name": ["Thandi Mokoena", "Pieter van der Merwe"],
    "Notes": ["call Thandi after 5", "VIP — prefers Afrikaans"],
    "Straße": ["12 Loop Street", "7 Kerk Straat"],
}
LEAKY_LAB_MODEL = """{{ config(materialized='table') }}
select
    "Account ID" as acct,
    'ref ' || upper("E-Mail") || ' ok' as c_mail_in_text,
    regexp_replace("Phone Number", '[^0-9]', '', 'g') as c_dial_digits,
    md5(lower("E-Mail")) as c_mail_md5,
    'Dear ' || upper("Full Name") || ', thanks' as c_salutation,
    '>> ' || "Notes" as c_quote,
    "Straße" as c_where
from {{ source('generated_lab', 'generated_lab__customer_accounts') }}
"""
LEAKY_LAB_FINDINGS = {
    "c_mail_in_text": "email",
    "c_dial_digits": "phone",
    "c_mail_md5": "unkeyed hash of email",
    "c_salutation": "name",
    "c_quote": "free_text",
    "c_where": "address",
}
COLUMNS = (
    '"Account ID"',
    '"CustomerRef"',
    '"E-Mail"',
    '"Phone Number"',
    '"Full Name"',
    '"Notes"',
    '"Straße"',
    '"Order"',
    '"select"',
    "balance",
    "tags",
    "doc",
    "blob",
    '"Opened On"',
    '"Updated At"',
)


@pytest.fixture(scope="module")
def lab_registry():
    return parse_registry(DEFAULT_REGISTRY_PATH.read_text() + ENTRY)


@pytest.fixture(scope="module")
def source_db(topology):
    _drop_warehouse_objects()
    with superuser_connect("primary", "postgres") as conn:
        conn.execute(f"CREATE DATABASE {LAB_DB}")
    with superuser_connect("primary", LAB_DB) as conn:
        conn.execute(
            f"""CREATE TABLE "{TABLE}" (
                "Account ID" bigint PRIMARY KEY, "CustomerRef" bigint, "E-Mail" text, "Phone Number" varchar(20),
                "Full Name" text, "Notes" text, "Straße" text, "Order" integer, "select" boolean,
                balance numeric(12,2), tags text[], doc jsonb, blob bytea, "Opened On" date,
                "Updated At" timestamptz NOT NULL DEFAULT now() - interval '1 hour')"""
        )
        rows = [
            (1, 10, *(values[0] for values in PII_VALUES.values()), 1, True, "1234.50", ["a", "b c"], '{"k": [1]}'),
            (2, 11, *(values[1] for values in PII_VALUES.values()), 2, False, "-0.01", [], "{}"),
            (3, None, None, None, None, None, None, None, None, None, None, None),
        ]
        for row in rows:
            conn.execute(
                f"""INSERT INTO "{TABLE}" ({", ".join(COLUMNS[:12])}, blob, "Opened On")"""
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, '\\x00ff'::bytea, '2026-03-01')",
                row,
            )
    topology.wait_for_replica()
    yield LAB_DB
    _drop_warehouse_objects()


def _drop_warehouse_objects() -> None:
    """The lab (database, raw table, bookkeeping) and the models built from it."""
    drop_lab_source(LAB_DB)
    with superuser_connect("warehouse", "data_warehouse") as conn:
        conn.execute("DROP TABLE IF EXISTS intermediate.int_generated_lab__customer_accounts_anon")
        conn.execute("DROP TABLE IF EXISTS intermediate.int_leaky_lab")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A copy of include/dbt to generate into (so the repo's project is never changed by tests)."""
    copy = tmp_path_factory.mktemp("dbt") / "project"
    shutil.copytree(dbt.DBT_PROJECT_DIR, copy, ignore=shutil.ignore_patterns("target", "logs"))
    return copy


def test_generator_writes_models_and_never_overwrites_an_edit(lab_registry, source_db, project):
    outcome = generate_models.generate(lab_registry, project_dir=project)
    table = lab_registry.table(LAB_DB, TABLE)
    files = generate_models.paths(table, project)
    assert outcome.failed == []
    assert set(files.values()) <= set(outcome.written)
    # the original sources' models are hand-written: reported, not touched
    assert any("hand-written" in reason for _, reason in outcome.skipped)
    staging = files["staging.sql"].read_text()
    assert "source('generated_lab', 'generated_lab__customer_accounts')" in staging
    assert '"Order"::integer as order_' in staging and '"Straße"::text as strasse' in staging
    assert 'distinct on ("Account ID")' in staging
    again = generate_models.generate(lab_registry, project_dir=project)
    assert not set(files.values()) & set(again.written)  # unchanged
    # An edited file is kept and reported; the others are still the generator's.
    edited = files["intermediate.sql"]
    edited.write_text(edited.read_text().replace("select\n", "select -- reviewed\n", 1))
    third = generate_models.generate(lab_registry, project_dir=project)
    assert (edited, "edited") in third.skipped
    assert "-- reviewed" in edited.read_text()
    edited.write_text(edited.read_text().replace("select -- reviewed\n", "select\n", 1))
    assert generate_models.ownership(edited) == "generated"


def test_generated_source_end_to_end_pii_free(lab_registry, source_db, project, seeded_sources, warehouse_su):
    from tools.pipeline import extract_all

    table = lab_registry.table(LAB_DB, TABLE)
    assert table.task_id == "customer_accounts" and table.raw_table == "generated_lab__customer_accounts"
    generate_models.generate(lab_registry, sources=[LAB_DB], project_dir=project)
    # Demo and test set-up with the source in the registry: no DDL file, no synthetic data for it;
    # it is left as loaded (and the known sources are seeded as before).
    from tools import seed

    def dsn_for_db(db: str) -> str:
        return superuser_dsn("primary", db, "postgres")

    seed.apply_source_schemas(dsn_for_db, lab_registry)
    counts = seed.seed(dsn_for_db, lab_registry, scale=1, seed=42)
    assert counts["ledger_db.transactions"] > 0 and not any(key.startswith(LAB_DB) for key in counts)
    with superuser_connect("primary", LAB_DB) as conn:
        assert conn.execute(f'SELECT count(*) FROM "{TABLE}"').fetchone()[0] == 3
    extract_all(sources=["auth_db"])  # staging's users feed the PII guard's value check
    summary = extract_table(
        table,
        lambda: psycopg.connect(superuser_dsn("replica", LAB_DB, "etl_reader")),
        lambda: psycopg.connect(superuser_dsn("warehouse", "data_warehouse", "etl_user")),
    )
    assert summary.rows_inserted == 3
    assert_byte_for_byte(warehouse_su, table)

    key_link.ensure_local_key_link()
    # An attacker's model of this source, which nobody but the generator modelled: every PII column
    # renamed and reformatted. Only the registry's own values can give it away (issue 10 §2).
    (project / "models" / "leaky" / "int_leaky_lab.sql").write_text(LEAKY_LAB_MODEL)
    (project / "models" / "leaky" / "int_leaky_lab.yml").write_text(
        "version: 2\nmodels:\n  - name: int_leaky_lab\n    data_tests: [no_pii_column_names, no_pii_values]\n"
    )
    models = f"stg_auth_db__users {table.staging_model} {table.intermediate_model} int_leaky_lab"
    result = run_dbt(["build", "--select", *models.split()], project_dir=project, target_path=project / "target")
    assert result.status_of("int_leaky_lab") == "error", result.output[-5000:]
    guard = next((line for line in result.output.splitlines() if "PII guard:" in line), result.output[-5000:])
    findings = guard.split("; ")
    for column, kind in LEAKY_LAB_FINDINGS.items():
        # "<n> value(s) of <column> look like registry <class> values of <origin>, <origin>..."
        found = [f for f in findings if f" of {column} look like registry {kind} values of " in f]
        assert any(f"{LAB_DB}.{TABLE}." in f for f in found), (column, kind, guard)
    statuses = {k: v for k, v in result.statuses().items() if "int_leaky_lab" not in k}
    assert all(v in ("success", "pass") for v in statuses.values()), statuses
    pii_tests = [k for k in statuses if "no_pii" in k and table.intermediate_model in k]
    assert len(pii_tests) == 2 and all(statuses[k] == "pass" for k in pii_tests), statuses

    with superuser_connect("warehouse", "data_warehouse") as conn:
        staged = conn.execute(f"SELECT count(*), count(e_mail) FROM staging.{table.staging_model}").fetchone()
        assert staged == (3, 2)
        cur = conn.execute(f"SELECT * FROM intermediate.{table.intermediate_model}")
        names = [d.name for d in cur.description]
        rows = cur.fetchall()
    assert len(rows) == 3
    assert {"user_hash", "e_mail_hash", "phone_number_hash", "order_", "select_", "balance", "opened_on"} <= set(names)
    assert not {"customer_ref", "e_mail", "phone_number", "full_name", "notes", "strasse"} & set(names)
    everything = " ".join(str(value) for row in rows for value in row).lower()
    for column, values in PII_VALUES.items():
        for value in values:
            assert value.lower() not in everything, f"{column} value reached intermediate"


def superuser_dsn(cluster: str, db: str, role: str) -> str:
    from tools import topology

    return topology.dsn(cluster, db, role)


def assert_byte_for_byte(warehouse_su, table) -> None:
    """EXCEPT both ways between the source rows (copied over as text) and raw."""
    columns = sql.SQL(", ").join(sql.SQL(c) for c in COLUMNS)
    raw = sql.Identifier(*table.qualified_raw)
    with superuser_connect("replica", LAB_DB) as source, warehouse_su.transaction():
        warehouse_su.execute(
            sql.SQL("CREATE TEMP TABLE source_copy ON COMMIT DROP AS SELECT {} FROM {} LIMIT 0").format(columns, raw)
        )
        copy_out = sql.SQL("COPY (SELECT {} FROM {}) TO STDOUT").format(columns, sql.Identifier(TABLE))
        with source.cursor().copy(copy_out) as reader, warehouse_su.cursor().copy("COPY source_copy FROM STDIN") as w:
            for data in reader:
                w.write(data)
        select_raw = sql.SQL("SELECT {} FROM {}").format(columns, raw)
        only_raw = warehouse_su.execute(sql.SQL("{} EXCEPT SELECT * FROM source_copy").format(select_raw)).fetchall()
        only_source = warehouse_su.execute(sql.SQL("SELECT * FROM source_copy EXCEPT {}").format(select_raw)).fetchall()
        assert only_raw == [] and only_source == []
