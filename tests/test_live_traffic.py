"""Live traffic on the real primary holds up run after run (benchmarks run it for tens of minutes,
often as several runs against the same topology)."""

from __future__ import annotations

from tests.conftest import superuser_connect
from tools.seed.live import live_traffic


def _users() -> int:
    with superuser_connect("primary", "auth_db") as conn:
        return conn.execute("SELECT count(*) FROM users").fetchone()[0]


def test_consecutive_runs_with_the_same_seed_keep_signing_up_real_users(topology, seeded_sources, registry):
    """Each run's sign-ups are new rows (the second run used to replay the first one's, kept users
    without an id and crashed on a NOT NULL user_id a few hundred operations later)."""

    def dsn_for_db(db: str) -> str:
        return topology.dsn("primary", db)

    for run in range(3):
        before = _users()
        counts = live_traffic(dsn_for_db, registry, seconds=4, rows_per_second=150, seed=7)
        signed_up = counts.inserted["auth_db.users"]
        assert signed_up > 0, f"run {run}: no sign-ups in {counts.as_dict()}"
        assert _users() - before == signed_up, f"run {run}: reported sign-ups that are not rows"
        assert sum(counts.inserted.values()) > 300, f"run {run}: {counts.as_dict()}"
