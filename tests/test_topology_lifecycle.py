"""A throwaway second topology (own state dir and ports): first up, a crashed server recovered by
the next up, and `down` leaving no process behind. The shared session topology is not touched."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import REPO

# Below Linux's ephemeral range (net.ipv4.ip_local_port_range, 32768-60999 here): a port in that range
# can be held for a moment as the local end of any outgoing connection the rest of the suite makes, and
# then `up` rightly finds it in use (it happened once with 58000: port 58106 taken by a client socket).
PORT_BASE = "17000"


def states(output: str) -> list[str]:
    """The state column of `tools.topology status`: the four clusters, then Alertmanager."""
    names = ("primary", "replica", "warehouse", "compliance", "(alerts)")
    return [line.split()[-1] for line in output.splitlines() if line.startswith(names)]


def processes_using(path: Path) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if str(path) in line and "ps -eo" not in line]


@pytest.fixture(scope="module")
def throwaway():
    state = Path(tempfile.mkdtemp(prefix="dataacuity-lifecycle-", dir="/tmp"))
    state.chmod(0o755)
    env = {**os.environ, "DA_STATE_DIR": str(state), "DA_PORT_BASE": PORT_BASE}

    def topology(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "tools.topology", *args], cwd=REPO, env=env, capture_output=True, text=True
        )

    yield state, topology
    topology("destroy")
    shutil.rmtree(state, ignore_errors=True)


def test_up_from_nothing_then_recovers_a_crashed_cluster_then_down_leaves_nothing(throwaway):
    state, topology = throwaway
    first = topology("up")
    assert first.returncode == 0, first.stderr
    assert states(first.stdout) == ["running"] * 5

    # A crash: the primary's postmaster is killed; its pid file stays behind.
    pid = int((state / "primary" / "data" / "postmaster.pid").read_text().split()[0])
    os.kill(pid, signal.SIGKILL)
    for _ in range(100):
        if not processes_using(state / "primary" / "data"):
            break
        time.sleep(0.1)
    again = topology("up")
    assert again.returncode == 0, again.stderr
    assert states(again.stdout) == ["running"] * 5

    down = topology("down")
    assert down.returncode == 0, down.stderr
    assert processes_using(state) == []
    assert states(topology("status").stdout) == ["stopped"] * 5
