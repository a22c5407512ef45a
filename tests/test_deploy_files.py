"""airflow_settings.yaml (Astro CLI) and docker-compose.airflow.yml agree with tools/topology.py.

Pure tests: no Docker engine, no database. They parse both files and check the connection ids,
hosts, ports, databases and roles against tools/topology.py, that no password is written in either
file, and the compose topology's structure (DESIGN §2: the four clusters with a streaming replica,
Alertmanager, Airflow 3.3.2 with CeleryExecutor and Redis).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from tools import topology

REPO = Path(__file__).resolve().parent.parent
SETTINGS = REPO / "airflow_settings.yaml"
COMPOSE = REPO / "docker-compose.airflow.yml"

CONN_IDS = {*topology.AIRFLOW_CONNECTIONS, "alertmanager"}
CLUSTER_SERVICES = ("primary", "replica", "warehouse", "compliance")
AIRFLOW_SERVICES = {
    "airflow-init": "db migrate",
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "celery worker",
}
# Secrets the compose file needs besides the role passwords (its header generates them all).
AIRFLOW_SECRETS = {"AIRFLOW_DB_PASSWORD", "AIRFLOW_FERNET_KEY", "AIRFLOW_API_SECRET_KEY", "AIRFLOW_JWT_SECRET"}
ROLES = ["postgres", *(role for roles in topology.LOGIN_ROLES.values() for role in roles)]
REQUIRED_REF = re.compile(r"^\$\{([A-Z][A-Z0-9_]*):\?[^}]*\}$")  # ${NAME:?message}
ANY_REF = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)")  # compose interpolation (not $${...})
LONE_DOLLAR = re.compile(r"(?<!\$)\$(?!\$)")
PORT_BASE = os.environ.get("DA_PORT_BASE")  # this session's topology


@pytest.fixture(autouse=True)
def _default_ports(monkeypatch):
    """Both files are written for the default port base (DA_PORT_BASE=54000)."""
    monkeypatch.delenv("DA_PORT_BASE", raising=False)


@pytest.fixture(scope="module")
def settings() -> dict:
    return yaml.safe_load(SETTINGS.read_text())


@pytest.fixture(scope="module")
def connections(settings) -> dict[str, dict]:
    conns = settings["airflow"]["connections"]
    ids = [conn["conn_id"] for conn in conns]
    assert len(ids) == len(set(ids)), f"duplicate conn_id in {SETTINGS.name}: {ids}"
    return {conn["conn_id"]: conn for conn in conns}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict[str, dict]:
    return compose["services"]


def _command(service: dict) -> str:
    parts = [*_as_list(service.get("entrypoint")), *_as_list(service.get("command"))]
    return " ".join(parts)


def _as_list(value) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _unescape(script: str) -> str:
    """What the container sees: compose turns $$ into $."""
    return script.replace("$$", "$")


def _split(uri: str):
    """urlsplit of a URI whose password is a ${VAR:?...} reference; returns (parts, references)."""
    refs = re.findall(r"\$\{[^}]*\}", uri)
    for number, ref in enumerate(refs):
        uri = uri.replace(ref, f"ref{number}", 1)
    return urlsplit(uri), refs


def _script(compose: dict, where: str) -> str:
    """A shell script of the compose file: a config's content or the last word of `bash -ec <script>`."""
    section, name = where.split(".")
    item = compose[section][name]
    if section == "configs":
        return item["content"]
    return _as_list(item.get("command") or item.get("entrypoint"))[-1]


def _env_items(compose: dict):
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            yield name, key, "" if value is None else str(value)


# ---------------------------------------------------------------------------------------------
# airflow_settings.yaml


def test_settings_declare_exactly_the_topology_connection_ids(connections):
    assert set(connections) == CONN_IDS


def test_settings_point_at_the_local_topology_with_the_documented_roles(connections):
    for conn_id, (cluster, dbname, role) in topology.AIRFLOW_CONNECTIONS.items():
        conn = connections[conn_id]
        assert conn["conn_type"] == "postgres", conn_id
        assert conn["conn_host"] == "127.0.0.1", conn_id
        assert int(conn["conn_port"]) == topology.port(cluster), conn_id
        assert conn["conn_schema"] == dbname, conn_id
        assert conn["conn_login"] == role, conn_id
    alertmanager = connections["alertmanager"]
    assert alertmanager["conn_type"] == "http"
    assert alertmanager["conn_host"] == "127.0.0.1"
    assert int(alertmanager["conn_port"]) == topology.alertmanager_port() == 59093


def test_settings_hold_no_passwords(connections):
    for conn_id, conn in connections.items():
        assert conn.get("conn_password") in (None, ""), f"{conn_id}: conn_password must stay empty"
    header = SETTINGS.read_text().split("\nairflow:", 1)[0]
    assert "python -m tools.topology env" in header and ".local/secrets.json" in header
    assert "secrets backend" in header


def test_settings_pools_and_variables_are_lists(settings):
    assert isinstance(settings["airflow"]["pools"], list)
    assert isinstance(settings["airflow"]["variables"], list)


def test_no_local_secret_is_written_in_either_file():
    try:
        known = topology.load_secrets()
    except (OSError, ValueError):  # no readable state dir: nothing to leak
        known = {}
    if not known:
        pytest.skip("no .local/secrets.json (run `make up`)")
    for path in (SETTINGS, COMPOSE):
        text = path.read_text()
        leaked = sorted(role for role, password in known.items() if password and password in text)
        assert not leaked, f"{path.name} contains the local password of {leaked}"


# ---------------------------------------------------------------------------------------------
# docker-compose.airflow.yml: services and images


def test_compose_has_the_topology_and_airflow_services(services):
    expected = {*CLUSTER_SERVICES, "schema", "alertmanager", "airflow-metadata", "redis", *AIRFLOW_SERVICES}
    assert expected <= set(services), sorted(expected - set(services))


def test_compose_images(services):
    for name in (*CLUSTER_SERVICES, "airflow-metadata"):
        assert services[name]["image"] == "postgres:15", name
    assert services["alertmanager"]["image"] == "prom/alertmanager:v0.25.0"
    assert services["redis"]["image"].startswith("redis:")
    for name in (
        *AIRFLOW_SERVICES,
        "schema",
        "dbt-manifest",
    ):  # the one-shots run the repo's tools in the Airflow image
        service = services[name]
        assert service["image"].endswith(":3.3.2"), name
        dockerfile = service["build"]["dockerfile_inline"]
        assert re.search(r"^FROM apache/airflow:3\.3\.2(-python3\.11)?$", dockerfile, re.M), dockerfile
        assert "requirements.txt" in dockerfile and "requirements.lock" in dockerfile


def test_compose_runs_every_airflow_component(services):
    for name, command in AIRFLOW_SERVICES.items():
        assert command in _command(services[name]), f"{name}: {_command(services[name])!r}"
    for name in set(AIRFLOW_SERVICES) - {"airflow-init"}:
        depends = services[name]["depends_on"]
        assert depends["airflow-init"]["condition"] == "service_completed_successfully", name


def test_compose_uses_celery_with_redis_and_its_own_metadata_db(services):
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert urlsplit(env["AIRFLOW__CELERY__BROKER_URL"]).scheme == "redis", name
        assert urlsplit(env["AIRFLOW__CELERY__BROKER_URL"]).hostname == "redis", name
        assert _split(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])[0].hostname == "airflow-metadata", name
        assert _split(env["AIRFLOW__CELERY__RESULT_BACKEND"])[0].hostname == "airflow-metadata", name
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"


def test_compose_mounts_dags_plugins_include_and_config(services):
    for name in AIRFLOW_SERVICES:
        targets = {}
        for volume in services[name]["volumes"]:
            source, target = volume.split(":")[:2]
            targets[target] = source
        for folder in ("dags", "plugins", "include", "config"):
            assert targets.get(f"/opt/airflow/{folder}") == f"./{folder}", f"{name}: {folder} not mounted"


def test_compose_publishes_the_local_topology_ports(services):
    def published(name: str) -> set[int]:
        return {int(port.split(":")[-2]) for port in services[name].get("ports", [])}

    for cluster in CLUSTER_SERVICES:
        assert published(cluster) == {topology.port(cluster)}, cluster
    assert published("alertmanager") == {topology.alertmanager_port()}
    for name, service in services.items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"


# ---------------------------------------------------------------------------------------------
# docker-compose.airflow.yml: connections and secrets


def test_compose_declares_every_connection_id_at_the_compose_services(services):
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        conns = {
            key.removeprefix("AIRFLOW_CONN_").lower(): value
            for key, value in env.items()
            if key.startswith("AIRFLOW_CONN_")
        }
        assert set(conns) == CONN_IDS, name
        for conn_id, (cluster, dbname, role) in topology.AIRFLOW_CONNECTIONS.items():
            uri, refs = _split(conns[conn_id])
            assert uri.scheme == "postgres", conn_id
            assert (uri.hostname, uri.port, uri.path.lstrip("/")) == (cluster, 5432, dbname), conn_id
            assert uri.username == role, conn_id
            assert uri.password == "ref0" and len(refs) == 1, f"{conn_id}: the password must be a ${{VAR}} reference"
            match = REQUIRED_REF.match(refs[0])
            assert match, f"{conn_id}: the password must be a required ${{VAR:?...}} reference, not {refs[0]!r}"
            assert match.group(1) == f"{role.upper()}_PASSWORD", conn_id
        assert conns["alertmanager"] == "http://alertmanager:9093"


def test_compose_holds_no_literal_secrets(compose):
    for service, key, value in _env_items(compose):
        if re.search(r"(PASSWORD|SECRET|SECRET_KEY|FERNET_KEY)$", key):
            assert REQUIRED_REF.match(value), f"{service}: {key} must be ${{VAR:?...}}, not a literal"
        for match in re.finditer(r"://([^:/@\s]+):([^@\s]*)@", value):
            assert REQUIRED_REF.match(match.group(2)), f"{service}: {key} has a literal password in its URL"


def test_compose_secrets_are_exactly_the_documented_variables():
    text = COMPOSE.read_text()
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    referenced = set(ANY_REF.findall(body))
    required = {m.group(1) for m in re.finditer(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*):\?", body)}
    expected = {f"{role.upper()}_PASSWORD" for role in ROLES} | AIRFLOW_SECRETS
    assert required == expected
    assert referenced - required <= {"AIRFLOW_UID", "ALERTMANAGER_CONFIG"}
    header = text.split("\nname:", 1)[0]
    for name in AIRFLOW_SECRETS:
        assert name in header, f"the header must say how to generate {name}"


# ---------------------------------------------------------------------------------------------
# docker-compose.airflow.yml: the replica, the schema set-up, Alertmanager


def test_replica_is_a_streaming_standby_made_by_pg_basebackup(services):
    replica = services["replica"]
    script = _unescape(_command(replica))
    assert re.search(r'if \[ ! -s "\$PGDATA/PG_VERSION" \]', script), "basebackup only into an empty data dir"
    assert re.search(r"gosu postgres\s+(\\\s*)?pg_basebackup -h primary .*-U replicator .*-R", script)
    assert "PGPASSWORD=" in script and "--password" not in script
    assert "exec docker-entrypoint.sh postgres" in script
    assert "pg_is_in_recovery()" in " ".join(replica["healthcheck"]["test"])
    assert replica["depends_on"]["schema"]["condition"] == "service_completed_successfully"
    assert replica["environment"] == {"REPLICATOR_PASSWORD": "${REPLICATOR_PASSWORD:?set it}"}


def test_primary_accepts_replication_from_the_replicator(compose, services):
    mounted = {c["source"]: c["target"] for c in services["primary"]["configs"]}
    assert mounted["primary-replication-hba"].startswith("/docker-entrypoint-initdb.d/")
    hba = _unescape(compose["configs"]["primary-replication-hba"]["content"])
    assert "host replication replicator all scram-sha-256" in hba


def test_schema_service_runs_the_projects_migration_runner(compose, services):
    """No shell copy of the migrations: the one-shot runs tools/migrations.py (the runner `make up`
    uses, reading the registry with dataacuity.registry) in the Airflow image, with every password."""
    schema = services["schema"]
    assert schema["entrypoint"] + schema["command"] == ["python", "-m", "tools.migrations", "--source-schemas"]
    assert schema["image"] == services["airflow-scheduler"]["image"] and schema["working_dir"] == "/opt/dataacuity"
    mounts = {v.split(":")[0]: v.split(":")[1] for v in schema["volumes"]}
    assert mounts == {
        "./tools": "/opt/dataacuity/tools",
        "./plugins": "/opt/dataacuity/plugins",
        "./include/sql": "/opt/dataacuity/include/sql",
        "./config": "/opt/dataacuity/config",
    }
    assert set(schema["environment"]) == {f"{role.upper()}_PASSWORD" for role in ROLES}
    code = "\n".join(line for line in COMPOSE.read_text().splitlines() if not line.lstrip().startswith("#"))
    assert "schema_migrations" not in code and "sha256sum" not in code and "ON_ERROR_STOP" not in code
    assert "configs" not in schema


def test_the_migration_runner_is_configured_by_the_compose_environment(topology, monkeypatch, capsys):
    """What the schema service runs, configured only by environment variables as compose sets
    them, against the local topology's clusters: it applies (idempotently) and says so."""
    from tools import migrations

    if PORT_BASE:  # the topology's own ports (the autouse fixture reset them to the files' defaults)
        monkeypatch.setenv("DA_PORT_BASE", PORT_BASE)
    secrets = topology.load_secrets()
    for role in ROLES:
        monkeypatch.setenv(f"{role.upper()}_PASSWORD", secrets[role])
    for cluster in migrations.WRITABLE_CLUSTERS:
        monkeypatch.setenv(f"{cluster.upper()}_HOST", "127.0.0.1")
        monkeypatch.setenv(f"{cluster.upper()}_PORT", str(topology.port(cluster)))
    assert migrations.main([]) == 0
    assert "roles, databases, migrations, app schemas" in capsys.readouterr().out
    monkeypatch.delenv("PIPELINE_MONITOR_PASSWORD")
    assert migrations.main([]) == 2
    assert "PIPELINE_MONITOR_PASSWORD" in capsys.readouterr().err


def test_the_dbt_manifest_is_built_before_airflow_parses_dags(services):
    manifest = services["dbt-manifest"]
    assert manifest["entrypoint"] + manifest["command"] == ["python", "-m", "tools.build_dbt_manifest"]
    assert "./include:/opt/dataacuity/include" in manifest["volumes"]  # writable: include/dbt/target
    for name in AIRFLOW_SERVICES:
        if name == "airflow-init":
            continue
        assert services[name]["depends_on"]["dbt-manifest"] == {"condition": "service_completed_successfully"}, name


def test_the_image_installs_the_package_and_its_kill_switch_command(services):
    """The on-call runs `dataacuity-kill-switch` in an Airflow container; the mounted code is the code that runs."""
    for name in AIRFLOW_SERVICES:
        dockerfile = services[name]["build"]["dockerfile_inline"]
        assert (
            "COPY pyproject.toml" in dockerfile and "pip install --no-cache-dir --no-deps /opt/dataacuity" in dockerfile
        )
        assert services[name]["environment"]["PYTHONPATH"] == "/opt/airflow/plugins", name
        assert "./plugins:/opt/airflow/plugins:ro" in services[name]["volumes"], name


def test_cosmos_telemetry_is_off_by_its_setting(services):
    for name in AIRFLOW_SERVICES:
        assert services[name]["environment"]["AIRFLOW__COSMOS__ENABLE_TELEMETRY"] == "False", name
    assert "export AIRFLOW__COSMOS__ENABLE_TELEMETRY := False" in (REPO / "Makefile").read_text()


@pytest.mark.parametrize("where", ["configs.primary-replication-hba", "services.replica"])
def test_shell_scripts_escape_dollars_for_compose(compose, where):
    """A lone $ would be interpolated by compose at `up` time instead of reaching the shell."""
    lone = [line for line in _script(compose, where).splitlines() if LONE_DOLLAR.search(line)]
    assert not lone, f"{where}: unescaped $ (write $$): {lone}"


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
@pytest.mark.parametrize("where", ["services.replica", "services.airflow-init"])
def test_shell_scripts_parse(compose, where, tmp_path):
    path = tmp_path / "script.sh"
    path.write_text(_unescape(_script(compose, where)))
    result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_alertmanager_runs_the_repo_routing(services):
    alertmanager = services["alertmanager"]
    assert any(
        volume.endswith(":/etc/alertmanager/alertmanager.yml:ro") and "config/alertmanager/alertmanager.yml" in volume
        for volume in alertmanager["volumes"]
    )
    assert "--config.file=/etc/alertmanager/alertmanager.yml" in alertmanager["command"]
