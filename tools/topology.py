"""The local stand-in for DataAcuity's production hosts: four PostgreSQL 15 clusters on loopback.

    primary   (.104)  app databases + analytics_db         port BASE+104
    replica   (.105)  streaming hot standby of primary      port BASE+105
    warehouse (.106)  data_warehouse                        port BASE+106
    compliance(.118)  compliance                            port BASE+118
    alertmanager      Prometheus Alertmanager (HTTP)        port BASE+5093

`python -m tools.topology up|down|status|env`. Idempotent: `up` on a running topology only
re-applies the (idempotent) schema migrations. Clusters run as the `postgres` OS user when this
runs as root (PostgreSQL refuses root). Passwords are generated once into
$DA_STATE_DIR/secrets.json (mode 600, git-ignored) and never appear on a command line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from dataacuity.paths import REPO_ROOT

REPO = REPO_ROOT
SQL_DIR = REPO / "include" / "sql"


class TopologyError(RuntimeError):
    """A problem with the local topology, worded with the fix."""


@dataclass(frozen=True)
class Cluster:
    name: str
    production_host: str
    port_offset: int
    databases: tuple[str, ...]


CLUSTERS = {
    "primary": Cluster("primary", ".104", 104, ("analytics_db",)),
    "replica": Cluster("replica", ".105", 105, ()),
    "warehouse": Cluster("warehouse", ".106", 106, ("data_warehouse",)),
    "compliance": Cluster("compliance", ".118", 118, ("compliance",)),
}
ALERTMANAGER_OFFSET = 5093
PG_BINDIR_CANDIDATES = ("/usr/lib/postgresql/15/bin",)

# Login roles with generated passwords, per cluster. NOLOGIN group roles live in include/sql.
LOGIN_ROLES = {
    "primary": ("replicator", "etl_reader", "app_writer", "pushback_writer"),
    "warehouse": ("etl_user", "dbt_runner", "analytics_user", "warehouse_admin", "pipeline_monitor"),
    "compliance": ("compliance_admin", "compliance_user"),
}


def state_dir() -> Path:
    explicit = os.environ.get("DA_STATE_DIR")
    if explicit:
        return Path(explicit).resolve()
    local = REPO / ".local"
    if _others_can_traverse(REPO) or os.geteuid() != 0:
        return local
    # A checkout under a private folder cannot hold clusters the postgres user must reach.
    return Path("/tmp") / f"dataacuity-{hashlib.sha1(str(REPO).encode()).hexdigest()[:8]}"


def _others_can_traverse(path: Path) -> bool:
    return all(os.stat(part).st_mode & 0o001 for part in [path, *path.parents])


def port_base() -> int:
    value = os.environ.get("DA_PORT_BASE", "54000")
    try:
        base = int(value)
    except ValueError:
        raise TopologyError(  # noqa: B904 - the message says all there is
            f"DA_PORT_BASE={value!r} is not a number (e.g. DA_PORT_BASE=54000)"
        )
    if not 1024 <= base <= 65535 - ALERTMANAGER_OFFSET:
        raise TopologyError(f"DA_PORT_BASE={base} out of range 1024..{65535 - ALERTMANAGER_OFFSET}")
    return base


def port(cluster: str) -> int:
    return port_base() + CLUSTERS[cluster].port_offset


def alertmanager_port() -> int:
    return port_base() + ALERTMANAGER_OFFSET


def pg_bindir() -> Path:
    candidates = [os.environ.get("PG_BINDIR"), *PG_BINDIR_CANDIDATES]
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        candidates.append(out.stdout.strip())
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_basebackup").exists():
            return Path(candidate)
    raise TopologyError(
        "PostgreSQL 15 server binaries not found (looked in PG_BINDIR, /usr/lib/postgresql/15/bin, "
        "pg_config --bindir). Install them: apt-get install -y postgresql-15 postgresql-contrib-15"
    )


# ---------------------------------------------------------------------------------------------
# secrets and connection strings


def secrets_file() -> Path:
    return state_dir() / "secrets.json"


def load_secrets() -> dict[str, str]:
    path = secrets_file()
    if path.exists():
        return json.loads(path.read_text())
    return {}


def _ensure_secrets() -> dict[str, str]:
    current = load_secrets()
    wanted = ["postgres"] + [role for roles in LOGIN_ROLES.values() for role in roles]
    changed = False
    for role in wanted:
        if role not in current:
            current[role] = secrets.token_urlsafe(24)
            changed = True
    if changed:
        path = secrets_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(current, indent=2))
        tmp.chmod(0o600)
        tmp.replace(path)
    return current


def dsn(cluster: str, dbname: str, role: str = "postgres") -> str:
    password = load_secrets().get(role)
    if password is None:
        raise TopologyError(f"no password for role {role!r} in {secrets_file()}: run `make up` first")
    return f"postgresql://{role}:{quote(password, safe='')}@127.0.0.1:{port(cluster)}/{dbname}"


# conn id -> (cluster, database, role); mirrors plugins/dataacuity/connections.py
AIRFLOW_CONNECTIONS = {
    "replica_105": ("replica", "auth_db", "etl_reader"),
    "primary_104": ("primary", "auth_db", "app_writer"),
    "analytics_104": ("primary", "analytics_db", "pushback_writer"),
    "warehouse_106": ("warehouse", "data_warehouse", "etl_user"),
    "warehouse_dbt": ("warehouse", "data_warehouse", "dbt_runner"),
    "warehouse_analytics": ("warehouse", "data_warehouse", "analytics_user"),
    "warehouse_admin": ("warehouse", "data_warehouse", "warehouse_admin"),
    "warehouse_monitor": ("warehouse", "data_warehouse", "pipeline_monitor"),
    "compliance_118": ("compliance", "compliance", "compliance_admin"),
    "compliance_user_118": ("compliance", "compliance", "compliance_user"),
}


def connection_env() -> dict[str, str]:
    """AIRFLOW_CONN_* variables for every connection id of DESIGN §2."""
    env = {}
    for conn_id, (cluster, dbname, role) in AIRFLOW_CONNECTIONS.items():
        uri = dsn(cluster, dbname, role).replace("postgresql://", "postgres://", 1)
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = uri
    env["AIRFLOW_CONN_ALERTMANAGER"] = f"http://127.0.0.1:{alertmanager_port()}"
    return env


# ---------------------------------------------------------------------------------------------
# running things as the postgres OS user


def _as_postgres(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        runuser = shutil.which("runuser") or "/usr/sbin/runuser"
        cmd = [runuser, "-u", "postgres", "--", *cmd]
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    return subprocess.run(cmd, **kwargs)


def _owner_setup(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(path, entry.pw_uid, entry.pw_gid)
    path.chmod(0o700)


def _data_dir(cluster: str) -> Path:
    return state_dir() / cluster / "data"


def _socket_dir() -> Path:
    return state_dir() / "sockets"


def _port_is_free(number: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", number))
        except OSError:
            return False
    return True


def is_running(cluster: str) -> bool:
    """A live postmaster owns the data directory. A pid file left by a crashed server (its process
    gone, or a zombie nobody reaped) is removed, so the next start recovers the cluster."""
    pid_file = _data_dir(cluster) / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        state = "gone"
    if state in ("gone", "Z", "X"):
        print(f"topology: {cluster}: removing the pid file of crashed server {pid} ({state})", file=sys.stderr)
        pid_file.unlink(missing_ok=True)
        return False
    return True


def _server_settings(cluster: str) -> str:
    return "\n".join(
        [
            "# managed by tools/topology.py",
            "listen_addresses = '127.0.0.1'",
            f"port = {port(cluster)}",
            f"unix_socket_directories = '{_socket_dir()}'",
            "wal_level = replica",
            "max_wal_senders = 5",
            "hot_standby = on",
            "max_connections = 100",
            "shared_buffers = 128MB",
            # Throwaway local clusters: durability is not needed, speed is.
            "fsync = off",
            "synchronous_commit = off",
            "full_page_writes = off",
            "log_min_messages = warning",
            "log_statement = 'none'",
            "",
        ]
    )


HBA = """# managed by tools/topology.py
local   all          postgres                 peer
host    replication  replicator  127.0.0.1/32 scram-sha-256
host    all          all         127.0.0.1/32 scram-sha-256
"""


def _initdb(cluster: str, passwords: dict[str, str]) -> None:
    data = _data_dir(cluster)
    _owner_setup(data.parent)
    pwfile = data.parent / "pwfile"
    pwfile.write_text(passwords["postgres"] + "\n")
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(pwfile, entry.pw_uid, entry.pw_gid)
    pwfile.chmod(0o600)
    try:
        result = _as_postgres(
            [
                str(pg_bindir() / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                f"--pwfile={pwfile}",
                "--auth-local=peer",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
        )
    finally:
        pwfile.unlink(missing_ok=True)
    if result.returncode != 0:
        raise TopologyError(f"initdb for {cluster} failed:\n{result.stderr}")
    _write_config(cluster)


def _write_config(cluster: str) -> None:
    data = _data_dir(cluster)
    conf = data / "postgresql.conf"
    text = conf.read_text()
    marker = "# managed by tools/topology.py"
    if marker in text:
        text = text[: text.index(marker)]
    conf.write_text(text + _server_settings(cluster))
    (data / "pg_hba.conf").write_text(HBA)


def _basebackup_replica(passwords: dict[str, str]) -> None:
    data = _data_dir("replica")
    if data.exists():
        shutil.rmtree(data)
    _owner_setup(data.parent)
    env = {**os.environ, "PGPASSWORD": passwords["replicator"]}
    result = _as_postgres(
        [
            str(pg_bindir() / "pg_basebackup"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port("primary")),
            "-U",
            "replicator",
            "-D",
            str(data),
            "-R",
            "-X",
            "stream",
            "--checkpoint=fast",
        ],
        env=env,
    )
    if result.returncode != 0:
        raise TopologyError(f"pg_basebackup of the replica failed:\n{result.stderr}")
    _write_config("replica")


def _start(cluster: str) -> None:
    data = _data_dir(cluster)
    if is_running(cluster):
        return
    if not _port_is_free(port(cluster)):
        raise TopologyError(
            f"port {port(cluster)} for the {cluster} cluster is in use by another process. "
            f"Stop it, or choose other ports: DA_PORT_BASE=55000 make up"
        )
    _write_config(cluster)  # ports may have changed since initdb
    log = data.parent / "server.log"
    # After a crash the old server's children can hold its shared memory for a moment
    # ("pre-existing shared memory block is still in use"): give them a few seconds to exit.
    for attempt in range(1, 6):
        result = _as_postgres([str(pg_bindir() / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(data), "-l", str(log)])
        if result.returncode == 0:
            return
        time.sleep(attempt)
    tail = log.read_text()[-2000:] if log.exists() else ""
    raise TopologyError(f"{cluster} cluster did not start:\n{result.stdout}{result.stderr}\n{tail}")


def _stop(cluster: str) -> None:
    if is_running(cluster):
        _as_postgres(
            [
                str(pg_bindir() / "pg_ctl"),
                "stop",
                "-w",
                "-m",
                "fast",
                "-D",
                str(_data_dir(cluster)),
            ]
        )


# ---------------------------------------------------------------------------------------------
# schema: roles, databases, migrations


def _connect(cluster: str, dbname: str, role: str = "postgres"):
    import psycopg

    return psycopg.connect(dsn(cluster, dbname, role), autocommit=True)


def apply_cluster_setup(registry=None) -> None:
    """Roles, databases, migrations and grants on every writable cluster. Idempotent."""
    from tools import migrations

    migrations.apply_cluster_setup(dsn, load_secrets(), registry or _registry())
    # The warehouse's protected copy of the hashing keys, pulled from .118 over postgres_fdw
    # (include/dbt/docs/compliance_key_access.md); a no-op when the copy is in sync.
    from tools.key_link import ensure_local_key_link

    ensure_local_key_link()


def _registry():
    sys.path.insert(0, str(REPO / "plugins"))
    from dataacuity.registry import load_registry

    return load_registry()


def wait_for_replica(timeout: float = 30.0) -> None:
    """Block until the replica has replayed everything the primary has written so far."""
    with _connect("primary", "postgres") as primary:
        target = primary.execute("select pg_current_wal_insert_lsn()").fetchone()[0]
    deadline = time.monotonic() + timeout
    with _connect("replica", "postgres") as replica:
        while True:
            replayed = replica.execute("select pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,)).fetchone()[0]
            if replayed:
                return
            if time.monotonic() > deadline:
                raise TopologyError(f"replica did not replay up to {target} within {timeout}s")
            time.sleep(0.05)


# ---------------------------------------------------------------------------------------------
# commands


def up() -> None:
    pg_bindir()  # fail early, naming the package to install
    passwords = _ensure_secrets()
    _owner_setup(state_dir())
    _owner_setup(_socket_dir())
    for cluster in CLUSTERS:
        if not is_running(cluster) and not _port_is_free(port(cluster)):
            raise TopologyError(
                f"port {port(cluster)} for the {cluster} cluster is in use by another process. "
                f"Stop it, or choose other ports: DA_PORT_BASE=55000 make up"
            )
    for cluster in ("primary", "warehouse", "compliance"):
        if not (_data_dir(cluster) / "PG_VERSION").exists():
            if _data_dir(cluster).exists():  # leftover of a crashed initdb
                shutil.rmtree(_data_dir(cluster))
            _initdb(cluster, passwords)
        _start(cluster)
    apply_cluster_setup()
    replica_ok = (_data_dir("replica") / "standby.signal").exists()
    if not replica_ok:
        _basebackup_replica(passwords)
    _start("replica")
    _start_alertmanager()
    wait_for_replica()


def _start_alertmanager() -> None:
    if os.environ.get("DA_SKIP_ALERTMANAGER"):  # PostgreSQL-only work (e.g. benchmarks)
        return
    from tools import alertmanager_local

    alertmanager_local.ensure_local_alertmanager(state_dir(), alertmanager_port())


def down() -> None:
    try:
        from tools import alertmanager_local

        alertmanager_local.stop_alertmanager(state_dir())
    except ImportError:  # pragma: no cover
        pass
    for cluster in ("replica", "primary", "warehouse", "compliance"):
        _stop(cluster)


def destroy() -> None:
    down()
    if state_dir().exists():
        shutil.rmtree(state_dir())


def status() -> list[tuple[str, str, int, str]]:
    rows = []
    for name, cluster in CLUSTERS.items():
        state = "running" if is_running(name) else "stopped"
        rows.append((name, cluster.production_host, port(name), state))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.topology", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["up", "down", "status", "env", "destroy"])
    parser.add_argument("--keep-set", action="store_true", help="env: keep AIRFLOW_CONN_* already set")
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            started = time.monotonic()
            up()
            print(f"topology up in {time.monotonic() - started:.1f}s (state: {state_dir()})")
            args.command = "status"
        if args.command == "down":
            down()
            print("topology stopped")
        elif args.command == "destroy":
            destroy()
            print("topology stopped and its data removed")
        elif args.command == "env":
            for key, value in connection_env().items():
                keep = f'[ -n "${{{key}:-}}" ] || ' if args.keep_set else ""
                print(f"{keep}export {key}='{value}'")
        if args.command == "status":
            print(f"{'cluster':<11} {'stands for':<10} {'port':<6} state")
            for name, host, number, state in status():
                print(f"{name:<11} {host:<10} {number:<6} {state}")
            from tools import alertmanager_local

            am_state = "running" if alertmanager_local.is_running(state_dir()) else "stopped"
            print(f"{'(alerts)':<11} {'alertmgr':<10} {alertmanager_port():<6} alertmanager {am_state}")
    except TopologyError as error:
        print(f"topology: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
