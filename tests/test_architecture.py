"""The shape of the code, checked over its import graph and call sites (ast, no execution):

- code deployed to Airflow (plugins/, dags/) never imports tools/ (local tooling);
- ONE connection layer: only plugins/dataacuity/connections.py opens a database connection or
  reads an Airflow connection (psycopg/psycopg2 connect, PostgresHook, BaseHook.get_connection);
- ONE alert path: only plugins/dataacuity/alerting/client.py speaks HTTP to Alertmanager, only
  the alerting package calls its transport and outbox, and everything else sends through notify;
- the outbox SQL lives in include/sql (no `ops.alert_outbox` statement in Python).

Each rule is also run against a small snippet that breaks it, so a rule that can no longer fail
fails here.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEPLOYED = ("plugins", "dags")
CONNECTION_LAYER = "plugins/dataacuity/connections.py"
ALERTMANAGER_CLIENT = "plugins/dataacuity/alerting/client.py"
ALERTING_PACKAGE = "plugins/dataacuity/alerting/"

# Calls that open a database connection or read an Airflow connection.
CONNECT_CALLS = {
    ("psycopg", "connect"),
    ("psycopg2", "connect"),
    ("Connection", "connect"),
    ("AsyncConnection", "connect"),
    ("BaseHook", "get_connection"),
    ("Connection", "get"),
}
CONNECT_NAMES = {"PostgresHook", "get_connection"}
# The alert transport and outbox: only the alerting package calls these.
ALERT_TRANSPORT_CALLS = {"post_payloads", "fire", "send_or_queue", "queue_alerts"}
HTTP_MODULES = ("urllib.request", "http.client", "requests", "httpx", "aiohttp", "urllib3")


def python_files(*roots: str) -> Iterator[tuple[str, ast.Module]]:
    for root in roots:
        for path in sorted((REPO / root).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            yield rel, ast.parse(path.read_text(), filename=rel)


def imported_modules(tree: ast.Module) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def call_names(tree: ast.Module) -> Iterator[tuple[int, str | None, str]]:
    """(line, owner, name) of every call: psycopg.connect() -> ("psycopg", "connect")."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute):
            owner = func.value
            owner_name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", None)
            yield node.lineno, owner_name, func.attr
        elif isinstance(func, ast.Name):
            yield node.lineno, None, func.id


# -- the rules ---------------------------------------------------------------------------------
def tools_imports(rel: str, tree: ast.Module) -> list[str]:
    return [f"{rel} imports {m}" for m in sorted(imported_modules(tree)) if m == "tools" or m.startswith("tools.")]


def own_connections(rel: str, tree: ast.Module) -> list[str]:
    if rel == CONNECTION_LAYER:
        return []
    found = [
        f"{rel}:{line} calls {owner}.{name}()" if owner else f"{rel}:{line} calls {name}()"
        for line, owner, name in call_names(tree)
        if (owner, name) in CONNECT_CALLS or (owner is None and name in CONNECT_NAMES) or name == "PostgresHook"
    ]
    found += [
        f"{rel} imports {m}"
        for m in sorted(imported_modules(tree))
        if m.endswith(".PostgresHook") or m.endswith("hooks.postgres")
    ]
    return found


def own_alert_path(rel: str, tree: ast.Module) -> list[str]:
    found: list[str] = []
    if rel != ALERTMANAGER_CLIENT:
        found += [
            f"{rel} imports {m} (HTTP belongs to the Alertmanager client)"
            for m in sorted(imported_modules(tree))
            if any(m == h or m.startswith(h + ".") for h in HTTP_MODULES)
        ]
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "/api/v2/alerts" in node.value:
                found.append(f"{rel}:{node.lineno} names the Alertmanager API path")
    if not rel.startswith(ALERTING_PACKAGE):
        found += [
            f"{rel}:{node.lineno} imports notify from {node.module} (the one notify is dataacuity.alerting's)"
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            and node.module not in (None, "dataacuity.alerting")
            and any(alias.name == "notify" for alias in node.names)
        ]
        found += [
            f"{rel}:{line} calls {name}() (send through dataacuity.alerting.notify)"
            for line, _owner, name in call_names(tree)
            if name in ALERT_TRANSPORT_CALLS
        ]
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value.lower()
                if "alert_outbox" in text and any(verb in text for verb in ("insert ", "update ", "select ")):
                    found.append(f"{rel}:{node.lineno} has outbox SQL in Python (put it in include/sql/alerting)")
    return found


# -- the tree keeps them -----------------------------------------------------------------------
def test_deployed_code_never_imports_tools():
    problems = [p for rel, tree in python_files(*DEPLOYED) for p in tools_imports(rel, tree)]
    assert problems == []


def test_only_the_connection_layer_opens_connections():
    problems = [p for rel, tree in python_files(*DEPLOYED) for p in own_connections(rel, tree)]
    assert problems == []


def _mentions_conn_var(node: ast.AST) -> bool:
    return any(
        isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.startswith("AIRFLOW_CONN_")
        for n in ast.walk(node)
    )


def reads_airflow_connections(rel: str, tree: ast.Module) -> list[str]:
    """Looking up an Airflow connection, or reading an AIRFLOW_CONN_* variable to parse it."""
    found = [
        f"{rel}:{line} calls {owner}.{name}()" if owner else f"{rel}:{line} calls {name}()"
        for line, owner, name in call_names(tree)
        if (owner, name) in {("BaseHook", "get_connection"), ("Connection", "get")} or name == "PostgresHook"
    ]
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Load)  # writing one (set-up, tests) is fine
            and getattr(node.value, "attr", "") == "environ"
            and _mentions_conn_var(node)
        ):
            found.append(f"{rel}:{node.lineno} reads an AIRFLOW_CONN_* variable")
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) in {"get", "getenv"}
            and node.args
            and _mentions_conn_var(node.args[0])
        ):
            found.append(f"{rel}:{node.lineno} reads an AIRFLOW_CONN_* variable")
    return found


def test_nothing_reads_airflow_connections_around_the_layer():
    """Tools and benchmarks open the topology's DSNs; none parses or looks up an Airflow connection,
    and no deployed module but the layer does."""
    problems = [p for rel, tree in python_files("tools", "bench") for p in reads_airflow_connections(rel, tree)]
    problems += [
        p
        for rel, tree in python_files(*DEPLOYED)
        if rel != CONNECTION_LAYER
        for p in reads_airflow_connections(rel, tree)
    ]
    assert problems == []


def test_one_alert_path():
    problems = [p for rel, tree in python_files(*DEPLOYED) for p in own_alert_path(rel, tree)]
    assert problems == []


def test_the_kill_switch_command_is_deployed_with_the_package():
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, function = scripts["dataacuity-kill-switch"].partition(":")
    assert (
        module.startswith("dataacuity.") and (REPO / "plugins" / Path(*module.split("."))).with_suffix(".py").exists()
    )
    tree = ast.parse((REPO / "plugins" / Path(*module.split("."))).with_suffix(".py").read_text())
    assert function in {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    makefile = (REPO / "Makefile").read_text()
    assert "$(VENV)/bin/dataacuity-kill-switch" in makefile and "tools.kill_switch" not in makefile
    assert not (REPO / "tools" / "kill_switch.py").exists()


# -- each rule can fail ------------------------------------------------------------------------
BREAKERS = [
    (tools_imports, "plugins/dataacuity/x.py", "from tools import topology"),
    (tools_imports, "plugins/dataacuity/x.py", "import tools.topology as t"),
    (own_connections, "plugins/dataacuity/x.py", "import psycopg\npsycopg.connect('dbname=x')"),
    (own_connections, "plugins/dataacuity/x.py", "import psycopg2\npsycopg2.connect(dsn)"),
    (own_connections, "dags/x.py", "from airflow.sdk import BaseHook\nBaseHook.get_connection('a')"),
    (own_connections, "plugins/dataacuity/x.py", "from airflow.providers.postgres.hooks.postgres import PostgresHook"),
    (reads_airflow_connections, "tools/x.py", "import os\nuri = os.environ.get(f'AIRFLOW_CONN_{conn_id.upper()}')"),
    (reads_airflow_connections, "tools/x.py", "import os\nuri = os.environ['AIRFLOW_CONN_WAREHOUSE_ADMIN']"),
    (reads_airflow_connections, "tools/x.py", "from airflow.sdk import BaseHook\nBaseHook.get_connection('x')"),
    (own_alert_path, "plugins/dataacuity/x.py", "import urllib.request\nurllib.request.urlopen(u)"),
    (own_alert_path, "plugins/dataacuity/x.py", "import requests"),
    (own_alert_path, "plugins/dataacuity/x.py", "URL = 'http://am:9093/api/v2/alerts'"),
    (own_alert_path, "plugins/dataacuity/x.py", "client.fire([alert])"),
    (own_alert_path, "dags/x.py", "send_or_queue(conn, client, alerts)"),
    (own_alert_path, "plugins/dataacuity/x.py", "from dataacuity.alert_callbacks import notify"),
    (own_alert_path, "plugins/dataacuity/x.py", "q = 'INSERT INTO ops.alert_outbox (payload) VALUES (%s)'"),
]


@pytest.mark.parametrize(("rule", "rel", "source"), BREAKERS)
def test_each_rule_catches_what_it_names(rule, rel, source):
    assert rule(rel, ast.parse(source)) != []


def test_the_rules_allow_the_one_layer_and_the_one_client():
    assert own_connections(CONNECTION_LAYER, ast.parse("import psycopg\npsycopg.connect('x')")) == []
    assert own_alert_path(ALERTMANAGER_CLIENT, ast.parse("import urllib.request\nurllib.request.urlopen(u)")) == []


def test_cosmos_telemetry_is_off_through_its_setting_not_at_parse_time():
    """[cosmos] enable_telemetry = False comes from the environment Airflow runs in; no module flips it."""
    import airflow.sdk  # noqa: F401  (Airflow before Cosmos)
    from cosmos import settings

    assert settings.enable_telemetry is False
    assigned = [
        f"{rel}:{node.lineno}"
        for rel, tree in python_files(*DEPLOYED)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign | ast.AugAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Attribute) and "telemetry" in target.attr
    ]
    assert assigned == []


def test_the_repo_root_comes_from_one_place():
    """plugins/ and tools/ find files through dataacuity.paths, not their own
    Path(__file__).parents[N] / .parent.parent."""
    found = []
    for rel, tree in python_files("plugins", "tools"):
        if rel in ("plugins/dataacuity/paths.py", "tools/__init__.py"):
            continue
        for node in ast.walk(tree):
            if "__file__" not in ast.unparse(node):
                continue
            if isinstance(node, ast.Subscript) and getattr(node.value, "attr", "") == "parents":
                found.append(f"{rel}:{node.lineno} parents[...]")
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "parent"
                and getattr(node.value, "attr", "") == "parent"
            ):
                found.append(f"{rel}:{node.lineno} .parent.parent")
    assert found == []


def test_every_dataacuity_import_resolves():
    """A name imported from the package exists there (lazy imports in callbacks included: a moved
    function must not turn into an ImportError that only the failure path would hit)."""
    import importlib

    def optional(tree: ast.Module) -> set[int]:
        """Imports inside `try: ... except ImportError` are allowed to be absent."""
        guarded = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Try) and any(
                "ImportError" in ast.unparse(handler.type or ast.Name("BaseException")) for handler in node.handlers
            ):
                guarded |= {id(inner) for stmt in node.body for inner in ast.walk(stmt)}
        return guarded

    missing = []
    for rel, tree in python_files(*DEPLOYED, "tools", "bench", "tests"):
        skip = optional(tree)
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("dataacuity"):
                module = importlib.import_module(node.module)
                missing += [
                    f"{rel}:{node.lineno} {node.module}.{alias.name}"
                    for alias in node.names
                    if not hasattr(module, alias.name)
                    and importlib.util.find_spec(f"{node.module}.{alias.name}") is None
                ]
    assert missing == []
