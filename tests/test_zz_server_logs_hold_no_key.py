"""Runs last (file name): after the whole suite, no server log of the topology holds any key in
any encoding (issue 8: error messages of the privileged functions never carry key material, and
no statement carries a key)."""

from __future__ import annotations

from tests.security import support
from tools import key_link


def test_server_logs_hold_no_key_after_the_suite(topology):
    key_link.ensure_local_key_link()
    keys = support.key_material(topology)
    logs = sorted(topology.state_dir().glob("*/server.log"))
    assert {p.parent.name for p in logs} >= {"warehouse", "compliance"}, logs
    found = {str(path): support.find_keys(path.read_bytes(), keys) for path in logs}
    assert not any(found.values()), found
