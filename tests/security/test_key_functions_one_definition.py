"""One definition of the keyed hash functions for both hosts (issue 8 §1).

The functions of .106 and .118 are rendered from include/sql/templates/key_functions.sql.j2; the
committed renderings must match the template, the installed bodies must be identical on both
hosts, and both must give, for every family and a set of awkward inputs, exactly the HMAC-SHA256
this test computes itself in Python (with the key read as a superuser, and its own normalisation)."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest

from dataacuity import compliance
from tests.security import support
from tools import key_link, render_key_functions

INPUTS = [
    "42",
    "0",
    " 0821234567 ",
    "+27 82 123 4567",
    "0027821234567",
    "Thabo.Mokoena@Example.CO.ZA ",
    "8001015009087",
    "800101 5009 08 7",
    "DEVICE-ABC-123",
    "10.0.0.1 ",
    "Ñandú – ünïcode ✓",
    "",
]


def normalise(family: str, value: str) -> str:
    """The normalisation rules of docs/compliance-hashing.md, written independently of the SQL."""
    if family in ("email", "device"):
        return value.strip(" ").lower()  # btrim() trims spaces only
    if family == "phone":
        digits = re.sub(r"[^0-9]", "", value)
        match = re.fullmatch(r"(0027|27|0)([0-9]{9})", digits)
        return "27" + match.group(2) if match else digits
    if family == "id_number":
        return re.sub(r"[^0-9A-Za-z]", "", value)
    if family == "ip":
        return value.strip(" ")
    return value


def python_hmac(key: bytes, family: str, value: str) -> str:
    return hmac.new(key, normalise(family, value).encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("cluster", sorted(render_key_functions.HOSTS))
def test_the_committed_rendering_is_the_template(cluster):
    newest = render_key_functions.newest_rendering(cluster)
    assert newest is not None, f"no rendering of the key functions in include/sql/{cluster}"
    assert newest.read_text() == render_key_functions.render(cluster), (
        f"{newest} drifted from {render_key_functions.TEMPLATE}: edit the template, then "
        "`python -m tools.render_key_functions --as NNNN_key_functions.sql` (a NEW migration)"
    )


def test_families_of_the_template_are_the_packages():
    assert render_key_functions.FAMILIES == compliance.HASH_FAMILIES


def test_both_hosts_run_the_same_bodies(topology):
    query = (
        "SELECT p.oid::regprocedure::text, p.prosrc, p.proconfig, p.prosecdef, p.provolatile "
        "FROM pg_proc AS p WHERE p.pronamespace = 'compliance'::regnamespace "
        "AND (p.proname ~ '^hash' OR p.proname = 'normalise') ORDER BY 1"
    )
    with support.connect(topology, "warehouse") as c106, support.connect(topology, "compliance") as c118:
        on_106 = c106.execute(query).fetchall()
        on_118 = c118.execute(query).fetchall()
    assert len(on_106) == 2 * len(compliance.HASH_FAMILIES) + 5
    assert on_106 == on_118


def test_both_hosts_match_an_independent_hmac(topology):
    key_link.ensure_local_key_link()
    with support.connect(topology, "compliance") as su:
        keys = {
            family: bytes(salt)
            for family, salt in su.execute("SELECT salt_family, salt FROM compliance.salts WHERE status = 'active'")
        }
    with (
        support.connect(topology, "compliance", "compliance_user") as c118,
        support.connect(topology, "warehouse", "dbt_runner") as c106,
    ):
        c106.execute("SET ROLE dbt_writer")
        for family in compliance.HASH_FAMILIES:
            expected = [python_hmac(keys[family], family, value) for value in INPUTS]
            for conn in (c118, c106):
                scalar = [
                    conn.execute(f"SELECT compliance.hash_{family}(%s::text)", (v,)).fetchone()[0] for v in INPUTS
                ]
                array = conn.execute(f"SELECT compliance.hash_{family}(%s::text[])", (INPUTS,)).fetchone()[0]
                generic = [conn.execute("SELECT compliance.hash(%s, %s)", (family, v)).fetchone()[0] for v in INPUTS]
                many = dict(
                    conn.execute("SELECT value, hash FROM compliance.hash_many(%s, %s)", (family, INPUTS)).fetchall()
                )
                many3 = dict(
                    conn.execute(
                        "SELECT value, hash FROM compliance.hash_many(%s, %s, 'active')", (family, INPUTS)
                    ).fetchall()
                )
                assert scalar == array == generic == expected, family
                assert many == many3 == dict(zip(INPUTS, expected, strict=True)), family
        user_key = keys["user"]
        for conn in (c118, c106):
            assert conn.execute("SELECT compliance.hash_user(42::bigint)").fetchone()[0] == python_hmac(
                user_key, "user", "42"
            )
