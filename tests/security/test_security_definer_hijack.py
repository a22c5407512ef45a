"""Every SECURITY DEFINER function on .106 and .118, attacked as every login role (issue 8 §1).

As each login role, and as each role it can SET ROLE to, the test plants look-alike operators
(=, ~, ||), functions named like the ones the privileged functions call (hmac, encode, convert_to,
lower, btrim, regexp_replace, unnest, pg_has_role, ...) and look-alike key tables in EVERY schema
that role may create objects in, sets a hostile search_path (the planted schemas before
pg_catalog), then calls every SECURITY DEFINER function of the database. It must get exactly what
a clean session gets (or the same refusal), no key in any result or error text, and none of the
planted code may run (each planted object bumps a sequence: non-transactional, so even code that
ran and then failed is seen). A control query proves the plants do fire when a name is unqualified.

A new SECURITY DEFINER function fails this test until SAMPLE_CALLS says how to call it.
"""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import sql

from dataacuity import compliance
from tests.security import support
from tools import key_link

FAMILIES = compliance.HASH_FAMILIES

# How to call each SECURITY DEFINER function: SQL argument list, and whether two calls give the
# same result (otherwise only the outcome - success or the same SQLSTATE - is compared).
SAMPLE_CALLS: dict[str, tuple[str, bool]] = {
    "compliance.hash(text,text)": ("'phone', '+27 82 123 4567'", True),
    "compliance.hash_many(text,text[])": ("'email', ARRAY[' Thabo@Example.co.za', '42']", True),
    "compliance.hash_many(text,text[],text)": ("'phone', ARRAY['0821234567'], 'active'", True),
    "compliance.hash_user(bigint)": ("42", True),
    **{f"compliance.hash_{f}(text)": ("' 0821234567 '", True) for f in FAMILIES},
    **{f"compliance.hash_{f}(text[])": ("ARRAY['A@b.co', '0027821234567']", True) for f in FAMILIES},
    # .106
    "compliance.assert_hash_keys_loaded()": ("", True),
    "compliance.refresh_hash_keys()": ("", True),
    "compliance.promote_pending_keys()": ("", True),
    "compliance.discard_pending_keys()": ("", True),
    "ops.kill_switch_revoke_write_paths()": ("", True),
    "ops.kill_switch_restore_write_paths()": ("", True),
    "pushback.rekey(text)": ("'attack_probe_app'", True),
    "pushback.register_app_user_columns(text,jsonb)": ("'attack_probe_app', '[]'::jsonb", True),
    "pushback.summary_columns(text)": ("'fct_ledger_transactions_anon'", True),
    "pushback.refresh_summary(text,text,text)": ("'attack_probe_app', 'x', 'not_its_summary'", True),
    "pushback.summary_lag()": ("", False),  # ages move between two calls
    # .118
    "compliance.begin_rotation(text[],text,text,text)": (
        "ARRAY['device'], 'attack test: planted objects', 'tester', NULL",
        False,
    ),
    "compliance.mark_rotation_swapped(bigint,jsonb)": ("-1, '{}'::jsonb", True),
    "compliance.complete_rotation(bigint)": ("-1", True),
    "compliance.abandon_rotation(bigint,text)": ("-1, 'attack test'", True),
    "compliance.note_rotation_error(bigint,text)": ("-1, 'attack test'", True),
    "compliance.rotate_salt(text,text)": ("'device', 'attack test: one-shot rotation'", False),
    "compliance.tokenise(text,text)": ("'email', 'attack.probe@example.co.za'", True),
    "compliance.tokenise_many(text,text[])": ("'name', ARRAY['Attack Probe']", True),
    **{
        f"compliance.tokenise_{f}(text)": ("'attack-probe'", True)
        for f in ("email", "phone", "id_number", "name", "address", "device_id", "ip", "dob")
    },
    "compliance.detokenise(text)": ("{token}", True),
    "compliance.audit_vault_access(text,text,text[],text)": ("'x', 'email', ARRAY['tok'], 'tokenise'", True),
    "vault_link.dblink_connect_u(text)": ("'dbname=compliance'", True),
    "vault_link.dblink_connect_u(text,text)": ("'probe', 'dbname=compliance'", True),
    # right to be forgotten (issue 9): .118
    "compliance.rtbf_ref(text,text)": ("'phone', '+27 82 123 4567'", True),
    "compliance.rtbf_seal(text)": ("'attack-probe'", False),
    "compliance.rtbf_unseal(bytea)": ("'\\x00'::bytea", True),
    "compliance.rtbf_user_pseudonyms(text)": ("'42'", True),
    "compliance.rtbf_value_pseudonyms(text,text[])": ("'phone', ARRAY['0821234567']", True),
    "compliance.rtbf_vault_tokens(text,text[])": ("'email', ARRAY['attack.probe@example.co.za']", True),
    "compliance.rtbf_erase_vault_tokens(text[])": ("ARRAY['tok_none_00']", True),
    # .106
    "compliance.refresh_rtbf_tombstones()": ("", True),
    "compliance.rtbf_forgotten_among(text,text[])": ("'user', ARRAY['42']", True),
    "compliance.rtbf_has_tombstones()": ("", True),
    "rtbf.residual_hits(text,text,text[],text[],text[],text[],bigint[])": (
        "'etl', 'extract_batch', ARRAY['id'], ARRAY['error'], ARRAY['attack.probe@example.co.za'],"
        " ARRAY['attack.probe@example', '%%%%%%'], ARRAY[42]::bigint[]",
        True,
    ),
}
# Settings a SECURITY DEFINER function may pin besides its search_path (rtbf.residual_hits refuses
# row-level-security policies, which would otherwise run as its owner).
EXTRA_PINNED_SETTINGS = {"row_security=off"}

# Planted in every writable schema. Each bumps <schema>.da_fired when it runs.
PLANTED_FUNCTIONS = [
    ("hmac", "bytea, bytea, text", "bytea", "'\\x00'::bytea"),
    ("encode", "bytea, text", "text", "'planted'"),
    ("convert_to", "text, text", "bytea", "'\\x00'::bytea"),
    ("lower", "text", "text", "'planted'"),
    ("btrim", "text", "text", "'planted'"),
    ("right", "text, integer", "text", "'planted'"),
    ("left", "text, integer", "text", "'planted'"),
    ("length", "text", "integer", "1"),
    ("regexp_replace", "text, text, text, text", "text", "'planted'"),
    ("sha256", "bytea", "bytea", "'\\x00'::bytea"),
    ("gen_random_bytes", "integer", "bytea", "'\\x00'::bytea"),
    ("pgp_sym_encrypt", "text, text, text", "bytea", "'\\x00'::bytea"),
    ("pgp_sym_decrypt", "bytea, text", "text", "'planted'"),
    ("pgp_sym_decrypt_bytea", "bytea, text", "bytea", "'\\x00'::bytea"),
    ("pg_has_role", "name, text, text", "boolean", "true"),
    ("cardinality", "text[]", "integer", "1"),
    ("now", "", "timestamptz", "'2000-01-01'::timestamptz"),
    ("normalise", "text, character varying", "text", "'planted'"),
    ("format", "text, text, text, text, text", "text", "'planted'"),
    ("da_fire_bool", "text, text", "boolean", "true"),
    ("da_fire_text", "text, text", "text", "'planted'"),
]
PLANTED_OPERATORS = [
    ("=", "text", "text", "da_fire_bool"),
    ("~", "text", "text", "da_fire_bool"),
    ("||", "text", "text", "da_fire_text"),
]
PLANTED_TABLES = ["salts", "hash_keys", "vault_keys", "token_vault", "key_wrap", "hash_families"]


def plant(conn, schema: str) -> None:
    s = sql.Identifier(schema)
    conn.execute(sql.SQL("CREATE SEQUENCE {}.da_fired").format(s))
    try:
        with conn.transaction():
            conn.execute(sql.SQL("GRANT ALL ON SEQUENCE {}.da_fired TO PUBLIC").format(s))
    except psycopg.errors.InsufficientPrivilege:
        # The warehouse writer fence (issue 10) refuses write grants on a writer's objects: planted
        # code run by any other role then fails on nextval, a difference the comparison still sees.
        pass
    try:
        with conn.transaction():
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO PUBLIC").format(s))
    except psycopg.Error:
        pass  # not the schema's owner: the planted code could only run as roles with USAGE anyway
    fired = sql.SQL("SELECT pg_catalog.nextval({})").format(sql.Literal(f"{schema}.da_fired"))
    for name, args, returns, value in PLANTED_FUNCTIONS:
        conn.execute(
            sql.SQL("CREATE FUNCTION {}.{}({}) RETURNS {} LANGUAGE sql VOLATILE AS {}").format(
                s,
                sql.Identifier(name),
                sql.SQL(args),
                sql.SQL(returns),
                sql.Literal(f"{fired.as_string(conn)}; SELECT {value}"),
            )
        )
    for op, left, right, function in PLANTED_OPERATORS:
        conn.execute(
            sql.SQL("CREATE OPERATOR {}.{} (LEFTARG = {}, RIGHTARG = {}, FUNCTION = {}.{})").format(
                s, sql.SQL(op), sql.SQL(left), sql.SQL(right), s, sql.Identifier(function)
            )
        )
    for table in PLANTED_TABLES:
        exists = conn.execute(
            "SELECT to_regclass(%s) IS NOT NULL", (sql.Identifier(schema, table).as_string(conn),)
        ).fetchone()[0]
        if exists:
            continue  # the real one (compliance_admin may create in schema compliance)
        conn.execute(
            sql.SQL(
                "CREATE TABLE {}.{} (salt_family text, salt bytea, status text, key bytea, purpose text, "
                "wrap_key bytea, family text, rotates boolean)"
            ).format(s, sql.Identifier(table))
        )
        conn.execute(
            sql.SQL(
                "INSERT INTO {}.{} VALUES ('user', '\\x00', 'active', '\\x00', 'digest', '\\x00', 'user', true)"
            ).format(s, sql.Identifier(table))
        )


def fired(conn, schemas: list[str]) -> int:
    total = 0
    for schema in schemas:
        last, called = conn.execute(
            sql.SQL("SELECT last_value, is_called FROM {}.da_fired").format(sql.Identifier(schema))
        ).fetchone()
        total += last if called else 0
    return total


def call(conn, signature: str, args: str, token: str):
    """('ok', rows) or ('error', sqlstate, message) for one call, inside a savepoint."""
    name = signature.split("(")[0]
    schema, function = name.split(".")
    statement = sql.SQL("SELECT * FROM {}.{}({})").format(
        sql.Identifier(schema),
        sql.Identifier(function),
        sql.SQL(args.replace("{token}", sql.Literal(token).as_string(conn))),
    )
    try:
        with conn.transaction():
            return ("ok", conn.execute(statement).fetchall())
    except psycopg.Error as error:
        return ("error", error.sqlstate, str(error))


def run_calls(conn, functions: list[str], token: str) -> dict[str, tuple]:
    return {signature: call(conn, signature, SAMPLE_CALLS[signature][0], token) for signature in functions}


@pytest.fixture(scope="module")
def setting(topology):
    key_link.ensure_local_key_link()
    with support.connect(topology, "compliance", "compliance_user") as conn:
        token = compliance.tokenise(conn, "email", [f"hijack.{uuid.uuid4().hex[:6]}@example.co.za"])
        # the probe values exist already, so clean and attacked calls look the same token up
        compliance.tokenise(conn, "email", ["attack.probe@example.co.za"])
        compliance.tokenise(conn, "name", ["Attack Probe"])
        for family in compliance.TOKEN_FAMILIES:
            compliance.tokenise(conn, family, ["attack-probe"])
    return {"token": next(iter(token.values())), "keys": support.key_material(topology)}


@pytest.mark.parametrize("cluster", ["warehouse", "compliance"])
def test_every_security_definer_function_is_pinned_owned_by_nologin_and_not_public(topology, setting, cluster):
    with support.connect(topology, cluster) as conn:
        rows = conn.execute(
            """
            SELECT p.oid::regprocedure::text, p.proconfig, o.rolcanlogin,
                   (SELECT count(*) FROM pg_auth_members AS m WHERE m.roleid = p.proowner),
                   EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) AS a
                           WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')
            FROM pg_proc AS p JOIN pg_roles AS o ON o.oid = p.proowner
            WHERE p.prosecdef
              AND p.pronamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
            """
        ).fetchall()
    assert rows
    problems = []
    for signature, config, owner_can_login, members, public_execute in rows:
        if signature.startswith("vault_link."):
            # dblink's own SECURITY DEFINER functions: executable by nobody but superusers
            if public_execute:
                problems.append(f"{signature}: PUBLIC may execute")
            continue
        if not config or config[0] != "search_path=pg_catalog, pg_temp" or set(config[1:]) - EXTRA_PINNED_SETTINGS:
            problems.append(f"{signature}: search_path not pinned, or an unexpected setting ({config})")
        if owner_can_login or members:
            problems.append(f"{signature}: owner can log in or has members")
        if public_execute:
            problems.append(f"{signature}: PUBLIC may execute")
        if signature not in SAMPLE_CALLS:
            problems.append(f"{signature}: no sample call in SAMPLE_CALLS (add one so it is attacked)")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("cluster", ["warehouse", "compliance"])
def test_planted_objects_and_hostile_search_paths_change_nothing(topology, setting, cluster):
    keys = setting["keys"]
    with support.connect(topology, cluster) as su:
        functions = support.security_definer_functions(su)
        logins = support.login_roles(su)
        cases = [(login, acting) for login in logins for acting in support.acting_roles(su, login)]
    missing = [f for f in functions if f not in SAMPLE_CALLS]
    assert not missing, f"no sample call for {missing}"

    attacked = 0
    problems = []
    for login, acting in cases:
        conn = support.connect_as(topology, cluster, login)
        if conn is None:
            continue  # cannot log in to this database (no CONNECT): nothing to attack from
        with conn:
            if acting != login:
                conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(acting)))
            schemas = support.writable_schemas(conn, acting)
            conn.execute("BEGIN")
            reference = run_calls(conn, functions, setting["token"])
            conn.execute("ROLLBACK")

            conn.execute("BEGIN")
            if support.can_create_schema(conn, acting):
                own = f"attack_{uuid.uuid4().hex[:8]}"
                conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(own)))
                schemas.append(own)
            planted = [s for s in schemas if s != "pg_temp"]
            for schema in planted:
                plant(conn, schema)
            hostile = [*schemas, "public", "pg_catalog"] if schemas else ["public", "compliance", "pg_catalog"]
            conn.execute(sql.SQL("SET LOCAL search_path = {}").format(sql.SQL(", ").join(map(sql.Identifier, hostile))))
            if planted:
                # control: an unqualified operator now runs planted code
                conn.execute("SELECT 'a'::text = 'b'::text")
                assert fired(conn, planted) > 0, f"{cluster}/{acting}: the plants do not work, the test proves nothing"
                baseline = fired(conn, planted)
            attack = run_calls(conn, functions, setting["token"])
            ran = fired(conn, planted) - baseline if planted else 0
            conn.execute("ROLLBACK")
        attacked += len(planted)
        if ran:
            problems.append(f"{cluster} as {login}/{acting}: planted code ran {ran} time(s)")
        for signature in functions:
            ref, got = reference[signature], attack[signature]
            deterministic = SAMPLE_CALLS[signature][1]
            same = (
                got == ref
                if deterministic
                else got[: 2 if got[0] == "error" else 1] == ref[: 2 if ref[0] == "error" else 1]
            )
            if not same:
                problems.append(f"{cluster} as {login}/{acting}: {signature}: clean {ref!r} vs attacked {got!r}")
            leaked = support.find_keys(repr(got).encode(), keys)
            if leaked:
                problems.append(f"{cluster} as {login}/{acting}: {signature} returned key material: {leaked}")
    assert attacked > 0, f"{cluster}: no role could plant anything: the attack was not tried"
    assert not problems, "\n".join(problems)
